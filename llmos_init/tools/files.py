"""Executors for files and directories: list, read, write, append, make, remove, move,
copy, info, find, change directory. Every path goes through the rails first (the
executor's prepare step: safety.resolve_path, refuse_protected); each tool gets them resolved."""
from __future__ import annotations

import fnmatch
import os
import shutil
import stat

from ..digest import sha256
from .fsio import (atomic_write, fsync_dir, makedirs_durable, mounts_below, temp_name, tree_bytes,
                   under)
from .trash import move_path
from .result import Cancelled, Result, ToolError
from .safety import Resolved, SafetyError, checked, resolved_paths
from .text import fmt_time, human_size, plural, printable, table, text_block

LINE_MAX = 1000          # characters of one line shown by read_file
HEAD = 8192              # bytes looked at to tell text from binary
APPEND_COPY_MAX = 64 << 20  # above this, append_file appends in place (fsync'd) instead of copying
WALK_MAX = 200_000       # entries find_files visits at most


def _kind(st: os.stat_result) -> str:
    m = st.st_mode
    for test, name in ((stat.S_ISDIR, "dir"), (stat.S_ISREG, "file"), (stat.S_ISLNK, "link"),
                       (stat.S_ISCHR, "char"), (stat.S_ISBLK, "block"), (stat.S_ISFIFO, "fifo"),
                       (stat.S_ISSOCK, "socket")):
        if test(m):
            return name
    return "other"


_KIND_WORDS = {"dir": "directory", "file": "file", "link": "symbolic link", "char": "character device",
               "block": "block device", "fifo": "named pipe", "socket": "socket", "other": "special file"}


def _lstat(r: Resolved) -> os.stat_result:
    try:
        return os.lstat(r.real)
    except FileNotFoundError:
        raise ToolError(f"{r.shown} does not exist") from None


def _tree_size(path: str, limit: int = 20000) -> tuple[int, int, bool]:
    """(entries, bytes, complete) of a directory tree, stopping after `limit` entries."""
    n = size = 0
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            n += 1
            try:
                st = os.lstat(os.path.join(root, name))
                if stat.S_ISREG(st.st_mode):
                    size += st.st_size
            except OSError:
                pass
            if n >= limit:
                return n, size, False
    return n, size, True


def describe(r: Resolved) -> str:
    """'file, 12 B' / 'directory, 3 entries, 1.2 MiB' / 'symbolic link to x'."""
    st = os.lstat(r.real)
    k = _kind(st)
    if k == "file":
        return f"file, {human_size(st.st_size)}"
    if k == "dir":
        n, size, complete = _tree_size(r.real)
        return f"directory, {plural(n, 'entry', 'entries')}{'' if complete else '+'}, {human_size(size)}"
    if k == "link":
        return f"symbolic link to {printable(os.readlink(r.real))}"
    return _KIND_WORDS[k]


# ---- list_dir -------------------------------------------------------------------------
def list_dir(ex, a, paths) -> Result:
    r = paths["path"]
    st = _lstat(r) if not os.path.exists(r.real) else os.stat(r.real)
    if not stat.S_ISDIR(st.st_mode):
        raise ToolError(f"{r.shown} is not a directory ({describe(r)})")
    rows = []
    with os.scandir(r.real) as it:
        for e in it:
            try:
                est = e.stat(follow_symlinks=False)
            except OSError:
                continue
            k = _kind(est)
            name = e.name + ("/" if k == "dir" else "")
            if k == "link":
                try:
                    name += " -> " + os.readlink(e.path)
                except OSError:
                    pass
            rows.append({"name": e.name, "type": k, "size": est.st_size if k == "file" else None,
                         "mtime": est.st_mtime, "shown": name})
    rows.sort(key=lambda d: (d["type"] != "dir", d["name"].casefold()))
    if not rows:
        return Result(True, f"{r.shown} is empty", data=[])
    limit = ex.ctx.list_limit
    lines = table(["TYPE", "SIZE", "MODIFIED", "NAME"],
                  [[d["type"], human_size(d["size"]) if d["size"] is not None else "-",
                    fmt_time(d["mtime"]), d["shown"]] for d in rows[:limit]], right={1})
    head = f"{r.shown}: {plural(len(rows), 'entry', 'entries')}"
    more = f"\n… {len(rows) - limit} more not shown" if len(rows) > limit else ""
    return Result(True, f"{head}\n{lines}{more}", data=rows)


# ---- read_file ------------------------------------------------------------------------
_MAGIC = [
    (b"\x7fELF", "ELF"), (b"\x1f\x8b", "gzip compressed data"), (b"PK\x03\x04", "zip archive"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"), (b"\xff\xd8\xff", "JPEG image"), (b"GIF8", "GIF image"),
    (b"%PDF", "PDF document"), (b"hsqs", "squashfs filesystem"), (b"GGUF", "GGUF model"),
    (b"\xfd7zXZ\x00", "xz compressed data"), (b"(\xb5/\xfd", "zstd compressed data"),
    (b"BZh", "bzip2 compressed data"), (b"SQLite format 3\x00", "SQLite database"),
    (b"\x00asm", "WebAssembly module"), (b"#!", "script"),
]
_ELF_TYPES = {1: "relocatable", 2: "executable", 3: "shared object or PIE executable", 4: "core dump"}
_ELF_MACHINES = {3: "i386", 40: "ARM", 62: "x86-64", 183: "AArch64", 243: "RISC-V"}


def file_kind(head: bytes) -> str:
    """A short description of binary content from its first bytes."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            if name == "ELF" and len(head) >= 20:
                bits = {1: "32-bit", 2: "64-bit"}.get(head[4], "")
                order = "little" if head[5] == 1 else "big"
                etype = int.from_bytes(head[16:18], order)
                mach = int.from_bytes(head[18:20], order)
                return " ".join(x for x in ("ELF", bits, _ELF_TYPES.get(etype, "file"),
                                            f"({_ELF_MACHINES.get(mach, 'machine ' + str(mach))})") if x)
            return name
    if len(head) > 262 and head[257:262] == b"ustar":
        return "tar archive"
    return "data"


def is_binary(head: bytes) -> bool:
    if b"\0" in head:
        return True
    if not head:
        return False
    ctrl = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return ctrl / len(head) > 0.1


def _lines(f, start: int, count: int):
    """Yield (index, text, cut) for lines start..start+count-1, each bounded in length."""
    i = 0
    while i < start + count:
        line = f.readline(LINE_MAX * 4)
        if not line:
            return
        cut = False
        if not line.endswith(b"\n") and len(line) == LINE_MAX * 4:
            cut = True
            while True:  # skip the rest of an endless line without holding it
                rest = f.readline(1 << 16)
                if not rest or rest.endswith(b"\n"):
                    break
        if i >= start:
            text = line.rstrip(b"\n").rstrip(b"\r").decode("utf-8", "replace")
            if len(text) > LINE_MAX:
                text, cut = text[:LINE_MAX], True
            yield i, text, cut
        i += 1


def _count_rest(f, limit: int = 256 << 20) -> int | None:
    """Lines left from the current position (None when there are too many bytes to count)."""
    n, seen, last = 0, 0, b"\n"
    while True:
        chunk = f.read(1 << 20)
        if not chunk:
            break
        n += chunk.count(b"\n")
        seen += len(chunk)
        last = chunk[-1:]
        if seen > limit:
            return None
    return n + (0 if last == b"\n" else 1)


def read_file(ex, a, paths) -> Result:
    ctx = ex.ctx
    r = paths["path"]
    try:
        st = os.stat(r.real)
    except FileNotFoundError:
        raise ToolError(f"{r.shown} does not exist") from None
    if stat.S_ISDIR(st.st_mode):
        raise ToolError(f"{r.shown} is a directory; say 'list {r.shown}' to see what is in it")
    if not stat.S_ISREG(st.st_mode):
        raise ToolError(f"{r.shown} is a {_KIND_WORDS[_kind(st)]}; it is not read as a file")
    with open(r.real, "rb") as f:
        head = f.read(HEAD)
        if st.st_size == 0 and not head:
            ctx.last_read = None
            return Result(True, f"{r.shown} is empty", data={"lines": [], "total": 0})
        if is_binary(head):
            ctx.last_read = None
            kind = file_kind(head)
            return Result(True, f"{r.shown}: binary file, {human_size(st.st_size)}, {kind}; not shown",
                          data={"binary": True, "kind": kind, "size": st.st_size})
        start = 0
        lr = ctx.last_read
        if lr and lr[0] == r.real and lr[2] == st.st_mtime_ns and lr[3] == st.st_size:
            start = lr[1]  # "show more of X": continue where the last read stopped
        f.seek(0)
        got = list(_lines(f, start, ctx.read_lines))
        rest = _count_rest(f)
    lines = [printable(t) + (" …" if cut else "") for _, t, cut in got]
    shown_to = start + len(got)
    total = None if rest is None else shown_to + rest
    out = []
    if start:
        out.append(f"({r.shown}, lines {start + 1}–{shown_to}"
                   f"{'' if total is None else f' of {total}'})")
    out.extend(lines)
    if rest is None or rest > 0:
        more = "more lines" if rest is None else plural(rest, "more line")
        out.append(f"… {more}; say 'show more of {r.shown}'")
        ctx.last_read = (r.real, shown_to, st.st_mtime_ns, st.st_size)
    else:
        ctx.last_read = None
    return Result(True, "\n".join(out), data={"lines": [t for _, t, _ in got], "start": start,
                                              "total": total})


# ---- write_file / append_file ---------------------------------------------------------
def _text_of(a) -> str:
    text = a.get("text", "")
    return text if isinstance(text, str) else str(text)


def _text_bytes(a) -> bytes:
    data = _text_of(a).encode("utf-8", "surrogateescape")
    if data and not data.endswith(b"\n"):
        data += b"\n"
    return data


def prepare_target_file(ex, a, paths) -> tuple[Resolved, os.stat_result | None]:
    """write_file's and append_file's prepare step: the file (resolved and allowed to change
    by the rails) and its stat, None when it is new."""
    r = paths["path"]
    try:
        st = os.stat(r.real)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise ToolError(f"{r.shown} is a {_KIND_WORDS[_kind(st)]}, not a file")
    parent = os.path.dirname(r.real)
    if os.path.lexists(parent) and not os.path.isdir(parent):
        raise ToolError(f"{printable(ex.ctx.display(parent))} is not a directory")
    return r, st


def preview_write_file(ex, a, plan) -> str:
    r, st = plan
    data = _text_bytes(a)
    n = len(data)
    if st is None:
        head = f"create {r.shown} ({human_size(n)} of text)"
    else:
        ev = ex.trash.plan_eviction(trash_bytes=st.st_blocks * 512, new_bytes=n)
        head = (f"overwrite {r.shown} ({human_size(st.st_size)} now, {human_size(n)} after) "
                f"→ old content kept, undoable{ev.note()}")
    return f"{head}; the text:\n{text_block(_text_of(a))}"


def write_file(ex, a, plan) -> Result:
    r, st = plan
    data = _text_bytes(a)
    made = ""
    parent = os.path.dirname(r.real)
    if not os.path.isdir(parent):
        makedirs_durable(parent)
        made = f"; created {printable(ex.ctx.display(parent))}"
    prev = ex.trash.keep_copy(r.real, r.console, why="overwritten by write_file") if st else None
    try:
        atomic_write(r.real, data, like=st)
    except BaseException:
        if prev:
            ex.trash.drop_trash(prev)
        raise
    note = ex.trash.commit({"kind": "write", "path": r.real, "shown": r.console, "previous": prev,
                              "size": len(data), "sha256": sha256(data).hexdigest()},
                             trash_bytes=st.st_blocks * 512 if st else 0, keep=prev)
    if st is None:
        return Result(True, f"created {r.shown} ({human_size(len(data))}){made}{note}")
    return Result(True, f"wrote {r.shown} ({human_size(len(data))}; was {human_size(st.st_size)}, "
                        f"previous version kept for undo){note}")


def preview_append_file(ex, a, plan) -> str:
    r, st = plan
    n = len(_text_bytes(a))
    if st is None:
        head = f"create {r.shown} with one line ({human_size(n)})"
    else:
        head = (f"append a line ({human_size(n)}) to {r.shown} ({human_size(st.st_size)}), "
                f"undoable{ex.trash.plan_eviction().note()}")
    return f"{head}; the text:\n{text_block(_text_of(a))}"


def append_file(ex, a, plan) -> Result:
    r, st = plan
    if st is None:
        return write_file(ex, a, plan)
    add = _text_bytes(a) or b"\n"
    with open(r.real, "rb") as f:
        if st.st_size <= APPEND_COPY_MAX:
            old = f.read()
            sep = b"\n" if old and not old.endswith(b"\n") else b""
        else:
            old = None
            f.seek(max(0, st.st_size - 1))
            sep = b"\n" if f.read(1) not in (b"\n", b"") else b""
    add = sep + add
    if old is not None:
        new = old + add
        atomic_write(r.real, new, like=st)
        digest = sha256(new).hexdigest()
    else:  # a huge file: append in place, fsync'd (a power cut can only cut the new line)
        with open(r.real, "ab") as f:
            f.write(add)
            f.flush()
            os.fsync(f.fileno())
        from .trash import sha256_file
        digest = sha256_file(r.real)
    note = ex.trash.commit({"kind": "append", "path": r.real, "shown": r.console,
                              "prev_size": st.st_size, "new_size": st.st_size + len(add), "sha256": digest})
    return Result(True, f"added {human_size(len(add))} to {r.shown} (now {human_size(st.st_size + len(add))}){note}")


# ---- make_dir -------------------------------------------------------------------------
def make_dir(ex, a, paths) -> Result:
    r = paths["path"]
    if os.path.isdir(r.real):
        return Result(True, f"{r.shown} already exists")
    if os.path.lexists(r.real):
        raise ToolError(f"{r.shown} already exists and is a {describe(r)}")
    makedirs_durable(r.real)
    return Result(True, f"created directory {r.shown}")


# ---- remove ---------------------------------------------------------------------------
def _removable(ex, r: Resolved) -> Resolved:
    """r (resolved without following a last symlink, allowed to change by the rails), or
    why it cannot be removed or moved away."""
    data = os.path.realpath(ex.ctx.real_data_dir)
    if under(data, r.real):
        raise SafetyError(f"{r.shown} holds the console's data (trash and audit log); refused")
    if not os.path.lexists(r.real):
        raise ToolError(f"{r.shown} does not exist")
    if os.path.ismount(r.real):
        raise ToolError(f"{r.shown} is a mount point; unmount it first")
    if os.path.isdir(r.real) and not os.path.islink(r.real):
        below = mounts_below(r.real, os.path.join(ex.ctx.procfs, "self", "mountinfo"))
        if below:
            where = ", ".join(printable(ex.ctx.display(m)) for m in below[:3])
            raise SafetyError(f"{r.shown} holds a mounted filesystem ({where}{' …' if len(below) > 3 else ''}); "
                              "unmount it first, nothing on it is touched")
    return r


def prepare_remove(ex, a, paths) -> Resolved:
    return _removable(ex, paths["path"])


def preview_remove(ex, a, r: Resolved) -> str:
    ev = ex.trash.plan_eviction(trash_bytes=tree_bytes(r.real))
    return f"remove {r.shown} ({describe(r)}) → moved to the trash, undoable{ev.note()}"


def remove(ex, a, r: Resolved) -> Result:
    what = describe(r)
    size = tree_bytes(r.real)
    item = ex.trash.to_trash(r.real, r.console, why="remove")
    note = ex.trash.commit({"kind": "remove", "path": r.real, "shown": r.console, "trash": item},
                             trash_bytes=size, keep=item)
    ex.ctx.last_read = None
    return Result(True, f"removed {r.shown} ({what}); it is in the trash, say 'undo' to restore it"
                        f"{note}", data={"trash": item}, changed_cwd=ex.ctx.settle_cwd())


# ---- move -----------------------------------------------------------------------------
def prepare_move(ex, a, paths) -> tuple[Resolved, Resolved, bool]:
    """(source, final destination, whether an existing file there is replaced)."""
    src = _removable(ex, paths["src"])
    dst = paths["dst"]
    if os.path.isdir(dst.real) and dst.real != src.real:
        dst = checked(ex.ctx, os.path.join(dst.console, os.path.basename(src.real)), follow=False, change=True)
    if dst.real == src.real:
        raise ToolError(f"{src.shown} is already there")
    if os.path.isdir(src.real) and not os.path.islink(src.real) and under(dst.real, src.real):
        raise ToolError(f"cannot move {src.shown} into itself")
    if not os.path.isdir(os.path.dirname(dst.real)):
        raise ToolError(f"directory {printable(ex.ctx.display(os.path.dirname(dst.real)))} does not exist")
    replaces = os.path.lexists(dst.real)
    if replaces and os.path.isdir(dst.real) and not os.path.islink(dst.real):
        raise ToolError(f"{dst.shown} already exists and is a directory")
    return src, dst, replaces


def preview_move(ex, a, plan) -> str:
    src, dst, replaces = plan
    extra = f"; replaces {dst.shown} ({describe(dst)}), kept in the trash" if replaces else ""
    ev = ex.trash.plan_eviction(trash_bytes=tree_bytes(dst.real) if replaces else 0)
    return f"move {src.shown} ({describe(src)}) → {dst.shown}{extra}, undoable{ev.note()}"


def move(ex, a, plan) -> Result:
    src, dst, replaces = plan
    size = tree_bytes(dst.real) if replaces else 0
    replaced = ex.trash.to_trash(dst.real, dst.console, why="replaced by move") if replaces else None
    try:
        move_path(src.real, dst.real)
    except BaseException:
        if replaced and not os.path.lexists(dst.real):
            move_path(replaced, dst.real)
        raise
    note = ex.trash.commit({"kind": "move", "src": src.real, "dst": dst.real, "shown_src": src.console,
                              "shown_dst": dst.console, "replaced": replaced}, trash_bytes=size, keep=replaced)
    ex.ctx.last_read = None
    if replaced:
        note = f" (the previous {dst.shown} is in the trash){note}"
    return Result(True, f"moved {src.shown} → {dst.shown}{note}", changed_cwd=ex.ctx.settle_cwd())


# ---- copy -----------------------------------------------------------------------------
COPY_CHUNK = 4 << 20


def _fsync_copy(src: str, dst: str, ex=None) -> str:
    """Copy a file's data (in chunks, looking for Ctrl-C between them) and its
    permissions and times, then fsync it."""
    if ex is not None:
        ex.check_cancel()
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        while chunk := fi.read(COPY_CHUNK):
            fo.write(chunk)
            if ex is not None:
                ex.check_cancel()
        fo.flush()
        os.fsync(fo.fileno())
    shutil.copystat(src, dst)
    return dst


def copy(ex, a, paths) -> Result:
    ctx = ex.ctx
    src = paths["src"]
    if not os.path.exists(src.real):
        raise ToolError(f"{src.shown} does not exist")
    dst = paths["dst"]
    if os.path.isdir(dst.real):
        dst = checked(ctx, os.path.join(dst.console, os.path.basename(src.real)), change=True)
    if os.path.lexists(dst.real):
        raise ToolError(f"{dst.shown} already exists; copy never overwrites (remove it or pick another name)")
    if not os.path.isdir(os.path.dirname(dst.real)):
        raise ToolError(f"directory {printable(ctx.display(os.path.dirname(dst.real)))} does not exist")
    is_dir = os.path.isdir(src.real)
    if is_dir and under(dst.real, src.real):
        raise ToolError(f"cannot copy {src.shown} into itself")
    if not is_dir and not os.path.isfile(src.real):
        raise ToolError(f"{src.shown} is a {_KIND_WORDS[_kind(os.stat(src.real))]}; not copied")
    tmp = temp_name(dst.real)
    try:
        if is_dir:
            shutil.copytree(src.real, tmp, symlinks=True,
                            copy_function=lambda s, d: _fsync_copy(s, d, ex))
        else:
            _fsync_copy(src.real, tmp, ex)
        os.rename(tmp, dst.real)
    except BaseException as e:
        if os.path.isdir(tmp) and not os.path.islink(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        elif os.path.lexists(tmp):
            os.unlink(tmp)
        if isinstance(e, Cancelled):
            raise Cancelled(f"copy cancelled (Ctrl-C): {dst.shown} was not created") from None
        raise
    fsync_dir(os.path.dirname(dst.real))
    return Result(True, f"copied {src.shown} → {dst.shown} ({describe(dst)})")


# ---- file_info ------------------------------------------------------------------------
def _owner(uid: int, gid: int) -> str:
    try:
        import grp
        import pwd
        u = pwd.getpwuid(uid).pw_name
    except (KeyError, ImportError, OSError):
        u = str(uid)
    try:
        g = grp.getgrgid(gid).gr_name
    except (KeyError, ImportError, OSError, NameError):
        g = str(gid)
    return f"{u}:{g} ({uid}:{gid})"


def file_info(ex, a, paths) -> Result:
    r = paths["path"]
    st = _lstat(r)
    k = _kind(st)
    rows = [["path", r.console], ["type", _KIND_WORDS[k]]]
    if k == "file":
        rows.append(["size", f"{human_size(st.st_size)} ({st.st_size} bytes)"])
        try:
            with open(r.real, "rb") as f:
                head = f.read(HEAD)
            rows.append(["content", file_kind(head) if is_binary(head) else "text"])
        except OSError:
            pass
    elif k == "dir":
        try:
            rows.append(["entries", str(len(os.listdir(r.real)))])
        except OSError:
            pass
    elif k == "link":
        target = os.readlink(r.real)
        rows.append(["points to", target + ("" if os.path.exists(r.real) else " (missing)")])
    elif k in ("char", "block"):
        rows.append(["device", f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"])
    rows += [["mode", f"{stat.filemode(st.st_mode)} ({st.st_mode & 0o7777:04o})"],
             ["owner", _owner(st.st_uid, st.st_gid)],
             ["modified", fmt_time(st.st_mtime)], ["accessed", fmt_time(st.st_atime)],
             ["changed", fmt_time(st.st_ctime)]]
    if os.path.ismount(r.real):
        rows.append(["mount point", "yes"])
    w = max(len(k_) for k_, _ in rows)
    text = "\n".join(f"{k_.ljust(w)}  {printable(v)}" for k_, v in rows)
    return Result(True, text, data=dict(rows))


# ---- find_files -----------------------------------------------------------------------
def find_files(ex, a, paths) -> Result:
    ctx = ex.ctx
    pattern = str(a.get("pattern", "")).strip()
    if not pattern:
        raise ToolError("find_files needs a pattern, e.g. *.log")
    r = paths["path"] if a.get("path") else checked(ctx, ctx.cwd)
    if not os.path.isdir(r.real):
        raise ToolError(f"{r.shown} is not a directory")
    glob = any(c in pattern for c in "*?[")
    skip = {os.path.realpath(ctx.real(p)) for p in ("/proc", "/sys", "/dev") if p in ctx.protected}
    skip -= {p for p in skip if under(r.real, p)}  # searching inside /sys itself is fine
    found, visited, complete, cancelled = [], 0, True, False
    for root, dirs, files in os.walk(r.real):
        if ex.cancel.is_set():
            complete, cancelled = False, True
            break
        dirs[:] = sorted(d for d in dirs if os.path.join(root, d) not in skip)
        for name in sorted(dirs) + sorted(files):
            visited += 1
            full = os.path.join(root, name)
            rel = os.path.relpath(full, r.real)
            if glob:
                hit = fnmatch.fnmatchcase(rel if "/" in pattern else name, pattern)
            else:
                hit = pattern.casefold() in name.casefold()
            if hit:
                found.append(ctx.display(full) + ("/" if name in dirs else ""))
        if visited >= WALK_MAX or len(found) > ctx.list_limit:
            complete = False
            break
    why = "cancelled (Ctrl-C)" if cancelled else f"stopped after {visited} entries"
    if not found:
        return Result(True, f"no match for {printable(pattern)} under {r.shown}"
                            + ("" if complete else f" ({why})"), data=[])
    shown = found[:ctx.list_limit]
    text = f"{plural(len(shown), 'match', 'matches')} for {printable(pattern)} under {r.shown}:\n"
    text += "\n".join(printable(p) for p in shown)
    if cancelled:
        text += f"\n… search cancelled (Ctrl-C) after {visited} entries"
    elif not complete:
        text += "\n… search stopped early; narrow the pattern or the folder"
    return Result(True, text, data=shown)


# ---- change_dir -----------------------------------------------------------------------
def change_dir(ex, a, paths) -> Result:
    r = paths["path"]
    if not os.path.isdir(r.real):
        if os.path.lexists(r.real):
            raise ToolError(f"{r.shown} is not a directory")
        raise ToolError(f"{r.shown} does not exist")
    if not os.access(r.real, os.X_OK):
        raise ToolError(f"{r.shown}: permission denied")
    ex.ctx.cwd = r.console
    return Result(True, f"now in {r.shown}", changed_cwd=r.console)


EXECUTORS = {"list_dir": list_dir, "read_file": read_file, "write_file": write_file,
             "append_file": append_file, "make_dir": make_dir, "remove": remove, "move": move,
             "copy": copy, "file_info": file_info, "find_files": find_files, "change_dir": change_dir}
PREVIEWS = {"write_file": preview_write_file, "append_file": preview_append_file,
            "remove": preview_remove, "move": preview_move}
# prepare steps (executor.PREPARES): their previews and executors take the plan they give
PREPARES = {"write_file": prepare_target_file, "append_file": prepare_target_file,
            "remove": prepare_remove, "move": prepare_move,
            **{name: resolved_paths for name in ("list_dir", "read_file", "make_dir", "copy",
                                                  "file_info", "find_files", "change_dir")}}
