"""Executors for the system and the console itself: system_info, time, hostname, kernel
log, reboot/poweroff, undo, answer, clarify, help."""
from __future__ import annotations

import collections
import datetime as dt
import errno
import os
import re
import textwrap

from .devices import sys_layer
from .fsio import atomic_write, makedirs_durable
from .trash import UndoError
from .registry import TOOLS
from .result import Result, ToolError
from .safety import SafetyError, checked, not_on_host
from .text import human_duration, human_size, printable


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def _meminfo(procfs: str) -> dict[str, int]:
    out = {}
    try:
        for line in _read(os.path.join(procfs, "meminfo")).splitlines():
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                out[key] = int(parts[0]) * (1024 if parts[1:2] == ["kB"] else 1)
    except OSError:
        pass
    return out


def hostname(ctx) -> str:
    return os.uname().nodename


def system_info(ex, a) -> Result:
    ctx = ex.ctx
    u = os.uname()
    info: dict = {"hostname": u.nodename, "kernel": f"{u.sysname} {u.release}", "machine": u.machine}
    try:
        info["uptime"] = float(_read(os.path.join(ctx.procfs, "uptime")).split()[0])
    except (OSError, ValueError, IndexError):
        pass
    try:
        info["load"] = tuple(float(x) for x in _read(os.path.join(ctx.procfs, "loadavg")).split()[:3])
    except (OSError, ValueError):
        pass
    try:
        cpus = sum(1 for ln in _read(os.path.join(ctx.procfs, "cpuinfo")).splitlines()
                   if ln.startswith("processor"))
    except OSError:
        cpus = 0
    info["cpus"] = cpus or os.cpu_count() or 1
    mem = _meminfo(ctx.procfs)
    rows = [["hostname", info["hostname"]], ["kernel", f"{info['kernel']} ({u.machine})"]]
    if "uptime" in info:
        rows.append(["uptime", human_duration(info["uptime"])])
    if "load" in info:
        rows.append(["load", " ".join(f"{x:.2f}" for x in info["load"]) + " (1, 5, 15 min)"])
    rows.append(["CPUs", str(info["cpus"])])
    if "MemTotal" in mem:
        total = mem["MemTotal"]
        avail = mem.get("MemAvailable", mem.get("MemFree", 0))
        info["memory"] = {"total": total, "available": avail}
        rows.append(["memory", f"{human_size(total)} total, {human_size(total - avail)} used, "
                               f"{human_size(avail)} available"])
        if mem.get("SwapTotal"):
            rows.append(["swap", f"{human_size(mem['SwapTotal'])} total, "
                                 f"{human_size(mem['SwapTotal'] - mem.get('SwapFree', 0))} used"])
    net = _network_row(ctx)
    if net:
        info["network"], line = net
        rows.append(["network", line])
    w = max(len(k) for k, _ in rows)
    return Result(True, "\n".join(f"{k.ljust(w)}  {printable(v)}" for k, v in rows), data=info)


def _network_row(ctx) -> tuple[dict, str] | None:
    """What the network service configured (/run/llmos/net.json), in the guest only."""
    if ctx.host:
        return None
    from ..net.config import read_state, summary
    state = read_state()
    return (state, summary(state) or "") if state else None


# ---- time -----------------------------------------------------------------------------
def _fmt_now(now: dt.datetime) -> str:
    return now.strftime("%Y-%m-%d %H:%M:%S %Z (%A)").replace("  ", " ")


def get_time(ex, a) -> Result:
    now = dt.datetime.now().astimezone()
    return Result(True, _fmt_now(now), data=now.isoformat())


_TIME = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")


def parse_time(s) -> dt.datetime:
    m = _TIME.match(str(s))
    if not m:
        raise SafetyError(f"time must look like YYYY-MM-DD HH:MM[:SS], not {printable(str(s))!r}")
    y, mo, d, h, mi, sec = (int(x) if x else 0 for x in m.groups())
    try:
        t = dt.datetime(y, mo, d, h, mi, sec)
    except ValueError as e:
        raise SafetyError(f"not a valid time: {e}") from None
    if not 2000 <= y <= 2099:
        raise SafetyError(f"year {y} is out of range (2000–2099)")
    return t


def prepare_set_time(ex, a, paths) -> dt.datetime:
    not_on_host(ex.ctx, "setting the clock")
    return parse_time(a.get("time"))


def preview_set_time(ex, a, t: dt.datetime) -> str:
    rtc = " and the hardware clock" if os.path.exists(ex.ctx.rtc_dev) else ""
    return (f"set the system clock{rtc} to {t:%Y-%m-%d %H:%M:%S} UTC "
            f"(now {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M:%S})")


def set_time(ex, a, t: dt.datetime) -> Result:
    rtc = sys_layer("rtc")
    rtc.set_system_time(t)
    msg = f"the clock is now {t:%Y-%m-%d %H:%M:%S} UTC"
    if os.path.exists(ex.ctx.rtc_dev):
        try:
            rtc.set_rtc(t, ex.ctx.rtc_dev)
            msg += " (hardware clock set too)"
        except OSError as e:
            msg += f" (the hardware clock could not be set: {e.strerror or e})"
    return Result(True, msg)


# ---- hostname -------------------------------------------------------------------------
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?$")


def prepare_set_hostname(ex, a, paths) -> str:
    name = str(a.get("name", "")).strip()
    if not _HOST.match(name):
        raise SafetyError(f"{printable(name)!r} is not a valid hostname (letters, digits and '-', "
                          "up to 64, not starting or ending with '-')")
    return name


def preview_set_hostname(ex, a, name: str) -> str:
    where = os.path.join(ex.ctx.data_dir, "etc", "hostname")
    if ex.ctx.host:
        return f"save hostname {name} in {where} (the host's own name is left alone)"
    return f"set the hostname to {name} (now {hostname(ex.ctx)}), saved in {where}"


def set_hostname(ex, a, name: str) -> Result:
    etc = os.path.join(ex.ctx.real_data_dir, "etc")
    makedirs_durable(etc)
    atomic_write(os.path.join(etc, "hostname"), (name + "\n").encode())
    where = os.path.join(ex.ctx.data_dir, "etc", "hostname")
    if ex.ctx.host:
        return Result(True, f"saved hostname {name} in {where} (host console: the host keeps its name)")
    sys_layer("system").sethostname(name)
    return Result(True, f"the hostname is now {name} (saved in {where})")


# ---- kernel log -----------------------------------------------------------------------
def kmsg_records(path: str, last: int = 50) -> list[tuple[float, int, str]]:
    """The last records of /dev/kmsg (read non-blocking): (seconds, level, message)."""
    out: collections.deque = collections.deque(maxlen=last)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    buf = b""
    try:
        while True:
            try:
                chunk = os.read(fd, 8192)  # /dev/kmsg: one record per read
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno == errno.EPIPE:  # records overwritten while reading: go on
                    continue
                raise
            if not chunk:
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                rec = _kmsg_line(line)
                if rec:
                    out.append(rec)
    finally:
        os.close(fd)
    if buf:
        rec = _kmsg_line(buf)
        if rec:
            out.append(rec)
    return list(out)


def _kmsg_line(line: bytes):
    if not line or line[:1] == b" ":  # continuation lines carry KEY=value metadata
        return None
    head, sep, msg = line.partition(b";")
    if not sep:
        return None
    f = head.split(b",")
    try:
        prio, usec = int(f[0]), int(f[2])
    except (IndexError, ValueError):
        return None
    return usec / 1e6, prio & 7, msg.decode("utf-8", "replace")


def kernel_log(ex, a) -> Result:
    try:
        recs = kmsg_records(ex.ctx.dev_kmsg, last=ex.ctx.read_lines)
    except OSError as e:
        raise ToolError(f"cannot read the kernel log ({ex.ctx.dev_kmsg}): {e.strerror or e}") from None
    if not recs:
        return Result(True, "the kernel log is empty", data=[])
    text = "\n".join(f"[{t:10.3f}] {printable(m)}" for t, _, m in recs)
    return Result(True, text, data=recs)


# ---- power ----------------------------------------------------------------------------
def prepare_reboot(ex, a, paths) -> str:
    return "reboot"


def prepare_poweroff(ex, a, paths) -> str:
    return "poweroff"


def preview_power(ex, a, action: str) -> str:
    what = "reboot" if action == "reboot" else "power off"
    return f"{what} the machine (services are stopped and filesystems synced first)"


def power(ex, a, action: str) -> Result:
    """reboot and poweroff: the power action their prepare step named."""
    said = ex.ctx.request_power(action)
    return Result(True, str(said) if said else ("rebooting…" if action == "reboot" else "powering off…"))


# ---- the console's own tools ----------------------------------------------------------
def _undo_step(ex):
    """What undo would do, after the path rails every action obeys, checked again now: each
    path it changes must still be inside the sandbox, not protected, and must resolve to
    the very place it was recorded at (a parent swapped for a symbolic link is refused)."""
    step = ex.trash.undo_step()
    if step is None:
        return None
    for shown, real in step.paths:
        r = checked(ex.ctx, shown, follow=False, change=True)
        if os.path.normpath(r.real) != os.path.normpath(real):
            raise SafetyError(f"undo refused: {printable(shown)} now leads to {r.shown} (a directory on "
                              "the way was replaced, e.g. by a symbolic link); nothing changed")
    return step


def prepare_undo(ex, a, paths):
    """The undo step, chosen (and its paths checked) once: what its preview shows and its
    run reverts, or None when there is nothing to undo."""
    return _undo_step(ex)


def preview_undo(ex, a, step) -> str:
    if step is None:
        return "undo: nothing to undo"
    return step.text + step.eviction.note()


def asks_undo(ex, a, step=None) -> bool:
    """Undo asks when it moves, removes or overwrites something that is in place now.
    `step`: the one its prepare step chose (else what undo would do now)."""
    if step is None:
        step = ex.trash.undo_step()
    return step is not None and step.asks


def undo(ex, a, step) -> Result:
    if step is None:
        return Result(True, "nothing to undo")
    try:
        msg = ex.trash.undo(expect=step.entry)
    except UndoError as e:
        return Result(False, str(e))
    except OSError as e:
        return Result(False, f"undo failed: {e.strerror or e}; nothing was lost")
    ex.ctx.last_read = None
    return Result(True, msg, changed_cwd=ex.ctx.settle_cwd())


def answer(ex, a) -> Result:
    return Result(True, printable(str(a.get("text") or ""), keep_newlines=True))


def clarify(ex, a) -> Result:
    return Result(True, printable(str(a.get("question") or "what do you mean?"), keep_newlines=True))


def help_text(width: int = 79, col: int = 28) -> str:
    """Every tool of the registry with its example; '*' marks those that ask first."""
    lines = ["Say what you want in plain words, for example:", ""]
    for t in TOOLS.values():
        ex = f" {'*' if t.confirms else ' '} {t.example}"
        body = textwrap.wrap(t.summary, max(20, width - col)) or [""]
        if len(ex) >= col - 1:
            lines.append(ex)
            lines.extend(" " * col + b for b in body)
        else:
            lines.append(ex.ljust(col) + body[0])
            lines.extend(" " * col + b for b in body[1:])
    lines += ["", "* shows exactly what it will do and asks for 'y' first.",
              "Relative paths start from the current directory; ~ is /data. 'undo' reverts",
              "the last remove, move, write or append (removed things wait in the trash on",
              "/data) and asks first when that moves, removes or overwrites a file."]
    return "\n".join(lines)


def help(ex, a) -> Result:  # noqa: A001 - the tool's name
    return Result(True, help_text())


EXECUTORS = {"system_info": system_info, "get_time": get_time, "set_time": set_time,
             "set_hostname": set_hostname, "kernel_log": kernel_log, "reboot": power,
             "poweroff": power, "undo": undo, "answer": answer, "clarify": clarify, "help": help}
PREVIEWS = {"set_time": preview_set_time, "set_hostname": preview_set_hostname,
            "reboot": preview_power, "poweroff": preview_power, "undo": preview_undo}
# prepare steps (executor.PREPARES): their previews and executors take the plan they give
PREPARES = {"set_time": prepare_set_time, "set_hostname": prepare_set_hostname,
            "reboot": prepare_reboot, "poweroff": prepare_poweroff, "undo": prepare_undo}
ASKS = {"undo": asks_undo}
