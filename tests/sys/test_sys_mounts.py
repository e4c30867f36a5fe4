"""mount/umount in a private mount namespace, and mountinfo parsing."""

from __future__ import annotations

import errno
import os

import pytest

from llmos_init.sys import mounts, process, system
from llmos_init.sys.errors import SyscallError
from tests.sys.child import run_in_child

TMPFS_MAGIC = 0x01021994

SAMPLE = (
    "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw\n"
    "36 25 8:1 / /mnt/my\\040disk rw,relatime master:1 shared:7 - ext4 /dev/sda1 rw,errors=remount-ro\n"
    "40 36 8:1 /sub\\134dir /srv/bind ro,relatime - ext4 /dev/sda1 rw\n"
    "41 1 0:40 / /tab\\011x rw - tmpfs my\\040src rw,size=1024k\n"
)


def test_parse_mountinfo_fields_and_escapes():
    proc, disk, bind, tab = mounts.parse_mountinfo(SAMPLE)
    assert (proc.mount_id, proc.parent_id, proc.target, proc.fstype, proc.source) == \
        (22, 1, "/proc", "proc", "proc")
    assert proc.options == ("rw", "nosuid", "nodev", "noexec", "relatime")
    assert proc.optional == ("shared:5",) and proc.device == "0:21"
    assert disk.target == "/mnt/my disk" and disk.optional == ("master:1", "shared:7")
    assert disk.super_options == ("rw", "errors=remount-ro")
    assert disk.option("errors") == "remount-ro" and disk.option("relatime") is True
    assert disk.option("size") is None
    assert bind.root == "/sub\\dir" and bind.read_only and not disk.read_only
    assert tab.target == "/tab\tx" and tab.source == "my src" and tab.option("size") == "1024k"


def test_parse_mountinfo_rejects_malformed_line():
    with pytest.raises(ValueError, match="line 2"):
        mounts.parse_mountinfo(SAMPLE.splitlines()[0] + "\n22 1 0:21 / /x rw\n")


def test_mounts_of_this_process_has_root():
    table = mounts.mounts()
    assert any(e.target == "/" for e in table)
    ids = {e.mount_id for e in table}
    assert len(ids) == len(table)
    assert mounts.find_mount("/") is not None
    assert mounts.find_mount("/definitely/not/a/mount/point") is None


def test_flag_validation():
    with pytest.raises(ValueError):
        mounts.mount("none", "/tmp", "tmpfs", flags=-1)
    with pytest.raises(ValueError):
        mounts.umount("/tmp", flags="x")
    with pytest.raises(ValueError, match="NUL"):
        mounts.umount("/tm\0p")


def _tmpfs_lifecycle(base: str):
    # Private propagation: nothing we do here leaks to the host's mount table.
    mounts.mount(None, "/", None, mounts.MS_REC | mounts.MS_PRIVATE)
    target = os.path.join(base, "with space")
    os.mkdir(target)
    report = {}
    mounts.mount("llmos test", target, "tmpfs", mounts.MS_NOSUID | mounts.MS_NODEV,
                 "size=1m,mode=0750")
    entry = mounts.find_mount(target)
    report["entry"] = (entry.source, entry.target, entry.fstype, entry.option("size"),
                       "nosuid" in entry.options, "nodev" in entry.options)
    fs = system.statfs(target)
    report["statfs"] = (fs.type, fs.total_bytes)
    report["mode"] = oct(os.stat(target).st_mode & 0o777)

    # Busy: an open directory keeps it mounted.
    fd = os.open(target, os.O_RDONLY)
    try:
        mounts.umount(target)
    except SyscallError as exc:
        report["busy"] = (exc.errno, str(exc), exc.call, exc.call_args)
    os.close(fd)

    # Read-only remount is enforced.
    with open(os.path.join(target, "f"), "w") as fh:
        fh.write("x")
    mounts.mount(None, target, None, mounts.MS_REMOUNT | mounts.MS_RDONLY)
    report["ro_flag"] = mounts.find_mount(target).read_only
    try:
        open(os.path.join(target, "g"), "w")
        report["ro_write"] = "succeeded"
    except OSError as exc:
        report["ro_write"] = exc.errno

    # Bind mount, then lazy-detach it.
    bind = os.path.join(base, "bind")
    os.mkdir(bind)
    mounts.mount(target, bind, None, mounts.MS_BIND)
    report["bind_sees_file"] = os.path.exists(os.path.join(bind, "f"))
    mounts.umount(bind, mounts.MNT_DETACH)
    report["bind_gone"] = mounts.find_mount(bind) is None

    mounts.umount(target)
    report["gone"] = mounts.find_mount(target) is None
    try:
        mounts.umount(target)
    except SyscallError as exc:
        report["not_mounted"] = exc.errno
    try:
        mounts.mount("x", target, "llmos-no-such-fs")
    except SyscallError as exc:
        report["bad_fstype"] = (exc.errno, str(exc))
    return report


def test_tmpfs_mount_cycle_in_private_namespace(tmp_path):
    r = run_in_child(_tmpfs_lifecycle, str(tmp_path), unshare=process.CLONE_NEWNS)
    target = str(tmp_path / "with space")
    assert r["entry"] == ("llmos test", target, "tmpfs", "1024k", True, True)
    assert r["statfs"] == (TMPFS_MAGIC, 1024 * 1024)
    assert r["mode"] == "0o750"
    busy_errno, busy_msg, call, call_args = r["busy"]
    assert busy_errno == errno.EBUSY and call == "umount2" and call_args == (target, 0)
    assert busy_msg == f"[Errno 16] Device or resource busy: umount2({target!r}, 0)"
    assert r["ro_flag"] is True and r["ro_write"] == errno.EROFS
    assert r["bind_sees_file"] and r["bind_gone"] and r["gone"]
    assert r["not_mounted"] == errno.EINVAL
    bad_errno, bad_msg = r["bad_fstype"]
    assert bad_errno == errno.ENODEV
    assert f"mount('x', {target!r}, 'llmos-no-such-fs', 0, None)" in bad_msg
    # and the host never saw any of it
    assert mounts.find_mount(target) is None
