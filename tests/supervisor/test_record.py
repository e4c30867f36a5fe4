"""llmos_init.record: the @dataclass stand-in of the boot path."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from llmos_init.record import as_dict, factory, fields, record


@record
class Point:
    x: int
    y: int = 0
    tags: list[str] = factory(list)


@record(frozen=True)
class Frozen:
    a: str
    b: tuple = ()


def test_construction_defaults_and_factories():
    p = Point(1)
    q = Point(x=1, y=2, tags=["t"])
    assert (p.x, p.y, p.tags) == (1, 0, [])
    assert Point(1).tags is not Point(1).tags
    assert q == Point(1, 2, ["t"]) and q != p and p != (1, 0, [])
    assert repr(q) == "Point(x=1, y=2, tags=['t'])"
    assert fields(Point) == ("x", "y", "tags")
    assert as_dict(q) == {"x": 1, "y": 2, "tags": ["t"]}
    with pytest.raises(TypeError):
        Point()
    with pytest.raises(TypeError):
        Point(1, z=3)
    with pytest.raises(TypeError):
        Point(1, x=2)
    with pytest.raises(TypeError):
        Point(1, 2, [], 4)
    with pytest.raises(TypeError):
        hash(p)


def test_frozen_records_are_immutable_and_hashable():
    f = Frozen("a", (1,))
    with pytest.raises(AttributeError):
        f.a = "b"
    assert hash(f) == hash(Frozen("a", (1,))) and {f, Frozen("a", (1,))} == {f}


def test_non_default_after_default_is_refused():
    with pytest.raises(TypeError):
        @record
        class Bad:
            a: int = 1
            b: int


def test_the_prompt_path_imports_neither_dataclasses_nor_typing_nor_tomllib(tmp_path):
    """What PID 1 and the console import before the prompt (the heavy modules measured
    under QEMU TCG: dataclasses/inspect ~0.25 s, typing ~0.1 s, traceback ~0.1 s, tomllib)."""
    from llmos_init.services import precompile
    toml = tmp_path / "services.toml"
    toml.write_text((Path(__file__).resolve().parents[2] / "rootfs/etc/llmos/services.toml")
                    .read_text())
    precompile(str(toml))
    code = ("import sys; import llmos_init.sys._ffi; before = set(sys.modules); "
            "import llmos_init.boot, llmos_init.console.main, llmos_init.planner.models; "
            "import llmos_init.sys.mounts, llmos_init.sys.system, llmos_init.sys.netif; "
            "import llmos_init.sys.process, llmos_init.sys.watchdog, llmos_init.sys.power; "
            f"from llmos_init.services import load_services; load_services({str(toml)!r}); "
            "print(' '.join(sorted(set(sys.modules) - before)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2]).stdout.split()
    for heavy in ("dataclasses", "inspect", "typing", "traceback", "tomllib", "socket",
                  "ipaddress", "argparse", "ctypes", "numpy", "llama_cpp",
                  "json", "re", "glob", "fnmatch", "importlib", "signal", "enum"):
        assert heavy not in out, f"{heavy} is imported on the way to the prompt"


EMERGENCY_PROBE = r"""
import os, sys
import llmos_init.boot                      # what PID 1 has imported when things go wrong
from llmos_init.consolelog import ConsoleLog
lazy = [m for m in ("traceback", "typing", "dataclasses") if m in sys.modules]
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
log = ConsoleLog(fd=fd)
try:
    1 / 0
except ZeroDivisionError:
    log.exception("probe: a failure")       # traceback imported only now
from llmos_init.emergency import run_blocking
action = run_blocking(fd, reason="probe", idle=lambda: None, log_dir=sys.argv[2],
                      boot_json=sys.argv[2] + "/boot.json", interval=0.1)
print("ACTION", action, "LAZY", lazy, flush=True)
"""


def test_emergency_console_and_log_exception_work_with_the_deferred_imports(tmp_path):
    import os
    import select
    import time
    master, slave = os.openpty()
    tty = os.ttyname(slave)
    p = subprocess.Popen([sys.executable, "-S", "-c", EMERGENCY_PROBE, tty, str(tmp_path)],
                         cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE,
                         text=True)
    buf = b""
    deadline = time.monotonic() + 30
    while b"emergency> " not in buf:
        assert time.monotonic() < deadline, buf
        if select.select([master], [], [], 0.1)[0]:
            buf += os.read(master, 4096)
    assert b"ZeroDivisionError" in buf and b"Traceback" in buf
    assert b"EMERGENCY CONSOLE" in buf
    os.write(master, b"poweroff\n")
    out, _ = p.communicate(timeout=30)
    os.close(master)
    os.close(slave)
    assert "ACTION poweroff LAZY []" in out
