"""The audit log and undo (with the trash) on the data partition.

<data_dir>/log/actions.jsonl   one JSON line per executed (or refused) action, fsync'd
<data_dir>/log/undo.json       the undo stack, rewritten atomically after every change,
                               so undo works across console restarts
<data_dir>/trash/<id>/         removed and replaced things: the item under its own name
                               plus meta.json (original path, time, why)

Undo never loses data: it refuses to put something back where something else now is, and
whatever it takes away (a file written by write_file) goes to the trash first.

The trash is bounded, so deleting things does free space in the end:
- it keeps what the undo stack can bring back: when the stack drops its oldest entries
  (beyond max_undo), their trash slots are deleted with them;
- when a new trash slot leaves /data with less than `min_free` (10 %) of its space free,
  the oldest slots are deleted first (never the newest) until that much is free again or
  the trash is empty. `last_pruned` names what went; an undo that needs a deleted slot
  says that the item is no longer in the trash.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import time
from typing import Any

from .tools.fsio import atomic_write, fsync_dir, makedirs_durable

MESSAGE_MAX = 2000


class UndoError(Exception):
    """Undo refused; str(e) says why and what to do."""


def sha256_file(path: str, limit: int | None = None) -> str:
    h = hashlib.sha256()
    left = limit
    with open(path, "rb") as f:
        while left is None or left > 0:
            chunk = f.read(1 << 20 if left is None else min(1 << 20, left))
            if not chunk:
                break
            h.update(chunk)
            if left is not None:
                left -= len(chunk)
    return h.hexdigest()


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


TRASH_MIN_FREE = 0.10


class Journal:
    def __init__(self, data_dir: str, max_undo: int = 100, min_free: float = TRASH_MIN_FREE,
                 statvfs=os.statvfs):
        self.data_dir = data_dir
        self.min_free = min_free
        self._statvfs = statvfs
        self.last_pruned: list[str] = []   # originals of the slots the last prune deleted
        self.log_dir = os.path.join(data_dir, "log")
        self.log_path = os.path.join(self.log_dir, "actions.jsonl")
        self.undo_path = os.path.join(self.log_dir, "undo.json")
        self.trash_dir = os.path.join(data_dir, "trash")
        self.max_undo = max_undo
        self.last_error: str | None = None

    # ---- audit log -------------------------------------------------------------------
    def record(self, action: Any, outcome: dict) -> bool:
        """Append one JSON line (time, action, ok, message, ...) and fsync it.
        Returns False (and sets last_error) when the log cannot be written."""
        entry = {"time": _now_iso(), "ts": round(time.time(), 3), "action": action,
                 "ok": bool(outcome.get("ok")),
                 "message": str(outcome.get("message", ""))[:MESSAGE_MAX]}
        entry.update({k: v for k, v in outcome.items() if k not in ("ok", "message")})
        line = (json.dumps(entry, ensure_ascii=False, default=str) + "\n").encode("utf-8", "replace")
        try:
            makedirs_durable(self.log_dir)
            created = not os.path.exists(self.log_path)
            fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                fsync_dir(self.log_dir)
        except OSError as e:
            self.last_error = f"audit log {self.log_path}: {e.strerror or e}"
            return False
        self.last_error = None
        return True

    # ---- trash -----------------------------------------------------------------------
    def _new_trash_slot(self, name: str, original: str, why: str) -> str:
        makedirs_durable(self.trash_dir)
        now = time.time_ns()     # the name sorts in creation order (prune_trash relies on it)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now // 10**9)) + f".{now % 10**9:09d}"
        slot = os.path.join(self.trash_dir, stamp + "-" + secrets.token_hex(3))
        os.mkdir(slot, 0o700)
        meta = {"original": original, "time": _now_iso(), "why": why, "name": name}
        atomic_write(os.path.join(slot, "meta.json"), json.dumps(meta, ensure_ascii=False).encode())
        fsync_dir(self.trash_dir)
        return os.path.join(slot, name or "item")

    def to_trash(self, real: str, shown: str | None = None, why: str = "remove") -> str:
        """Move a file, link or directory into the trash; returns where it now is."""
        item = self._new_trash_slot(os.path.basename(real.rstrip("/")), shown or real, why)
        try:
            move_path(real, item)
        except BaseException:
            shutil.rmtree(os.path.dirname(item), ignore_errors=True)
            raise
        self.prune_trash(keep=item)
        return item

    def keep_copy(self, real: str, shown: str | None = None, why: str = "overwritten") -> str:
        """Keep the current content of a file in the trash (a hard link when possible:
        an atomic replace swaps the name, the old inode lives on under the trash)."""
        item = self._new_trash_slot(os.path.basename(real), shown or real, why)
        try:
            try:
                os.link(real, item)
            except OSError:
                shutil.copy2(real, item)
            fsync_dir(os.path.dirname(item))
        except BaseException:
            shutil.rmtree(os.path.dirname(item), ignore_errors=True)
            raise
        self.prune_trash(keep=item)
        return item

    def drop_trash(self, item: str) -> None:
        """Delete the trash slot holding `item`; anything not exactly one slot below the
        trash directory (an undo.json edited by hand: "/data/trash/../x") is left alone."""
        slot = os.path.dirname(os.path.normpath(item))
        if (os.path.dirname(slot) == os.path.normpath(self.trash_dir)
                and os.path.basename(slot) not in ("", ".", "..") and not os.path.islink(slot)):
            shutil.rmtree(slot, ignore_errors=True)

    def take_pruned(self) -> str:
        """A note on what the last prune deleted ("" when nothing), cleared once read."""
        pruned, self.last_pruned = self.last_pruned, []
        if not pruned:
            return ""
        names = ", ".join(pruned[:3]) + (f" and {len(pruned) - 3} more" if len(pruned) > 3 else "")
        return (f"; /data was nearly full, so the {len(pruned)} oldest item(s) in the trash "
                f"were deleted for good ({names})")

    def _free_fraction(self) -> float | None:
        try:
            st = self._statvfs(self.data_dir)
        except OSError:
            return None
        return st.f_bavail / st.f_blocks if st.f_blocks else None

    def _slots(self) -> list[str]:
        """Trash slots, oldest first (their names start with the time they were made)."""
        try:
            names = sorted(n for n in os.listdir(self.trash_dir) if not n.startswith("."))
        except OSError:
            return []
        return [os.path.join(self.trash_dir, n) for n in names]

    def prune_trash(self, keep: str | None = None) -> list[str]:
        """Delete the oldest trash slots while /data has less than min_free free; never
        the slot of `keep`. Returns (and keeps in last_pruned) their original paths."""
        pruned: list[str] = []
        keep_slot = os.path.dirname(keep) if keep else None
        for slot in self._slots():
            free = self._free_fraction()
            if free is None or free >= self.min_free:
                break
            if slot == keep_slot:
                continue
            try:
                with open(os.path.join(slot, "meta.json"), "rb") as f:
                    original = str(json.loads(f.read()).get("original") or os.path.basename(slot))
            except (OSError, ValueError, AttributeError):
                original = os.path.basename(slot)
            shutil.rmtree(slot, ignore_errors=True)
            pruned.append(original)
        if pruned:
            fsync_dir(self.trash_dir)
        self.last_pruned = pruned
        return pruned

    # ---- undo stack ------------------------------------------------------------------
    def _load(self) -> list[dict]:
        try:
            with open(self.undo_path, "rb") as f:
                stack = json.loads(f.read() or b"[]")
            return stack if isinstance(stack, list) else []
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            return []

    def _save(self, stack: list[dict]) -> None:
        """Write the stack (its newest max_undo entries); the trash slots of the entries
        that fall off go too, as nothing can bring them back any more."""
        makedirs_durable(self.log_dir)
        kept = stack[-self.max_undo:]
        atomic_write(self.undo_path, json.dumps(kept, ensure_ascii=False).encode())
        for entry in stack[:-self.max_undo] if len(stack) > self.max_undo else ():
            for key in ("trash", "replaced", "previous"):
                item = entry.get(key)
                if isinstance(item, str) and item:
                    self.drop_trash(item)

    def push_undo(self, entry: dict) -> None:
        stack = self._load()
        stack.append(dict(entry, time=_now_iso()))
        self._save(stack)

    def peek_undo(self) -> dict | None:
        stack = self._load()
        return stack[-1] if stack else None

    def undo(self) -> str:
        """Revert the last undoable change; returns what was done. Raises UndoError when
        it cannot (the entry is kept when the user can fix the obstacle, dropped when the
        change can never be reverted)."""
        stack = self._load()
        if not stack:
            return "nothing to undo"
        entry = stack[-1]
        kind = entry.get("kind")
        fn = {"remove": self._undo_remove, "move": self._undo_move,
              "write": self._undo_write, "append": self._undo_append}.get(kind)
        try:
            if fn is None:
                raise _Dead(f"unknown undo entry {kind!r}")
            msg = fn(entry)
        except _Dead as e:
            stack.pop()
            self._save(stack)
            raise UndoError(f"cannot undo: {e}; dropped from the undo list") from None
        except _Blocked as e:
            raise UndoError(f"cannot undo yet: {e}") from None
        stack.pop()
        self._save(stack)
        return msg

    def _restore(self, item: str, real: str) -> None:
        makedirs_durable(os.path.dirname(real))
        move_path(item, real)
        self.drop_trash(item)

    def _undo_remove(self, e: dict) -> str:
        real, shown, item = e["path"], e.get("shown", e["path"]), e["trash"]
        if not os.path.lexists(item):
            raise _Dead(f"{shown} is no longer in the trash")
        if os.path.lexists(real):
            raise _Blocked(f"{shown} exists again; move or remove it first")
        self._restore(item, real)
        return f"restored {shown} from the trash"

    def _undo_move(self, e: dict) -> str:
        src, dst = e["src"], e["dst"]
        ssrc, sdst = e.get("shown_src", src), e.get("shown_dst", dst)
        if not os.path.lexists(dst):
            raise _Dead(f"{sdst} is gone, so it cannot be moved back")
        if os.path.lexists(src):
            raise _Blocked(f"{ssrc} is occupied now; move or remove it first")
        makedirs_durable(os.path.dirname(src))
        move_path(dst, src)
        msg = f"moved {sdst} back to {ssrc}"
        replaced = e.get("replaced")
        if replaced and os.path.lexists(replaced) and not os.path.lexists(dst):
            self._restore(replaced, dst)
            msg += f", and restored the previous {sdst}"
        return msg

    def _undo_write(self, e: dict) -> str:
        real, shown, prev = e["path"], e.get("shown", e["path"]), e.get("previous")
        if prev and not os.path.lexists(prev):
            raise _Dead(f"the previous {shown} is no longer in the trash")
        kept = ""
        if os.path.lexists(real):
            changed = not (os.path.isfile(real) and os.path.getsize(real) == e.get("size")
                           and sha256_file(real) == e.get("sha256"))
            item = self.to_trash(real, shown, why="undo of write_file")
            kept = (" (it had changed since; that version is in the trash: "
                    f"{item})" if changed else "")
        if prev:
            self._restore(prev, real)
            return f"restored the previous {shown}{kept}"
        return f"removed {shown}, which did not exist before (moved to the trash){kept}"

    def _undo_append(self, e: dict) -> str:
        real, shown = e["path"], e.get("shown", e["path"])
        if not os.path.isfile(real):
            raise _Dead(f"{shown} is gone")
        size, prev = os.path.getsize(real), e["prev_size"]
        if size != e["new_size"] or sha256_file(real) != e["sha256"]:
            raise _Dead(f"{shown} has changed since the text was added; left as it is")
        with open(real, "r+b") as f:
            f.truncate(prev)
            f.flush()
            os.fsync(f.fileno())
        return f"removed the added text from {shown} (back to {prev} bytes)"


class _Dead(Exception):
    pass


class _Blocked(Exception):
    pass


def move_path(src: str, dst: str) -> None:
    """Rename (fsync'ing both directories), or copy-then-delete across filesystems."""
    try:
        os.rename(src, dst)
    except OSError as e:
        import errno
        if e.errno != errno.EXDEV:
            raise
        shutil.move(src, dst)
    fsync_dir(os.path.dirname(dst))
    fsync_dir(os.path.dirname(src))
