"""The one fake of PID 1's platform adapter (llmos_init/platform.Pid1Platform): every
method records instead of acting, in `calls` (the boot tests read them) and, when an
`emit` is given, as a "platform" event (the supervisor tests stream those from their
forked child)."""
from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace


class FakePlatform:
    def __init__(self, root: Path | None = None, fail: dict | None = None, premounted=(), *,
                 emit=None, umount_busy=()):
        self.root = root                 # a boot test's root: paths are recorded relative to it
        self.calls: list[tuple] = []
        self.fail = fail or {}           # (target relative, e.g. "/data", fstype) -> errno
        self.table = [SimpleNamespace(target=str(root / t.lstrip("/")), fstype=f, source=f)
                      for t, f in premounted]
        self.emit = emit
        self.umount_busy = set(umount_busy)

    def _rel(self, path: str) -> str:
        return "/" + os.path.relpath(path, self.root)

    def _event(self, **kw) -> None:
        if self.emit is not None:
            self.emit("platform", **kw)

    # -- boot steps

    def mount(self, source, target, fstype, flags=(), data=None):
        rel = self._rel(target)
        src = self._rel(source) if source.startswith(str(self.root)) else source
        self.calls.append(("mount", src, rel, fstype, tuple(flags), data))
        err = self.fail.get((rel, fstype))
        if err:
            raise OSError(err, os.strerror(err), target)
        self.table.append(SimpleNamespace(target=target, fstype=fstype, source=source))

    def mounts(self):
        return list(self.table)

    def sethostname(self, name):
        self.calls.append(("sethostname", name))

    def link_up(self, ifname):
        self.calls.append(("link_up", ifname))

    def set_ctrl_alt_del(self, enabled):
        self.calls.append(("cad", enabled))

    def set_name(self, name):
        self.calls.append(("set_name", name))

    def watchdog(self, path):
        calls = self.calls

        class WD:
            def set_timeout(self, s):
                calls.append(("wd_timeout", s))
                return s

            def keepalive(self):
                calls.append(("wd_keepalive",))
        return WD()

    # -- shutdown and power

    def sync(self):
        self.calls.append(("sync",))
        self._event(op="sync")

    def umount(self, target):
        ok = target not in self.umount_busy
        self.calls.append(("umount", target, ok))
        self._event(op="umount", target=target, ok=ok)
        if not ok:
            raise OSError(16, "Device or resource busy", target)

    def remount_ro(self, target):
        self.calls.append(("remount_ro", target))
        self._event(op="remount_ro", target=target)

    def power(self, action):
        self.calls.append(("power", action))
        self._event(op="power", action=action)
