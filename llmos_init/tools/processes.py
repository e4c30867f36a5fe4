"""Executors for processes: list (from /proc), signal, start under the supervisor, renice.

Nothing here waits for children: start_program hands the child to ctx.spawn (the
supervisor's reaper) and asks the returned Child for its exit status."""
from __future__ import annotations

import os
import shlex
import signal
import time

from ..safety import SafetyError, checked, signal_name
from .result import Result, ToolError
from .text import clean, human_size, plural, table

STATES = {"R": "running", "S": "sleeping", "D": "disk wait", "Z": "zombie", "T": "stopped",
          "t": "traced", "I": "idle", "X": "dead", "P": "parked", "W": "paging"}


def _read(path: str, mode: str = "r") -> str | bytes:
    with open(path, mode) as f:
        return f.read()


def _uptime(procfs: str) -> float:
    try:
        return float(_read(os.path.join(procfs, "uptime")).split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0


def proc_info(procfs: str, pid: int, uptime: float | None = None) -> dict | None:
    """One process from <procfs>/<pid>: pid, ppid, name, state, cpu (%), rss (bytes), cmdline."""
    base = os.path.join(procfs, str(pid))
    try:
        st = _read(os.path.join(base, "stat"), "rb").decode("utf-8", "replace")
    except OSError:
        return None
    head, _, tail = st.rpartition(")")
    name = head.partition("(")[2]
    f = tail.split()
    try:
        state, ppid = f[0], int(f[1])
        ticks = int(f[11]) + int(f[12])
        start = int(f[19])
        rss = int(f[21]) * os.sysconf("SC_PAGE_SIZE")
    except (IndexError, ValueError):
        return None
    hz = os.sysconf("SC_CLK_TCK")
    up = _uptime(procfs) if uptime is None else uptime
    alive = max(up - start / hz, 0.01)
    try:
        argv = _read(os.path.join(base, "cmdline"), "rb").split(b"\0")
        argv = [a.decode("utf-8", "replace") for a in argv if a]
    except OSError:
        argv = []
    return {"pid": pid, "ppid": ppid, "name": name, "state": state, "argv": argv,
            "cpu": min(100.0 * (ticks / hz) / alive, 100.0 * (os.cpu_count() or 1)),
            "rss": rss, "kernel": pid == 2 or ppid == 2}


def all_procs(procfs: str) -> list[dict]:
    up = _uptime(procfs)
    out = []
    for e in os.listdir(procfs):
        if e.isdigit():
            p = proc_info(procfs, int(e), up)
            if p:
                out.append(p)
    return sorted(out, key=lambda p: p["pid"])


def list_processes(ex, a) -> Result:
    procs = all_procs(ex.ctx.procfs)
    users = [p for p in procs if not p["kernel"]]
    rows = [[str(p["pid"]), p["name"], STATES.get(p["state"], p["state"]), f"{p['cpu']:.1f}",
             human_size(p["rss"]), " ".join(p["argv"])[:50]] for p in users]
    text = table(["PID", "NAME", "STATE", "CPU%", "RSS", "COMMAND"], rows, right={0, 3, 4})
    hidden = len(procs) - len(users)
    text = f"{plural(len(users), 'process', 'processes')}" + \
        (f" (+{hidden} kernel threads not shown)" if hidden else "") + "\n" + text
    return Result(True, text, data=procs)


# ---- kill_process ---------------------------------------------------------------------
def _matches(p: dict, name: str) -> bool:
    if p["name"] == name or p["name"] == name[:15]:
        return True
    argv = p["argv"]
    return any(os.path.basename(x) == name for x in argv[:2])


def _targets(ex, a) -> tuple[list[dict], str]:
    """The processes a kill_process action means, or SafetyError/ToolError."""
    ctx = ex.ctx
    pid, name = a.get("pid"), a.get("name")
    if isinstance(pid, str) and not pid.strip().lstrip("-").isdigit():
        name, pid = name or pid.strip(), None
    if pid is not None:
        try:
            pid = int(pid)
        except (TypeError, ValueError):
            raise SafetyError(f"bad pid {pid!r}") from None
        if pid <= 0:
            raise SafetyError(f"pid {pid} would signal a whole process group; refused")
        _allowed(ex, pid)
        p = proc_info(ctx.procfs, pid)
        if p is None:
            raise ToolError(f"no process with pid {pid}")
        if p["kernel"]:
            raise SafetyError(f"pid {pid} ({clean(p['name'])}) is a kernel thread; refused")
        return [p], f"pid {pid} ({clean(p['name'])})"
    if not name:
        raise ToolError("say which process: a pid or a name")
    found = [p for p in all_procs(ctx.procfs) if not p["kernel"] and _matches(p, str(name))]
    if not found:
        raise ToolError(f"no process named {clean(str(name))}")
    ok, why = [], ""
    for p in found:
        try:
            _allowed(ex, p["pid"])
            ok.append(p)
        except SafetyError as e:
            why = str(e)
    if not ok:
        raise SafetyError(why)
    pids = ", ".join(str(p["pid"]) for p in ok)
    return ok, f"{plural(len(ok), 'process', 'processes')} named {clean(str(name))} (pid {pids})"


def _allowed(ex, pid: int) -> None:
    ctx = ex.ctx
    if pid == 1:
        raise SafetyError("pid 1 is the llmos supervisor; say 'reboot' or 'power off' instead")
    if pid in ctx.own_pids:
        raise SafetyError(f"pid {pid} is this console itself; refused")
    if ctx.host and pid not in ctx.started:
        raise SafetyError(f"on a host console only programs started here can be changed; pid {pid} was not")


def preview_kill_process(ex, a) -> str:
    sig = signal_name(a.get("signal"))
    _, what = _targets(ex, a)
    return f"send {sig} to {what}"


def kill_process(ex, a) -> Result:
    sig = signal_name(a.get("signal"))
    procs, what = _targets(ex, a)
    signum = getattr(signal, "SIG" + sig)
    sent = []
    for p in procs:
        try:
            os.kill(p["pid"], signum)
            sent.append(p["pid"])
        except ProcessLookupError:
            pass
    if not sent:
        raise ToolError(f"{what} is already gone")
    if sig not in ("TERM", "KILL", "INT", "HUP"):
        return Result(True, f"sent {sig} to {what}", data=sent)
    deadline = time.monotonic() + 1.0
    while True:  # a zombie has exited: the supervisor reaps it
        alive = [pid for pid in sent if (proc_info(ex.ctx.procfs, pid) or {"state": "Z"})["state"] != "Z"]
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    status = "it has exited" if not alive else (
        f"still running: {', '.join(map(str, alive))}" if len(sent) > 1 else "it is still running")
    if len(sent) > 1 and not alive:
        status = "they have exited"
    return Result(True, f"sent {sig} to {what}; {status}", data=sent)


# ---- start_program --------------------------------------------------------------------
def _program(ex, a) -> tuple:
    """(resolved path, argv, note) for a start_program action."""
    r = checked(ex.ctx, a["path"])
    if not os.path.exists(r.real):
        raise ToolError(f"{r.console} does not exist")
    if not os.path.isfile(r.real):
        raise ToolError(f"{r.console} is not a file")
    args = a.get("args") or []
    if isinstance(args, str):
        try:
            args = shlex.split(args)
        except ValueError as e:
            raise ToolError(f"cannot split the arguments: {e}") from None
    if not isinstance(args, list) or not all(isinstance(x, (str, int, float)) for x in args):
        raise ToolError("args must be a list of strings")
    args = [str(x) for x in args]
    if any("\0" in x for x in args):
        raise ToolError("an argument cannot contain a NUL byte")
    with open(r.real, "rb") as f:
        head = f.read(256)
    note = ""
    if head.startswith(b"\x7fELF"):
        if not os.access(r.real, os.X_OK):
            raise ToolError(f"{r.console} is not executable (mode {os.stat(r.real).st_mode & 0o777:o})")
        argv = [r.real] + args
    elif head.startswith(b"#!"):
        if os.access(r.real, os.X_OK):
            argv = [r.real] + args
        else:  # not marked executable: run its interpreter the way the kernel would
            line = head[2:].split(b"\n")[0].decode("utf-8", "replace").strip()
            interp, _, opt = line.partition(" ")
            if not interp:
                raise ToolError(f"{r.console} has an empty #! line")
            argv = [interp] + ([opt.strip()] if opt.strip() else []) + [r.real] + args
            note = f" (not marked executable; run with {clean(interp)})"
    else:
        raise ToolError(f"{r.console} is neither an ELF executable nor a script with a #! line")
    return r, argv, note


def preview_start_program(ex, a) -> str:
    r, argv, note = _program(ex, a)
    args = " ".join(shlex.quote(x) for x in argv[argv.index(r.real) + 1:])
    return f"start {r.console}{' ' + clean(args) if args else ''} as a supervised child{note}"


def _tail(path: str, max_bytes: int = 16384, max_lines: int = 40) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read()
    except OSError:
        return ""
    if b"\0" in data:
        return f"(binary output, {human_size(size)})"
    lines = data.decode("utf-8", "replace").splitlines()
    cut = size > max_bytes or len(lines) > max_lines
    lines = lines[-max_lines:]
    return ("…\n" if cut else "") + "\n".join(clean(x) for x in lines)


def _params(fn) -> set[str] | None:
    """Keyword names fn accepts (None: any, it takes **kwargs)."""
    import inspect
    try:
        ps = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return set()
    if any(p.kind is p.VAR_KEYWORD for p in ps):
        return None
    return {p.name for p in ps}


def start_program(ex, a) -> Result:
    ctx = ex.ctx
    if ctx.spawn is None:
        raise ToolError("programs can only be started under the supervisor, and none is attached")
    r, argv, note = _program(ex, a)
    out_dir = ctx.real(ctx.tmp_dir)
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, f"{os.path.basename(r.real)}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.out")
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    kw = {"stdout": fd, "stderr": fd, "cwd": ctx.real_cwd}
    # never let a program read the console's terminal, or get its Ctrl-C: stdin from
    # /dev/null and a session of its own, where the spawner offers them
    params = _params(ctx.spawn)
    if params is None or "stdin" in params:
        kw["stdin"] = null
    if params is None or "new_session" in params:
        kw["new_session"] = True
    try:
        child = ctx.spawn(argv, **kw)
    finally:
        os.close(fd)
        os.close(null)
    ctx.started[child.pid] = r.console
    try:
        code = child.wait(ctx.start_wait)
    except Exception as e:  # TimeoutError / subprocess.TimeoutExpired style APIs
        if "Timeout" not in type(e).__name__:
            raise
        code = None
    output = _tail(out)
    shown_out = ctx.display(out)
    if code is None:
        text = f"started {r.console} as pid {child.pid}{note}; it is still running"
        text += f"\noutput so far:\n{output}" if output else ""
        text += f"\n(output goes to {shown_out})"
    else:
        how = f"exited with code {code}" if code >= 0 else \
            f"was killed by signal {signal.Signals(-code).name if -code in signal.valid_signals() else -code}"
        text = f"{r.console} (pid {child.pid}){note} {how}"
        text += f"; output:\n{output}" if output else "; no output"
        try:
            if os.path.getsize(out) == 0:
                os.unlink(out)
        except OSError:
            pass
    return Result(code in (None, 0), text, data={"pid": child.pid, "code": code, "output": out})


# ---- set_priority ---------------------------------------------------------------------
def _nice(a) -> int | None:
    nice = a.get("nice")
    if nice is None:
        return None
    try:
        nice = int(nice)
    except (TypeError, ValueError):
        raise SafetyError(f"nice must be a number from -20 to 19, not {nice!r}") from None
    if not -20 <= nice <= 19:
        raise SafetyError(f"nice must be from -20 (fastest) to 19 (slowest), not {nice}")
    return nice


def check_set_priority(ex, a) -> None:
    _nice(a)
    try:
        pid = int(a["pid"])
    except (TypeError, ValueError):
        raise SafetyError(f"bad pid {a.get('pid')!r}") from None
    if pid <= 0:
        raise SafetyError(f"bad pid {pid}")
    if ex.ctx.host and pid not in ex.ctx.started:
        raise SafetyError(f"on a host console only programs started here can be changed; pid {pid} was not")


def set_priority(ex, a) -> Result:
    check_set_priority(ex, a)
    pid, nice = int(a["pid"]), _nice(a)
    p = proc_info(ex.ctx.procfs, pid)
    name = f" ({clean(p['name'])})" if p else ""
    try:
        old = os.getpriority(os.PRIO_PROCESS, pid)
    except ProcessLookupError:
        raise ToolError(f"no process with pid {pid}") from None
    if nice is None:
        return Result(True, f"pid {pid}{name} runs at nice {old}", data={"nice": old})
    os.setpriority(os.PRIO_PROCESS, pid, nice)
    return Result(True, f"pid {pid}{name}: nice {old} → {nice}", data={"old": old, "nice": nice})


EXECUTORS = {"list_processes": list_processes, "kill_process": kill_process,
             "start_program": start_program, "set_priority": set_priority}
PREVIEWS = {"kill_process": preview_kill_process, "start_program": preview_start_program}
CHECKS = {"set_priority": check_set_priority}
