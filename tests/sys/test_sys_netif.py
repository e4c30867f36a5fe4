"""Interface flags and IPv4 configuration on the loopback of a new net namespace."""

from __future__ import annotations

import errno
import socket

import pytest

from llmos_init.sys import netif, process
from llmos_init.sys.errors import SyscallError
from tests.sys.child import run_in_child


def test_interfaces_lists_loopback():
    names = netif.interfaces()
    assert "lo" in names and names == sorted(names)
    assert netif.get_flags("lo") & netif.IFF_LOOPBACK


@pytest.mark.parametrize("bad", ["", "x" * 16, "a/b", "a\0b"])
def test_bad_interface_names(bad):
    with pytest.raises(ValueError):
        netif.get_flags(bad)


def test_unknown_interface_is_enodev():
    with pytest.raises(SyscallError) as info:
        netif.get_flags("llmosnone0")
    assert info.value.errno == errno.ENODEV
    assert str(info.value) == "[Errno 19] No such device: ioctl('llmosnone0', SIOCGIFFLAGS)"


@pytest.mark.parametrize("address,netmask", [("300.1.1.1", "255.0.0.0"), ("10.0.0.1", "255.0.255.0"),
                                             ("10.0.0.1", "33"), ("::1", "8")])
def test_set_ipv4_validates_before_touching(address, netmask):
    with pytest.raises(ValueError):
        netif.set_ipv4("llmosnone0", address, netmask)


def _loopback_in_new_netns():
    steps = {"names": netif.interfaces(), "up0": netif.is_up("lo"), "addr0": netif.get_ipv4("lo")}
    netif.link_up("lo")
    netif.link_up("lo")  # idempotent
    steps["up1"] = netif.is_up("lo")
    steps["addr1"] = netif.get_ipv4("lo")
    netif.set_ipv4("lo", "127.0.0.2", 16)
    steps["addr2"] = netif.get_ipv4("lo")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.2", 0))  # the address really is configured
        steps["bound"] = s.getsockname()[0]
    steps["mtu"], steps["index"] = netif.get_mtu("lo"), netif.if_index("lo")
    netif.link_down("lo")
    steps["up2"] = netif.is_up("lo")
    return steps


def test_loopback_configuration_in_new_netns():
    s = run_in_child(_loopback_in_new_netns, unshare=process.CLONE_NEWNET)
    assert s["names"] == ["lo"]
    assert s["up0"] is False and s["addr0"] is None
    assert s["up1"] is True and s["addr1"] == ("127.0.0.1", "255.0.0.0")
    assert s["addr2"] == ("127.0.0.2", "255.255.0.0") and s["bound"] == "127.0.0.2"
    assert s["mtu"] == 65536 and s["index"] == 1
    assert s["up2"] is False
