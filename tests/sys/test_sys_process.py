"""prctl (subreaper, thread name) and unshare."""

from __future__ import annotations

import os
import time

import pytest

from llmos_init.sys import process
from tests.sys.child import run_in_child


def _subreaper_adopts_orphans():
    assert process.is_child_subreaper() is False
    process.set_child_subreaper(True)
    assert process.is_child_subreaper() is True
    me = os.getpid()
    r, w = os.pipe()
    mid = os.fork()
    if mid == 0:  # middle child: spawn a grandchild and exit at once
        grandchild = os.fork()
        if grandchild == 0:
            time.sleep(0.2)  # outlive the middle child
            os.write(w, str(os.getppid()).encode())
            os._exit(0)
        os._exit(0)
    os.close(w)
    os.waitpid(mid, 0)
    adopted_by = int(os.read(r, 64).decode())
    os.close(r)
    # reap the adopted grandchild
    os.wait()
    process.set_child_subreaper(False)
    return me, adopted_by, process.is_child_subreaper()


def test_child_subreaper_adopts_orphans():
    me, adopted_by, after = run_in_child(_subreaper_adopts_orphans)
    assert adopted_by == me
    assert after is False


def _names():
    process.set_name("llmos-supervisor-long-name")
    short = process.get_name()
    with open(f"/proc/self/task/{os.getpid()}/comm") as fh:
        comm = fh.read().strip()
    process.set_name("pid1")
    return short, comm, process.get_name()


def test_thread_name_roundtrip_and_truncation():
    short, comm, again = run_in_child(_names)
    assert short == "llmos-superviso" and comm == short  # 15 bytes kept
    assert again == "pid1"


def test_set_name_rejects_nul():
    with pytest.raises(ValueError):
        process.set_name("a\0b")


def test_unshare_validation():
    with pytest.raises(ValueError):
        process.unshare(-1)
    with pytest.raises(ValueError, match="unknown unshare flag"):
        process.unshare(1 << 0)  # CSIGNAL bits are not unshare flags
    assert process.CLONE_NEWNS == 0x00020000 and process.CLONE_NEWNET == 0x40000000


def _ns_inode(kind: str) -> int:
    return os.stat(f"/proc/self/ns/{kind}").st_ino


def test_unshare_creates_new_namespaces():
    parent = (_ns_inode("uts"), _ns_inode("mnt"))
    child = run_in_child(lambda: (_ns_inode("uts"), _ns_inode("mnt")),
                         unshare=process.CLONE_NEWUTS | process.CLONE_NEWNS)
    assert child[0] != parent[0] and child[1] != parent[1]
