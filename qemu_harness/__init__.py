"""The QEMU harness (a package of its own: the integration tests and bench both import it):
boots an llmos image in QEMU and drives its serial console with pexpect.

Like Buildroot's support/testing/infra/emulator.py: one class that starts QEMU, waits
for the console prompt and types requests; every timeout is scaled by one multiplier,
LLMOS_TIMEOUT_MULT (default 1), for slow machines.

LLMOS_TARGET (default x86_64) selects the image: x86_64, aarch64-virt, or a board such
as rpi4, whose QEMU base target (aarch64-virt) is booted: its kernel, root and model are
the ones on the board's SD card.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
import time
from pathlib import Path

import pexpect

REPO = Path(__file__).resolve().parents[1]   # qemu_harness/__init__.py -> the repository
TIMEOUT_MULT = float(os.environ.get("LLMOS_TIMEOUT_MULT", "1"))
# The console prompt: "<hostname>:<cwd>> "
PROMPT = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*:/[^\r\n]*> ")
CONFIRM = re.compile(r"\[y/N\]")
BOOT_TIMEOUT = 240


def scaled(seconds: float) -> float:
    return seconds * TIMEOUT_MULT


def selected_target() -> str:
    """The QEMU target the integration tests boot (LLMOS_TARGET, default x86_64)."""
    from mkimage import targets
    t = targets.get(os.environ.get("LLMOS_TARGET") or "x86_64")
    return t.base or t.name


TARGET = selected_target()


def image_dir(target: str = TARGET) -> Path:
    return REPO / "images" / target


class Guest:
    """One QEMU run of an image, with its own data disk and a monitor socket."""

    def __init__(self, workdir: Path, data_image: Path, target: str = TARGET,
                 mem_mb: int = 512, extra_args: tuple[str, ...] = (), append: str = "",
                 env: dict[str, str] | None = None):
        self.workdir = workdir
        self.env = dict(env or {})
        self.data_image = data_image
        self.target = target
        self.mem_mb = mem_mb
        self.extra_args = list(extra_args)
        self.append = append
        self.monitor_path = workdir / "monitor.sock"
        self.log_path = workdir / "serial.log"
        self.proc: pexpect.spawn | None = None

    # -- lifecycle ---------------------------------------------------------------
    def system_disk(self) -> Path | None:
        """This guest's own system disk: a qcow2 overlay of the image's system.img (made
        once, in the work directory), so that what a guest writes there (the boot state,
        an update) stays its own; None for an image without one (direct boot)."""
        base = image_dir(self.target) / "system.img"
        if not base.exists():
            return None
        disk = self.workdir / "system.qcow2"
        if not disk.exists():
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b",
                            str(base.resolve()), str(disk)], check=True)
        return disk

    def start(self) -> None:
        script = image_dir(self.target) / "run-qemu.sh"
        env = dict(os.environ, SERIAL_MUX="off", DATA=str(self.data_image), MEM=str(self.mem_mb),
                   APPEND=self.append, NET="user", **self.env)
        if "SYSTEM" not in env and env.get("BOOT") != "direct" and self.system_disk():
            env["SYSTEM"] = str(self.system_disk())
        args = ["-monitor", f"unix:{self.monitor_path},server=on,wait=off", *self.extra_args]
        self._log = open(self.log_path, "a", encoding="utf-8", errors="replace")
        self.proc = pexpect.spawn(str(script), args, env=env, encoding="utf-8",
                                  codec_errors="replace", timeout=scaled(60), maxread=65536,
                                  dimensions=(50, 200))
        self.proc.logfile_read = self._log

    def boot(self, timeout: float = BOOT_TIMEOUT) -> float:
        """Start QEMU and wait for the console prompt; return seconds it took."""
        t0 = time.monotonic()
        self.start()
        self.expect(PROMPT, timeout)
        return time.monotonic() - t0

    def expect(self, pattern, timeout: float = 60) -> int:
        assert self.proc is not None
        try:
            return self.proc.expect(pattern, timeout=scaled(timeout))
        except (pexpect.TIMEOUT, pexpect.EOF) as e:
            raise AssertionError(f"waiting for {pattern!r}: {type(e).__name__}\n"
                                 f"--- serial log tail ---\n{self.log_tail()}") from None

    def log_text(self) -> str:
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, n: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-n:])

    # -- console -----------------------------------------------------------------
    def ask(self, request: str, timeout: float = 90, confirm: str | None = None) -> str:
        """Type a request, answer a confirmation if asked, return the output up to the prompt."""
        assert self.proc is not None
        self.proc.send(request + "\r")
        out = ""
        while True:
            i = self.expect([PROMPT, CONFIRM], timeout)
            out += self.proc.before + self.proc.after
            if i == 0:
                return out
            if confirm is None:
                raise AssertionError(f"unexpected confirmation for {request!r}:\n{out}")
            self.proc.send(confirm + "\r")

    def send_raw(self, data: bytes, chunk: int = 1024, timeout: float = 180) -> None:
        """Write bytes to the serial line as they are. What the guest sends back meanwhile
        (its echo) is read and logged, so neither direction's buffer fills up and stalls
        the other; the output stays in the log, not in the expect buffer."""
        assert self.proc is not None
        fd = self.proc.child_fd
        errors: list[BaseException] = []

        def writer() -> None:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view[:chunk]):]
            except BaseException as e:  # noqa: BLE001 - re-raised below
                errors.append(e)

        t = threading.Thread(target=writer, name="send_raw", daemon=True)
        t.start()
        deadline = time.monotonic() + scaled(timeout)
        while t.is_alive():
            if time.monotonic() > deadline:
                raise AssertionError(f"send_raw: {len(data)} bytes not taken within "
                                     f"{scaled(timeout):.0f} s\n{self.log_tail()}")
            self._read_some(0.1)
        if errors:
            raise errors[0]

    def _read_some(self, timeout: float) -> str:
        assert self.proc is not None
        try:
            return self.proc.read_nonblocking(65536, timeout)
        except pexpect.TIMEOUT:
            return ""

    def drain(self, quiet: float = 1.0, timeout: float = 60) -> None:
        """Read output until the guest has been quiet for `quiet` seconds, then forget it
        (a later expect() sees only what comes after)."""
        assert self.proc is not None
        deadline = time.monotonic() + scaled(timeout)
        last = time.monotonic()
        while time.monotonic() - last < quiet:
            if time.monotonic() > deadline:
                raise AssertionError(f"the guest never went quiet\n{self.log_tail()}")
            if self._read_some(0.2):
                last = time.monotonic()
        self.proc.buffer = ""

    def write_lines(self, path: str, lines: list[str]) -> None:
        """Create a text file in the guest through the console, one request per line
        (echo > then echo >>; each is confirmed)."""
        for i, line in enumerate(lines):
            assert '"' not in line, f"write_lines: no double quotes in a line: {line!r}"
            out = self.ask(f'echo "{line}" {">" if i == 0 else ">>"} {path}', confirm="y")
            assert path in out and "error" not in out.lower(), out

    def processes(self) -> list[dict]:
        """`list processes` in the guest, parsed: [{pid, name, state, command}]."""
        return parse_processes(self.ask("list processes"))

    def monitor(self, command: str) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(str(self.monitor_path))
            time.sleep(0.2)
            s.recv(65536)  # banner
            s.sendall(command.encode() + b"\n")
            time.sleep(0.5)
            try:
                return s.recv(65536).decode(errors="replace")
            except socket.timeout:
                return ""

    def wait_exit(self, timeout: float = 120) -> int:
        """Wait for QEMU to exit by itself; return its exit status."""
        assert self.proc is not None
        self.expect(pexpect.EOF, timeout)
        self.proc.close()
        return self.proc.exitstatus if self.proc.exitstatus is not None else 128 + (self.proc.signalstatus or 0)

    def poweroff(self, timeout: float = 120) -> int:
        assert self.proc is not None
        self.proc.send("power off\r")
        self.expect(CONFIRM, 60)
        self.proc.send("y\r")
        return self.wait_exit(timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.isalive():
            self.proc.terminate(force=True)
        if getattr(self, "_log", None):
            self._log.close()


_PROC_ROW = re.compile(r"^\s*(\d+)\s+(\S+)\s+(running|sleeping|disk wait|zombie|stopped|traced|"
                       r"idle|dead|parked|paging|\S)\s+[\d.]+\s+\S+ \S+\s*(.*)$")


def parse_processes(out: str) -> list[dict]:
    """Rows of the console's process table (PID NAME STATE CPU% RSS COMMAND)."""
    rows = []
    for line in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out).splitlines():
        m = _PROC_ROW.match(line)
        if m:
            rows.append({"pid": int(m.group(1)), "name": m.group(2), "state": m.group(3),
                         "command": m.group(4).strip()})
    return rows
