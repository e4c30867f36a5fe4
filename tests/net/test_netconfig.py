"""ip= parsing, the route message, the state files and the network service's decisions."""
import json
import socket
import struct

import pytest

from llmos_init.net import config, dhcp
from llmos_init.net.service import Service, ethernet_interfaces


@pytest.mark.parametrize("value, mode", [
    (None, "dhcp"), ("", "dhcp"), ("dhcp", "dhcp"), ("on", "dhcp"), ("off", "off"), ("none", "off"),
    ("::::llmos:eth1:dhcp", "dhcp"), ("10.0.0.5::10.0.0.1:255.0.0.0::eth0:dhcp", "dhcp"),
])
def test_parse_ip_modes(value, mode):
    assert config.parse_ip(value)[0] == mode


def test_parse_ip_static_kernel_syntax():
    mode, st, dev = config.parse_ip("192.168.1.50::192.168.1.1:255.255.255.0:pi:eth0:off:192.168.1.1:9.9.9.9")
    assert (mode, dev) == ("static", "eth0")
    assert (st.address, st.netmask, st.gateway, st.hostname) == ("192.168.1.50", "255.255.255.0", "192.168.1.1", "pi")
    assert st.dns == ["192.168.1.1", "9.9.9.9"]
    # the short form: an address alone, the netmask of its class, no route
    _, st, dev = config.parse_ip("10.1.2.3")
    assert (st.netmask, st.gateway, dev) == ("255.0.0.0", None, "")


@pytest.mark.parametrize("bad", ["10.0.0.300::::::off", "10.0.0.5:::255.0.255.0::eth0:off",
                                 "10.0.0.5::gw:255.0.0.0::eth0:off", "1.2.3::::::off"])
def test_parse_ip_refuses_nonsense(bad):
    with pytest.raises(ValueError):
        config.parse_ip(bad)


def test_route_message_layout_and_ack():
    msg = config.route_message("10.0.2.2", 2, seq=7)
    length, mtype, flags, seq, _ = struct.unpack_from("=IHHII", msg)
    assert length == len(msg) == 16 + 12 + 16 and mtype == config.RTM_NEWROUTE and seq == 7
    assert flags & config.NLM_F_ACK and flags & config.NLM_F_REPLACE
    assert msg[16] == socket.AF_INET and msg[17] == 0          # family, dst_len 0: default
    assert socket.inet_aton("10.0.2.2") in msg
    ack = struct.pack("=IHHIIi", 36, config.NLMSG_ERROR, 0, 7, 0, 0) + bytes(16)
    config.check_ack(ack, seq=7)
    with pytest.raises(OSError, match="File exists|exists"):
        config.check_ack(struct.pack("=IHHIIi", 36, config.NLMSG_ERROR, 0, 7, 0, -17) + bytes(16), seq=7)
    with pytest.raises(OSError):
        config.check_ack(b"\0" * 8)


def test_state_files(tmp_path):
    config.write_state({"interface": "eth0", "address": "10.0.2.15", "netmask": "255.255.255.0",
                        "gateway": "10.0.2.2", "dns": ["10.0.2.3"], "domain": "lan",
                        "source": "DHCP"}, str(tmp_path))
    assert (tmp_path / "resolv.conf").read_text().splitlines()[1:] == ["search lan", "nameserver 10.0.2.3"]
    st = config.read_state(str(tmp_path / "net.json"))
    assert config.summary(st) == "eth0 10.0.2.15/24 via 10.0.2.2, DNS 10.0.2.3 (DHCP)"
    assert config.summary({"interface": None, "status": "no Ethernet interface"}) == \
        "no interface: no Ethernet interface"
    assert config.read_state(str(tmp_path / "missing.json")) is None
    assert "search" not in config.resolv_conf(["1.1.1.1"], "evil\nnameserver 6.6.6.6")


def sysnet(tmp_path, **ifaces):
    for name, (typ, mac) in ifaces.items():
        (tmp_path / "net" / name).mkdir(parents=True)
        (tmp_path / "net" / name / "type").write_text(f"{typ}\n")
        (tmp_path / "net" / name / "address").write_text(f"{mac}\n")
    return str(tmp_path / "net")


class Recorder:
    def __init__(self, fail=0, lease=None):
        self.applied, self.asked, self.fail = [], [], fail
        self.lease = lease or dhcp.Lease("10.0.2.15", "255.255.255.0", "10.0.2.2", ["10.0.2.3"],
                                         "10.0.2.2", 86400, 43200)

    def acquire(self, ifname, mac, **kw):
        self.asked.append((ifname, mac, kw.get("requested")))
        if len(self.asked) <= self.fail:
            raise TimeoutError("no DHCP reply")
        return self.lease

    def apply(self, *args):
        self.applied.append(args)


def service(tmp_path, cmdline, rec, **ifaces):
    return Service(cmdline, run_dir=str(tmp_path / "run"), log_path=str(tmp_path / "net.log"),
                   sys_net=sysnet(tmp_path, **ifaces), sleep=lambda s: None,
                   acquire=rec.acquire, apply=rec.apply)


def test_ethernet_interfaces_skip_loopback_and_others(tmp_path):
    d = sysnet(tmp_path, lo=(772, "00:00:00:00:00:00"), eth0=(1, "52:54:00:12:34:56"),
               sit0=(776, "00:00:00:00"), enp1s0=(1, "52:54:00:00:00:01"))
    assert ethernet_interfaces(d) == ["enp1s0", "eth0"]


def test_static_address_from_the_command_line(tmp_path):
    rec = Recorder()
    svc = service(tmp_path, {"ip": "192.168.7.2::192.168.7.1:255.255.255.0::eth0:off:192.168.7.1"},
                  rec, eth0=(1, "52:54:00:12:34:56"))
    assert svc.run() == 0
    assert rec.applied == [("eth0", "192.168.7.2", "255.255.255.0", "192.168.7.1")] and not rec.asked
    st = json.loads((tmp_path / "run" / "net.json").read_text())
    assert st["source"] == "static" and st["dns"] == ["192.168.7.1"]


def test_dhcp_on_the_first_ethernet_interface(tmp_path, monkeypatch):
    from llmos_init.sys import netif
    monkeypatch.setattr(netif, "link_up", lambda name: None)
    rec = Recorder(fail=2)
    svc = service(tmp_path, {}, rec, eth0=(1, "52:54:00:12:34:56"))
    assert svc.run(forever=False) == 1        # the first try times out ...
    st = json.loads((tmp_path / "run" / "net.json").read_text())
    assert st["status"].startswith("waiting for DHCP")
    assert svc.dhcp_loop("eth0", forever=False) == 1
    assert svc.dhcp_loop("eth0", forever=False) == 0   # ... the third gets a lease
    assert rec.asked[0] == ("eth0", bytes.fromhex("525400123456"), None)
    assert rec.applied == [("eth0", "10.0.2.15", "255.255.255.0", "10.0.2.2")]
    st = json.loads((tmp_path / "run" / "net.json").read_text())
    assert st["address"] == "10.0.2.15" and st["source"] == "DHCP" and st["dns"] == ["10.0.2.3"]
    assert "nameserver 10.0.2.3" in (tmp_path / "run" / "resolv.conf").read_text()


def test_off_and_no_interface(tmp_path):
    rec = Recorder()
    assert service(tmp_path, {"ip": "off"}, rec).run() == 0
    assert "off" in json.loads((tmp_path / "run" / "net.json").read_text())["status"]
    assert service(tmp_path, {}, rec, lo=(772, "00:00:00:00:00:00")).run() == 0
    assert json.loads((tmp_path / "run" / "net.json").read_text())["status"] == "no Ethernet interface"
    assert not rec.asked and not rec.applied


def test_a_bad_ip_parameter_configures_nothing(tmp_path):
    rec = Recorder()
    assert service(tmp_path, {"ip": "10.0.0.999::::::off"}, rec, eth0=(1, "52:54:00:12:34:56")).run() == 0
    assert "not configured" in json.loads((tmp_path / "run" / "net.json").read_text())["status"]
    assert not rec.applied


def test_the_shipped_network_service_is_forked_after_the_console():
    from pathlib import Path

    from llmos_init.services import load_services
    cfg = load_services(str(Path(__file__).resolve().parents[2] / "rootfs/etc/llmos/services.toml"))
    assert not cfg.errors, cfg.errors
    names = [s.name for s in cfg.services]
    assert names.index("network") > names.index("console")
    net = cfg.service("network")
    assert net.fork and net.restart == "on-failure" and net.tty is None and net.when is None
    assert net.command[-2:] == ("llmos_init", "network")
