"""A/B updates under QEMU (issue 16): U-Boot's boot script, the console's install_update and
PID 1's commit, on each guest's own qcow2 overlay of system.img.

- a good bundle is installed, tried once and committed;
- a bundle whose PID 1 never gets healthy (its root has no init: the kernel panics) is
  rolled back by the boot counter, the console says so, /data is intact;
- corrupt, unsigned, wrong-target and truncated bundles are refused, nothing written;
- QEMU killed in the middle of the write: the old slot boots, nothing was tried.
The bundle comes from a file in /data, or from an http:// URL served on the host's loopback
(10.0.2.2 in QEMU's user network): the rollback and one of the refusals are downloaded.

The image of LLMOS_TARGET: x86_64 in `make test`; the aarch64 one (U-Boot's qemu_arm64
build, booti) by hand, outside CI's time budget:
    make image TARGET=aarch64-virt
    LLMOS_TARGET=aarch64-virt .venv/bin/python -m pytest tests/qemu/test_update.py
"""
from __future__ import annotations

import functools
import os
import re
import subprocess
import tarfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from llmos_init.update import bootstate
from mkimage import bundle as mkbundle
from mkimage import sysdisk, targets
from mkimage.image import make_data_image
from qemu_harness import PROMPT, TARGET, image_dir, scaled

BUNDLE = "/data/llmos-9.9.bundle"
VERSION = "9.9-test"
KERNEL = targets.get(TARGET).kernel_image
# a target whose bundles this system must refuse (another architecture's U-Boot target)
OTHER_TARGET = next(t.name for t in targets.TARGETS.values() if t.boot == "uboot" and t.name != TARGET)


def _need_slots():
    if not (image_dir() / "system.img").exists():
        pytest.skip("this target boots directly (no system.img): no A/B slots to update")


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """name -> bundle file. good: this build's kernel and a root saying VERSION."""
    _need_slots()
    d = tmp_path_factory.mktemp("bundles")
    kernel = image_dir() / KERNEL
    good = mkbundle.make(TARGET, VERSION, out=d / "good.bundle", kernel=kernel)
    # a root without an init: the kernel panics ("No working init found"), panic=5 resets
    noinit = d / "noinit"
    (noinit / "sbin").mkdir(parents=True)
    (noinit / "sbin" / "init").write_text("not a program\n")
    bad_root = d / "noinit.squashfs"
    subprocess.run(["mksquashfs", str(noinit), str(bad_root), "-quiet", "-noappend", "-all-root"],
                   check=True)
    files = [("kernel", KERNEL, kernel), ("root", "rootfs.squashfs", bad_root)]
    out = {"good": good}
    out["noinit"] = mkbundle.write_bundle(d / "noinit.bundle", mkbundle.manifest_for(TARGET, "9.9-noinit", files),
                                          [(n, p) for _, n, p in files])
    out["unsigned"] = mkbundle.write_bundle(d / "unsigned.bundle", mkbundle.manifest_for(TARGET, "9.9", files),
                                            [(n, p) for _, n, p in files], key=SigningKey.generate())
    out["target"] = mkbundle.write_bundle(d / "target.bundle", mkbundle.manifest_for(OTHER_TARGET, "9.9", files),
                                          [(n, p) for _, n, p in files])
    corrupt = d / "corrupt.bundle"           # one byte of the root changed: only its hash tells
    corrupt.write_bytes(out["noinit"].read_bytes())
    with tarfile.open(corrupt) as t:
        root = t.getmember("rootfs.squashfs")
    with open(corrupt, "r+b") as f:
        f.seek(root.offset_data + root.size // 2)
        b = f.read(1)
        f.seek(root.offset_data + root.size // 2)
        f.write(bytes([b[0] ^ 0x01]))
    out["corrupt"] = corrupt
    truncated = d / "truncated.bundle"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    out["truncated"] = truncated
    return out


@pytest.fixture(scope="module")
def web(bundles):
    """The bundles' directory over http on the host's loopback: the guest's URL prefix."""
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass
    directory = os.path.dirname(bundles["good"])
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=directory))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://10.0.2.2:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def network_up(g) -> None:
    """Until the network service has its DHCP lease (it starts after the prompt)."""
    for _ in range(20):
        if "10.0.2.15/24" in g.ask("list network devices", timeout=scaled(120)):
            return
    raise AssertionError("the guest's network never came up:\n" + g.log_tail())


def data_with(tmp_path, files: dict[str, Path], name="data.ext4") -> Path:
    p = tmp_path / name
    make_data_image(p, 320, files=files)
    return p


def state_of(disk: Path) -> dict[str, str]:
    """The boot state in a guest's system disk (qcow2 overlay) as the host reads it."""
    start = dict((n, s) for n, s, _ in sysdisk.layout())["bootstate"] * 512
    raw = subprocess.run(["qemu-io", "-r", "-U", "-f", "qcow2", "-c", f"read -v {start} 512", str(disk)],
                         capture_output=True, text=True, check=True).stdout
    data = bytearray()
    for line in raw.splitlines():
        m = re.match(r"^[0-9a-f]{8}:\s+((?:[0-9a-f]{2} ){1,16})", line)
        if m:
            data += bytes.fromhex(m.group(1).replace(" ", ""))
    return bootstate.parse(bytes(data))


def slot_b_is_empty(disk: Path) -> bool:
    """Nothing was ever written to kernel_b / root_b: qemu-img map shows them unallocated in
    the overlay and zero in system.img."""
    out = subprocess.run(["qemu-img", "map", "-U", "--output=json", "-f", "qcow2", str(disk)],
                         capture_output=True, text=True, check=True).stdout
    import json
    parts = {n: (s * 512, (s + c) * 512) for n, s, c in sysdisk.layout()}
    for ext in json.loads(out):
        if ext.get("data") and ext["depth"] == 0:   # written in this overlay
            for name in ("kernel_b", "root_b"):
                a, b = parts[name]
                if ext["start"] < b and ext["start"] + ext["length"] > a:
                    return False
    return True


def install(g, path=BUNDLE, timeout=600) -> str:
    """A request that ends at a prompt (a refused bundle)."""
    return g.ask(f"install the update {path}", timeout=timeout, confirm="y")


def install_and_restart(g, version, path=BUNDLE) -> None:
    """Confirm, wait for the install to finish: the machine restarts (no prompt first)."""
    g.proc.send(f"install the update {path}\r")
    g.expect(rf"install update {re.escape(version)} for {TARGET} .* into slot b", 120)
    g.expect(r"\[y/N\]", 30)
    g.proc.send("y\r")
    g.expect(rf"installed {re.escape(version)} into slot b", 900)


def test_a_good_update_is_tried_and_committed(guest_factory, tmp_path, bundles):
    data = data_with(tmp_path, {"llmos-9.9.bundle": bundles["good"]})
    g = guest_factory(data)
    g.boot()
    g.ask("create /data/keep.txt with the text before the update", confirm="y")
    install_and_restart(g, VERSION)
    assert "writing slot b" in g.log_text()             # the progress line
    g.expect(r"llmos: booting slot b", 300)            # U-Boot, after the reboot
    g.expect(PROMPT, 300)
    g.expect(r"9\.9-test in slot b is healthy and committed", 120)
    out = g.ask("cat /etc/llmos/release")
    assert "version=9.9-test" in out
    assert "before the update" in g.ask("show /data/keep.txt")
    assert g.poweroff() == 0
    st = state_of(g.system_disk())
    assert st["slot"] == "b" and "try" not in st and st["version_b"] == VERSION
    # and it stays: the next boot is slot b again, without a try
    g2 = guest_factory(data, env={"SYSTEM": str(g.system_disk())})
    g2.boot()
    assert "llmos: booting slot b" in g2.log_text()
    assert g2.poweroff() == 0


def test_an_update_that_never_gets_healthy_rolls_back_and_keeps_data(guest_factory, tmp_path, bundles, web):
    data = data_with(tmp_path, {})
    g = guest_factory(data)
    g.boot()
    g.ask("create /data/keep.txt with the text survives a failed update", confirm="y")
    network_up(g)
    install_and_restart(g, "9.9-noinit", path=f"{web}/noinit.bundle")     # downloaded
    assert "downloading" in g.log_text()                 # the download's progress line
    g.expect(r"llmos: booting slot b", 300)
    g.expect(r"Kernel panic", 300)                       # its PID 1 never starts
    g.expect(r"slot b did not commit itself: back to slot a", 300)
    g.expect(r"did not come up healthy; rolled back", 300)
    g.expect(PROMPT, 300)
    assert "survives a failed update" in g.ask("show /data/keep.txt")
    assert ".download-" not in g.ask("list /data/updates")     # the download was removed
    out = g.ask("cat /etc/llmos/release")
    assert "version=" in out and "9.9" not in out
    assert g.poweroff() == 0
    st = state_of(g.system_disk())
    assert st.get("slot", "a") == "a" and "try" not in st and "rolled_back" not in st
    r = subprocess.run(["e2fsck", "-fn", str(data)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_bad_bundles_are_refused_and_nothing_is_written(guest_factory, tmp_path, bundles, web):
    names = ("corrupt", "unsigned", "target", "truncated")
    data = data_with(tmp_path, {f"{n}.bundle": bundles[n] for n in names})
    g = guest_factory(data)
    g.boot()
    before = state_of(g.system_disk())
    for n in names:
        out = install(g, f"/data/{n}.bundle")
        assert "refused" in out and "nothing was written" in out, (n, out)
        if n == "unsigned":
            assert "signature" in out
        if n == "target":
            assert OTHER_TARGET in out
        if n == "corrupt":
            assert "SHA-256" in out
    # over http: the unsigned one from its head, the corrupt one after its download (removed)
    network_up(g)
    out = g.ask(f"install the update {web}/unsigned.bundle", timeout=scaled(120))
    assert "refused" in out and "signature" in out and "[y/N]" not in out, out
    out = install(g, f"{web}/corrupt.bundle")
    assert "refused" in out and "SHA-256" in out and "nothing was written" in out, out
    assert ".download-" not in g.ask("list /data/updates")
    out = g.ask(f"install the update {web}/missing.bundle", timeout=scaled(120))
    assert "404" in out and "refused" in out, out
    assert "llmos: booting slot b" not in g.log_text()
    assert g.poweroff() == 0
    assert state_of(g.system_disk()) == before
    assert slot_b_is_empty(g.system_disk())


def test_qemu_killed_in_the_middle_of_the_write_boots_the_old_slot(guest_factory, tmp_path, bundles):
    data = data_with(tmp_path, {"llmos-9.9.bundle": bundles["good"]})
    g = guest_factory(data)
    g.boot()
    g.proc.send(f"install the update {BUNDLE}\r")
    g.expect(r"\[y/N\]", 120)
    g.proc.send("y\r")
    g.expect(r"writing slot b (?:[1-9]\d)%", 600)       # well into the write
    g.proc.kill(9)                                       # the power cut
    g.proc.close(force=True)
    disk = g.system_disk()
    assert not slot_b_is_empty(disk)                     # it was writing slot b
    assert "try" not in state_of(disk)
    g2 = guest_factory(data, env={"SYSTEM": str(disk)})
    g2.boot()
    log = g2.log_text()
    assert "llmos: booting slot a" in log and "booting slot b" not in log
    out = g2.ask("cat /etc/llmos/release")
    assert "version=" in out and "9.9" not in out
    assert "llmos-9.9.bundle" in g2.ask("list /data")
    assert g2.poweroff() == 0
