"""Services: their declarations (parsing and validating /etc/llmos/services.toml) and
`Service`, the runtime state of one (the supervisor starts and restarts them).

The file has one optional `[supervisor]` table and one `[services.<name>]` table per
service (see rootfs/etc/llmos/services.toml for the documented shipped file).

Loading never raises for bad content: every problem becomes a clear message in
`ServicesConfig.errors` (the supervisor prints them), the offending service is left out,
and the console service is always present (the built-in default when the file lacks a
valid one), so a broken file can never leave the machine without its console.
"""
from __future__ import annotations

import os
from collections import deque

from .record import factory, record

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~0.1 s under QEMU TCG before the prompt
    from typing import Any

    from .reaper import Child

DEFAULT_PATH = "/etc/llmos/services.toml"
CONSOLE = "console"
RESTART_POLICIES = ("always", "on-failure", "never")

# The console the image ships; used when services.toml is missing, unreadable or has no
# valid [services.console]. The supervisor opens the tty (setsid, controlling tty, fds
# 0/1/2) so the console itself only uses its standard fds.
DEFAULT_CONSOLE_COMMAND = ("/usr/bin/python3.11", "-I", "-m", "llmos_init", "console")


@record(frozen=True)
class ServiceSpec:
    name: str
    command: tuple[str, ...]
    restart: str = "always"
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    max_restarts: int = 10
    window_s: float = 60.0
    tty: str | None = None          # device path, or "console"
    env: dict[str, str] = factory(dict)
    essential: bool = False
    cwd: str | None = None
    stop_signal: int = 15           # SIGTERM
    when: str | None = None         # start only when the kernel command line has this key
    fork: bool = False              # `python -m llmos_init ...`: forked from PID 1, no exec

    def wants_restart(self, returncode: int | None) -> bool:
        if self.restart == "always":
            return True
        if self.restart == "on-failure":
            return returncode != 0
        return False


@record
class ServicesConfig:
    services: list[ServiceSpec]
    shutdown_grace_s: float = 5.0
    watchdog_timeout_s: int = 30
    watchdog_interval_s: float = 5.0
    errors: list[str] = factory(list)
    path: str | None = None

    def service(self, name: str) -> ServiceSpec | None:
        for s in self.services:
            if s.name == name:
                return s
        return None


def default_console() -> ServiceSpec:
    return ServiceSpec(name=CONSOLE, command=DEFAULT_CONSOLE_COMMAND, restart="always",
                       backoff_initial=0.5, backoff_max=5.0, max_restarts=10,
                       window_s=60.0, tty="console", env={"TERM": "vt100"}, essential=True,
                       fork=True)


def llmos_main_args(command: tuple[str, ...] | list[str]) -> list[str] | None:
    """[python, -flags..., -m, llmos_init, ARGS...] -> ARGS; None for any other command.
    What a `fork = true` service runs in a forked copy of PID 1 (its interpreter flags
    are then PID 1's)."""
    cmd = list(command)
    for i in range(1, len(cmd) - 1):
        if cmd[i] == "-m":
            return cmd[i + 2:] if cmd[i + 1] == "llmos_init" else None
        if not cmd[i].startswith("-") or cmd[i] in ("-c", "-W", "-X", "--"):
            return None          # a script, or an option taking a value: not this form
    return None


class ConfigError(ValueError):
    pass


_SERVICE_KEYS = {"command", "restart", "backoff_initial", "backoff_max", "max_restarts",
                 "window_s", "tty", "env", "essential", "cwd", "stop_signal", "when", "fork"}
_SUPERVISOR_KEYS = {"shutdown_grace_s", "watchdog_timeout_s", "watchdog_interval_s"}


def _number(where: str, key: str, value: Any, *, minimum: float, integer: bool = False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            (integer and not isinstance(value, int)):
        kind = "an integer" if integer else "a number"
        raise ConfigError(f"{where}: '{key}' must be {kind}, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{where}: '{key}' must be >= {minimum}, got {value!r}")
    return value


def _signal_number(where: str, value: Any) -> int:
    from . import signals
    if isinstance(value, int) and not isinstance(value, bool):
        if value in signals.valid_signals():
            return value
    elif isinstance(value, str):
        name = value.upper()
        name = name if name.startswith("SIG") else "SIG" + name
        sig = signals.NUMBERS.get(name)
        if sig is not None:
            return sig
    raise ConfigError(f"{where}: 'stop_signal' must be a signal name like \"TERM\", got {value!r}")


def parse_service(name: str, table: Any) -> ServiceSpec:
    where = f"[services.{name}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    unknown = sorted(set(table) - _SERVICE_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; "
                          f"allowed: {', '.join(sorted(_SERVICE_KEYS))}")
    cmd = table.get("command")
    if not isinstance(cmd, list) or not cmd or not all(isinstance(a, str) and a for a in cmd):
        raise ConfigError(f"{where}: 'command' must be a non-empty list of non-empty strings, "
                          f"e.g. [\"/usr/bin/prog\", \"--flag\"]; got {cmd!r}")
    restart = table.get("restart", "always")
    if restart not in RESTART_POLICIES:
        raise ConfigError(f"{where}: 'restart' must be one of {', '.join(RESTART_POLICIES)}; "
                          f"got {restart!r}")
    kw: dict[str, Any] = {}
    for key, minimum in (("backoff_initial", 0.0), ("backoff_max", 0.0), ("window_s", 0.001)):
        if key in table:
            kw[key] = float(_number(where, key, table[key], minimum=minimum))
    if "max_restarts" in table:
        kw["max_restarts"] = _number(where, "max_restarts", table["max_restarts"],
                                     minimum=0, integer=True)
    spec_defaults = ServiceSpec(name=name, command=("x",))
    if kw.get("backoff_max", spec_defaults.backoff_max) < kw.get("backoff_initial",
                                                                   spec_defaults.backoff_initial):
        raise ConfigError(f"{where}: 'backoff_max' must be >= 'backoff_initial'")
    tty = table.get("tty")
    if tty is not None and (not isinstance(tty, str) or
                            not (tty == "console" or tty.startswith("/dev/"))):
        raise ConfigError(f"{where}: 'tty' must be \"console\" or a device path under /dev/; "
                          f"got {tty!r}")
    env = table.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) and
                                            k and "=" not in k for k, v in env.items()):
        raise ConfigError(f"{where}: 'env' must be a table of string values, "
                          f"e.g. {{ TERM = \"vt100\" }}; got {env!r}")
    essential = table.get("essential", False)
    if not isinstance(essential, bool):
        raise ConfigError(f"{where}: 'essential' must be true or false; got {essential!r}")
    cwd = table.get("cwd")
    if cwd is not None and (not isinstance(cwd, str) or not cwd.startswith("/")):
        raise ConfigError(f"{where}: 'cwd' must be an absolute path; got {cwd!r}")
    if "stop_signal" in table:
        kw["stop_signal"] = _signal_number(where, table["stop_signal"])
    when = table.get("when")
    if when is not None:
        if not isinstance(when, str) or not when or any(c.isspace() or c == "=" for c in when):
            raise ConfigError(f"{where}: 'when' must be a kernel command line parameter name "
                              f"such as \"llmos.bench\"; got {when!r}")
        if name == CONSOLE:
            raise ConfigError(f"{where}: the console cannot be conditional ('when')")
        kw["when"] = when
    fork = table.get("fork", False)
    if not isinstance(fork, bool):
        raise ConfigError(f"{where}: 'fork' must be true or false; got {fork!r}")
    if fork and llmos_main_args(cmd) is None:
        raise ConfigError(f"{where}: 'fork' needs a command of the form "
                          f"[\"/usr/bin/python3.11\", \"-I\", \"-m\", \"llmos_init\", ...]; got {cmd!r}")
    return ServiceSpec(name=name, command=tuple(cmd), restart=restart, tty=tty,
                       env=dict(env), essential=essential, cwd=cwd, fork=fork, **kw)


def parse_services(data: dict[str, Any], *, path: str | None = None) -> ServicesConfig:
    """Validate a decoded services.toml. Bad parts are reported in .errors and skipped."""
    cfg = ServicesConfig(services=[], path=path)
    where = path or "services.toml"
    unknown_top = sorted(set(data) - {"supervisor", "services"})
    if unknown_top:
        cfg.errors.append(f"{where}: unknown top-level table(s) {', '.join(unknown_top)} "
                          f"(expected [supervisor] and [services.<name>])")
    sup = data.get("supervisor", {})
    if not isinstance(sup, dict):
        cfg.errors.append(f"{where}: [supervisor] must be a table")
        sup = {}
    for key in sorted(set(sup) - _SUPERVISOR_KEYS):
        cfg.errors.append(f"{where}: [supervisor]: unknown key '{key}'; "
                          f"allowed: {', '.join(sorted(_SUPERVISOR_KEYS))}")
    for key, minimum, integer in (("shutdown_grace_s", 0.0, False),
                                  ("watchdog_timeout_s", 1, True),
                                  ("watchdog_interval_s", 0.1, False)):
        if key in sup:
            try:
                setattr(cfg, key, _number(f"{where}: [supervisor]", key, sup[key],
                                          minimum=minimum, integer=integer))
            except ConfigError as e:
                cfg.errors.append(f"{e} (using default {getattr(cfg, key)})")
    services = data.get("services", {})
    if not isinstance(services, dict):
        cfg.errors.append(f"{where}: 'services' must be a set of [services.<name>] tables")
        services = {}
    for name, table in services.items():
        try:
            cfg.services.append(parse_service(name, table))
        except ConfigError as e:
            extra = " (using the built-in console)" if name == CONSOLE else " (service skipped)"
            cfg.errors.append(f"{where}: {e}{extra}")
    if cfg.service(CONSOLE) is None:
        if CONSOLE not in services:
            cfg.errors.append(f"{where}: no [services.console]; using the built-in console")
        cfg.services.insert(0, default_console())
    return cfg


def select_for_cmdline(cfg: ServicesConfig, cmdline: dict[str, str]) -> list[ServiceSpec]:
    """Drop the services whose `when` parameter is not on the kernel command line (parsed
    as {key: value}); returns those dropped. The console has no `when`."""
    dropped = [s for s in cfg.services if s.when is not None and s.when not in cmdline]
    cfg.services = [s for s in cfg.services if s not in dropped]
    return dropped


PRECOMPILED_SUFFIX = ".marshal"  # /etc/llmos/services.toml.marshal, written by the image build
PRECOMPILED_FORMAT = 2


def precompile(path: str) -> str | None:
    """Write path + PRECOMPILED_SUFFIX: the decoded TOML and the sha256 of the bytes it
    came from, in the interpreter's own marshal format (the format of every .pyc the
    image carries, read by a built-in module). At image build time (mkimage): PID 1 then
    imports neither tomllib (with typing, datetime...: ~0.15 s under QEMU TCG before the
    prompt) nor json (with re and enum, ~0.1 s). Returns the file written; None (nothing
    written, a stale one removed) when the TOML does not parse or holds what marshal
    cannot (dates): PID 1 then parses the TOML, as it always does when the digest does
    not match."""
    import marshal
    import tomllib

    from .digest import sha256
    out = path + PRECOMPILED_SUFFIX
    with open(path, "rb") as f:
        raw = f.read()
    try:
        blob = marshal.dumps({"format": PRECOMPILED_FORMAT, "sha256": sha256(raw).hexdigest(),
                              "data": tomllib.loads(raw.decode("utf-8"))})
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, TypeError, ValueError):
        if os.path.exists(out):
            os.unlink(out)
        return None
    with open(out, "wb") as f:
        f.write(blob)
    return out


def _precompiled(path: str, raw: bytes) -> dict | None:
    """The decoded TOML from path + PRECOMPILED_SUFFIX when it was made from exactly these
    bytes (anything else there, a truncated or foreign file included, is ignored)."""
    try:
        with open(path + PRECOMPILED_SUFFIX, "rb") as f:
            blob = f.read(1 << 20)
    except OSError:
        return None
    import marshal

    from .digest import sha256
    try:
        pre = marshal.loads(blob)
    except (EOFError, ValueError, TypeError):
        return None
    if (not isinstance(pre, dict) or pre.get("format") != PRECOMPILED_FORMAT
            or pre.get("sha256") != sha256(raw).hexdigest() or not isinstance(pre.get("data"), dict)):
        return None
    return pre["data"]


def load_services(path: str = DEFAULT_PATH) -> ServicesConfig:
    """Read and validate services.toml; never raises (see module docstring). The TOML is
    parsed unless the image's precompiled copy (precompile) matches its bytes."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
        data = _precompiled(path, raw)
        if data is None:
            import tomllib
            try:
                data = tomllib.loads(raw.decode("utf-8"))
            except tomllib.TOMLDecodeError as e:
                cfg = ServicesConfig(services=[default_console()], path=path)
                cfg.errors.append(f"{path}: TOML syntax error: {e}; starting the built-in "
                                  "console only")
                return cfg
    except FileNotFoundError:
        cfg = ServicesConfig(services=[default_console()], path=path)
        cfg.errors.append(f"{path}: not found; starting the built-in console only")
        return cfg
    except (OSError, UnicodeDecodeError) as e:
        cfg = ServicesConfig(services=[default_console()], path=path)
        cfg.errors.append(f"{path}: cannot read: {e}; starting the built-in console only")
        return cfg
    return parse_services(data, path=path)


def resolve_tty(tty: str, *, sysfs: str = "/sys") -> str:
    """'console' -> the kernel's active console device (last entry of
    /sys/class/tty/console/active, e.g. 'tty0 ttyS0' -> /dev/ttyS0); paths pass through.
    Falls back to /dev/console when the active list is unavailable."""
    if tty != "console":
        return tty
    try:
        with open(os.path.join(sysfs, "class/tty/console/active")) as f:
            names = f.read().split()
    except OSError:
        names = []
    return f"/dev/{names[-1]}" if names else "/dev/console"


# --------------------------------------------------------------------------- runtime


class Service:
    """Runtime state of one declared service."""

    def __init__(self, spec: ServiceSpec):
        self.spec = spec
        self.name = spec.name
        self.child: Child | None = None
        self.state = "stopped"   # stopped|running|backoff|failed|exited|emergency
        self.starts = 0
        self.restarts: deque[float] = deque()    # restart times within the window
        self.delay: float | None = None          # last backoff delay
        self.failed_starts = 0                   # consecutive (spawn error or quick exit)
        self.last_runtime = 0.0
        self.last_returncode: int | None = None
        self.timer: "Any" = None
        self.budget_exhausted = False
        self.stopping = False

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "state": self.state, "pid": self.child.pid if self.child
                else None, "starts": self.starts, "last_returncode": self.last_returncode,
                "failed_starts": self.failed_starts}
