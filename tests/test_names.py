"""Every global name a module of llmos_init, mkimage, bench or qemu_harness reads is defined in it or is a builtin: a name
left behind by a rename ("clean" after text.clean became text.printable) fails here, not
on a device. Read with the stdlib's symtable, no code run."""
import builtins
import pathlib
import symtable

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
FILES = sorted(p for pkg in ("llmos_init", "mkimage", "bench", "qemu_harness") for p in (ROOT / pkg).rglob("*.py"))
BUILTINS = set(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__", "__path__",
                                 "__package__", "__loader__", "__builtins__"}


def _undefined(path: pathlib.Path) -> set[str]:
    top = symtable.symtable(path.read_text(encoding="utf-8"), str(path), "exec")
    if any(s.get_name() == "*" for s in top.get_symbols()):
        return set()            # a star import: what it binds is not in the source
    defined = {s.get_name() for s in top.get_symbols()
               if s.is_assigned() or s.is_imported() or s.is_namespace()}
    used: set[str] = set()

    def walk(table):
        for s in table.get_symbols():
            if s.is_referenced() and (s.is_global() or table is top) and not s.is_assigned() \
                    and not s.is_imported() and not s.is_parameter() and not s.is_free():
                used.add(s.get_name())
            if s.is_declared_global() and s.is_assigned():
                defined.add(s.get_name())
        for child in table.get_children():
            walk(child)
    walk(top)
    return used - defined - BUILTINS


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_undefined_global_name(path):
    assert _undefined(path) == set()
