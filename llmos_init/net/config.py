"""Addresses, the default route and DNS for one interface, with no userland tools.

- `parse_ip`: the kernel's `ip=` syntax (Documentation/admin-guide/nfs/nfsroot.rst)
  ip=<client-ip>:<server-ip>:<gw-ip>:<netmask>:<hostname>:<device>:<autoconf>:<dns0-ip>:<dns1-ip>
  and its short forms (dhcp, on, any, off, none). The kernel here has no CONFIG_IP_PNP
  (its `ip=dhcp` would wait for a lease before init, delaying the prompt): llmos reads the
  parameter from /proc/cmdline itself.
- `apply`: the address and netmask by SIOCSIFADDR/SIOCSIFNETMASK (sys.netif), the default
  route by one rtnetlink RTM_NEWROUTE message (its socket closed after the reply).
- `write_state`: /run/llmos/net.json (what list_devices and system_info show) and
  /run/llmos/resolv.conf (/etc/resolv.conf on the read-only root links to it).
"""
from __future__ import annotations

import json
import os
import socket
import struct

NET_JSON = "/run/llmos/net.json"
RESOLV_CONF = "/run/llmos/resolv.conf"


class StaticConfig:
    __slots__ = ("address", "netmask", "gateway", "hostname", "device", "dns")

    def __init__(self, address: str, netmask: str, gateway: str | None = None,
                 hostname: str = "", device: str = "", dns: list[str] | None = None):
        self.address, self.netmask, self.gateway = address, netmask, gateway
        self.hostname, self.device, self.dns = hostname, device, list(dns or [])

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}


def _addr(s: str, what: str) -> str:
    try:
        return socket.inet_ntoa(socket.inet_aton(s)) if s.count(".") == 3 else _bad(s, what)
    except OSError:
        return _bad(s, what)


def _bad(s: str, what: str) -> str:
    raise ValueError(f"ip=: {s!r} is not an IPv4 {what}")


def _default_mask(address: str) -> str:
    first = int(address.split(".")[0])
    return "255.0.0.0" if first < 128 else "255.255.0.0" if first < 192 else "255.255.255.0"


def parse_ip(value: str | None) -> tuple[str, StaticConfig | None, str]:
    """(mode, static config, device) for an `ip=` value: mode "dhcp" (also for no value),
    "off", or "static". ValueError for a static form that does not parse."""
    v = (value or "").strip()
    if v in ("", "dhcp", "on", "any", "both", "bootp", "rarp", "dhcp6"):
        return "dhcp", None, ""
    if v in ("off", "none"):
        return "off", None, ""
    f = v.split(":")
    f += [""] * (9 - len(f))
    client, _server, gw, mask, host, dev, auto = f[:7]
    if not client:          # ip=::::host:eth0:dhcp: DHCP on that device
        if auto in ("off", "none"):
            return "off", None, dev
        return "dhcp", None, dev
    if auto not in ("", "off", "none", "static"):
        # a client address with autoconf=dhcp: the kernel would ask DHCP; so do we
        return "dhcp", None, dev
    address = _addr(client, "address")
    netmask = _addr(mask, "netmask") if mask else _default_mask(address)
    bits = int.from_bytes(socket.inet_aton(netmask), "big")
    if bits and (((~bits) & 0xFFFFFFFF) + 1) & (~bits & 0xFFFFFFFF):
        raise ValueError(f"ip=: {mask!r} is not a contiguous netmask")
    dns = [_addr(d, "DNS server") for d in f[7:9] if d]
    return "static", StaticConfig(address, netmask, _addr(gw, "gateway") if gw else None,
                                  host, dev, dns), dev


def prefix_len(netmask: str) -> int:
    return bin(int.from_bytes(socket.inet_aton(netmask), "big")).count("1")


# ---- rtnetlink: the default route ----------------------------------------------------
RTM_NEWROUTE, NLMSG_ERROR = 24, 2
NLM_F_REQUEST, NLM_F_ACK, NLM_F_REPLACE, NLM_F_CREATE = 0x1, 0x4, 0x100, 0x400
RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST = 254, 3, 0, 1
RTA_GATEWAY, RTA_OIF = 5, 4


def route_message(gateway: str, ifindex: int, seq: int = 1) -> bytes:
    """RTM_NEWROUTE for 0.0.0.0/0 via `gateway` on interface `ifindex` (create or replace)."""
    rtmsg = struct.pack("=BBBBBBBBI", socket.AF_INET, 0, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT,
                        RT_SCOPE_UNIVERSE, RTN_UNICAST, 0)
    attrs = struct.pack("=HH4s", 8, RTA_GATEWAY, socket.inet_aton(gateway))
    attrs += struct.pack("=HHi", 8, RTA_OIF, ifindex)
    body = rtmsg + attrs
    return struct.pack("=IHHII", 16 + len(body), RTM_NEWROUTE,
                       NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, seq, 0) + body


def check_ack(reply: bytes, seq: int = 1) -> None:
    """OSError for a netlink error reply (errno 0 is the ACK)."""
    if len(reply) < 20:
        raise OSError("rtnetlink: short reply")
    _length, mtype, _flags, got_seq, _pid = struct.unpack_from("=IHHII", reply)
    if mtype != NLMSG_ERROR or got_seq != seq:
        raise OSError(f"rtnetlink: unexpected reply type {mtype}")
    err = -struct.unpack_from("=i", reply, 16)[0]
    if err:
        raise OSError(err, f"adding the default route: {os.strerror(err)}")


def add_default_route(gateway: str, ifname: str) -> None:
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
                       socket.NETLINK_ROUTE) as s:
        s.settimeout(2.0)
        s.bind((0, 0))
        s.send(route_message(gateway, socket.if_nametoindex(ifname)))
        check_ack(s.recv(4096))


def apply(ifname: str, address: str, netmask: str, gateway: str | None, netif=None) -> None:
    """The interface up, its address and netmask set, the default route via `gateway`."""
    if netif is None:
        from ..sys import netif
    netif.link_up(ifname)
    netif.set_ipv4(ifname, address, netmask)
    if gateway:
        add_default_route(gateway, ifname)


def write_state(state: dict, run_dir: str = "/run/llmos") -> None:
    """net.json (atomically) and resolv.conf from state["dns"]/["domain"]."""
    os.makedirs(run_dir, exist_ok=True)
    for name, text in (("net.json", json.dumps(state, indent=1) + "\n"),
                       ("resolv.conf", resolv_conf(state.get("dns") or [],
                                                   state.get("domain") or ""))):
        path = os.path.join(run_dir, name)
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)


def resolv_conf(dns: list[str], domain: str = "") -> str:
    lines = ["# written by llmos (llmos_init/net)"]
    if domain and all(c.isalnum() or c in ".-" for c in domain):
        lines.append(f"search {domain}")
    lines += [f"nameserver {d}" for d in dns]
    return "\n".join(lines) + "\n"


def read_state(path: str = NET_JSON) -> dict | None:
    """net.json, or None when there is none (no network service, or nothing configured)."""
    try:
        with open(path) as f:
            got = json.load(f)
        return got if isinstance(got, dict) else None
    except (OSError, ValueError):
        return None


def summary(state: dict | None) -> str | None:
    """One line: "eth0 10.0.2.15/24 via 10.0.2.2, DNS 10.0.2.3 (DHCP)", or the state."""
    if not state:
        return None
    if state.get("address"):
        s = f"{state.get('interface', '?')} {state['address']}/{prefix_len(state['netmask'])}"
        if state.get("gateway"):
            s += f" via {state['gateway']}"
        if state.get("dns"):
            s += f", DNS {' '.join(state['dns'])}"
        return s + f" ({state.get('source', '?')})"
    return f"{state.get('interface') or 'no interface'}: {state.get('status', 'unconfigured')}"
