"""Installing a verified bundle into the inactive slot, then asking for one try of it.

  1. the boot state is read; an uncommitted try of the inactive slot is cleared first, so
     the boot loader never boots a slot while it is being written
  2. every file is written into its partition of the inactive slot, hashed again on the
     way (the bundle may have changed since it was verified), then the device is synced
  3. what the partitions now hold is read back and hashed
  4. only then the boot state says try=<slot> tries=1 (and the slot's version)
A failure at any step (or a power cut) leaves the boot state pointing at the running
slot only: the next boot is the old system. The caller reboots.
"""
from __future__ import annotations

import hashlib
import os

from . import bootstate
from .bundle import CHUNK, Bundle, BundleError, read_file
from .slots import Layout, partition_bytes

TRIES = 1


class InstallError(RuntimeError):
    pass


def check_fits(bundle: Bundle, layout: Layout, target_slot: str, sysfs: str = "/sys/class/block") -> None:
    for entry, _ in bundle.files:
        dev = layout.part(target_slot, entry["part"])
        room = partition_bytes(dev, sysfs)
        if entry["bytes"] > room:
            raise BundleError(f"{entry['name']} ({entry['bytes']} bytes) does not fit {dev} ({room} bytes)")


def _read_back(dev: str, nbytes: int, sha256: str, progress=None) -> None:
    h = hashlib.sha256()
    left = nbytes
    with open(dev, "rb", buffering=0) as f:
        # the disk's bytes, not the page cache's copy of what was just written
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        while left:
            chunk = f.read(min(CHUNK, left))
            if not chunk:
                raise InstallError(f"{dev}: shorter than what was written")
            h.update(chunk)
            left -= len(chunk)
            if progress is not None:
                progress(len(chunk))
    if h.hexdigest() != sha256:
        raise InstallError(f"{dev}: what was written reads back differently")


def install(bundle: Bundle, layout: Layout, progress=None, state_dev: str | None = None) -> str:
    """Write the bundle into the slot not running; set it to be tried once. Returns the
    slot. progress(stage, done_bytes, total_bytes) with stage "write" or "check"."""
    target_slot = bootstate.other(layout.booted)
    state_dev = state_dev or layout.state
    state = bootstate.read(state_dev)
    if bootstate.committed(state) != layout.booted:
        raise InstallError(f"slot {layout.booted} runs but slot {bootstate.committed(state)} is the "
                           "committed one (an update is being tried): restart first")
    if state.get("try") == target_slot or state.get(f"version_{target_slot}"):
        for k in ("try", "tries", f"version_{target_slot}"):
            state.pop(k, None)
        bootstate.write(state_dev, state)
    total = bundle.payload_bytes
    done = [0]

    def step(stage):
        def tick(n):
            done[0] += n
            if progress is not None:
                progress(stage, done[0], total)
        return tick

    tick = step("write")
    for entry, offset in bundle.files:
        dev = layout.part(target_slot, entry["part"])
        fd = os.open(dev, os.O_WRONLY | os.O_CLOEXEC)
        try:
            def sink(chunk, fd=fd):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]
            read_file(bundle, entry, offset, sink=sink, progress=tick)
            os.fsync(fd)
        finally:
            os.close(fd)
    done[0] = 0
    tick = step("check")
    for entry, _ in bundle.files:
        _read_back(layout.part(target_slot, entry["part"]), entry["bytes"], entry["sha256"], tick)
    state = bootstate.read(state_dev)
    state.update({"try": target_slot, "tries": str(TRIES), f"version_{target_slot}": bundle.version})
    state.pop("rolled_back", None)
    bootstate.write(state_dev, state)
    return target_slot
