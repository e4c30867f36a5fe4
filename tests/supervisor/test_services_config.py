"""services.toml: the shipped file, clear errors, and the console always present."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from llmos_init.services import (DEFAULT_CONSOLE_COMMAND, default_console, llmos_main_args,
                                 load_services, precompile, resolve_tty)

from .conftest import spec

ROOTFS = Path(__file__).resolve().parents[2] / "rootfs"


def write(tmp_path, text: str) -> str:
    p = tmp_path / "services.toml"
    p.write_text(text)
    return str(p)


def test_shipped_file_is_valid():
    cfg = load_services(str(ROOTFS / "etc/llmos/services.toml"))
    assert cfg.errors == []
    con = cfg.service("console")
    assert con.command == DEFAULT_CONSOLE_COMMAND
    assert "--tty" not in con.command          # the supervisor owns tty setup
    assert con.tty == "console" and con.essential and con.restart == "always"
    assert con.env == {"TERM": "vt100", "OMP_WAIT_POLICY": "PASSIVE"}
    assert con.fork and default_console().fork      # forked from PID 1, no new interpreter
    assert cfg.shutdown_grace_s == 5


def test_shipped_hostname():
    assert (ROOTFS / "etc/hostname").read_text().strip() == "llmos"


def test_syntax_error_gives_line_and_console_defaults(tmp_path):
    cfg = load_services(write(tmp_path, "[services.console]\ncommand = [\"/bin/x\"\nbad"))
    assert len(cfg.errors) == 1
    assert "TOML syntax error" in cfg.errors[0] and "line" in cfg.errors[0]
    assert "built-in console" in cfg.errors[0]
    assert [s.name for s in cfg.services] == ["console"]
    assert cfg.service("console") == default_console()


def test_missing_file(tmp_path):
    cfg = load_services(str(tmp_path / "nope.toml"))
    assert "not found" in cfg.errors[0]
    assert cfg.service("console") == default_console()


@pytest.mark.parametrize("body,needle", [
    ('command = "/usr/bin/python3.11"', "'command' must be a non-empty list"),
    ('command = ["/x"]\nrestart = "sometimes"', "'restart' must be one of always, on-failure, never"),
    ('command = ["/x"]\nbackoff_initial = "fast"', "'backoff_initial' must be a number"),
    ('command = ["/x"]\nmax_restarts = 1.5', "'max_restarts' must be an integer"),
    ('command = ["/x"]\nbackoff_initial = 5\nbackoff_max = 1', "'backoff_max' must be >= 'backoff_initial'"),
    ('command = ["/x"]\ntty = "ttyS0"', "'tty' must be \"console\" or a device path"),
    ('command = ["/x"]\nenv = { A = 1 }', "'env' must be a table of string values"),
    ('command = ["/x"]\nessential = "yes"', "'essential' must be true or false"),
    ('command = ["/x"]\nstop_signal = "FOO"', "'stop_signal' must be a signal name"),
    ('command = ["/x"]\nrestrat = "always"', "unknown key(s) restrat"),
])
def test_bad_console_entry_is_explained_and_replaced(tmp_path, body, needle):
    cfg = load_services(write(tmp_path, f"[services.console]\n{body}\n"
                                        "[services.other]\ncommand = [\"/bin/other\"]\n"))
    assert len(cfg.errors) == 1, cfg.errors
    assert "[services.console]" in cfg.errors[0] and needle in cfg.errors[0], cfg.errors[0]
    assert "using the built-in console" in cfg.errors[0]
    assert cfg.service("console") == default_console()
    assert cfg.service("other").command == ("/bin/other",)     # good entries are kept


def test_bad_other_service_is_skipped(tmp_path):
    cfg = load_services(write(tmp_path, "[services.x]\ncommand = []\n"
                                        "[supervisor]\nshutdown_grace_s = -1\nfoo = 1\n"))
    text = "\n".join(cfg.errors)
    assert "[services.x]: 'command'" in text and "(service skipped)" in text
    assert "'shutdown_grace_s' must be >= 0" in text and "using default 5.0" in text
    assert "unknown key 'foo'" in text
    assert "no [services.console]" in text
    assert [s.name for s in cfg.services] == ["console"]


def test_full_service_entry(tmp_path):
    cfg = load_services(write(tmp_path, """
[supervisor]
shutdown_grace_s = 2.5
[services.console]
command = ["/usr/bin/python3.11", "-I", "-m", "llmos_init", "console"]
tty = "console"
essential = true
[services.logger]
command = ["/usr/bin/logger", "-x"]
restart = "on-failure"
backoff_initial = 0.1
backoff_max = 2
max_restarts = 3
window_s = 30
tty = "/dev/ttyS1"
env = { A = "b" }
cwd = "/data"
stop_signal = "INT"
"""))
    assert cfg.errors == []
    assert cfg.shutdown_grace_s == 2.5
    lg = cfg.service("logger")
    assert lg == spec("logger", ["/usr/bin/logger", "-x"], restart="on-failure",
                      backoff_initial=0.1, backoff_max=2.0, max_restarts=3, window_s=30.0,
                      tty="/dev/ttyS1", env={"A": "b"}, cwd="/data", stop_signal=2)
    assert lg.wants_restart(1) and lg.wants_restart(-9) and not lg.wants_restart(0)


def test_resolve_tty(tmp_path):
    d = tmp_path / "class/tty/console"
    d.mkdir(parents=True)
    assert resolve_tty("/dev/ttyS1", sysfs=str(tmp_path)) == "/dev/ttyS1"
    assert resolve_tty("console", sysfs=str(tmp_path)) == "/dev/console"   # no active file
    (d / "active").write_text("tty0 ttyS0\n")
    assert resolve_tty("console", sysfs=str(tmp_path)) == "/dev/ttyS0"


def test_broken_file_still_starts_the_console(supervisor, tmp_path):
    """The built-in console (with a tty standing in for the kernel console) is started
    and the parse error is on the console log."""
    cfg = load_services(write(tmp_path, "[services.console\n"))
    master, slave = os.openpty()
    tty = os.ttyname(slave)
    os.close(slave)
    d = tmp_path / "sys/class/tty/console"
    d.mkdir(parents=True)
    (d / "active").write_text(tty[len("/dev/"):])
    sup = supervisor(cfg.services, errors=cfg.errors, sysfs=str(tmp_path / "sys"))
    ev = sup.wait_for("start", service="console")
    assert tuple(ev["argv"]) == DEFAULT_CONSOLE_COMMAND and ev["tty"] == tty
    assert "services.toml" in sup.log() and "TOML syntax error" in sup.log()
    os.close(master)


def test_when_is_a_parameter_name_and_never_on_the_console(tmp_path):
    from llmos_init.services import select_for_cmdline
    cfg = load_services(write(tmp_path, '[services.console]\ncommand = ["/bin/c"]\n'
                                        '[services.a]\ncommand = ["/bin/a"]\nwhen = "llmos.a"\n'
                                        '[services.b]\ncommand = ["/bin/b"]\n'
                                        '[services.c]\ncommand = ["/bin/c"]\nwhen = "x=1"\n'))
    assert [s.name for s in cfg.services] == ["console", "a", "b"]
    assert any("[services.c]: 'when' must be a kernel command line parameter" in e for e in cfg.errors)
    assert [s.name for s in select_for_cmdline(cfg, {"console": "ttyS0"})] == ["a"]
    assert [s.name for s in cfg.services] == ["console", "b"]
    cfg = load_services(write(tmp_path, '[services.console]\ncommand = ["/bin/c"]\nwhen = "llmos.x"\n'))
    assert any("the console cannot be conditional" in e for e in cfg.errors)
    assert cfg.service("console").when is None               # the built-in console instead
    cfg = load_services(write(tmp_path, '[services.a]\ncommand = ["/bin/a"]\nwhen = "llmos.a"\n'))
    assert select_for_cmdline(cfg, {"llmos.a": ""}) == []     # a bare flag is enough


def test_fork_key(tmp_path):
    cfg = load_services(write(tmp_path, """
[services.console]
command = ["/usr/bin/python3.11", "-I", "-m", "llmos_init", "console"]
fork = true
[services.a]
command = ["/usr/bin/python3.11", "-I", "-m", "llmos_init", "modelbench"]
[services.b]
command = ["/usr/bin/prog"]
fork = true
[services.c]
command = ["/usr/bin/python3.11", "-m", "llmos_init"]
fork = "yes"
"""))
    assert cfg.service("console").fork and not cfg.service("a").fork
    assert cfg.service("b") is None and cfg.service("c") is None
    assert any("'fork' needs a command of the form" in e for e in cfg.errors)
    assert any("'fork' must be true or false" in e for e in cfg.errors)


def test_llmos_main_args():
    assert llmos_main_args(DEFAULT_CONSOLE_COMMAND) == ["console"]
    assert llmos_main_args(["/usr/bin/python3.11", "-m", "llmos_init", "plan", "ls"]) == ["plan", "ls"]
    assert llmos_main_args(["/usr/bin/python3.11", "-m", "llmos_init"]) == []
    assert llmos_main_args(["/usr/bin/python3.11", "-m", "other", "console"]) is None
    assert llmos_main_args(["/usr/bin/python3.11", "script.py", "-m", "llmos_init"]) is None
    assert llmos_main_args(["/usr/bin/python3.11", "-X", "importtime", "-m", "llmos_init"]) is None
    assert llmos_main_args(["/usr/bin/prog"]) is None


def _load_in_subprocess(path: str) -> dict:
    """load_services in a fresh interpreter: which parser ran, and what it gave."""
    import subprocess
    import sys
    code = ("import sys; from llmos_init.services import load_services; "
            f"cfg = load_services({path!r}); "
            "t, j = 'tomllib' in sys.modules, 'json' in sys.modules; import json; "
            "print(json.dumps({'tomllib': t, 'json': j, 'errors': cfg.errors, "
            "'services': [s.name for s in cfg.services], "
            "'console_env': cfg.service('console').env}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2]).stdout
    import json
    return json.loads(out)


def test_precompiled_services_are_used_only_for_the_same_bytes(tmp_path):
    path = tmp_path / "services.toml"
    path.write_text((ROOTFS / "etc/llmos/services.toml").read_text())
    plain = _load_in_subprocess(str(path))
    assert plain["tomllib"] and plain["errors"] == []
    assert precompile(str(path)) == str(path) + ".marshal"
    fast = _load_in_subprocess(str(path))
    assert not fast["tomllib"] and not fast["json"]  # marshal: a built-in module
    assert {k: v for k, v in fast.items() if k not in ("tomllib", "json")} == \
        {k: v for k, v in plain.items() if k not in ("tomllib", "json")}
    # an edited services.toml: the stale copy is ignored and the TOML parsed
    path.write_text(path.read_text().replace('TERM = "vt100"', 'TERM = "linux"'))
    edited = _load_in_subprocess(str(path))
    assert edited["tomllib"] and edited["console_env"]["TERM"] == "linux"


def test_precompile_leaves_out_what_marshal_cannot_hold(tmp_path):
    path = tmp_path / "services.toml"
    (tmp_path / "services.toml.marshal").write_text("{}")
    path.write_text("[supervisor]\nwhen = 1979-05-27\n")
    assert precompile(str(path)) is None
    assert not (tmp_path / "services.toml.marshal").exists()
    path.write_text("[services.console\n")
    assert precompile(str(path)) is None
