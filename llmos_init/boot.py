"""PID 1: the boot sequence as named, timed steps, then the supervisor, forever.

/sbin/init runs `python3.11 -I` and calls main(argv) as PID 1. main() never returns and
never raises: the boot steps are each guarded (a failed step is logged and the boot goes
on), the supervisor loop is restarted when it fails, and when nothing works PID 1 falls
into the emergency console (llmos_init.emergency).

Every step prints one console line, e.g. `[   0.412s] mount /data ... ok (35 ms)`, and is
recorded in /run/llmos/boot.json (name, start, duration, status, error) for the console
banner and the emergency console's `log` command: once the services have started (and at
once when a step fails); the console finds the boot time in $LLMOS_BOOT_S before that.

The prompt comes first: PID 1 runs the steps the console needs (run_early: API
filesystems, /model, /data checked and mounted before anything writes to it, hostname,
log directory, services.toml, watchdog), starts the services, and only then, from its
event loop, the rest (run_late: loopback, kernel log). Those late lines go to
/data/log/pid1.log, and to the console only when a step did not succeed, so that they
never land in the middle of the console's banner. Boot.run() does both parts at once.

Kernel command line (/proc/cmdline):
  llmos.data=/dev/vdc    data partition, mounted read-write at /data (llmos.datafs=, ext4)
  llmos.model=/dev/vdb   model partition, read-only at /model (llmos.modelfs=, squashfs)
When /data cannot be mounted, a tmpfs takes its place and the console shows a loud
WARNING; the partition is never formatted or repaired. A missing model is a warning.

All system calls go through a `sys` adapter (platform.Pid1Platform: llmos_init.sys, imported lazily);
tests pass a fake and a scratch `root` directory that stands for "/".
"""
from __future__ import annotations

import os
import time
from collections import deque

from . import signals as signal  # _signal without the enums (signals.py)
from .record import as_dict, record
from .services import (ServicesConfig, default_console, load_services, resolve_tty,
                       select_for_cmdline)
from .consolelog import ConsoleLog
from .paths import BOOT_JSON, BOOT_SECONDS_ENV, LOG_DIR
from .platform import Pid1Platform
from .shutdown import Shutdown, reap_all
from .supervisor import POWER_SIGNALS, Supervisor, default_env

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~0.1 s under QEMU TCG before the prompt
    from typing import Any, Callable

KERNEL_LOG_MAX = 4 * 1024 * 1024      # kernel.log is rotated to kernel.log.1 beyond this
DEFAULT_HOSTNAME = "llmos"
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_LABEL = _ALNUM | {"-"}


def valid_hostname(name: str) -> bool:
    """Dot-separated labels of 1-63 ASCII letters, digits and hyphens, each starting with a
    letter or digit, 64 characters at most (no `re` before the prompt: ~40 ms under TCG)."""
    return len(name) <= 64 and all(
        0 < len(label) <= 63 and label[0] in _ALNUM and _LABEL.issuperset(label)
        for label in name.split("."))


# --------------------------------------------------------------------------- records


@record
class StepRecord:
    name: str
    start: float            # seconds (CLOCK_MONOTONIC: since kernel boot when PID 1)
    duration_ms: float
    status: str             # ok | warning | skipped | error
    detail: str = ""
    error: str = ""


class StepWarning(Exception):
    """A step finished in a degraded way (the message says how)."""


class StepSkipped(Exception):
    """A step had nothing to do (the message says why)."""


def parse_cmdline(text: str) -> dict[str, str]:
    """Kernel command line -> {key: value} ('flag' alone -> ''). Double quotes group."""
    out: dict[str, str] = {}
    token, quoted, tokens = [], False, []
    for ch in text.strip():
        if ch == '"':
            quoted = not quoted
        elif ch.isspace() and not quoted:
            if token:
                tokens.append("".join(token))
                token = []
        else:
            token.append(ch)
    if token:
        tokens.append("".join(token))
    for t in tokens:
        key, _, value = t.partition("=")
        out[key] = value
    return out


class KmsgForwarder:
    """/dev/kmsg -> /data/log/kernel.log: the whole ring buffer at boot, then new records
    whenever the supervisor sees the fd readable (pump())."""

    def __init__(self, kmsg_path: str, out_path: str, *, fd: int | None = None):
        self.out_path = out_path
        self.fd = fd if fd is not None else os.open(
            kmsg_path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        self._out: Any = None
        try:
            self._open_out()
        except OSError:
            os.close(self.fd)
            raise
        self.records = 0

    def _open_out(self) -> None:
        self._out = open(self.out_path, "ab", buffering=0)

    def fileno(self) -> int:
        return self.fd

    @staticmethod
    def format_record(rec: bytes) -> bytes | None:
        """b'6,339,5140900,-;text\\n SUBSYSTEM=...' -> b'[    5.140900] text\\n'."""
        head, sep, rest = rec.partition(b";")
        if not sep:
            return None
        fields = head.split(b",")
        try:
            usec = int(fields[2])
        except (IndexError, ValueError):
            usec = 0
        text = rest.split(b"\n", 1)[0]
        return b"[%5d.%06d] %s\n" % (usec // 1_000_000, usec % 1_000_000, text)

    def pump(self) -> int:
        """Copy every available record (until EAGAIN); returns how many."""
        if self.fd is None or self._out is None:
            return 0
        lines = []
        while True:
            try:
                rec = os.read(self.fd, 8192)
            except BlockingIOError:
                break
            except BrokenPipeError:        # records overwritten before we read them
                lines.append(b"[kmsg: some kernel messages were lost]\n")
                continue
            except InterruptedError:
                continue
            if not rec:
                break
            line = self.format_record(rec)
            if line is not None:
                lines.append(line)
        if lines:
            self._out.write(b"".join(lines))
            self.records += len(lines)
            self._rotate_if_big()
        return len(lines)

    def _rotate_if_big(self) -> None:
        try:
            if os.fstat(self._out.fileno()).st_size > KERNEL_LOG_MAX:
                self._out.close()
                os.replace(self.out_path, self.out_path + ".1")
                self._open_out()
        except OSError:
            pass

    def forget(self) -> None:
        """In a forked child: close both files without reading or writing anything."""
        fd, self.fd = self.fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass
        out, self._out = self._out, None
        if out is not None:
            try:
                out.close()
            except OSError:
                pass

    def close(self) -> None:
        if self.fd is not None:
            try:
                self.pump()
            finally:
                os.close(self.fd)
                self.fd = None
        if self._out is not None:
            self._out.close()
            self._out = None


# --------------------------------------------------------------------------- boot


class Boot:
    """The boot steps. run() performs them all; each is timed, logged and recorded."""

    API_MOUNTS = (
        # target, fstype, source, flags, data
        ("/proc", "proc", "proc", ("nosuid", "nodev", "noexec"), None),
        ("/sys", "sysfs", "sysfs", ("nosuid", "nodev", "noexec"), None),
        ("/dev", "devtmpfs", "devtmpfs", ("nosuid",), "mode=0755"),
        ("/dev/pts", "devpts", "devpts", ("nosuid", "noexec"), "gid=5,mode=620,ptmxmode=0666"),
        ("/dev/shm", "tmpfs", "tmpfs", ("nosuid", "nodev"), "mode=1777"),
        ("/run", "tmpfs", "tmpfs", ("nosuid", "nodev"), "mode=0755"),
        ("/tmp", "tmpfs", "tmpfs", ("nosuid", "nodev"), "mode=1777"),
    )

    def __init__(self, *, sys: Any = None, log: Callable[..., None] | None = None,
                 root: str = "/", clock: Callable[[], float] = time.monotonic,
                 device_wait_s: float = 3.0):
        self.sys = sys if sys is not None else Pid1Platform()
        self.log = log or ConsoleLog(fd=1)
        self.root = root
        self.clock = clock
        self.device_wait_s = device_wait_s
        self.started = clock()
        self.finished: float | None = None
        self.steps: list[StepRecord] = []
        self.mounted: list[tuple[str, str]] = []   # (target, role) in mount order
        self.cmdline: dict[str, str] = {}
        self.data_volatile = False
        self.warnings: list[str] = []
        self.kmsg: KmsgForwarder | None = None
        self.watchdog: Any = None
        self.slots: Any = None            # update.slots.Layout when booted from A/B slots
        self.update_trying = False        # this boot tries an update (update/commit.py)
        self.config: ServicesConfig | None = None
        self.hostname: str | None = None
        self.early_finished: float | None = None
        self._late_done = False
        self._attached: set[str] = set()  # what attach() has handed to the supervisor
        self._quiet = False              # late steps: ok/skipped lines to the log file only

    def path(self, p: str) -> str:
        """An absolute system path under this boot's root (identity when root is /)."""
        return p if self.root == "/" else os.path.join(self.root, p.lstrip("/"))

    # -- step machinery

    def step(self, name: str, fn: Callable, *args: Any) -> Any:
        t0 = self.clock()
        status, detail, error, result = "ok", "", "", None
        try:
            result = fn(*args)
            if isinstance(result, str):
                detail = result
        except StepWarning as e:
            status, detail = "warning", str(e)
        except StepSkipped as e:
            status, detail = "skipped", str(e)
        except Exception as e:  # a failed step never stops the boot
            status, error = "error", f"{type(e).__name__}: {e}"
        ms = (self.clock() - t0) * 1000
        self.steps.append(StepRecord(name, round(t0, 6), round(ms, 3), status, detail, error))
        word = {"ok": "ok", "warning": "WARNING", "skipped": "skipped", "error": "FAILED"}[status]
        note = f": {error}" if error else (f": {detail}" if detail else "")
        loud = not self._quiet or status in ("warning", "error")
        self.log(f"{name} ... {word}{note} ({ms:.0f} ms)", t=t0, console=loud)
        if status in ("warning", "error"):
            self._write_boot_json()      # else once per part: json.dump per step costs
        return result

    def _write_boot_json(self) -> None:
        """Best effort: only once /run is a writable tmpfs."""
        if not any(t == "/run" for t, _ in self.mounted) and self.root == "/":
            return
        try:
            path = self.path(BOOT_JSON)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = path + ".tmp"
            import json     # not before the prompt (with re and enum, ~0.1 s under TCG)
            with open(tmp, "w") as f:
                json.dump(self.summary(), f, indent=1)
            os.replace(tmp, path)
        except OSError:
            pass

    def summary(self) -> dict[str, Any]:
        end = self.finished if self.finished is not None else self.clock()
        return {"init_started": round(self.started, 6),
                "console_ready": (None if self.early_finished is None
                                  else round(self.early_finished, 6)),
                "finished": None if self.finished is None else round(self.finished, 6),
                "total_s": round(end, 6),
                "init_s": round(end - self.started, 6),
                "data": "volatile tmpfs" if self.data_volatile else "persistent",
                "hostname": self.hostname,
                "warnings": self.warnings,
                "steps": [as_dict(s) for s in self.steps]}

    def warn_loudly(self, lines: list[str]) -> None:
        width = max(len(line) for line in lines) + 4
        bar = "*" * width
        self.log("\n".join([bar] + [f"* {line.ljust(width - 4)} *" for line in lines] + [bar]))
        self.warnings.append(" ".join(lines))

    # -- the sequence

    LATE_STEPS = ("loopback", "kernel log")

    def run(self) -> "Boot":
        """Every step, in order, all on the console."""
        self.run_early()
        self.run_late()
        return self

    def run_early(self) -> "Boot":
        """The steps the console prompt needs; then the services can start."""
        self.log(f"llmos init: boot (kernel took {self.started:.3f} s to start init)")
        for target, fstype, source, flags, data in self.API_MOUNTS:
            self.step(f"mount {target}", self.mount_api, target, fstype, source, flags, data)
        self.step("console", self.setup_console)
        self.step("process name", self.sys.set_name, "init")
        self.step("ctrl-alt-del off", self.sys.set_ctrl_alt_del, False)
        self.step("kernel command line", self.read_cmdline)
        self.step("mount /model", self.mount_model)
        self.step("mount /data", self.mount_data)
        self.step("hostname", self.set_hostname)
        self.step("log directory", self.setup_log_dir)
        self.step("boot slot", self.read_boot_slot)
        self.step("services.toml", self.load_config)
        self.step("watchdog", self.start_watchdog)   # armed before anything can hang
        self.early_finished = self.clock()
        self.log(f"boot finished in {self.early_finished:.3f} s since kernel start "
                 f"({(self.early_finished - self.started) * 1000:.0f} ms in init)"
                 + self._failed_note() + f"; {', '.join(self.LATE_STEPS)} follow")
        return self

    def run_late(self, quiet: bool = False) -> "Boot":
        """What the prompt does not wait for (once). quiet: the console already runs, so
        lines of steps that succeeded go to the log file only."""
        if self._late_done:
            return self
        self._late_done = True
        self._quiet = quiet
        t0 = self.clock()
        try:
            self.step("loopback", self.sys.link_up, "lo")
            self.step("kernel log", self.start_kernel_log)
        finally:
            self._quiet = False
        self.finished = self.clock()
        failed = self._failed_note()
        self.log(f"boot: {', '.join(self.LATE_STEPS)} done in {(self.finished - t0) * 1000:.0f} ms; "
                 f"all steps finished {self.finished:.3f} s since kernel start" + failed,
                 console=not quiet or bool(failed))
        self._write_boot_json()
        return self

    def _failed_note(self) -> str:
        """"; failed steps: a, b" for the steps that failed so far, else ""."""
        failed = [s.name for s in self.steps if s.status == "error"]
        return f"; failed steps: {', '.join(failed)}" if failed else ""

    def finish(self, sup: Supervisor) -> None:
        """PID 1, from the supervisor's loop once the services are started: the late
        steps, then the kernel-log reader handed over."""
        try:
            self.run_late(quiet=True)
        finally:
            self.attach(sup)

    def _is_mounted(self, target: str) -> bool:
        try:
            return any(m.target == target for m in self.sys.mounts())
        except Exception:
            return False

    def mount_api(self, target, fstype, source, flags, data) -> str | None:
        path = self.path(target)
        if fstype != "proc" and self._is_mounted(path):
            raise StepSkipped("already mounted" + (" by the kernel" if fstype == "devtmpfs"
                                                   else ""))
        if not os.path.isdir(path):
            os.makedirs(path, exist_ok=True)
        try:
            self.sys.mount(source, path, fstype, flags, data)
        except OSError as e:
            import errno
            if e.errno == errno.EBUSY:
                raise StepSkipped("already mounted") from None
            raise
        self.mounted.append((target, "api"))
        return None

    def setup_console(self) -> str:
        """Make sure fds 0, 1, 2 are open (the kernel leaves them closed when the root
        filesystem had no /dev/console at exec time)."""
        missing = []
        for fd in (0, 1, 2):
            try:
                os.fstat(fd)
            except OSError:
                missing.append(fd)
        if not missing:
            return "stdio on the kernel console"
        fd = os.open(self.path("/dev/console"), os.O_RDWR | os.O_NOCTTY)
        for target in missing:
            if fd != target:
                os.dup2(fd, target)
        if fd not in (0, 1, 2):
            os.close(fd)
        return f"reopened fds {missing} on /dev/console"

    def read_cmdline(self) -> str:
        with open(self.path("/proc/cmdline")) as f:
            self.cmdline = parse_cmdline(f.read())
        keys = [k for k in self.cmdline if k.startswith("llmos.")]
        return ", ".join(f"{k}={self.cmdline[k]}" for k in keys) or "no llmos.* parameters"

    def _wait_for_device(self, dev: str) -> bool:
        deadline = self.clock() + self.device_wait_s
        while True:
            if os.path.exists(self.path(dev)):
                return True
            if self.clock() >= deadline:
                return False
            time.sleep(0.02)

    def mount_model(self) -> str:
        dev = self.cmdline.get("llmos.model")
        fstype = self.cmdline.get("llmos.modelfs") or "squashfs"
        if not dev:
            raise StepWarning("no llmos.model= on the kernel command line; no model")
        if not self._wait_for_device(dev):
            raise StepWarning(f"{dev} does not exist; no model")
        os.makedirs(self.path("/model"), exist_ok=True)
        try:
            self.sys.mount(self.path(dev), self.path("/model"), fstype,
                           ("rdonly", "nodev", "nosuid"), None)
        except OSError as e:
            raise StepWarning(f"cannot mount {dev} ({fstype}) on /model: {e}; no model") \
                from None
        self.mounted.append(("/model", "model"))
        return f"{dev} ({fstype}, read-only)"

    def mount_data(self) -> str:
        dev = self.cmdline.get("llmos.data")
        fstype = self.cmdline.get("llmos.datafs") or "ext4"
        target = self.path("/data")
        os.makedirs(target, exist_ok=True)
        problem = None
        if not dev:
            problem = "no llmos.data= on the kernel command line"
        elif not self._wait_for_device(dev):
            problem = f"{dev} does not exist"
        else:
            try:
                self.sys.mount(self.path(dev), target, fstype, ("nosuid", "nodev"), None)
                self.mounted.append(("/data", "data"))
                return f"{dev} ({fstype}, read-write)"
            except OSError as e:
                problem = f"mounting {dev} ({fstype}) failed: {e}"
        self.sys.mount("tmpfs", target, "tmpfs", ("nosuid", "nodev"), "mode=0755")
        self.mounted.append(("/data", "data"))
        self.data_volatile = True
        self.warn_loudly([
            "WARNING: the data partition could not be mounted:",
            f"  {problem}",
            "/data is a temporary in-memory filesystem: NOTHING saved there",
            "survives a reboot or power-off. The partition was NOT formatted",
            "or changed in any way.",
        ])
        raise StepWarning(f"{problem}; /data is a volatile tmpfs")

    def set_hostname(self) -> str:
        name, source = None, None
        for p in ("/data/etc/hostname", "/etc/hostname"):
            try:
                with open(self.path(p)) as f:
                    text = f.read().strip()
            except OSError:
                continue
            if text:
                name, source = text, p
                break
        if name is None:
            name, source = DEFAULT_HOSTNAME, "default"
        elif not valid_hostname(name):
            self.sys.sethostname(DEFAULT_HOSTNAME)
            self.hostname = DEFAULT_HOSTNAME
            raise StepWarning(f"invalid hostname {name!r} in {source}; using {DEFAULT_HOSTNAME}")
        self.sys.sethostname(name)
        self.hostname = name
        return f"{name} (from {source})"

    def setup_log_dir(self) -> str:
        d = self.path(LOG_DIR)
        os.makedirs(d, exist_ok=True)
        attach = getattr(self.log, "attach_file", None)
        if attach is not None:
            attach(os.path.join(d, "pid1.log"))
            self.log("=== boot ===", console=False)
        return d

    def start_kernel_log(self) -> str:
        kmsg = self.path("/dev/kmsg")
        if not os.path.exists(kmsg):
            raise StepSkipped("no /dev/kmsg")
        out = os.path.join(self.path(LOG_DIR), "kernel.log")
        fwd = KmsgForwarder(kmsg, out)
        fwd._out.write(b"=== boot ===\n")
        n = fwd.pump()
        self.kmsg = fwd
        return f"{n} records to {LOG_DIR}/kernel.log"

    def read_boot_slot(self) -> str:
        """The A/B slot this boot runs (llmos.slot=, llmos.bootstate=: the boot script's);
        reports a rollback, notes a try to be committed once healthy (update/commit.py)."""
        from .update import commit, slots
        layout = slots.from_cmdline(self.cmdline)
        if layout is None:
            raise StepSkipped("not booted from A/B slots")
        if self.root != "/":
            layout = layout.with_prefix(self.path(layout.prefix))
        self.slots = layout
        line, self.update_trying = commit.at_boot(layout, self.root)
        return line

    def load_config(self) -> str:
        self.config = load_services(self.path("/etc/llmos/services.toml"))
        dropped = select_for_cmdline(self.config, self.cmdline)
        names = ", ".join(s.name for s in self.config.services)
        if dropped:
            names += "; off: " + ", ".join(f"{s.name} (needs {s.when})" for s in dropped)
        if self.config.errors:   # the supervisor prints each one
            raise StepWarning(f"{len(self.config.errors)} problem(s); services: {names}")
        return f"services: {names}"

    def start_watchdog(self) -> str:
        path = self.path("/dev/watchdog")
        if not os.path.exists(path):
            raise StepSkipped("no /dev/watchdog")
        timeout = self.config.watchdog_timeout_s if self.config else 30
        wd = self.sys.watchdog(path)
        actual = wd.set_timeout(timeout)
        wd.keepalive()
        self.watchdog = wd
        return f"timeout {actual} s"

    # -- hand-over to the supervisor

    def unmount_targets(self) -> list[str]:
        """What the supervisor unmounts at shutdown (disk-backed mounts, mount order)."""
        return [t for t, role in self.mounted if role in ("model", "data")]

    def attach(self, sup: Supervisor) -> None:
        """Give the supervisor the kernel-log reader and the watchdog keepalive (each
        once: what exists now; call again after run_late)."""
        attached = self._attached
        if self.kmsg is not None and "kmsg" not in attached:
            attached.add("kmsg")
            sup.add_reader(self.kmsg.fileno(), self.kmsg.pump)
            sup.add_closer("kernel log", self.kmsg.close)
            sup.add_child_cleanup(self.kmsg.forget)
        if self.watchdog is not None and "watchdog" not in attached:
            attached.add("watchdog")
            interval = self.config.watchdog_interval_s if self.config else 5.0
            sup.call_every(interval, self.watchdog.keepalive, "watchdog keepalive")
        if self.slots is not None and self.slots.config is not None and "tryboot" not in attached:
            # the Pi: a reboot while an installed slot waits for its try is "0 tryboot"
            attached.add("tryboot")
            from .update import tryboot
            sup.platform.reboot_argument = lambda layout=self.slots: tryboot.start_try(layout)
        if self.update_trying and "update" not in attached:
            attached.add("update")
            from .update.commit import CHECK_S, Committer

            def console_pid(sup=sup):
                svc = sup.services.get("console")
                if sup.power_request is not None or svc is None or svc.state != "running":
                    return None
                return svc.child.pid if svc.child else None

            c = Committer(self.slots, watchdog_ok=lambda: self.watchdog is not None,
                          console_pid=console_pid, reboot=lambda: sup.request_power("reboot"),
                          log=self.log, root=self.root)
            sup.call_every(CHECK_S, c.check, "update: commit once healthy")
        if self.cmdline.get(TEST_HANG_PID1) == "1" and "hang" not in attached:  # TEST ONLY
            attached.add("hang")                                  # see hang_for_test()
            sup.call_later(TEST_HANG_AFTER_S, lambda: hang_for_test(self.log), "test hang")


# TEST ONLY. `llmos.test_hang_pid1=1` on the kernel command line (only the QEMU test of the
# watchdog boots with it: tests/qemu/test_supervisor.py) makes PID 1 hang on purpose a
# moment after the boot, so the watchdog is no longer petted and must reset the machine.
# Nothing a console user can do sets the kernel command line; normal images never have it.
TEST_HANG_PID1 = "llmos.test_hang_pid1"
TEST_HANG_AFTER_S = 2.0


def hang_for_test(log: Callable[..., None]) -> None:
    log(f"{TEST_HANG_PID1}=1: PID 1 hangs now on purpose (test only); "
        "the watchdog must reset the machine")
    while True:
        time.sleep(3600)


# --------------------------------------------------------------------------- PID 1


def main(argv: list[str] | None = None) -> int:
    """PID 1. Never returns and never raises when running as PID 1."""
    if os.getpid() != 1:
        import sys
        print("llmos_init pid1: not PID 1; refusing to boot this system "
              "(tests drive Boot and Supervisor directly)", file=sys.stderr)
        return 2
    pending: deque[int] = deque()
    try:
        for sig in POWER_SIGNALS:     # before anything else: no KeyboardInterrupt, ever
            signal.signal(sig, lambda s, f: pending.append(s))
    except BaseException:
        pass
    log = None
    try:
        log = ConsoleLog(fd=1)
        _pid1(log, pending)
    except BaseException:
        pass
    while True:                      # the last resort, forever
        try:
            _emergency_blocking(log, None, None, "the supervisor could not run")
        except BaseException:
            reap_all()
            time.sleep(1)


def _pid1(log: ConsoleLog, pending: deque) -> None:
    boot = Boot(log=log)
    try:
        boot.run_early()
    except BaseException:
        log.exception("boot: unexpected failure (continuing)")
    config = boot.config or ServicesConfig(services=[default_console()],
                                           errors=["services.toml was not loaded"])
    sup = None
    failures: deque[float] = deque(maxlen=5)
    while True:
        try:
            if sup is None:
                # boot.json waits for run_late (json is not on the prompt's path): the
                # services started meanwhile, the console first, have the boot time in
                # their environment
                env = default_env()
                if boot.early_finished is not None:
                    env[BOOT_SECONDS_ENV] = f"{boot.early_finished:.6f}"
                sup = Supervisor(config, is_pid1=True, log=log, base_env=env,
                                 mounts=boot.unmount_targets(), pending_signals=pending,
                                 emergency_info={"log_dir": LOG_DIR, "boot_json": BOOT_JSON})
                boot.attach(sup)
                # run() starts the services first, then its timers: the prompt does not
                # wait for loopback and the kernel log
                sup.call_later(0, lambda b=boot, s=sup: b.finish(s), "boot: late steps")
            sup.run()
        except BaseException:
            try:
                log.exception("supervisor: loop failed; restarting it")
            except BaseException:
                pass
        failures.append(time.monotonic())
        if len(failures) == failures.maxlen and failures[-1] - failures[0] < 10:
            failures.clear()
            try:
                _emergency_blocking(log, sup, boot, "the supervisor loop keeps failing")
            except BaseException:
                pass
        time.sleep(0.2)


def _emergency_blocking(log: ConsoleLog | None, sup: Supervisor | None, boot: Boot | None,
                        reason: str) -> None:
    """Blocking emergency console on the console tty; performs reboot/poweroff."""
    from .emergency import run_blocking
    tty = resolve_tty("console")
    fd = os.open(tty, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        idle = sup.reaper.reap if sup is not None else reap_all
        action = run_blocking(fd, reason=reason, idle=idle, log_dir=LOG_DIR, boot_json=BOOT_JSON)
    finally:
        os.close(fd)
    if action == "retry":
        return
    if sup is not None:
        sup.shutdown(action)
    else:                            # no supervisor: the same sequence, without services
        last = Shutdown(Pid1Platform(), log if log is not None else _quiet, is_pid1=True,
                        reap=reap_all, mounts=("/model", "/data"), data_mount="/data")
        last.run(action, stop=[("stop every process", last.terminate_all)])


def _quiet(msg: str) -> None:
    pass
