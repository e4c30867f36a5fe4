"""Devices (fake /sys), disk usage, mount/unmount, links, time, hostname, kernel log,
power, answer/clarify/help. Kernel calls are faked, or run for real in a forked child
with private namespaces where the host allows."""
from __future__ import annotations

import os
import sys
import types

import pytest

from llmos_init.sys.mounts import parse_mountinfo as real_parse_mountinfo
from llmos_init.tools.context import ActionContext
from llmos_init.tools.executor import Executor
from llmos_init.tools.registry import TOOLS

from .conftest import fake_proc, run, write


def fake_sys(tmp_path):
    s = tmp_path / "sys"
    b = s / "class/block"
    write(b / "vda/size", "2097152\n")
    write(b / "vda/ro", "0\n")
    write(b / "vda/removable", "0\n")
    write(b / "vda/device/model", "QEMU disk\n")
    write(b / "vda1/size", "1024\n")
    write(b / "vda1/partition", "1\n")
    write(b / "vda1/ro", "1\n")
    write(b / "loop0/size", "0\n")
    n = s / "class/net"
    write(n / "eth0/operstate", "up\n")
    write(n / "eth0/flags", "0x1003\n")
    write(n / "eth0/address", "52:54:00:12:34:56\n")
    write(n / "dummy9/operstate", "down\n")
    write(n / "dummy9/flags", "0x1002\n")
    t = s / "class/tty"
    write(t / "ttyS0/type", "4\n")
    (t / "ttyS0/device").mkdir()
    os.symlink("/nonexistent/drivers/serial8250", t / "ttyS0/device/driver")
    write(t / "ttyS1/type", "0\n")
    (t / "ttyS1/device").mkdir()
    write(t / "tty1/dev", "4:1\n")
    return str(s)


def fake_devices(guest, tmp_path, mountinfo: str):
    """The guest-like executor with a fake /sys and /proc (this mount table)."""
    guest.ctx.sysfs = fake_sys(tmp_path)
    guest.ctx.procfs = fake_proc(tmp_path / "proc", [])
    write(tmp_path / "proc/self/mountinfo", mountinfo)
    write(tmp_path / "proc/filesystems", "nodev\tproc\n\text4\n\tvfat\n")
    write(tmp_path / "proc/net/if_inet6", "fe800000000000000000000000000001 02 40 20 80 eth0\n")
    return guest


@pytest.fixture
def dev(guest, tmp_path):
    return fake_devices(guest, tmp_path,
                        "20 1 253:0 / / ro,relatime - squashfs /dev/vda1 ro\n"
                        f"21 20 0:5 / {tmp_path} rw - ext4 /dev/vdb rw\n"
                        "22 20 0:6 / /proc rw - proc proc rw\n")


def test_list_devices_fake_sys(dev, monkeypatch):
    fake_netif = types.SimpleNamespace(get_ipv4=lambda n: ("10.0.2.15", "255.255.255.0") if n == "eth0" else None)
    monkeypatch.setitem(sys.modules, "llmos_init.sys.netif", fake_netif)
    r = run(dev, "list_devices")
    assert r.ok
    blocks = {d["name"]: d for d in r.data["block"]}
    assert set(blocks) == {"vda", "vda1"}  # unused loop0 hidden
    assert blocks["vda"]["size"] == 1 << 30 and blocks["vda1"]["type"] == "part" and blocks["vda1"]["ro"]
    assert blocks["vda1"]["mountpoint"] == "/"
    nets = {d["name"]: d for d in r.data["net"]}
    assert nets["eth0"]["up"] and not nets["dummy9"]["up"]
    assert nets["eth0"]["addresses"] == ["10.0.2.15/24", "fe80::1/64"]
    assert r.data["serial"] == [{"name": "ttyS0", "driver": "serial8250"}]
    assert "1 empty port slots not shown" in r.text and "QEMU disk" in r.text and "1.0 GiB" in r.text
    only = run(dev, "list_devices", kind="network")
    assert "block devices" not in only.text and "eth0" in only.text
    assert not run(dev, "list_devices", kind="usb").ok


def test_disk_usage_path_and_all(dev, tmp_path):
    r = run(dev, "disk_usage", path=str(tmp_path / "data"))
    assert r.ok and "/dev/vdb (ext4)" in r.text and r.data["size"] > 0 and "%" in r.text
    r = run(dev, "disk_usage")
    assert r.ok and "proc" not in r.text.split("\n", 1)[1]  # pseudo filesystems left out
    mounts = {d["mount"] for d in r.data}
    assert str(tmp_path) in mounts


class FakeMounts:
    MS_SILENT = 32768

    def __init__(self, tmp_path, works="vfat"):
        self.calls, self.works, self.tmp = [], works, tmp_path

    def parse_mountinfo(self, text):
        return real_parse_mountinfo(text)

    def mount(self, source, target, fstype=None, flags=0, data=None):
        self.calls.append(("mount", source, target, fstype))
        if fstype != self.works:
            raise OSError(22, "Invalid argument")

    def umount(self, target, flags=0):
        self.calls.append(("umount", target))


def test_mount_autodetects_fstype(dev, tmp_path, monkeypatch):
    fm = FakeMounts(tmp_path)
    monkeypatch.setitem(sys.modules, "llmos_init.sys.mounts", fm)
    (tmp_path / "mnt").mkdir()
    r = run(dev, "mount", device="/dev/vdd", target=str(tmp_path / "mnt"))
    assert r.ok and "(vfat)" in r.text
    assert [c[3] for c in fm.calls] == ["ext4", "vfat"]  # tried in /proc/filesystems order
    assert "protected" in dev.check({"tool": "mount", "args": {"device": "/dev/vdd", "target": "/proc"}})


def test_unmount(dev, tmp_path, monkeypatch):
    fm = FakeMounts(tmp_path)
    monkeypatch.setitem(sys.modules, "llmos_init.sys.mounts", fm)
    (tmp_path / "usb").mkdir()
    with open(tmp_path / "proc/self/mountinfo", "a") as f:
        f.write(f"30 21 8:1 / {tmp_path}/usb rw - vfat /dev/sda1 rw\n")
    assert dev.preview({"tool": "unmount", "args": {"target": str(tmp_path / "usb")}}) == \
        f"unmount {tmp_path}/usb (/dev/sda1, vfat)"
    assert run(dev, "unmount", target=str(tmp_path / "usb")).ok
    assert fm.calls == [("umount", str(tmp_path / "usb"))]
    (tmp_path / "plain").mkdir()
    assert "nothing is mounted" in dev.check({"tool": "unmount", "args": {"target": str(tmp_path / "plain")}})
    assert "protected" in dev.check({"tool": "unmount", "args": {"target": "/"}})
    assert "console's data" in dev.check({"tool": "unmount", "args": {"target": str(tmp_path)}})


def _real_mount_in_child(tmp):
    from llmos_init.tools.trash import Trash
    from llmos_init.sys import mounts
    mounts.mount(None, "/", None, mounts.MS_REC | mounts.MS_PRIVATE)
    data = os.path.join(tmp, "data")
    ex = Executor(ActionContext(cwd=data, data_dir=data, writable=(tmp,)), Trash(data))
    mnt = os.path.join(tmp, "m")
    os.mkdir(mnt)
    r1 = ex.run({"tool": "mount", "args": {"device": "none", "target": mnt, "fstype": "tmpfs"}})
    ok_mounted = os.path.ismount(mnt)
    r2 = ex.run({"tool": "unmount", "args": {"target": mnt}})
    return r1.ok, r1.text, ok_mounted, r2.ok, r2.text, os.path.ismount(mnt)


def test_real_mount_unmount_in_private_namespace(tmp_path):
    from tests.sys.child import run_in_child
    from llmos_init.sys.process import CLONE_NEWNS
    ok1, t1, mounted, ok2, t2, still = run_in_child(_real_mount_in_child, str(tmp_path), unshare=CLONE_NEWNS)
    assert ok1 and mounted, t1
    assert ok2 and not still, t2


def _real_link_in_child():
    from llmos_init.sys import netif
    ex = Executor(ActionContext(cwd="/tmp", data_dir="/tmp"))  # unused dirs; link tools touch no files
    ex.audit.record = lambda *a, **k: True
    down = ex.run({"tool": "link_down", "args": {"interface": "lo"}})
    was_down = not netif.is_up("lo")
    up = ex.run({"tool": "link_up", "args": {"interface": "lo"}})
    return down.ok, down.text, was_down, up.ok, netif.is_up("lo")


def test_real_link_down_up_in_private_netns():
    from tests.sys.child import run_in_child
    from llmos_init.sys.process import CLONE_NEWNET
    d_ok, d_text, was_down, u_ok, now_up = run_in_child(_real_link_in_child, unshare=CLONE_NEWNET)
    assert d_ok and was_down, d_text
    assert u_ok and now_up


def test_links_with_fake_netif(dev, monkeypatch):
    calls = []
    monkeypatch.setitem(sys.modules, "llmos_init.sys.netif",
                        types.SimpleNamespace(link_up=lambda n: calls.append(("up", n)),
                                              link_down=lambda n: calls.append(("down", n)),
                                              get_ipv4=lambda n: None))
    # the state is shown before the change, whether or not the change asks
    assert dev.announce({"tool": "link_up", "args": {"interface": "eth0"}}) == \
        "bring network interface eth0 up (now up, state up, fe80::1/64)"
    assert run(dev, "link_up", interface="eth0").text == "eth0 is up"
    assert dev.preview({"tool": "link_down", "args": {"interface": "eth0"}}) == \
        "bring network interface eth0 down (now up, state up, fe80::1/64)"
    assert dev.announce({"tool": "link_down", "args": {"interface": "eth0"}}) is None  # it asks
    assert dev.announce({"tool": "link_up", "args": {"interface": "dummy9"}}) == \
        "bring network interface dummy9 up (now down, state down, no address)"
    assert run(dev, "link_down", interface="eth0").ok
    assert calls == [("up", "eth0"), ("down", "eth0")]
    r = run(dev, "link_up", interface="wlan7")
    assert not r.ok and "there are: dummy9, eth0" in r.text
    assert "bad interface" in run(dev, "link_up", interface="../x").text


def test_system_info_fake_proc(dev):
    r = run(dev, "system_info")
    assert r.ok and r.data["cpus"] == 2 and r.data["memory"]["total"] == 2048000 * 1024
    assert "uptime    16m 40s" in r.text and "load      0.50 0.25 0.10" in r.text
    assert "1.5 GiB available" in r.text


def test_time_get_and_set(dev, tmp_path, monkeypatch):
    assert run(dev, "get_time").ok
    calls = []
    monkeypatch.setitem(sys.modules, "llmos_init.sys.rtc", types.SimpleNamespace(
        set_system_time=lambda t: calls.append(("sys", t)), set_rtc=lambda t, d: calls.append(("rtc", t, d))))
    dev.ctx.rtc_dev = str(tmp_path / "rtc0")
    r = run(dev, "set_time", time="2026-01-01 12:00")
    assert r.ok and calls == [("sys", __import__("datetime").datetime(2026, 1, 1, 12, 0))]
    write(tmp_path / "rtc0", "")
    assert "hardware clock set too" in run(dev, "set_time", time="2026-01-01 12:00:30").text
    assert calls[-1][0] == "rtc"
    for bad in ("tomorrow", "2026-13-01 10:00", "1999-01-01 00:00"):
        assert not run(dev, "set_time", time=bad).ok


def test_set_hostname_persists(dev, tmp_path, monkeypatch):
    names = []
    monkeypatch.setitem(sys.modules, "llmos_init.sys.system", types.SimpleNamespace(sethostname=names.append))
    r = run(dev, "set_hostname", name="kiosk")
    assert r.ok and names == ["kiosk"]
    assert (tmp_path / "data/etc/hostname").read_text() == "kiosk\n"
    assert "not a valid hostname" in run(dev, "set_hostname", name="-bad name").text
    assert names == ["kiosk"]


def test_set_hostname_host_console_only_saves(ex, sandbox):
    r = run(ex, "set_hostname", name="kiosk")
    assert r.ok and "the host keeps its name" in r.text
    assert (sandbox / "data/etc/hostname").read_text() == "kiosk\n"


def test_kernel_log(dev, tmp_path):
    write(tmp_path / "kmsg", b"6,1,1234567,-;Linux version 6.1\n SUBSYSTEM=x\n"
                             b"4,2,2000000,-;bad \\x1b thing \x1b[2J\n3,3,9000000,c;last\n")
    dev.ctx.dev_kmsg = str(tmp_path / "kmsg")
    r = run(dev, "kernel_log")
    assert r.text.splitlines() == ["[     1.235] Linux version 6.1", "[     2.000] bad \\x1b thing ^[[2J",
                                   "[     9.000] last"]
    dev.ctx.read_lines = 1
    assert run(dev, "kernel_log").text == "[     9.000] last"
    dev.ctx.dev_kmsg = str(tmp_path / "none")
    assert not run(dev, "kernel_log").ok


def test_real_dev_kmsg_if_readable():
    if not os.access("/dev/kmsg", os.R_OK):
        pytest.skip("no readable /dev/kmsg")
    from llmos_init.tools.system import kmsg_records
    recs = kmsg_records("/dev/kmsg", last=5)  # must not block
    assert len(recs) <= 5


def test_power_goes_through_request_power(ex):
    assert run(ex, "reboot").text == "fake reboot"
    assert run(ex, "poweroff").text == "fake poweroff"


def test_answer_clarify_help(ex):
    assert run(ex, "answer", text="4").text == "4"
    assert run(ex, "clarify", question="which file?").text == "which file?"
    assert run(ex, "answer", text="a\x1b[2Jb\nc").text == "a^[[2Jb\nc"
    h = run(ex, "help").text
    for t in TOOLS.values():
        assert t.example in h, t.name
    assert max(len(line) for line in h.splitlines()) <= 80
