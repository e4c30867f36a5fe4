"""install_update: a signed update bundle (a file, or an http:// URL) into the other root
slot, then one try of it.

prepare (before the question): the system runs from A/B slots, the bundle is a bundle,
its manifest is signed by the image's key and made for this target, its files fit the
slot; for a URL only the bundle's head is fetched (llmos_init/update/fetch.py), nothing is
written. The preview shows version, target and size, and pins the manifest it showed.
run (after the `y`): a URL's bundle is downloaded into /data/updates (removed afterwards,
whatever happens); the manifest must be the one the question showed; every file's size
and SHA-256 read through and checked (nothing written to a slot before), then written into
the inactive slot with progress, read back, the boot state set to try it once
(llmos_init/update/install.py), and the machine restarted. The new system commits itself
once healthy (llmos_init/update/commit.py); otherwise the boot loader brings the old back.
"""
from __future__ import annotations

import os

from ..update import bootstate, fetch
from ..update.bundle import BundleError, load_public_key, open_bundle, read_release, verify
from ..update.install import InstallError, check_fits, install
from ..update.slots import from_cmdline, read_cmdline
from .result import Cancelled, Result, ToolError
from .safety import not_on_host
from .text import human_size, printable


class _Plan:
    def __init__(self, bundle, layout, shown: str, running: str, target: str, url: str | None = None):
        self.bundle, self.layout, self.shown, self.running = bundle, layout, shown, running
        self.target, self.url = target, url


def _refused(why: str) -> ToolError:
    return ToolError(f"update refused: {why}; nothing was written")


def prepare_install_update(ex, a, paths) -> _Plan:
    not_on_host(ex.ctx, "install_update")
    url = a.get("url")
    if url is None:
        p = paths["path"]
        if not os.path.isfile(p.real):
            raise ToolError(f"{p.shown} is not a file")
    layout = from_cmdline(read_cmdline(os.path.join(ex.ctx.procfs, "cmdline")))
    if layout is None:
        raise ToolError("this system was not started from A/B root slots (no llmos.slot= and "
                        "llmos.bootstate= on the kernel command line): it cannot update in place")
    release = read_release()
    # a board's own name where its root is another target's (the Pi card: llmos.target=)
    target = layout.target or release.get("target", "?")
    try:
        if url is None:
            bundle = open_bundle(p.real, target, load_public_key(), layout.scheme.what)
        else:    # its head only: the download waits for the yes
            bundle = fetch.head(str(url), target, load_public_key(), layout.scheme.what)
        check_fits(bundle, layout, bootstate.other(layout.booted), os.path.join(ex.ctx.sysfs, "class", "block"))
        state = bootstate.read(layout.state)
    except BundleError as e:
        raise _refused(str(e)) from None
    except OSError as e:
        raise _refused(ex.os_error(e)) from None
    if bootstate.committed(state) != layout.booted:
        raise ToolError(f"slot {layout.booted} is being tried and not committed yet: wait until it "
                        "commits itself (or restart) before installing another update")
    running = state.get(f"version_{layout.booted}") or release.get("version", "?")
    if url is None:
        return _Plan(bundle, layout, p.shown, running, target)
    return _Plan(bundle, layout, printable(str(url)), running, target, str(url))


def preview_install_update(ex, a, plan: _Plan) -> str:
    b = plan.bundle
    files = ", ".join(f"{printable(e['part'])} {human_size(e['bytes'])}" for e, _ in b.files)
    new = bootstate.other(plan.layout.booted)
    fetched = (f"; downloaded first into {fetch.DOWNLOADS} (at most {human_size(b.size)}), "
               "removed afterwards" if plan.url else "")
    return (f"install update {printable(b.version)} for {printable(b.target)} from {plan.shown} "
            f"({human_size(b.payload_bytes)}: {files}; signature valid{fetched}) into slot {new}, "
            f"replacing what slot {new} holds; now running {printable(plan.running)} in slot "
            f"{plan.layout.booted}. Then restart into it once: it is kept only if it comes up "
            f"healthy, else the next boot is {printable(plan.running)} again")


def pin_install_update(ex, a, plan: _Plan) -> str:
    """The manifest the question showed: what runs after the yes must be signed the same."""
    return plan.bundle.digest


def install_update(ex, a, plan: _Plan) -> Result:
    shown_manifest = ex.pinned({"tool": "install_update", "args": a})
    if shown_manifest is not None and shown_manifest != plan.bundle.digest:
        return Result(False, "update refused: the bundle's manifest is not the one shown at the "
                             "question (the file or the server changed since); nothing was written")
    shown = [-1]

    def progress(stage, done, total):
        ex.check_cancel()
        pct = done * 100 // max(total, 1)
        if pct // 5 != shown[0]:
            shown[0] = pct // 5
            what = {"download": "downloading", "verify": "checking the bundle",
                    "write": f"writing slot {new}", "check": f"reading slot {new} back"}[stage]
            ex.progress = f"install_update: {what} {pct}% ({human_size(done)} of {human_size(total)})"

    new = bootstate.other(plan.layout.booted)
    verified = [0]
    b = plan.bundle
    download = None

    def verify_tick(n):
        verified[0] += n
        progress("verify", verified[0], b.payload_bytes)

    try:
        if plan.url is not None:
            download = fetch.download(plan.url, plan.bundle.size,
                                      progress=lambda done, total: progress("download", done, total))
            shown[0] = -1
            b = open_bundle(download, plan.target, load_public_key(), plan.layout.scheme.what)
            if b.digest != plan.bundle.digest:
                raise BundleError("the server sent another manifest than the one shown at the question")
        verify(b, progress=verify_tick)
        shown[0] = -1
        slot = install(b, plan.layout, progress=progress)
    except Cancelled:
        return Result(False, f"update cancelled (Ctrl-C); slot {plan.layout.booted} stays the one that boots")
    except BundleError as e:
        return Result(False, f"update refused: {e}; nothing was written")
    except InstallError as e:
        return Result(False, f"update not installed: {e}; slot {plan.layout.booted} stays the one that boots")
    except OSError as e:
        return Result(False, f"update not installed: {ex.os_error(e)}; slot {plan.layout.booted} "
                             "stays the one that boots")
    finally:
        ex.progress = None
        if download is not None:
            try:
                os.unlink(download)
            except OSError:
                pass
    os.sync()
    # the console shows this, then asks PID 1 for the reboot (data["then"]): a reboot
    # requested from here would stop the console before it printed a word of it
    return Result(True, f"installed {printable(b.version)} into slot {slot} ({human_size(b.payload_bytes)}, "
                        f"signature and SHA-256 checked, written and read back); restarting into it "
                        f"once: it commits itself when healthy, else slot {plan.layout.booted} "
                        f"({printable(plan.running)}) comes back", data={"then": "reboot", "slot": slot})


PREPARES = {"install_update": prepare_install_update}
PREVIEWS = {"install_update": preview_install_update}
PINS = {"install_update": pin_install_update}
EXECUTORS = {"install_update": install_update}
