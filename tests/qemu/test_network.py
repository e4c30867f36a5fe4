"""The network in the guest (QEMU user networking: 10.0.2.15, gateway 10.0.2.2, DNS 10.0.2.3):
the network service's DHCP lease shown by the console's tools, and nothing listening."""
from __future__ import annotations

import re

import pytest

from qemu_harness import scaled


@pytest.fixture(scope="module")
def guest(image, tmp_path_factory):
    from mkimage.image import make_data_image
    from qemu_harness import Guest
    wd = tmp_path_factory.mktemp("netguest")
    make_data_image(wd / "data.ext4", 64)
    g = Guest(wd, wd / "data.ext4")
    g.boot()
    yield g
    g.kill()


def test_dhcp_gives_the_guest_its_address(guest):
    out = guest.ask("list network devices", timeout=scaled(240))
    assert re.search(r"eth0\s+up\s+up\s+\S+\s+10\.0\.2\.15/24", out), out
    assert "configured: eth0 10.0.2.15/24 via 10.0.2.2, DNS 10.0.2.3 (DHCP)" in out
    info = guest.ask("system info", timeout=scaled(120))
    assert re.search(r"network\s+eth0 10\.0\.2\.15/24 via 10\.0\.2\.2, DNS 10\.0\.2\.3 \(DHCP\)", info), info
    resolv = guest.ask("cat /etc/resolv.conf", timeout=scaled(120))
    assert "nameserver 10.0.2.3" in resolv, resolv
    log = guest.ask("cat /data/log/network.log", timeout=scaled(120))
    m = re.search(r"eth0: 10\.0\.2\.15/24 via 10\.0\.2\.2 from 10\.0\.2\.2 for \d+ s \((\d+\.\d+) s\)", log)
    assert m, log
    print(f"\nDHCP lease {m.group(1)} s after the network service started")


def _sockets(text: str) -> list[str]:
    """The socket lines of a /proc/net/{tcp,udp}{,6} listing (its header left out)."""
    return [ln for ln in text.splitlines() if re.match(r"\s*\d+: [0-9A-F]+:[0-9A-F]{4} ", ln)]


@pytest.mark.parametrize("table", ["tcp", "tcp6", "udp", "udp6"])
def test_nothing_listens(guest, table):
    """llmos opens no listening socket, and the DHCP client's socket is closed after use."""
    out = guest.ask(f"cat /proc/net/{table}", timeout=scaled(120))
    assert "local_address" in out, out
    socks = _sockets(out)
    if table.startswith("tcp"):
        assert not [s for s in socks if s.split()[3] == "0A"], out     # 0A: LISTEN
    else:
        assert socks == [], out                                        # no bound UDP socket
