"""reboot(2) wrappers.

Never reaches the host's reboot path: validation happens before any system
call, and every call that does reach the kernel runs as PID 1 of a fresh
user+PID namespace, where the kernel confines reboot(2) to that namespace
(it kills the namespace's init instead of rebooting, or fails with EINVAL).
Each kernel-facing test first asserts getpid() == 1, which is impossible
outside a new PID namespace."""

from __future__ import annotations

import errno
import os
import signal

import pytest

from llmos_init.sys import power, process
from llmos_init.sys.errors import SyscallError
from tests.sys.child import Skip, fork_call, run_in_child, wait_status_of

NS = process.CLONE_NEWUSER | process.CLONE_NEWPID


def test_constants_are_the_kernel_magics():
    assert power.RB_AUTOBOOT == 0x01234567
    assert power.RB_HALT_SYSTEM == 0xCDEF0123
    assert power.RB_POWER_OFF == 0x4321FEDC
    assert power.RB_ENABLE_CAD == 0x89ABCDEF
    assert power.RB_DISABLE_CAD == 0


@pytest.mark.parametrize("cmd,exc", [(12345, ValueError), (-1, ValueError), (0xDEADBEEF, ValueError),
                                     ("RB_AUTOBOOT", TypeError), (True, TypeError), (1.0, TypeError)])
def test_reboot_validates_before_any_syscall(cmd, exc):
    with pytest.raises(exc):
        power.reboot(cmd)


def _in_new_pid_ns(fn):
    """Run fn as PID 1 of the namespace created by the caller's unshare."""
    def pid1():
        if os.getpid() != 1:
            raise Skip("not PID 1 of a new PID namespace; refusing to call reboot(2)")
        return fn()
    return fork_call(pid1)


def _invalid_cmds():
    out = {}
    for label, call in (("raw", lambda: power._reboot_raw(0xDEADBEEF)),
                        ("cad_on", lambda: power.set_ctrl_alt_del(True)),
                        ("cad_off", lambda: power.set_ctrl_alt_del(False))):
        try:
            call()
            out[label] = None
        except SyscallError as exc:
            out[label] = (exc.errno, str(exc))
    return out


def test_kernel_rejects_invalid_and_cad_commands_in_pid_namespace():
    out = run_in_child(_in_new_pid_ns, _invalid_cmds, unshare=NS)
    assert out["raw"] == (errno.EINVAL, "[Errno 22] Invalid argument: reboot(0xdeadbeef)")
    # Ctrl-Alt-Del policy is machine-wide: a PID namespace may not change it.
    assert out["cad_on"] == (errno.EINVAL, "[Errno 22] Invalid argument: reboot(RB_ENABLE_CAD)")
    assert out["cad_off"][0] == errno.EINVAL


def _pid1_status(action):
    def pid1():
        if os.getpid() != 1:
            os._exit(4)  # never call reboot(2) outside a new PID namespace
        action(sync=False)
    status = wait_status_of(pid1)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 4:
        raise Skip("not PID 1 of a new PID namespace; refusing to call reboot(2)")
    return status


@pytest.mark.parametrize("action,sig", [(power.poweroff, signal.SIGINT), (power.halt, signal.SIGINT),
                                        (power.restart, signal.SIGHUP)])
def test_power_actions_end_the_pid_namespace(action, sig):
    # In a PID namespace the kernel turns these into "kill this namespace's
    # init", reporting the action as its termination signal.
    status = run_in_child(_pid1_status, action, unshare=NS)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == sig
