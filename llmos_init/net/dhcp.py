"""A small DHCPv4 client (RFC 2131/2132): DISCOVER, OFFER, REQUEST, ACK over one UDP socket.

No raw sockets and no userland tools: the socket is bound to 0.0.0.0:68 on one interface
(SO_BINDTODEVICE) with SO_BROADCAST, and asks the server to answer by broadcast (the
BROADCAST flag), which Linux delivers to an interface that has no address yet. The socket
is opened for one exchange and closed after it: llmos keeps no socket bound between
exchanges (tests/qemu/test_network.py checks /proc/net/udp).

The packet code is pure (build_* / parse): a reply that is not a well-formed BOOTREPLY
for our transaction raises DHCPError and is ignored by the exchange, which waits on for a
good one until its deadline. Tests talk to a fake server over 127.0.0.1.
"""
from __future__ import annotations

import os
import socket
import struct
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable

CLIENT_PORT, SERVER_PORT = 68, 67
MAGIC = b"\x63\x82\x53\x63"
BOOTREQUEST, BOOTREPLY = 1, 2
FLAG_BROADCAST = 0x8000
DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE = 1, 2, 3, 4, 5, 6, 7
# options
OPT_PAD, OPT_END = 0, 255
OPT_SUBNET, OPT_ROUTER, OPT_DNS, OPT_HOSTNAME, OPT_DOMAIN = 1, 3, 6, 12, 15
OPT_REQUESTED_IP, OPT_LEASE, OPT_MSG_TYPE, OPT_SERVER_ID, OPT_PARAMS = 50, 51, 53, 54, 55
OPT_RENEWAL, OPT_REBINDING, OPT_CLIENT_ID = 58, 59, 61
HEADER = struct.Struct("!BBBBIHH4s4s4s4s16s64s128s")     # 236 bytes, then MAGIC, options
MAX_PACKET = 1500


class DHCPError(ValueError):
    """A packet that is not a usable DHCP reply (or an exchange that got none)."""


class Lease:
    """What the server gave: address, netmask, router, DNS servers, times (seconds)."""

    __slots__ = ("address", "netmask", "router", "dns", "server", "lease_s", "renew_s",
                 "domain", "obtained")

    def __init__(self, address: str, netmask: str, router: str | None, dns: list[str],
                 server: str | None, lease_s: int, renew_s: int, domain: str = "",
                 obtained: float = 0.0):
        self.address, self.netmask, self.router, self.dns = address, netmask, router, dns
        self.server, self.lease_s, self.renew_s, self.domain = server, lease_s, renew_s, domain
        self.obtained = obtained

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}

    def __repr__(self) -> str:
        return f"Lease({self.as_dict()!r})"


def _ip(b: bytes) -> str:
    return socket.inet_ntoa(b)


def _ips(b: bytes) -> list[str]:
    if not b or len(b) % 4:
        raise DHCPError(f"an address list of {len(b)} bytes")
    return [_ip(b[i:i + 4]) for i in range(0, len(b), 4)]


def build(msg_type: int, xid: int, mac: bytes, *, ciaddr: str = "0.0.0.0",
          requested: str | None = None, server_id: str | None = None,
          hostname: str | None = None, broadcast: bool = True) -> bytes:
    """A BOOTREQUEST carrying DHCP message `msg_type`."""
    if len(mac) != 6:
        raise ValueError(f"a MAC address is 6 bytes, got {len(mac)}")
    head = HEADER.pack(BOOTREQUEST, 1, 6, 0, xid & 0xFFFFFFFF, 0,
                       FLAG_BROADCAST if broadcast else 0, socket.inet_aton(ciaddr),
                       bytes(4), bytes(4), bytes(4), mac.ljust(16, b"\0"), bytes(64), bytes(128))
    opts = bytearray([OPT_MSG_TYPE, 1, msg_type])
    opts += bytes([OPT_CLIENT_ID, 7, 1]) + mac
    if requested:
        opts += bytes([OPT_REQUESTED_IP, 4]) + socket.inet_aton(requested)
    if server_id:
        opts += bytes([OPT_SERVER_ID, 4]) + socket.inet_aton(server_id)
    if hostname:
        name = hostname.encode("ascii", "ignore")[:63]
        if name:
            opts += bytes([OPT_HOSTNAME, len(name)]) + name
    opts += bytes([OPT_PARAMS, 6, OPT_SUBNET, OPT_ROUTER, OPT_DNS, OPT_DOMAIN, OPT_LEASE,
                   OPT_RENEWAL])
    opts.append(OPT_END)
    return head + MAGIC + bytes(opts)


def parse_options(raw: bytes) -> dict[int, bytes]:
    """The options field (after the magic cookie); DHCPError when it is malformed."""
    out: dict[int, bytes] = {}
    i = 0
    while i < len(raw):
        code = raw[i]
        if code == OPT_END:
            return out
        if code == OPT_PAD:
            i += 1
            continue
        if i + 1 >= len(raw):
            raise DHCPError("an option without its length")
        n = raw[i + 1]
        val = raw[i + 2:i + 2 + n]
        if len(val) != n:
            raise DHCPError(f"option {code} runs past the packet")
        out[code] = out.get(code, b"") + val     # RFC 3396: repeated options concatenate
        i += 2 + n
    return out


def parse(packet: bytes, xid: int, mac: bytes) -> tuple[int, str, dict[int, bytes]]:
    """(message type, yiaddr, options) of a BOOTREPLY for transaction `xid` to `mac`."""
    if len(packet) < HEADER.size + len(MAGIC):
        raise DHCPError(f"a packet of {len(packet)} bytes is too short for DHCP")
    (op, _htype, hlen, _hops, got_xid, _secs, _flags, _ciaddr, yiaddr, _siaddr, _giaddr,
     chaddr, _sname, _file) = HEADER.unpack_from(packet)
    if op != BOOTREPLY:
        raise DHCPError("not a BOOTREPLY")
    if got_xid != xid:
        raise DHCPError("another transaction")
    if hlen != 6 or chaddr[:6] != mac:
        raise DHCPError("a reply to another client")
    if packet[HEADER.size:HEADER.size + 4] != MAGIC:
        raise DHCPError("no DHCP magic cookie")
    opts = parse_options(packet[HEADER.size + 4:])
    mt = opts.get(OPT_MSG_TYPE, b"")
    if len(mt) != 1:
        raise DHCPError("no DHCP message type")
    return mt[0], _ip(yiaddr), opts


def lease_from(yiaddr: str, opts: dict[int, bytes], now: float) -> Lease:
    """The Lease an ACK describes; DHCPError when it lacks what a lease needs."""
    if yiaddr in ("0.0.0.0", "255.255.255.255"):
        raise DHCPError(f"the server offered {yiaddr}")

    def one(code: int) -> str | None:
        v = opts.get(code)
        if v is None:
            return None
        if len(v) < 4:
            raise DHCPError(f"option {code} holds {len(v)} bytes, not an address")
        return _ip(v[:4])

    def secs(code: int) -> int | None:
        v = opts.get(code)
        if v is None:
            return None
        if len(v) != 4:
            raise DHCPError(f"option {code} holds {len(v)} bytes, not a time")
        return struct.unpack("!I", v)[0]

    mask = one(OPT_SUBNET) or "255.255.255.0"
    lease_s = secs(OPT_LEASE) or 3600
    lease_s = min(lease_s, 0x7FFFFFFF)          # 0xffffffff: "infinite"
    renew_s = secs(OPT_RENEWAL) or lease_s // 2
    dns = _ips(opts[OPT_DNS]) if OPT_DNS in opts else []
    domain = opts.get(OPT_DOMAIN, b"").decode("ascii", "replace").strip("\0 ")
    return Lease(yiaddr, mask, one(OPT_ROUTER), dns[:3], one(OPT_SERVER_ID),
                 lease_s, max(1, min(renew_s, lease_s)), domain, now)


def _wait_for(sock, xid: int, mac: bytes, want: tuple[int, ...], deadline: float,
              clock: Callable[[], float]) -> tuple[int, str, dict[int, bytes]]:
    """The first good reply of a type in `want` before `deadline` (others are ignored)."""
    while True:
        left = deadline - clock()
        if left <= 0:
            raise TimeoutError("no DHCP reply")
        sock.settimeout(left)
        try:
            packet = sock.recv(MAX_PACKET)
        except socket.timeout:
            raise TimeoutError("no DHCP reply") from None
        try:
            mt, yiaddr, opts = parse(packet, xid, mac)
        except DHCPError:
            continue
        if mt in want:
            return mt, yiaddr, opts


def exchange(sock, mac: bytes, *, dest: tuple[str, int] = ("255.255.255.255", SERVER_PORT),
             hostname: str | None = None, requested: str | None = None,
             timeouts: tuple[float, ...] = (1.0, 2.0, 4.0),
             clock: Callable[[], float] = time.monotonic, xid: int | None = None) -> Lease:
    """DISCOVER/OFFER/REQUEST/ACK on `sock` (already bound); each attempt waits the next of
    `timeouts`. With `requested` (an address held before) a REQUEST for it comes first
    (INIT-REBOOT); a NAK falls back to DISCOVER. Raises TimeoutError or DHCPError."""
    last: Exception = TimeoutError("no DHCP reply")
    if requested:
        x = xid if xid is not None else int.from_bytes(os.urandom(4), "big")
        try:
            sock.sendto(build(REQUEST, x, mac, requested=requested, hostname=hostname), dest)
            mt, yiaddr, opts = _wait_for(sock, x, mac, (ACK, NAK), clock() + timeouts[0], clock)
            if mt == ACK:
                return lease_from(yiaddr, opts, clock())
        except (TimeoutError, DHCPError) as e:
            last = e
    for wait in timeouts:
        x = xid if xid is not None else int.from_bytes(os.urandom(4), "big")
        try:
            sock.sendto(build(DISCOVER, x, mac, hostname=hostname), dest)
            _, offered, opts = _wait_for(sock, x, mac, (OFFER,), clock() + wait, clock)
            server = opts.get(OPT_SERVER_ID, b"")
            server_ip = _ip(server[:4]) if len(server) >= 4 else None
            sock.sendto(build(REQUEST, x, mac, requested=offered, server_id=server_ip,
                              hostname=hostname), dest)
            mt, yiaddr, opts = _wait_for(sock, x, mac, (ACK, NAK), clock() + wait, clock)
            if mt == NAK:
                raise DHCPError("the server refused the address it offered (NAK)")
            return lease_from(yiaddr, opts, clock())
        except (TimeoutError, DHCPError) as e:
            last = e
    raise last


def client_socket(ifname: str):
    """A UDP socket on 0.0.0.0:68 bound to `ifname`, allowed to broadcast (close it after)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode() + b"\0")
        s.bind(("0.0.0.0", CLIENT_PORT))
    except BaseException:
        s.close()
        raise
    return s


def acquire(ifname: str, mac: bytes, **kw) -> Lease:
    """One exchange on `ifname`, its socket closed afterwards whatever happens."""
    with client_socket(ifname) as s:
        return exchange(s, mac, **kw)
