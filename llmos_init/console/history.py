"""The line editor's history, kept in <data_dir>/.history.

One entry per line, UTF-8. Each new entry is appended and fsync'd, so a power cut loses at
most the line being written; when the file holds twice the limit it is rewritten with the
newest `limit` entries through a temporary file, fsync and rename (never half-written).
A file that cannot be read or written only costs persistence: the history still works in
memory and `error` says why.
"""
from __future__ import annotations

import os

DEFAULT_LIMIT = 500


def _clean(line: str) -> str | None:
    line = line.rstrip("\r")
    if not line.strip() or any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in line):
        return None
    return line


class History:
    def __init__(self, path: str | None, limit: int = DEFAULT_LIMIT):
        self.path = path
        self.limit = limit
        self.entries: list[str] = []
        self.error: str | None = None
        self._lines_in_file = 0
        if path:
            self._load()

    def _load(self) -> None:
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return
        except OSError as exc:
            self.error = f"cannot read {self.path}: {exc.strerror or exc}"
            return
        lines = data.decode("utf-8", "replace").split("\n")
        self._lines_in_file = len([x for x in lines if x])
        self.entries = [e for e in map(_clean, lines) if e is not None][-self.limit:]

    def add(self, line: str) -> None:
        line = _clean(line)
        if line is None or (self.entries and self.entries[-1] == line):
            return
        self.entries.append(line)
        del self.entries[:-self.limit]
        if not self.path:
            return
        try:
            if self._lines_in_file + 1 > 2 * self.limit:
                self._rewrite()
            else:
                self._append(line)
        except OSError as exc:
            self.error = f"cannot write {self.path}: {exc.strerror or exc}"

    def _append(self, line: str) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, (line + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        self._lines_in_file += 1

    def _rewrite(self) -> None:
        directory = os.path.dirname(os.path.abspath(self.path))
        tmp = os.path.join(directory, f".history.tmp.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, "".join(e + "\n" for e in self.entries).encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        self._lines_in_file = len(self.entries)
