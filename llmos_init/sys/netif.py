"""Network interfaces via the classic ioctls on an AF_INET datagram socket.

IPv4 only, one (primary) address per interface: enough to bring up ``lo``
and configure a single NIC statically.  Routes are not handled here.
"""

from __future__ import annotations

import errno
import os

# _socket, not socket: socket.py's enum conversions and ipaddress cost tens of ms under
# QEMU TCG on PID 1's way to the console prompt (link_up("lo") is a boot step); ipaddress
# is imported by the address functions that need it.
import _socket

from ._ffi import SyscallError, check_ioctl, ffi, lib

__all__ = [
    "interfaces", "get_flags", "set_flags", "is_up", "link_up", "link_down",
    "set_ipv4", "get_ipv4", "get_mtu", "if_index",
    "IFF_UP", "IFF_BROADCAST", "IFF_LOOPBACK", "IFF_POINTOPOINT", "IFF_RUNNING",
    "IFF_NOARP", "IFF_PROMISC", "IFF_MULTICAST", "IFNAMSIZ",
]

IFF_UP = lib.IFF_UP
IFF_BROADCAST = lib.IFF_BROADCAST
IFF_LOOPBACK = lib.IFF_LOOPBACK
IFF_POINTOPOINT = lib.IFF_POINTOPOINT
IFF_RUNNING = lib.IFF_RUNNING
IFF_NOARP = lib.IFF_NOARP
IFF_PROMISC = lib.IFF_PROMISC
IFF_MULTICAST = lib.IFF_MULTICAST
IFNAMSIZ = lib.IFNAMSIZ

TYPE_CHECKING = False
if TYPE_CHECKING:
    import ipaddress

_SYS_CLASS_NET = "/sys/class/net"


def interfaces() -> list[str]:
    """Interface names of this process's network namespace, sorted.

    _socket.if_nameindex() (netlink) is asked first: /sys/class/net shows the
    namespace that mounted sysfs, which differs after unshare(CLONE_NEWNET).
    """
    try:
        return sorted(name for _, name in _socket.if_nameindex())
    except OSError:
        return sorted(os.listdir(_SYS_CLASS_NET))


def _ifreq(ifname: str):
    raw = ifname.encode("utf-8") if isinstance(ifname, str) else bytes(ifname)
    if not raw or len(raw) >= IFNAMSIZ or b"\0" in raw or b"/" in raw:
        raise ValueError(f"invalid interface name {ifname!r} (1..{IFNAMSIZ - 1} bytes, no NUL or '/')")
    req = ffi.new("struct ifreq *")
    req.ifr_name = raw
    return req


def _ioctl(ifname: str, request: int, name: str, req) -> None:
    sock = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM | _socket.SOCK_CLOEXEC)
    try:
        check_ioctl(lib.llmos_ioctl_ifreq(sock.fileno(), request, req), ifname, name)
    finally:
        sock.close()


def get_flags(ifname: str) -> int:
    """SIOCGIFFLAGS: the IFF_* flags of ``ifname``."""
    req = _ifreq(ifname)
    _ioctl(ifname, lib.SIOCGIFFLAGS, "SIOCGIFFLAGS", req)
    return req.ifr_flags & 0xFFFF


def set_flags(ifname: str, flags: int) -> None:
    """SIOCSIFFLAGS: replace the (16-bit) IFF_* flags of ``ifname``."""
    if isinstance(flags, bool) or not isinstance(flags, int) or not 0 <= flags <= 0xFFFF:
        raise ValueError(f"interface flags must be an int in 0..0xffff, got {flags!r}")
    req = _ifreq(ifname)
    req.ifr_flags = flags - 0x10000 if flags >= 0x8000 else flags
    _ioctl(ifname, lib.SIOCSIFFLAGS, "SIOCSIFFLAGS", req)


def is_up(ifname: str) -> bool:
    return bool(get_flags(ifname) & IFF_UP)


def link_up(ifname: str) -> None:
    """Set IFF_UP (no-op when already up)."""
    flags = get_flags(ifname)
    if not flags & IFF_UP:
        set_flags(ifname, flags | IFF_UP)


def link_down(ifname: str) -> None:
    """Clear IFF_UP (no-op when already down)."""
    flags = get_flags(ifname)
    if flags & IFF_UP:
        set_flags(ifname, flags & ~IFF_UP & 0xFFFF)


def _set_sockaddr_in(field_ptr, address: ipaddress.IPv4Address) -> None:
    sin = ffi.cast("struct sockaddr_in *", field_ptr)
    sin.sin_family = _socket.AF_INET
    sin.sin_port = 0
    # s_addr is in network byte order: copy the 4 packed bytes as they are.
    ffi.memmove(ffi.addressof(sin.sin_addr), address.packed, 4)


def _get_sockaddr_in(field_ptr) -> ipaddress.IPv4Address:
    import ipaddress
    sin = ffi.cast("struct sockaddr_in *", field_ptr)
    return ipaddress.IPv4Address(bytes(ffi.buffer(ffi.addressof(sin.sin_addr), 4)))


def set_ipv4(ifname: str, address: str, netmask: str) -> None:
    """SIOCSIFADDR then SIOCSIFNETMASK.  ``netmask`` may be dotted
    ("255.255.255.0") or a prefix length ("24" or 24).  ValueError for a bad
    address or a non-contiguous mask, before touching the interface."""
    import ipaddress
    addr = ipaddress.IPv4Address(address)
    mask = ipaddress.IPv4Network(f"0.0.0.0/{netmask}").netmask
    req = _ifreq(ifname)
    _set_sockaddr_in(ffi.addressof(req[0], "ifr_addr"), addr)
    _ioctl(ifname, lib.SIOCSIFADDR, "SIOCSIFADDR", req)
    req = _ifreq(ifname)
    _set_sockaddr_in(ffi.addressof(req[0], "ifr_netmask"), mask)
    _ioctl(ifname, lib.SIOCSIFNETMASK, "SIOCSIFNETMASK", req)


def get_ipv4(ifname: str) -> tuple[str, str] | None:
    """(address, netmask) as dotted strings, or None when no IPv4 address is set."""
    req = _ifreq(ifname)
    try:
        _ioctl(ifname, lib.SIOCGIFADDR, "SIOCGIFADDR", req)
    except SyscallError as exc:
        if exc.errno == errno.EADDRNOTAVAIL:  # no IPv4 address on the interface
            return None
        raise
    addr = _get_sockaddr_in(ffi.addressof(req[0], "ifr_addr"))
    req = _ifreq(ifname)
    _ioctl(ifname, lib.SIOCGIFNETMASK, "SIOCGIFNETMASK", req)
    mask = _get_sockaddr_in(ffi.addressof(req[0], "ifr_netmask"))
    return str(addr), str(mask)


def get_mtu(ifname: str) -> int:
    req = _ifreq(ifname)
    _ioctl(ifname, lib.SIOCGIFMTU, "SIOCGIFMTU", req)
    return int(req.ifr_mtu)


def if_index(ifname: str) -> int:
    req = _ifreq(ifname)
    _ioctl(ifname, lib.SIOCGIFINDEX, "SIOCGIFINDEX", req)
    return int(req.ifr_ifindex)
