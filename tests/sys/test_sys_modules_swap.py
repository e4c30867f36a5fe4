"""finit_module / delete_module and swapon / swapoff error paths (no side effects)."""

from __future__ import annotations

import errno
import os

import pytest

from llmos_init.sys import modules, process, swap
from llmos_init.sys.errors import SyscallError
from tests.sys.child import run_in_child

HAS_MODULES = os.path.exists("/proc/modules")


def _closed_fd() -> int:
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    return w


def test_finit_module_bad_fd():
    fd = _closed_fd()
    with pytest.raises(SyscallError) as info:
        modules.finit_module(fd, "debug=1")
    assert info.value.call == "finit_module" and info.value.call_args == (fd, "debug=1", 0)
    # Without module support the syscall itself is missing.
    assert info.value.errno == (errno.EBADF if HAS_MODULES else errno.ENOSYS)
    assert str(info.value).endswith(f"finit_module({fd}, 'debug=1', 0)")


def test_finit_module_rejects_a_non_module_file(tmp_path):
    bogus = tmp_path / "bogus.ko"
    bogus.write_bytes(b"this is not an ELF kernel module\n" * 4)
    with pytest.raises(SyscallError) as info:
        modules.finit_module(str(bogus))
    expected = {errno.ENOEXEC, errno.EINVAL, errno.EKEYREJECTED, errno.EPERM} if HAS_MODULES \
        else {errno.ENOSYS}
    assert info.value.errno in expected
    assert f"finit_module({str(bogus)!r}, '', 0)" in str(info.value)


def test_finit_module_missing_file_and_bad_params(tmp_path):
    with pytest.raises(FileNotFoundError):
        modules.finit_module(str(tmp_path / "absent.ko"))
    with pytest.raises(ValueError):
        modules.finit_module(str(tmp_path / "absent.ko"), "a=\0")


def test_delete_module_unknown_name():
    with pytest.raises(SyscallError) as info:
        modules.delete_module("llmos_no_such_module")
    assert info.value.errno == (errno.ENOENT if HAS_MODULES else errno.ENOSYS)
    assert "delete_module('llmos_no_such_module'," in str(info.value)
    with pytest.raises(ValueError):
        modules.delete_module("a/b")


def test_loaded_modules_matches_proc():
    names = modules.loaded_modules()
    if HAS_MODULES:
        with open("/proc/modules") as fh:
            assert len(names) == sum(1 for line in fh if line.strip())
    else:
        assert names == []


def test_swapoff_on_inactive_file_is_einval(tmp_path):
    plain = tmp_path / "not-swap"
    plain.write_bytes(b"\0" * 4096)
    with pytest.raises(SyscallError) as info:
        swap.swapoff(str(plain))
    assert info.value.errno == errno.EINVAL
    assert str(info.value) == f"[Errno 22] Invalid argument: swapoff({str(plain)!r})"


def _swapon_unprivileged(path):
    try:
        swap.swapon(path, swap.swap_flags(priority=5))
    except SyscallError as exc:
        return exc.errno, exc.call, exc.call_args
    raise AssertionError("swapon succeeded inside a user namespace")


def test_swapon_reaches_kernel_and_is_refused_in_userns(tmp_path):
    plain = tmp_path / "not-swap"
    plain.write_bytes(b"\0" * 65536)
    err, call, args = run_in_child(_swapon_unprivileged, str(plain), unshare=process.CLONE_NEWUSER)
    assert err == errno.EPERM and call == "swapon"
    assert args == (str(plain), swap.SWAP_FLAG_PREFER | 5)


def test_swap_flags():
    assert swap.swap_flags() == 0
    assert swap.swap_flags(discard=True) == swap.SWAP_FLAG_DISCARD
    assert swap.swap_flags(priority=7) == swap.SWAP_FLAG_PREFER | 7
    with pytest.raises(ValueError):
        swap.swap_flags(priority=-1)
