"""The trash and undo on the data partition: moving a thing aside, eviction, and undo.

<data_dir>/log/undo.json       the undo stack, rewritten atomically after every change,
                               so undo works across console restarts
<data_dir>/trash/<id>/         removed and replaced things: the item under its own name
                               plus meta.json (original path, time, why)

(The audit log, log/actions.jsonl, is audit.py's.)

Undo never loses data: it refuses to put something back where something else now is, and
whatever it takes away (a file written by write_file) goes to the trash first.

The trash is bounded, so deleting things does free space in the end, and nothing leaves
it without being named first:
- it keeps what the undo stack can bring back: when the stack drops its oldest entries
  (beyond max_undo), their trash slots are deleted with them;
- when /data has less than `min_free` (10 %) of its space free, a new trash item is paid
  for by the oldest slots (never the newest): only as many as its own size, or as the
  shortfall below min_free when that is smaller.
`plan_eviction` says beforehand what an action would delete for good (its preview names
it); `commit` records the action's undo entry and deletes exactly that, and says so.
Deleting never crosses into another filesystem (a mount inside a trash slot is left).
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field

from ..digest import sha256
from .audit import now_iso
from .fsio import atomic_write, fsync_dir, makedirs_durable, remove_tree, tree_bytes
from .text import human_size, printable


class UndoError(Exception):
    """Undo refused; str(e) says why and what to do."""


def sha256_file(path: str, limit: int | None = None) -> str:
    h = sha256()
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


TRASH_MIN_FREE = 0.10
MAX_UNDO = 100


class Trash:
    def __init__(self, data_dir: str, max_undo: int = MAX_UNDO, min_free: float = TRASH_MIN_FREE,
                 statvfs=os.statvfs, mountinfo: str = "/proc/self/mountinfo"):
        self.data_dir = data_dir
        self.min_free = min_free
        self._statvfs = statvfs
        self.mountinfo = mountinfo
        self.log_dir = os.path.join(data_dir, "log")
        self.undo_path = os.path.join(self.log_dir, "undo.json")
        self.trash_dir = os.path.join(data_dir, "trash")
        self.max_undo = max_undo

    # ---- trash -----------------------------------------------------------------------
    def _new_trash_slot(self, name: str, original: str, why: str) -> str:
        makedirs_durable(self.trash_dir)
        now = time.time_ns()     # the name sorts in creation order (prune_trash relies on it)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now // 10**9)) + f".{now % 10**9:09d}"
        slot = os.path.join(self.trash_dir, stamp + "-" + os.urandom(3).hex())
        os.mkdir(slot, 0o700)
        meta = {"original": original, "time": now_iso(), "why": why, "name": name}
        atomic_write(os.path.join(slot, "meta.json"), json.dumps(meta, ensure_ascii=False).encode())
        fsync_dir(self.trash_dir)
        return os.path.join(slot, name or "item")

    def to_trash(self, real: str, shown: str | None = None, why: str = "remove") -> str:
        """Move a file, link or directory into the trash; returns where it now is.
        Nothing is evicted here: the caller's commit() does that, as planned."""
        item = self._new_trash_slot(os.path.basename(real.rstrip("/")), shown or real, why)
        try:
            move_path(real, item)
        except BaseException:
            shutil.rmtree(os.path.dirname(item), ignore_errors=True)
            raise
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
        return item

    def _slot_of(self, item: str) -> str | None:
        """The trash slot holding `item`, when it is exactly one slot below the trash
        directory (an undo.json edited by hand, "/data/trash/../x", names none)."""
        slot = os.path.dirname(os.path.normpath(item))
        if (os.path.dirname(slot) == os.path.normpath(self.trash_dir)
                and os.path.basename(slot) not in ("", ".", "..") and not os.path.islink(slot)
                and not os.path.islink(self.trash_dir)):
            return slot
        return None

    def in_trash(self, item: str) -> bool:
        return self._slot_of(item) is not None

    def drop_trash(self, item: str) -> list[str]:
        """Delete the trash slot holding `item` (anything else is left alone); never across
        a filesystem boundary. Returns the mount points it left in place."""
        slot = self._slot_of(item)
        if slot is None or not os.path.lexists(slot):
            return []
        try:
            return remove_tree(slot, self.mountinfo)
        except OSError:
            return []

    def _free(self) -> tuple[int, int] | None:
        """(free bytes, size in bytes) of /data."""
        try:
            st = self._statvfs(self.data_dir)
        except OSError:
            return None
        return st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize

    def _slots(self) -> list[str]:
        """Trash slots, oldest first (their names start with the time they were made)."""
        try:
            names = sorted(n for n in os.listdir(self.trash_dir) if not n.startswith("."))
        except OSError:
            return []
        return [os.path.join(self.trash_dir, n) for n in names]

    def _slot_original(self, slot: str) -> str:
        try:
            with open(os.path.join(slot, "meta.json"), "rb") as f:
                return str(json.loads(f.read()).get("original") or os.path.basename(slot))
        except (OSError, ValueError, AttributeError):
            return os.path.basename(slot)

    def plan_eviction(self, trash_bytes: int = 0, new_bytes: int = 0, new_entry: bool = True,
                      keep: str | None = None) -> "Eviction":
        """What an action would delete from the trash for good: the slots of the undo
        entries that fall off the list when it adds one (new_entry), and, when /data is
        (or, after new_bytes more, will be) under min_free, the oldest slots that pay for
        the trash_bytes it puts in the trash. `keep`: a slot never chosen (the new one)."""
        ev = Eviction(max_undo=self.max_undo)
        stack = self._load()
        if new_entry and len(stack) + 1 > self.max_undo:
            for entry in stack[:len(stack) + 1 - self.max_undo]:
                for key in ("trash", "replaced", "previous"):
                    item = entry.get(key)
                    slot = self._slot_of(item) if isinstance(item, str) and item else None
                    if slot and os.path.lexists(slot):
                        ev.add(slot, self._slot_original(slot), tree_bytes(slot), "undo")
        space = self._free()
        if space is None or trash_bytes <= 0:
            return ev
        free, size = space
        want = min(trash_bytes, int(self.min_free * size) - (free - new_bytes))
        keep_slot = self._slot_of(keep) if keep else None
        got = 0
        for slot in self._slots():
            if got >= want:
                break
            if slot == keep_slot or slot in ev.slots:
                continue
            n = tree_bytes(slot)
            ev.add(slot, self._slot_original(slot), n, "space")
            got += n
        return ev

    def evict(self, ev: "Eviction") -> str:
        """Delete the planned slots; a note on what went for good ("" when nothing)."""
        kept: list[str] = []
        for slot in ev.slots:
            kept += self.drop_trash(os.path.join(slot, "item"))
        if ev.slots:
            fsync_dir(self.trash_dir)
        note = ev.note(done=True)
        if kept:
            note += f"; left in place, being on another filesystem: {', '.join(printable(k) for k in kept)}"
        return note

    def commit(self, entry: dict | None, trash_bytes: int = 0, keep: str | None = None) -> str:
        """After an action: push its undo entry (if any), then delete what its preview's
        plan_eviction named (computed again now, the action done). Returns the note."""
        ev = self.plan_eviction(trash_bytes=trash_bytes, new_entry=entry is not None, keep=keep)
        if entry is not None:
            self.push_undo(entry)
        return self.evict(ev)

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
        that fall off go too, as nothing can bring them back any more (commit() names
        them in its note; plan_eviction() in the preview)."""
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
        stack.append(dict(entry, time=now_iso()))
        self._save(stack)

    def peek_undo(self) -> dict | None:
        stack = self._load()
        return stack[-1] if stack else None

    def undo_step(self) -> "UndoStep | None":
        """What `undo` would do now, before it does it (None when there is nothing)."""
        stack = self._load()
        if not stack:
            return None
        e = stack[-1]
        kind, when = e.get("kind"), e.get("time", "?")
        try:
            if kind == "remove":
                shown = printable(e.get("shown", e["path"]))
                return UndoStep(e, f"undo: restore {shown} from the trash (removed {when})", False,
                                [(e.get("shown", e["path"]), e["path"])])
            if kind == "move":
                ssrc, sdst = printable(e.get("shown_src", e["src"])), printable(e.get("shown_dst", e["dst"]))
                text = f"undo: move {sdst} back to {ssrc} (moved {when})"
                if e.get("replaced"):
                    text += f", and restore the previous {sdst} from the trash"
                return UndoStep(e, text, True, [(e.get("shown_src", e["src"]), e["src"]),
                                                (e.get("shown_dst", e["dst"]), e["dst"])])
            if kind == "write":
                shown, real = printable(e.get("shown", e["path"])), e["path"]
                now = _size_of(real)
                cur = f" (now {human_size(now)}) goes to the trash" if now is not None else ""
                if e.get("previous"):
                    text = (f"undo: put back the previous {shown} ({human_size(_size_of(e['previous']) or 0)}, "
                            f"replaced {when}); the current one{cur or ' is gone'}")
                else:
                    text = f"undo: remove {shown}, created by write_file {when}; it{cur or ' is gone already'}"
                ev = self.plan_eviction(trash_bytes=tree_bytes(real) if now is not None else 0,
                                        new_entry=False)
                return UndoStep(e, text, True, [(e.get("shown", e["path"]), real)], ev)
            if kind == "append":
                shown = printable(e.get("shown", e["path"]))
                added = int(e["new_size"]) - int(e["prev_size"])
                return UndoStep(e, f"undo: take the {human_size(added)} added {when} off the end of "
                                   f"{shown} (back to {human_size(int(e['prev_size']))})", True,
                                [(e.get("shown", e["path"]), e["path"])])
        except (KeyError, TypeError, ValueError):
            pass
        return UndoStep(e, f"undo: the last undo entry ({printable(str(kind))}) is unreadable; "
                           "undo drops it", False, [])

    def undo(self, expect: dict | None = None) -> str:
        """Revert the last undoable change; returns what was done. Raises UndoError when
        it cannot (the entry is kept when the user can fix the obstacle, dropped when the
        change can never be reverted). `expect`: the entry the user was shown (undo_step);
        anything else on top of the stack is not undone."""
        stack = self._load()
        if not stack:
            return "nothing to undo"
        entry = stack[-1]
        if expect is not None and entry != expect:
            raise UndoError("cannot undo: the undo list changed since it was shown; say undo again")
        kind = entry.get("kind")
        fn = {"remove": self._undo_remove, "move": self._undo_move,
              "write": self._undo_write, "append": self._undo_append}.get(kind)
        try:
            if fn is None:
                raise _Dead(f"unknown undo entry {printable(str(kind))!r}")
            for key in ("trash", "replaced", "previous"):
                item = entry.get(key)
                if item and not (isinstance(item, str) and self.in_trash(item)):
                    raise _Dead(f"its {key} item {printable(str(item))} is not in the trash")
            msg = fn(entry)
        except _Dead as e:
            stack.pop()
            self._save(stack)
            raise UndoError(f"cannot undo: {e}; dropped from the undo list") from None
        except _Blocked as e:
            raise UndoError(f"cannot undo yet: {e}") from None
        except (KeyError, TypeError, ValueError) as e:
            stack.pop()
            self._save(stack)
            raise UndoError(f"cannot undo: the entry is unreadable ({type(e).__name__}); "
                            "dropped from the undo list") from None
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
            size = tree_bytes(real)
            item = self.to_trash(real, shown, why="undo of write_file")
            kept = " (it had changed since; that version is in the trash)" if changed else ""
            kept += self.commit(None, trash_bytes=size, keep=item)
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


@dataclass
class Eviction:
    """Trash slots an action deletes for good, each with its original path, size and why
    ("undo": its undo entry falls off the list; "space": /data is nearly full)."""
    items: list[tuple[str, str, int, str]] = field(default_factory=list)
    max_undo: int = MAX_UNDO

    @property
    def slots(self) -> list[str]:
        return [i[0] for i in self.items]

    def add(self, slot: str, original: str, size: int, why: str) -> None:
        self.items.append((slot, original, size, why))

    def note(self, done: bool = False) -> str:
        """"" when nothing goes; else one clause per reason, naming every item."""
        parts = []
        for why, head in (("undo", "the undo list keeps the last {n} changes, so the trash "
                                   "item(s) of the oldest {verb} deleted for good"),
                          ("space", "/data is nearly full, so the oldest trash item(s) {verb} "
                                    "deleted for good")):
            items = [i for i in self.items if i[3] == why]
            if not items:
                continue
            names = ", ".join(f"{printable(o)} ({human_size(n)})" for _, o, n, _ in items)
            parts.append(head.format(n=self.max_undo, verb="were" if done else "will be") + f": {names}")
        return "".join(f"; {p}" for p in parts)


@dataclass
class UndoStep:
    """What undo would do: the entry, one line saying it, whether it must ask (it moves,
    removes or overwrites something that is in place now), the (console, real) paths it
    changes, for the path rails to check again, and what it would evict."""
    entry: dict
    text: str
    asks: bool
    paths: list[tuple[str, str]]
    eviction: Eviction = field(default_factory=Eviction)


def _size_of(path: str) -> int | None:
    try:
        return os.lstat(path).st_size
    except OSError:
        return None


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
