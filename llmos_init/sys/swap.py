"""swapon(2) / swapoff(2)."""

from __future__ import annotations

from ._ffi import check, fspath, lib

__all__ = ["swapon", "swapoff", "swap_flags", "SWAP_FLAG_PREFER", "SWAP_FLAG_DISCARD",
           "SWAP_FLAG_PRIO_MASK", "SWAP_FLAG_PRIO_SHIFT"]

SWAP_FLAG_PREFER = lib.SWAP_FLAG_PREFER
SWAP_FLAG_DISCARD = lib.SWAP_FLAG_DISCARD
SWAP_FLAG_PRIO_MASK = lib.SWAP_FLAG_PRIO_MASK
SWAP_FLAG_PRIO_SHIFT = lib.SWAP_FLAG_PRIO_SHIFT


def swap_flags(priority: int | None = None, discard: bool = False) -> int:
    """Build swapon() flags: an explicit priority (0..32767) and/or discard."""
    flags = SWAP_FLAG_DISCARD if discard else 0
    if priority is not None:
        if not 0 <= priority <= SWAP_FLAG_PRIO_MASK:
            raise ValueError(f"swap priority must be 0..{SWAP_FLAG_PRIO_MASK}, got {priority}")
        flags |= SWAP_FLAG_PREFER | (priority << SWAP_FLAG_PRIO_SHIFT)
    return flags


def swapon(path, flags: int = 0) -> None:
    """Enable swapping on the (mkswap-formatted) file or device ``path``."""
    check(lib.swapon(fspath(path), flags), "swapon", path, flags)


def swapoff(path) -> None:
    check(lib.swapoff(fspath(path)), "swapoff", path)
