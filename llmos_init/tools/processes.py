"""Executors for processes: list (from /proc), signal, start under the supervisor, renice.

Nothing here waits for children: start_program hands the child to ctx.spawn (the
supervisor's reaper) and asks the returned Child for its exit status."""
from __future__ import annotations

import os
import re
import shlex
import signal
import time

from .result import Result, ToolError
from .safety import SafetyError, signal_name
from .text import human_size, plural, printable, table

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
    """One process from <procfs>/<pid>: pid, ppid, name (the kernel's comm: at most 15
    characters), state, argv, nice, cpu (%), rss (bytes), kernel (a kernel thread)."""
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
    try:
        nice = int(f[16])
    except (IndexError, ValueError):
        nice = None
    hz = os.sysconf("SC_CLK_TCK")
    up = _uptime(procfs) if uptime is None else uptime
    alive = max(up - start / hz, 0.01)
    try:  # NUL-terminated arguments; empty ones inside are kept (they shift argv[1])
        raw = _read(os.path.join(base, "cmdline"), "rb").rstrip(b"\0")
        argv = [a.decode("utf-8", "replace") for a in raw.split(b"\0")] if raw else []
    except OSError:
        argv = []
    return {"pid": pid, "ppid": ppid, "name": name, "state": state, "argv": argv, "nice": nice,
            "start": start,
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
# The kernel's comm (/proc/PID/stat, /proc/PID/comm) is cut to 15 characters (TASK_COMM_LEN
# 16), so "backup_nightly_web.sh" and "backup_nightly_db.sh" both show "backup_nightly_".
# A process's full name comes from its command line: argv[0], or the script an interpreter
# runs (a #! script's argv is [interpreter, (its #! option,) script, args...]).
COMM_LEN = 15
_INTERPRETER = re.compile(r"(?:python|pypy|perl|ruby|node|nodejs|lua|luajit|"
                          r"sh|bash|dash|ash|zsh|ksh|mksh)(?:\d+(?:\.\d+)*[a-z]?)?")
# per interpreter family: (short options taking a value, short options after which the
# program is inline code or a module, not a script file)
_OPTS = {"python": ("WX", "cm"), "pypy": ("WX", "cm"), "perl": ("", "eE"), "ruby": ("I", "e"),
         "node": ("r", "ep"), "lua": ("l", "e"), "sh": ("oO", "c")}


def _script(argv: list[str]) -> str | None:
    """The script file an interpreter's argv runs (None when argv[0] is no interpreter, or
    it runs inline code: python3 -c, sh -c, perl -e)."""
    if not argv or not _INTERPRETER.fullmatch(os.path.basename(argv[0])):
        return None
    base = os.path.basename(argv[0])
    family = next((k for k in _OPTS if base.startswith(k)), "sh")
    value, inline = _OPTS[family]
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return argv[i + 1] if i + 1 < len(argv) else None
        if arg == "-" or not arg.startswith(("-", "+")) or (arg.startswith("+") and family != "sh"):
            return None if arg == "-" else arg
        if not arg.startswith("--"):  # a cluster of short options: -ec, -Wignore, -o pipefail
            for j, ch in enumerate(arg[1:], 1):
                if ch in inline:
                    return None
                if ch in value:
                    i += arg[j + 1:] == ""  # the value is the next argument
                    break
        i += 1
    return None


def names(p: dict) -> set[str]:
    """Every full name process p answers to: argv[0]'s basename, the basename of the script
    its interpreter runs, and its comm where that is surely whole (shorter than 15
    characters: the only name of a kernel thread or a zombie, which have no command line).
    A comm of 15 characters may be cut from a longer name, so it names nothing: the zombie
    of backup_nightly_web.sh is not "backup_nightly_", nor any 15+ character name."""
    argv = p["argv"]
    out = set()
    if argv:
        out.add(os.path.basename(argv[0]))
        script = _script(argv)
        if script:
            out.add(os.path.basename(script))
    if len(p["name"]) < COMM_LEN:
        out.add(p["name"])
    out.discard("")
    return out


def full_name(p: dict) -> str:
    """The name to show for p: its script, else argv[0]'s basename, else its comm."""
    argv = p["argv"]
    script = _script(argv)
    if script and os.path.basename(script):
        return os.path.basename(script)
    if argv and os.path.basename(argv[0]).startswith(p["name"]):
        return os.path.basename(argv[0])  # the comm, or the whole name it was cut from
    return p["name"]


def _matches(p: dict, name: str) -> bool:
    return name in names(p)


def command_line(ctx, p: dict, limit: int = 240) -> str:
    """p's command line, safe on one line: arguments shell-quoted where needed, paths in
    the sandbox shown as console paths, control characters escaped; [comm] without one."""
    if not p["argv"]:
        return f"[{printable(p['name'])}]"
    text = " ".join(shlex.quote(ctx.display(x)) for x in p["argv"])
    if len(text) > limit:
        text = text[:limit] + "…"
    return printable(text)


def describe(ctx, p: dict, state: bool = False) -> str:
    """'sleeper.py: /usr/bin/python3 /data/sleeper.py' (with ', sleeping' when state)."""
    text = f"{printable(full_name(p))}: {command_line(ctx, p)}"
    if state or p["state"] == "Z":
        text += f", {STATES.get(p['state'], printable(p['state']))}"
    return text


def _targets(ex, a) -> tuple[list[dict], str | None, int]:
    """(the processes a kill_process action means, the name they were found by or None for
    a pid, how many others by that name are not ours to signal), or SafetyError/ToolError."""
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
            raise SafetyError(f"pid {pid} ({printable(p['name'])}) is a kernel thread; refused")
        return [p], None, 0
    if not name:
        raise ToolError("say which process: a pid or a name")
    name = str(name)
    found = [p for p in all_procs(ctx.procfs) if not p["kernel"] and _matches(p, name)]
    if not found:
        raise ToolError(f"no process named {printable(name)}")
    ok, why = [], ""
    for p in found:
        try:
            _allowed(ex, p["pid"])
            ok.append(p)
        except SafetyError as e:
            why = str(e)
    if not ok:
        raise SafetyError(why)
    return ok, name, len(found) - len(ok)


def _what(procs: list[dict], name: str | None) -> str:
    """The short form for results: 'pid 42 (sleeper.py)', '2 processes named x (pid 4, 5)'."""
    if name is None:
        p = procs[0]
        return f"pid {p['pid']} ({printable(full_name(p))})"
    pids = ", ".join(str(p["pid"]) for p in procs)
    return f"{plural(len(procs), 'process', 'processes')} named {printable(name)} (pid {pids})"


def _allowed(ex, pid: int) -> None:
    ctx = ex.ctx
    if pid == 1:
        raise SafetyError("pid 1 is the llmos supervisor; say 'reboot' or 'power off' instead")
    if pid in ctx.own_pids:
        raise SafetyError(f"pid {pid} is this console itself; refused")
    if ctx.host and pid not in ctx.started:
        raise SafetyError(f"on a host console only programs started here can be changed; pid {pid} was not")


def prepare_kill_process(ex, a, paths) -> tuple[str, list[dict], str | None, int]:
    """(the signal's name, the processes, the name they were found by or None for a pid,
    how many others by that name are not ours to signal): the signal and each process
    checked once, for the preview, the pin and the run."""
    sig = signal_name(a.get("signal"))
    return (sig, *_targets(ex, a))


def preview_kill_process(ex, a, plan) -> str:
    """'send TERM to pid 42 (sleeper.py: /usr/bin/python3 /data/sleeper.py)', or for a name
    a first line 'send TERM to 2 processes named backup.sh:' and one line per process."""
    sig, procs, name, others = plan
    if name is None:
        p = procs[0]
        return f"send {sig} to pid {p['pid']} ({describe(ex.ctx, p)})"
    lines = [f"send {sig} to {plural(len(procs), 'process', 'processes')} named {printable(name)}:"]
    lines += [f"  pid {p['pid']}: {command_line(ex.ctx, p)}" + (", zombie" if p["state"] == "Z" else "")
              for p in procs]
    if others:
        lines.append(f"  (left alone: {plural(others, 'other process', 'other processes')} "
                     f"named {printable(name)}, not started here)")
    return "\n".join(lines)


def pin_kill_process(ex, a, plan) -> frozenset:
    """What the user is shown and confirms: these processes, by (pid, start time), so
    that a process started (or a pid reused) between the question and the answer is
    never signalled in their place."""
    _, procs, _, _ = plan
    return frozenset((p["pid"], p["start"]) for p in procs)


def kill_process(ex, a, plan) -> Result:
    sig, procs, name, _ = plan
    shown = ex.pinned({"tool": "kill_process", "args": a})
    if shown is not None:
        procs = [p for p in procs if (p["pid"], p["start"]) in shown]
        if not procs:
            raise ToolError("the processes shown at the question are gone; nothing was signalled")
    what = _what(procs, name)
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
def prepare_start_program(ex, a, paths) -> tuple:
    """(resolved path, argv, note) for a start_program action."""
    r = paths["path"]
    if not os.path.exists(r.real):
        raise ToolError(f"{r.shown} does not exist")
    if not os.path.isfile(r.real):
        raise ToolError(f"{r.shown} is not a file")
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
            raise ToolError(f"{r.shown} is not executable (mode {os.stat(r.real).st_mode & 0o777:o})")
        argv = [r.real] + args
    elif head.startswith(b"#!"):
        if os.access(r.real, os.X_OK):
            argv = [r.real] + args
        else:  # not marked executable: run its interpreter the way the kernel would
            line = head[2:].split(b"\n")[0].decode("utf-8", "replace").strip()
            interp, _, opt = line.partition(" ")
            if not interp:
                raise ToolError(f"{r.shown} has an empty #! line")
            argv = [interp] + ([opt.strip()] if opt.strip() else []) + [r.real] + args
            note = f" (not marked executable; run with {printable(interp)})"
    else:
        raise ToolError(f"{r.shown} is neither an ELF executable nor a script with a #! line")
    return r, argv, note


def preview_start_program(ex, a, plan) -> str:
    r, argv, note = plan
    args = " ".join(shlex.quote(x) for x in argv[argv.index(r.real) + 1:])
    return f"start {r.shown}{' ' + printable(args) if args else ''} as a supervised child{note}"


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
    return ("…\n" if cut else "") + "\n".join(printable(x) for x in lines)


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


def start_program(ex, a, plan) -> Result:
    ctx = ex.ctx
    if ctx.spawn is None:
        raise ToolError("programs can only be started under the supervisor, and none is attached")
    r, argv, note = plan
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
        text = f"started {r.shown} as pid {child.pid}{note}; it is still running"
        text += f"\noutput so far:\n{output}" if output else ""
        text += f"\n(output goes to {shown_out})"
    else:
        how = f"exited with code {code}" if code >= 0 else \
            f"was killed by signal {signal.Signals(-code).name if -code in signal.valid_signals() else -code}"
        text = f"{r.shown} (pid {child.pid}){note} {how}"
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


def prepare_set_priority(ex, a, paths) -> tuple[int, int | None, dict]:
    """(pid, nice or None, the process): the pid and its process checked once."""
    nice = _nice(a)
    try:
        pid = int(a["pid"])
    except (TypeError, ValueError):
        raise SafetyError(f"bad pid {a.get('pid')!r}") from None
    if pid <= 0:
        raise SafetyError(f"bad pid {pid}")
    if ex.ctx.host and pid not in ex.ctx.started:
        raise SafetyError(f"on a host console only programs started here can be changed; pid {pid} was not")
    p = proc_info(ex.ctx.procfs, pid)
    if p is None:
        raise ToolError(f"no process with pid {pid}")
    return pid, nice, p


def preview_set_priority(ex, a, plan) -> str:
    """'set pid 700 (sleeper.py: /usr/bin/python3 /data/sleeper.py, sleeping) from nice 0
    to nice 5', or 'show the nice value of pid 700 (...)' without a nice."""
    pid, nice, p = plan
    who = f"pid {pid} ({describe(ex.ctx, p, state=True)})"
    if nice is None:
        return f"show the nice value of {who}"
    old = "an unknown nice value" if p["nice"] is None else f"nice {p['nice']}"
    same = " (no change)" if p["nice"] == nice else ""
    return f"set {who} from {old} to nice {nice}{same}"


def set_priority(ex, a, plan) -> Result:
    pid, nice, p = plan
    name = f" ({printable(full_name(p))})"
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
PINS = {"kill_process": pin_kill_process}
PREVIEWS = {"kill_process": preview_kill_process, "start_program": preview_start_program,
            "set_priority": preview_set_priority}
# prepare steps (executor.PREPARES): their previews and executors take the plan they give
PREPARES = {"start_program": prepare_start_program, "kill_process": prepare_kill_process,
            "set_priority": prepare_set_priority}
