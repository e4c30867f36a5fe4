"""Boot steps with a fake system-call adapter and a scratch root directory."""
from __future__ import annotations

import errno
import json
import os
import re
import shutil
import socket
from pathlib import Path

import pytest

from llmos_init.boot import Boot, KmsgForwarder, parse_cmdline
from llmos_init.consolelog import ConsoleLog

from tests.supervisor.fakes import FakePlatform

ROOTFS = Path(__file__).resolve().parents[2] / "rootfs"
LINE = re.compile(r"^\[\s*\d+\.\d{3}s\] (.+) \.\.\. (ok|WARNING|skipped|FAILED)(: .*)? \(\d+ ms\)$")


def make_root(tmp_path: Path, cmdline: str, *, devices=("vdb", "vdc"), data_hostname=None):
    root = tmp_path / "root"
    (root / "proc").mkdir(parents=True)
    (root / "proc/cmdline").write_text(cmdline + "\n")
    (root / "dev").mkdir()
    for d in devices:
        (root / "dev" / d).write_text("")
    (root / "etc/llmos").mkdir(parents=True)
    shutil.copy(ROOTFS / "etc/hostname", root / "etc/hostname")
    shutil.copy(ROOTFS / "etc/llmos/services.toml", root / "etc/llmos/services.toml")
    if data_hostname is not None:
        # what the data partition will hold once "mounted" (the fake mount is a no-op)
        (root / "data/etc").mkdir(parents=True)
        (root / "data/etc/hostname").write_text(data_hostname)
    return root


def run_boot(tmp_path, cmdline="console=ttyS0 llmos.data=/dev/vdc llmos.model=/dev/vdb",
             **kw):
    fail = kw.pop("fail", None)
    premounted = kw.pop("premounted", ())
    root = make_root(tmp_path, cmdline, **kw)
    fake = FakePlatform(root, fail, premounted)
    out = tmp_path / "console.out"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    log = ConsoleLog(fd=fd)
    boot = Boot(sys=fake, log=log, root=str(root), device_wait_s=0).run()
    log.detach_file()
    if boot.kmsg:
        boot.kmsg.close()
    os.close(fd)
    return boot, fake, out.read_text(), root


def test_the_banner_reads_the_total_boot_json_holds(tmp_path):
    """console/main.boot_seconds reads exactly what boot.py writes: its total_s."""
    from llmos_init.console.main import boot_seconds
    boot, fake, console, root = run_boot(tmp_path)
    rec = json.loads((root / "run/llmos/boot.json").read_text())
    assert isinstance(rec["total_s"], float)
    assert boot_seconds(str(root / "run/llmos/boot.json")) == rec["total_s"]


def test_steps_are_timed_logged_and_recorded(tmp_path):
    boot, fake, console, root = run_boot(tmp_path, data_hostname="mybox\n")
    names = [s.name for s in boot.steps]
    assert names == ["mount /proc", "mount /sys", "mount /dev", "mount /dev/pts",
                     "mount /dev/shm", "mount /run", "mount /tmp", "console", "process name",
                     "ctrl-alt-del off", "kernel command line", "mount /model", "mount /data",
                     "hostname", "log directory", "boot slot", "services.toml", "watchdog",
                     # after the console has started (Boot.run_late)
                     "loopback", "kernel log"]
    by = {s.name: s for s in boot.steps}
    assert all(s.duration_ms >= 0 and s.start > 0 for s in boot.steps)
    assert [s.start for s in boot.steps] == sorted(s.start for s in boot.steps)
    assert by["mount /data"].status == "ok" and by["mount /model"].status == "ok"
    assert by["kernel log"].status == "skipped"          # no /dev/kmsg in the scratch root
    assert by["watchdog"].status == "skipped"
    assert by["boot slot"].status == "skipped"            # no llmos.slot= (not from A/B slots)
    assert not [s for s in boot.steps if s.status == "error"]
    # one console line per step, in the documented format
    step_lines = [m.groups() for m in map(LINE.match, console.splitlines()) if m]
    assert [g[0] for g in step_lines] == names
    assert re.search(r"\] mount /data \.\.\. ok: /dev/vdc \(ext4, read-write\) \(\d+ ms\)", console)
    # boot.json on /run
    rec = json.loads((root / "run/llmos/boot.json").read_text())
    assert [s["name"] for s in rec["steps"]] == names
    assert all({"name", "start", "duration_ms", "status", "error"} <= set(s) for s in rec["steps"])
    assert rec["finished"] is not None and rec["data"] == "persistent"
    # the calls themselves
    mounts = [c for c in fake.calls if c[0] == "mount"]
    assert ("mount", "/dev/vdb", "/model", "squashfs", ("rdonly", "nodev", "nosuid"), None) in mounts
    assert ("mount", "/dev/vdc", "/data", "ext4", ("nosuid", "nodev"), None) in mounts
    assert ("mount", "proc", "/proc", "proc", ("nosuid", "nodev", "noexec"), None) == mounts[0]
    assert ("sethostname", "mybox") in fake.calls                 # /data/etc wins
    assert ("cad", False) in fake.calls and ("link_up", "lo") in fake.calls
    assert boot.unmount_targets() == ["/model", "/data"]
    assert (root / "data/log/pid1.log").exists()
    assert boot.config.service("console").tty == "console"


def test_data_failure_falls_back_to_tmpfs_loudly(tmp_path):
    boot, fake, console, root = run_boot(tmp_path, fail={("/data", "ext4"): errno.EINVAL})
    data_calls = [c for c in fake.calls if c[0] == "mount" and c[2] == "/data"]
    assert data_calls == [("mount", "/dev/vdc", "/data", "ext4", ("nosuid", "nodev"), None),
                          ("mount", "tmpfs", "/data", "tmpfs", ("nosuid", "nodev"), "mode=0755")]
    assert boot.data_volatile
    step = [s for s in boot.steps if s.name == "mount /data"][0]
    assert step.status == "warning" and "volatile tmpfs" in step.detail
    assert "WARNING: the data partition could not be mounted" in console
    assert "NOT formatted" in console
    assert console.count("*" * 20) >= 2
    # the boot went on
    assert [s.name for s in boot.steps][-2:] == ["loopback", "kernel log"]   # the last steps
    assert json.loads((root / "run/llmos/boot.json").read_text())["data"] == "volatile tmpfs"
    assert ("sethostname", "llmos") in fake.calls


def test_missing_model_is_only_a_warning(tmp_path):
    boot, fake, console, root = run_boot(tmp_path, cmdline="llmos.data=/dev/vdc", devices=("vdc",))
    by = {s.name: s for s in boot.steps}
    assert by["mount /model"].status == "warning" and "no llmos.model=" in by["mount /model"].detail
    assert by["mount /data"].status == "ok"
    assert boot.unmount_targets() == ["/data"]


def test_data_device_missing_and_datafs(tmp_path):
    boot, fake, console, root = run_boot(
        tmp_path, cmdline="llmos.data=/dev/vdz llmos.datafs=xfs llmos.model=/dev/vdb")
    assert not [c for c in fake.calls if c[0] == "mount" and c[3] == "xfs"]
    assert "/dev/vdz does not exist" in console and boot.data_volatile
    boot2, fake2, _, _ = run_boot(tmp_path / "2", cmdline="llmos.data=/dev/vdc llmos.datafs=xfs")
    assert ("mount", "/dev/vdc", "/data", "xfs", ("nosuid", "nodev"), None) in fake2.calls


def test_devtmpfs_already_mounted_by_the_kernel(tmp_path):
    boot, fake, console, root = run_boot(tmp_path, premounted=[("/dev", "devtmpfs")])
    step = [s for s in boot.steps if s.name == "mount /dev"][0]
    assert step.status == "skipped" and "by the kernel" in step.detail
    assert not [c for c in fake.calls if c[0] == "mount" and c[3] == "devtmpfs"]


def test_a_failing_step_does_not_stop_the_boot(tmp_path):
    class Broken(FakePlatform):
        def link_up(self, ifname):
            raise OSError(errno.ENODEV, "No such device", ifname)
    root = make_root(tmp_path, "llmos.data=/dev/vdc")
    out = tmp_path / "out"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT)
    boot = Boot(sys=Broken(root), log=ConsoleLog(fd=fd), root=str(root), device_wait_s=0).run()
    os.close(fd)
    step = [s for s in boot.steps if s.name == "loopback"][0]
    assert step.status == "error" and "No such device" in step.error
    assert "loopback ... FAILED: OSError: [Errno 19] No such device" in out.read_text()
    assert "failed steps: loopback" in out.read_text()
    assert [s.name for s in boot.steps][-2:] == ["loopback", "kernel log"]   # the last steps


def test_invalid_hostname_uses_default(tmp_path):
    boot, fake, console, root = run_boot(tmp_path, data_hostname="bad name!\n")
    assert ("sethostname", "llmos") in fake.calls
    assert "invalid hostname 'bad name!'" in console


def test_watchdog_started_when_present(tmp_path):
    root = make_root(tmp_path, "llmos.data=/dev/vdc", devices=("vdc", "watchdog"))
    fake = FakePlatform(root)
    fd = os.open(tmp_path / "out", os.O_WRONLY | os.O_CREAT)
    boot = Boot(sys=fake, log=ConsoleLog(fd=fd), root=str(root), device_wait_s=0).run()
    os.close(fd)
    assert ("wd_timeout", 30) in fake.calls and ("wd_keepalive",) in fake.calls
    assert boot.watchdog is not None


def test_parse_cmdline():
    assert parse_cmdline('console=ttyS0 quiet llmos.data=/dev/vdc x="a b" \n') == {
        "console": "ttyS0", "quiet": "", "llmos.data": "/dev/vdc", "x": "a b"}


def test_kmsg_records_are_forwarded(tmp_path):
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    b.setblocking(False)
    out = tmp_path / "kernel.log"
    fwd = KmsgForwarder("/unused", str(out), fd=os.dup(b.fileno()))
    a.send(b"6,1,5140900,-;NET: Registered protocol family 10\n SUBSYSTEM=net\n")
    a.send(b"4,2,12000001,-;second\n")
    assert fwd.pump() == 2
    assert fwd.pump() == 0                       # EAGAIN: nothing more, no blocking
    a.send(b"3,3,99,c;third\n")
    assert fwd.pump() == 1
    fwd.close()
    assert out.read_text() == ("[    5.140900] NET: Registered protocol family 10\n"
                               "[   12.000001] second\n[    0.000099] third\n")
    a.close()
    b.close()


@pytest.mark.skipif(not os.access("/dev/kmsg", os.R_OK), reason="no readable /dev/kmsg")
def test_real_kmsg_copy(tmp_path):
    fwd = KmsgForwarder("/dev/kmsg", str(tmp_path / "kernel.log"))
    n = fwd.pump()
    fwd.close()
    text = (tmp_path / "kernel.log").read_text()
    assert n > 0 and len(text.splitlines()) == n
    assert all(re.match(r"^\[\s*\d+\.\d{6}\] ", line) for line in text.splitlines())


def test_main_refuses_to_boot_unless_pid1(capsys):
    from llmos_init.boot import main
    assert main([]) == 2
    assert "not PID 1" in capsys.readouterr().err


def test_conditional_service_follows_the_kernel_command_line(tmp_path):
    """The shipped modelbench service (`when = "llmos.bench"`) is left out of a normal
    boot, said so on the console, and kept when the command line asks for it."""
    boot, _fake, console, _root = run_boot(tmp_path / "plain")
    assert [s.name for s in boot.config.services] == ["console", "network"]
    assert "services: console, network; off: modelbench (needs llmos.bench)" in console
    boot, _fake, console, _root = run_boot(
        tmp_path / "bench", cmdline="console=ttyS0 llmos.data=/dev/vdc llmos.model=/dev/vdb "
                                    "llmos.bench=pp8,tg2")
    assert [s.name for s in boot.config.services] == ["console", "modelbench", "network"]
    mb = boot.config.service("modelbench")
    assert mb.restart == "never" and mb.tty is None
    assert mb.command[-3:] == ("--from-cmdline", "--save", "/data/log/modelbench.json")


def test_late_steps_after_the_console_are_quiet_unless_they_fail(tmp_path):
    """PID 1's order: run_early, the services, then run_late(quiet=True) from the loop
    (finish): successful late steps only in pid1.log, a failing one on the console too."""
    root = make_root(tmp_path, "console=ttyS0 llmos.data=/dev/vdc llmos.model=/dev/vdb")
    (root / "dev/kmsg").write_text("")       # a regular file: the forwarder fails on it

    class NoLoopback(FakePlatform):
        def link_up(self, ifname):
            self.calls.append(("link_up", ifname))
            raise OSError(errno.ENODEV, "No such device", ifname)
    fake = NoLoopback(root)
    out = tmp_path / "console.out"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    log = ConsoleLog(fd=fd)
    boot = Boot(sys=fake, log=log, root=str(root), device_wait_s=0).run_early()
    early = out.read_text()
    assert "boot finished in" in early and "loopback ..." not in early
    # boot.json comes with the late steps (json is not imported on the prompt's path): a
    # console forked meanwhile has the boot time from PID 1's environment (boot._pid1)
    assert not (root / "run/llmos/boot.json").exists()
    assert ("link_up", "lo") not in fake.calls

    class Sup:
        def __init__(self):
            self.got = []

        def add_reader(self, fd, fn):
            self.got.append("reader")

        def add_closer(self, name, fn):
            self.got.append("closer")

        def add_child_cleanup(self, fn):
            self.got.append("child cleanup")

        def call_every(self, interval, fn, name=""):
            self.got.append(name)

        def call_later(self, delay, fn, name=""):
            self.got.append(name)
    sup = Sup()
    boot.finish(sup)
    boot.finish(sup)                       # once only
    log.detach_file()
    os.close(fd)
    console = out.read_text()[len(early):]
    assert ("link_up", "lo") in fake.calls
    assert re.search(r"loopback \.\.\. FAILED: OSError", console)  # a failure is shown
    assert "kernel log ..." not in console                     # ok: log file only
    pid1_log = (root / "data/log/pid1.log").read_text()
    assert "loopback ... FAILED" in pid1_log and "kernel log ... ok" in pid1_log
    rec = json.loads((root / "run/llmos/boot.json").read_text())
    assert rec["finished"] is not None and rec["console_ready"] <= rec["finished"]
    assert [s["name"] for s in rec["steps"]][-2:] == ["loopback", "kernel log"]
    assert sup.got == ["reader", "closer", "child cleanup"]   # the kernel-log reader, once
    boot.kmsg.close()


def test_valid_hostname_is_the_label_rule_without_re():
    """valid_hostname (no `re` before the prompt) accepts exactly what the pattern it
    replaced did: dot-separated labels of 1-63 ASCII letters, digits and hyphens, each
    starting with a letter or digit, 64 characters in all."""
    import random
    from llmos_init.boot import valid_hostname
    pattern = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\Z")
    rng = random.Random(7)
    names = ["llmos", "pi-4.lan", "a" * 63, "a" * 64, "a" * 65, "-x", "x-", "a..b", ".a", "a.",
             "", "ümlaut", "a_b", "1.2.3", "x." + "b" * 63, "α"]
    names += ["".join(rng.choice("ab9-._Zé") for _ in range(rng.randint(0, 70))) for _ in range(3000)]
    for name in names:
        assert valid_hostname(name) == (bool(pattern.match(name)) and len(name) <= 64), name
