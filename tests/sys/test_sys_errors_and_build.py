"""SyscallError, the lazy loader, and the cffi builder (host + cross CLI)."""

from __future__ import annotations

import errno
import os
import pickle
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from llmos_init.sys.errors import SyscallError

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable
HOST_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")
EM_X86_64, EM_AARCH64 = 62, 183


def _py(code: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([PY, "-c", code], cwd=REPO, env=full_env, capture_output=True,
                          text=True, timeout=timeout)


def _elf_machine(path: Path) -> int:
    head = path.read_bytes()[:20]
    assert head[:4] == b"\x7fELF", f"{path} is not an ELF file"
    return int.from_bytes(head[18:20], "little")


# ---- SyscallError ---------------------------------------------------------

def test_syscall_error_message_and_attributes():
    err = SyscallError(errno.EBUSY, "umount2", ("/data", 0))
    assert str(err) == "[Errno 16] Device or resource busy: umount2('/data', 0)"
    assert err.errno == errno.EBUSY and err.strerror == os.strerror(errno.EBUSY)
    assert err.call == "umount2" and err.call_args == ("/data", 0)
    assert isinstance(err, OSError) and isinstance(err, SyscallError)


def test_syscall_error_maps_to_builtin_oserror_subclasses():
    assert isinstance(SyscallError(errno.ENOENT, "statfs", ("/x",)), FileNotFoundError)
    assert isinstance(SyscallError(errno.EPERM, "mount", ()), PermissionError)
    plain = SyscallError(errno.EBUSY, "umount2", ("/x", 0))
    assert type(plain) is SyscallError  # EBUSY has no builtin subclass
    with pytest.raises(FileNotFoundError):
        raise SyscallError(errno.ENOENT, "x")


def test_syscall_error_pickles():
    err = SyscallError(errno.ENOTTY, "ioctl", ("/dev/null", "RTC_RD_TIME"))
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err) and str(back) == str(err) and back.call_args == err.call_args


# ---- loader -----------------------------------------------------------------

def test_importing_package_does_not_load_or_compile(tmp_path):
    proc = _py("import sys, llmos_init.sys as s; "
               "print(s.SyscallError.__name__, 'llmos_init.sys._ffi' in sys.modules, "
               "any(m.endswith('_llmos_sys') for m in sys.modules))",
               env={"LLMOS_CACHE": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["SyscallError", "False", "False"]
    assert not (tmp_path / "ffi").exists()


def _prebuilt_in_package() -> list[Path]:
    return list((REPO / "llmos_init" / "sys").glob("_llmos_sys*.so"))


def test_first_import_compiles_into_cache_once(tmp_path):
    if _prebuilt_in_package():
        pytest.skip("a prebuilt _llmos_sys is in the package dir; the cache path is not used")
    code = ("from llmos_init.sys import _ffi; import llmos_init.sys._llmos_sys as m; "
            "print(m.__file__)")
    first = _py(code, env={"LLMOS_CACHE": str(tmp_path)})
    assert first.returncode == 0, first.stderr
    so = Path(first.stdout.strip())
    assert so.is_relative_to(tmp_path / "ffi") and so.name == "_llmos_sys" + HOST_SUFFIX
    mtime = so.stat().st_mtime_ns
    second = _py(code, env={"LLMOS_CACHE": str(tmp_path)})
    assert second.returncode == 0, second.stderr
    assert Path(second.stdout.strip()) == so and so.stat().st_mtime_ns == mtime


def test_no_build_env_gives_clear_import_error(tmp_path):
    if _prebuilt_in_package():
        pytest.skip("a prebuilt _llmos_sys is in the package dir")
    proc = _py("import llmos_init.sys.mounts",
               env={"LLMOS_CACHE": str(tmp_path), "LLMOS_FFI_NO_BUILD": "1"})
    assert proc.returncode != 0
    assert "ImportError" in proc.stderr and "LLMOS_FFI_NO_BUILD" in proc.stderr


# ---- builder CLI ------------------------------------------------------------

def _build_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "llmos_init.sys.ffi_build", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_cli_builds_host_extension_into_out_dir(tmp_path):
    out = tmp_path / "out"
    proc = _build_cli("--out", str(out))
    assert proc.returncode == 0, proc.stderr
    so = out / ("_llmos_sys" + HOST_SUFFIX)
    assert Path(proc.stdout.strip()) == so and so.is_file()
    assert sorted(p.name for p in out.iterdir()) == [so.name]  # no temp leftovers
    host_machine = {"x86_64": EM_X86_64, "aarch64": EM_AARCH64}.get(os.uname().machine)
    if host_machine:
        assert _elf_machine(so) == host_machine
    # The built module loads and has compiler-determined layouts.
    probe = _py(
        "import importlib.machinery as M, importlib.util as U, sys\n"
        f"p = {str(so)!r}\n"
        "l = M.ExtensionFileLoader('llmos_init.sys._llmos_sys', p)\n"
        "s = U.spec_from_file_location('llmos_init.sys._llmos_sys', p, loader=l)\n"
        "m = U.module_from_spec(s); l.exec_module(m)\n"
        "f, lib = m.ffi, m.lib\n"
        "from llmos_init.sys.ffi_build import source_hash\n"
        "print(f.sizeof('struct rtc_time'), f.sizeof('struct winsize'), "
        "f.offsetof('struct ifreq', 'ifr_flags') == lib.IFNAMSIZ, "
        "f.string(lib.llmos_ffi_source_hash()).decode() == source_hash())\n")
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == ["36", "8", "True", "True"]


def test_cli_ext_suffix_and_validation(tmp_path):
    proc = _build_cli("--out", str(tmp_path), "--ext-suffix", ".abi3.so")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "_llmos_sys.abi3.so").is_file()
    bad = _build_cli("--out", str(tmp_path), "--ext-suffix", ".dll")
    assert bad.returncode == 1 and "must end in .so" in bad.stderr


def test_cli_reports_compiler_failure(tmp_path):
    proc = _build_cli("--out", str(tmp_path), "--cc", str(tmp_path / "no-such-cc"))
    assert proc.returncode == 1
    assert "ffi_build:" in proc.stderr and "no-such-cc" in proc.stderr
    assert not list(tmp_path.glob("_llmos_sys*"))


def test_cli_emit_c(tmp_path):
    target = tmp_path / "gen" / "_llmos_sys.c"
    proc = _build_cli("--emit-c", str(target))
    assert proc.returncode == 0, proc.stderr
    text = target.read_text()
    assert "llmos_ioctl_ifreq" in text and "#include <linux/rtc.h>" in text


def test_cli_cross_compiles_for_aarch64(tmp_path):
    cc = shutil.which("aarch64-linux-gnu-gcc")
    if not cc:
        pytest.skip("aarch64-linux-gnu-gcc not installed on this host")
    suffix = ".cpython-311-aarch64-linux-gnu.so"
    proc = _build_cli("--out", str(tmp_path), "--cc", cc, "--ext-suffix", suffix)
    assert proc.returncode == 0, proc.stderr
    assert _elf_machine(tmp_path / ("_llmos_sys" + suffix)) == EM_AARCH64


# ---- prebuilt module (the image's path) -------------------------------------

@pytest.fixture
def package_copy(tmp_path):
    """A copy of llmos_init/ with the extension prebuilt inside it, as in the image."""
    root = tmp_path / "tree"
    shutil.copytree(REPO / "llmos_init", root / "llmos_init",
                    ignore=shutil.ignore_patterns("__pycache__", "_llmos_sys*"))
    proc = _build_cli("--out", str(root / "llmos_init" / "sys"))
    assert proc.returncode == 0, proc.stderr
    return root


def _import_in(root: Path, cache: Path, extra_env: dict | None = None):
    code = ("import warnings; warnings.simplefilter('always')\n"
            "import llmos_init.sys._ffi as f, llmos_init.sys._llmos_sys as m\n"
            "print(m.__file__)\n")
    env = dict(os.environ, PYTHONPATH=str(root), LLMOS_CACHE=str(cache), **(extra_env or {}))
    return subprocess.run([PY, "-c", code], cwd=root, env=env, capture_output=True, text=True,
                          timeout=120)


def test_prebuilt_module_is_used_without_compiling(package_copy, tmp_path):
    proc = _import_in(package_copy, tmp_path / "cache", {"LLMOS_FFI_NO_BUILD": "1"})
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()).parent == package_copy / "llmos_init" / "sys"
    assert not (tmp_path / "cache").exists() and "Warning" not in proc.stderr


def test_stale_prebuilt_module(package_copy, tmp_path):
    build_script = package_copy / "llmos_init" / "sys" / "ffi_build.py"
    build_script.write_text(build_script.read_text() + "\n# changed after the build\n")
    # Image-like (no building allowed): the stale module is used, with a warning.
    proc = _import_in(package_copy, tmp_path / "cache", {"LLMOS_FFI_NO_BUILD": "1"})
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()).parent == package_copy / "llmos_init" / "sys"
    assert "RuntimeWarning" in proc.stderr and "another ffi_build.py" in proc.stderr
    # Dev host: a fresh build goes to the cache and wins.
    proc = _import_in(package_copy, tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()).is_relative_to(tmp_path / "cache" / "ffi")
