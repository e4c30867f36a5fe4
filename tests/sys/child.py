"""Run a function in a forked child (optionally in new namespaces) and get its result.

Tests that change process-wide or namespaced state (mounts, host name, network
interfaces, session, reboot policy) do it in a child so the pytest process and
the host are untouched.  The child's return value or exception comes back
through a pipe (pickled); ``Skip`` raised in the child skips the test.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import time

import pytest


class Skip(Exception):
    """Raise in a child to skip the calling test with this reason."""


class ChildDied(AssertionError):
    pass


def run_in_child(fn, *args, unshare: int = 0, timeout: float = 20.0):
    """Fork; in the child optionally ``unshare(unshare)`` then call ``fn(*args)``.

    Returns what ``fn`` returned, re-raises what it raised (pickled), turns
    ``Skip`` into ``pytest.skip``.  Raises ChildDied if the child exits
    abnormally without reporting."""
    value = _fork_call(fn, args, unshare, timeout)
    if isinstance(value, _Skipped):
        pytest.skip(value.reason)
    return value


def fork_call(fn, *args, unshare: int = 0, timeout: float = 20.0):
    """Like run_in_child but usable inside a child (nesting): a ``Skip`` is
    passed up as a marker that the outermost run_in_child turns into a skip."""
    return _fork_call(fn, args, unshare, timeout)


class _Skipped:
    def __init__(self, reason: str):
        self.reason = reason


def _fork_call(fn, args, unshare_flags, timeout):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        try:
            if unshare_flags:
                from llmos_init.sys.process import unshare
                try:
                    unshare(unshare_flags)
                except OSError as exc:
                    raise Skip(f"unshare({unshare_flags:#x}) not possible here: {exc}") from None
            result = ("ok", fn(*args))
        except Skip as exc:
            result = ("ok", _Skipped(str(exc)))
        except BaseException as exc:  # report everything, including assertion errors
            result = ("err", exc)
        try:
            data = pickle.dumps(result)
        except Exception as exc:
            data = pickle.dumps(("err", AssertionError(f"unpicklable child result {result!r}: {exc}")))
        view = memoryview(data)
        while view:
            view = view[os.write(w, view):]
        os._exit(0)
    os.close(w)
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                raise ChildDied(f"child {fn.__name__} timed out after {timeout}s")
            chunk = os.read(r, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(r)
        _, status = os.waitpid(pid, 0)
    if not chunks:
        raise ChildDied(f"child {fn.__name__} died without a result (wait status {status:#x})")
    kind, value = pickle.loads(b"".join(chunks))
    if kind == "err":
        raise value
    return value


def wait_status_of(fn, *args, timeout: float = 20.0) -> int:
    """Fork, run ``fn(*args)`` in the child, return the child's raw wait status.
    For tests whose expected outcome is the child dying (e.g. reboot in a pid
    namespace).  The child exits 0 if ``fn`` returns, 3 if it raises."""
    pid = os.fork()
    if pid == 0:
        try:
            fn(*args)
            os._exit(0)
        except BaseException:
            os._exit(3)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise ChildDied(f"child {fn.__name__} timed out after {timeout}s")
        time.sleep(0.01)
