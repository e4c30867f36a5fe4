"""The shared-library closure: computed from DT_NEEDED with pyelftools, nothing guessed."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mkimage import closure

TRIPLET = f"{os.uname().machine}-linux-gnu"
SYSTEM_DIRS = [f"/lib/{TRIPLET}", f"/usr/lib/{TRIPLET}", "/lib", "/usr/lib"]


def test_read_deps_of_a_real_binary():
    deps = closure.read_deps(Path("/bin/ls").resolve())
    assert "libc.so.6" in deps.needed
    assert deps.interp and deps.interp.startswith("/lib")


def test_read_deps_rejects_non_elf(tmp_path):
    bogus = tmp_path / "x.so"
    bogus.write_bytes(b"\x7fELF garbage that is not an ELF file")
    with pytest.raises(ValueError, match="not a valid ELF"):
        closure.read_deps(bogus)
    assert not closure.is_elf(tmp_path / "missing")


def test_closure_against_the_host_root_matches_ldd():
    """The closure of /bin/ls found in / equals what the dynamic loader itself resolves."""
    ls = Path("/bin/ls").resolve()
    libs, interps = closure.closure([ls], Path("/"), SYSTEM_DIRS)
    ldd = subprocess.run(["ldd", str(ls)], capture_output=True, text=True, check=True).stdout
    want = {line.split()[0] for line in ldd.splitlines() if "=>" in line}
    # libc itself needs the loader, which ldd lists by path rather than "name => path"
    want |= {Path(line.split()[0]).name for line in ldd.splitlines() if line.strip().startswith("/")}
    assert set(libs) == want
    assert interps


def test_closure_follows_runpath_origin_and_reports_missing(tmp_path):
    """$ORIGIN runpaths are honoured; an unresolvable library is an error naming it."""
    cc = shutil.which("cc")
    if not cc:
        pytest.skip("no C compiler")
    (tmp_path / "a.c").write_text("int a(void){return 1;}\n")
    (tmp_path / "main.c").write_text("int a(void); int main(void){return a();}\n")
    lib = tmp_path / "lib"
    lib.mkdir()
    subprocess.run([cc, "-shared", "-fPIC", "-o", lib / "liba.so", tmp_path / "a.c"], check=True)
    exe = tmp_path / "main"
    subprocess.run([cc, "-o", exe, tmp_path / "main.c", f"-L{lib}", "-la",
                    "-Wl,-rpath,$ORIGIN/lib"], check=True)
    libs, _ = closure.closure([exe], Path("/"), SYSTEM_DIRS)
    assert libs["liba.so"] == (lib / "liba.so").resolve()
    assert "libc.so.6" in libs
    (lib / "liba.so").unlink()
    with pytest.raises(closure.MissingLibraries, match="liba.so"):
        closure.closure([exe], Path("/"), SYSTEM_DIRS)


def test_resolve_in_keeps_absolute_symlinks_inside_the_pool(tmp_path):
    (tmp_path / "usr/lib").mkdir(parents=True)
    (tmp_path / "usr/lib/libx.so.1.2").write_bytes(b"x")
    os.symlink("/usr/lib/libx.so.1.2", tmp_path / "usr/lib/libx.so.1")
    assert closure.resolve_in(tmp_path, "/usr/lib/libx.so.1") == tmp_path / "usr/lib/libx.so.1.2"
    os.symlink("/nonexistent", tmp_path / "usr/lib/dangling")
    assert closure.resolve_in(tmp_path, "/usr/lib/dangling") is None
