"""The `network` service: one interface configured from `ip=` or by DHCP, after the prompt.

PID 1 forks it like the console (services.toml), so neither a missing cable nor a silent
DHCP server can delay the prompt or block PID 1. It runs at a lower priority (nice 10)
than the console. What it did is in /run/llmos/net.json (config.write_state), lines of
what happened in /data/log/network.log; it prints nothing (its output would land in the
middle of the console).

- `ip=off` (or `none`): nothing is configured.
- `ip=<client>:<server>:<gw>:<mask>:<host>:<dev>:off:<dns0>:<dns1>`: that address, once.
- otherwise DHCP on the device named in `ip=`, else the first Ethernet interface: tries
  at 1, 2 and 4 s, then again after a growing pause (up to a minute); a lease is renewed at
  its T1 (asking for the same address first). No socket is kept between exchanges.
"""
from __future__ import annotations

import os
import time

from . import config, dhcp

SYS_NET = "/sys/class/net"
LOG = "/data/log/network.log"
NICE = 10
RETRY_MAX_S = 60.0


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def ethernet_interfaces(sys_net: str = SYS_NET) -> list[str]:
    """Interfaces of type ARPHRD_ETHER (1), sorted; never lo."""
    try:
        names = sorted(os.listdir(sys_net))
    except OSError:
        return []
    return [n for n in names if n != "lo" and _read(os.path.join(sys_net, n, "type")) == "1"]


def mac_of(ifname: str, sys_net: str = SYS_NET) -> bytes:
    return bytes.fromhex(_read(os.path.join(sys_net, ifname, "address")).replace(":", ""))


class Service:
    def __init__(self, cmdline: dict[str, str], *, run_dir: str = "/run/llmos", log_path: str = LOG,
                 sys_net: str = SYS_NET, clock=time.monotonic, sleep=time.sleep,
                 acquire=dhcp.acquire, apply=config.apply):
        self.cmdline, self.run_dir, self.log_path, self.sys_net = cmdline, run_dir, log_path, sys_net
        self.clock, self.sleep, self.acquire, self.apply = clock, sleep, acquire, apply
        self.state: dict = {}

    def log(self, msg: str) -> None:
        try:
            with open(self.log_path, "a") as f:
                f.write(f"[{self.clock():10.3f}] {msg}\n")
        except OSError:
            pass

    def save(self, **state) -> None:
        self.state = state
        try:
            config.write_state(state, self.run_dir)
        except OSError as e:
            self.log(f"cannot write {self.run_dir}/net.json: {e}")

    def run(self, forever: bool = True) -> int:
        try:
            mode, static, dev = config.parse_ip(self.cmdline.get("ip"))
        except ValueError as e:
            self.log(str(e))
            self.save(interface=None, status=f"not configured: {e}")
            return 0
        if mode == "off":
            self.save(interface=None, status="off (ip=off on the kernel command line)")
            return 0
        names = ethernet_interfaces(self.sys_net)
        ifname = dev or (names[0] if names else "")
        if not ifname:
            self.save(interface=None, status="no Ethernet interface")
            return 0
        if static is not None:
            return self.configure_static(ifname, static)
        return self.dhcp_loop(ifname, forever)

    def configure_static(self, ifname: str, st: config.StaticConfig) -> int:
        try:
            self.apply(ifname, st.address, st.netmask, st.gateway)
        except (OSError, ValueError) as e:
            self.log(f"{ifname}: static address {st.address} failed: {e}")
            self.save(interface=ifname, status=f"static address failed: {e}")
            return 1
        self.log(f"{ifname}: {st.address}/{config.prefix_len(st.netmask)} (ip= on the kernel command line)")
        self.save(interface=ifname, source="static", address=st.address, netmask=st.netmask,
                  gateway=st.gateway, dns=st.dns, domain="", configured_at=self.clock())
        return 0

    def dhcp_loop(self, ifname: str, forever: bool) -> int:
        started = self.clock()
        pause, lease = 1.0, None
        host = os.uname().nodename
        while True:
            try:
                mac = mac_of(ifname, self.sys_net)
                if lease is None:
                    from ..sys import netif
                    netif.link_up(ifname)   # the socket needs it up; carrier may lag
                got = self.acquire(ifname, mac, hostname=host,
                                   requested=lease.address if lease else None)
                if lease is None or (got.address, got.netmask, got.router) != \
                        (lease.address, lease.netmask, lease.router):
                    self.apply(ifname, got.address, got.netmask, got.router)
                lease, pause = got, 1.0
                took = self.clock() - started
                self.log(f"{ifname}: {got.address}/{config.prefix_len(got.netmask)} via "
                         f"{got.router} from {got.server} for {got.lease_s} s ({took:.2f} s)")
                self.save(interface=ifname, source="DHCP", address=got.address,
                          netmask=got.netmask, gateway=got.router, dns=got.dns,
                          domain=got.domain, server=got.server, lease_s=got.lease_s,
                          configured_at=self.clock(), took_s=round(took, 3))
                if not forever:
                    return 0
                self.sleep(got.renew_s)
                continue
            except (OSError, ValueError) as e:     # TimeoutError and DHCPError among them
                self.log(f"{ifname}: DHCP: {e}")
                if lease is None:
                    self.save(interface=ifname, status=f"waiting for DHCP ({e})")
                elif self.clock() - lease.obtained >= lease.lease_s:
                    self.log(f"{ifname}: the lease of {lease.address} ran out")
                    lease = None
                    self.save(interface=ifname, status="lease expired; waiting for DHCP")
            if not forever:
                return 1
            self.sleep(pause)
            pause = min(pause * 2, RETRY_MAX_S)


def main(argv: list[str] | None = None) -> int:
    try:
        os.nice(NICE)
    except OSError:
        pass
    from ..boot import parse_cmdline
    return Service(parse_cmdline(_read("/proc/cmdline"))).run()
