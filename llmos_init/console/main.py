"""`python -m llmos_init console [--sandbox DIR] [--model PATH] [--no-model] [--dumb]`.

Guest or host is decided explicitly:
- with `--sandbox DIR` the console runs on a host terminal against DIR, which plays the
  part of "/" (DIR/data is the data partition; both are created when missing). Power
  requests only say what they would do; "power off" and Ctrl-D end the session.
- without it the console acts on the real system (data on /data, starting in /data), and
  it refuses to start unless this really is llmos: /run/llmos exists (the boot sequence
  writes it) or PID 1 is llmos_init. Nobody turns a workstation into a sandbox by accident.

In the image the supervisor starts the console as a service with the serial tty as fds
0/1/2 (session leader, controlling tty); the console only ever uses those fds.
"""
from __future__ import annotations

import os
import sys
import threading
import time

from .. import signals as signal  # _signal without the enums (signals.py)
from ..paths import BOOT_JSON, BOOT_SECONDS_ENV
from ..record import record
from ..tools.power import Power, pid1_is_llmos   # os and signal only: cheap before the prompt
from .history import History
from .lineedit import LineEditor
from .session import Banner, Session
from .term import Terminal

GUEST_DATA = "/data"
RUN_DIR = "/run/llmos"
SHUTDOWN_WAIT = 60.0


@record
class Options:
    sandbox: str | None = None
    model: str | None = None
    no_model: bool = False
    dumb: bool = False


def parse_args(argv: list[str]) -> Options:
    if not argv:
        return Options()   # the guest's service: argparse is not worth importing at boot
    import argparse
    p = argparse.ArgumentParser(prog="python -m llmos_init console",
                                description="The llmos natural-language console.")
    p.add_argument("--sandbox", metavar="DIR",
                   help="run on this host against DIR (it plays /; created if missing)")
    p.add_argument("--model", metavar="PATH", help="GGUF model file for the planner")
    p.add_argument("--no-model", action="store_true",
                   help="no language model: the deterministic planner only")
    p.add_argument("--dumb", action="store_true", help="no ANSI sequences (also TERM=dumb)")
    ns = p.parse_args(argv)
    if ns.model and ns.no_model:
        p.error("--model and --no-model exclude each other")
    return Options(sandbox=ns.sandbox, model=ns.model, no_model=ns.no_model, dumb=ns.dumb)


def is_llmos_guest() -> bool:
    return os.path.isdir(RUN_DIR) or pid1_is_llmos()


# --- facts for the banner ----------------------------------------------------------------

def boot_seconds(path: str = BOOT_JSON, env=os.environ) -> float | None:
    """Seconds from power-on to the end of the boot sequence: from PID 1's environment (a
    console it forked before boot.json was written), else `total_s` of the summary boot.py
    writes (Boot.summary); None when the file is missing, garbled or has none."""
    try:
        return float(env[BOOT_SECONDS_ENV])
    except (KeyError, ValueError):
        pass
    import json     # not on the forked console's way to its prompt
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read(1 << 20))
    except (OSError, ValueError):
        return None
    total = data.get("total_s") if isinstance(data, dict) else None
    if isinstance(total, (int, float)) and not isinstance(total, bool):
        return float(total)
    return None


def uptime_seconds() -> float | None:
    try:
        with open("/proc/uptime") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def memory() -> tuple[int | None, int | None]:
    values = {}
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                key, _, rest = line.partition(":")
                parts = rest.split()
                if parts and parts[0].isdigit():
                    values[key] = int(parts[0]) * 1024
    except OSError:
        return None, None
    return values.get("MemTotal"), values.get("MemAvailable", values.get("MemFree"))


def hostname() -> str:
    return os.uname().nodename


# --- collaborators (imported lazily: a missing or broken one costs its feature only) --------

def initial_model_status(opts: Options) -> str:
    """What the planner will say at first ("none" or "loading"), known without importing
    it: the banner shows it while the planner is still being built."""
    if opts.no_model:
        return "none"
    from ..planner.models import find_model
    return "loading" if (opts.model or find_model()) else "none"


class Later:
    """Collaborators built by `build` in a thread, started once (the console starts it
    when its prompt is on the screen); `value` is what build returned."""

    def __init__(self, build, status: str):
        self.build = build
        self.status = status          # the model status to show meanwhile
        self.done = threading.Event()
        self.value: dict = {}
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="console-setup", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            self.value = self.build()
        except BaseException as exc:  # noqa: BLE001 - the session says what failed
            why = f"{type(exc).__name__}: {exc}"
            self.value = {"planner_error": why, "executor_error": why}
        finally:
            self.done.set()


def make_planner(opts: Options, spawn=None):
    try:
        try:
            from ..planner import Planner
        except ImportError:
            from ..planner.planner import Planner
        # model_path=None lets the planner find the image's model; --no-model forbids one.
        planner = Planner(model_path=opts.model, use_model=not opts.no_model)
        planner.spawn = spawn    # a model with RPC workers runs in a child (modelhost.py)
        planner.start_loading()  # a background thread; plans work meanwhile (parser only)
        return planner, None
    except Exception as exc:  # noqa: BLE001 - the console still runs and says why
        return None, f"{type(exc).__name__}: {exc}"


def make_spawn():
    """The console is the subreaper of what it starts; the Reaper owns the waiting."""
    try:
        from ..reaper import Reaper
        reaper = Reaper(subreaper=True)
        reaper.start_thread()
    except Exception:  # noqa: BLE001 - start_program is then refused by the executor
        return None
    return reaper.spawn


def make_executor(cwd: str, sandbox: str | None, power: Power, spawn=None):
    try:
        from ..tools.trash import Trash
        from ..tools.context import ActionContext
        from ..tools.executor import Executor
        ctx = ActionContext(cwd=cwd, data_dir=GUEST_DATA, sandbox=sandbox, spawn=spawn or make_spawn(),
                      request_power=power)
        return Executor(ctx, Trash(ctx.real_data_dir)), ctx, None
    except Exception as exc:  # noqa: BLE001
        return None, None, f"{type(exc).__name__}: {exc}"


# --- running ----------------------------------------------------------------------------

def _exit_on_signal(signum, frame):
    raise SystemExit(128 + signum)


def run_console(opts: Options, *, term: Terminal | None = None, planner=None,
                executor=None, context=None) -> int:
    """Build the session (collaborators may be injected) and run it on `term`."""
    sandbox = os.path.realpath(opts.sandbox) if opts.sandbox else None
    if sandbox:
        os.makedirs(os.path.join(sandbox, GUEST_DATA.lstrip("/")), exist_ok=True)
        real_data = os.path.join(sandbox, GUEST_DATA.lstrip("/"))
        cwd = GUEST_DATA
    else:
        real_data = GUEST_DATA
        cwd = GUEST_DATA if os.path.isdir(GUEST_DATA) else "/"
        try:
            os.chdir(cwd)
        except OSError:
            pass
    term = term or Terminal(0, 1, dumb=True if opts.dumb else None)
    power = Power(host=bool(sandbox))
    planner_error = executor_error = None
    later = None
    if planner is None and executor is None:
        # Nothing the prompt does not need is on its way: the planner and the tools
        # (and the model after them) are imported and built in a thread once the prompt
        # is on the screen; the first request waits for them if it comes sooner.
        def build() -> dict:
            spawn = make_spawn()      # the console's one reaper: programs and the model's child
            got = dict(zip(("planner", "planner_error"), make_planner(opts, spawn)))
            got.update(zip(("executor", "context", "executor_error"),
                           make_executor(cwd, sandbox, power, spawn)))
            return got
        later = Later(build, status=initial_model_status(opts))
    else:
        spawn = make_spawn() if planner is None or executor is None else None
        if planner is None:
            planner, planner_error = make_planner(opts, spawn)
        if executor is None:
            executor, context, executor_error = make_executor(cwd, sandbox, power, spawn)
    history = History(os.path.join(real_data, ".history"))
    editor = LineEditor(term, history, on_prompt=later.start if later else None)
    total, free = memory()
    banner = Banner(hostname=hostname(), boot_seconds=None if sandbox else boot_seconds(),
                    uptime_seconds=uptime_seconds(), memory_total=total, memory_free=free,
                    sandbox=sandbox)
    if history.error:
        banner.extra.append(f"history not kept: {history.error}")
    session = Session(term, editor, planner, executor, cwd=cwd, hostname=hostname,
                      sandbox=sandbox, banner=banner, planner_error=planner_error,
                      executor_error=executor_error, context=context, later=later)
    power.session = session
    term.enter_raw()
    try:
        code = session.run()
        if power.requested and not sandbox:
            # PID 1 is shutting the machine down and will stop us; do not exit early and
            # get restarted as a service meanwhile.
            deadline = time.monotonic() + SHUTDOWN_WAIT
            while time.monotonic() < deadline:
                time.sleep(0.5)
        return code
    finally:
        term.restore()


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(list(sys.argv[1:] if argv is None else argv))
    if not opts.sandbox and not is_llmos_guest():
        print("this machine is not running llmos (no /run/llmos, PID 1 is not llmos_init);\n"
              "try the console against a directory: python -m llmos_init console --sandbox DIR",
              file=sys.stderr)
        return 2
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit_on_signal)
    try:
        return run_console(opts)
    except KeyboardInterrupt:
        return 130
