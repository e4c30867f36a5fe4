"""Update bundles on the host: the format mkimage/bundle.py writes is what
llmos_init/update/bundle.py accepts, and every kind of bad bundle is refused before a byte
is written; the boot state's format is U-Boot's; install writes the inactive slot only and
sets the try last. Partitions are plain files here (the QEMU tests use the real disk)."""
from __future__ import annotations

import hashlib
import json
import os
import tarfile

import pytest
from nacl.signing import SigningKey

from llmos_init.update import bootstate, install, slots
from llmos_init.update.bundle import BundleError, open_bundle, verify
from mkimage import bundle as mkbundle
from mkimage import keys, sysdisk


@pytest.fixture
def key():
    return SigningKey(bytes(range(32)))


@pytest.fixture
def payload(tmp_path):
    k = tmp_path / "bzImage"
    k.write_bytes(os.urandom(3000))
    r = tmp_path / "rootfs.squashfs"
    r.write_bytes(os.urandom(70000))
    return k, r


def make(tmp_path, key, payload, target="x86_64", version="1.2", name="b.bundle", **over):
    k, r = payload
    files = [("kernel", "bzImage", k), ("root", "rootfs.squashfs", r)]
    m = mkbundle.manifest_for(target, version, files)
    m.update(over)
    return mkbundle.write_bundle(tmp_path / name, m, [(n, p) for _, n, p in files], key)


def pub(key) -> bytes:
    return key.verify_key.encode()


def test_a_good_bundle_opens_and_verifies(tmp_path, key, payload):
    b = open_bundle(str(make(tmp_path, key, payload)), "x86_64", pub(key))
    assert b.version == "1.2" and b.target == "x86_64"
    assert [e["part"] for e, _ in b.files] == ["kernel", "root"]
    assert b.payload_bytes == 73000
    seen = []
    verify(b, progress=seen.append)
    assert sum(seen) == 73000
    # the offsets point at the files' bytes
    with open(b.path, "rb") as f:
        (e, off) = b.files[1]
        f.seek(off)
        assert hashlib.sha256(f.read(e["bytes"])).hexdigest() == e["sha256"]


def test_members_are_manifest_signature_then_files(tmp_path, key, payload):
    with tarfile.open(make(tmp_path, key, payload)) as t:
        assert t.getnames() == ["manifest.json", "manifest.sig", "bzImage", "rootfs.squashfs"]
        m = json.loads(t.extractfile("manifest.json").read())
    assert m["format"] == 1 and m["target"] == "x86_64" and m["version"] == "1.2"
    assert {f["name"]: f["bytes"] for f in m["files"]} == {"bzImage": 3000, "rootfs.squashfs": 70000}


def test_another_key_is_refused(tmp_path, key, payload):
    p = make(tmp_path, SigningKey.generate(), payload)
    with pytest.raises(BundleError, match="signature"):
        open_bundle(str(p), "x86_64", pub(key))


def test_an_unsigned_bundle_is_refused(tmp_path, key, payload):
    p = make(tmp_path, key, payload)
    with tarfile.open(p) as t:
        raw = t.extractfile("manifest.json").read()
    out = tmp_path / "unsigned.bundle"
    with tarfile.open(out, "w", format=tarfile.USTAR_FORMAT) as t:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(raw)
        import io
        t.addfile(info, io.BytesIO(raw))
        for f in payload:
            t.add(f, arcname=f.name)
    with pytest.raises(BundleError, match="manifest first|signature"):
        open_bundle(str(out), "x86_64", pub(key))


def test_a_changed_manifest_breaks_the_signature(tmp_path, key, payload):
    p = make(tmp_path, key, payload)
    data = bytearray(p.read_bytes())
    i = data.index(b'"1.2"')
    data[i + 1:i + 4] = b"9.9"
    p.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="signature"):
        open_bundle(str(p), "x86_64", pub(key))


def test_the_wrong_target_is_refused(tmp_path, key, payload):
    p = make(tmp_path, key, payload, target="aarch64-virt")
    with pytest.raises(BundleError, match="target 'aarch64-virt'"):
        open_bundle(str(p), "x86_64", pub(key))


def test_a_corrupt_file_is_found_by_its_hash(tmp_path, key, payload):
    p = make(tmp_path, key, payload)
    b = open_bundle(str(p), "x86_64", pub(key))
    e, off = b.files[1]
    with open(p, "r+b") as f:
        f.seek(off + 1234)
        byte = f.read(1)
        f.seek(off + 1234)
        f.write(bytes([byte[0] ^ 0xFF]))
    b = open_bundle(str(p), "x86_64", pub(key))     # headers and signature are intact
    with pytest.raises(BundleError, match="SHA-256"):
        verify(b)


@pytest.mark.parametrize("cut", [100, 2000, 40000, -600])
def test_a_truncated_bundle_is_refused(tmp_path, key, payload, cut):
    p = make(tmp_path, key, payload)
    data = p.read_bytes()
    p.write_bytes(data[:cut] if cut > 0 else data[:len(data) + cut - 70000 // 2])
    with pytest.raises(BundleError):
        b = open_bundle(str(p), "x86_64", pub(key))
        verify(b)


def test_not_a_bundle(tmp_path, key):
    p = tmp_path / "x.bundle"
    p.write_bytes(os.urandom(5000))
    with pytest.raises(BundleError):
        open_bundle(str(p), "x86_64", pub(key))


def test_keys_are_made_once_outside_the_repo(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMOS_UPDATE_KEY", str(tmp_path / "k" / "update-key"))
    a = keys.public_key_hex()
    assert (tmp_path / "k" / "update-key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "k" / "update-key.pub").read_text().strip() == a
    assert keys.public_key_hex() == a and len(bytes.fromhex(a)) == 32


def test_boot_state_is_u_boots_text_environment():
    raw = bootstate.format_state({"slot": "a", "try": "b", "tries": "1", "rolled_back": ""})
    assert raw.startswith(b"slot=a\ntries=1\ntry=b\n\0") and len(raw) == bootstate.STATE_BYTES
    assert bootstate.parse(raw) == {"slot": "a", "try": "b", "tries": "1"}
    # what U-Boot's `env export -t` wrote in a QEMU run (sorted, one NUL after)
    assert bootstate.parse(b"rolled_back=b\nslot=a\n\0\0garbage") == {"rolled_back": "b", "slot": "a"}
    with pytest.raises(bootstate.StateError):
        bootstate.format_state({"slot": "a\nbootcmd=x"})
    with pytest.raises(bootstate.StateError):
        bootstate.format_state({"bootcmd": "x"})


def test_the_guest_and_the_image_agree_on_partitions():
    scheme = slots.SCHEMES["uboot"]
    assert sysdisk.partition_number("bootstate") == scheme.state
    for (slot, what), n in scheme.parts.items():
        assert sysdisk.partition_number(f"{what}_{slot}") == n
    lay = slots.from_cmdline({"llmos.slot": "a", "llmos.bootstate": "/dev/vda2"})
    assert (lay.state, lay.part("b", "root"), lay.part("b", "kernel")) == ("/dev/vda2", "/dev/vda6", "/dev/vda5")
    assert lay.config is None and lay.scheme.what == ("kernel", "root") and lay.target == ""
    assert slots.from_cmdline({"llmos.slot": "a"}) is None
    assert slots.from_cmdline({"llmos.slot": "c", "llmos.bootstate": "/dev/vda2"}) is None
    assert slots.from_cmdline({"llmos.slot": "a", "llmos.bootstate": "/dev/vda2", "llmos.slots": "x"}) is None
    # the Pi card's command line (mkimage/sdcard.py writes it)
    pi = slots.from_cmdline({"llmos.slot": "b", "llmos.bootstate": "/dev/mmcblk0p5",
                             "llmos.slots": "tryboot", "llmos.target": "rpi4"})
    assert (pi.disk, pi.state, pi.config, pi.target) == ("/dev/mmcblk0", "/dev/mmcblk0p5", "/dev/mmcblk0p1", "rpi4")
    assert (pi.part("a", "boot"), pi.part("b", "root")) == ("/dev/mmcblk0p2", "/dev/mmcblk0p7")
    assert pi.scheme.what == ("boot", "root")
    # the uboot scheme's state number does not name the Pi's state partition
    assert slots.from_cmdline({"llmos.slot": "a", "llmos.bootstate": "/dev/mmcblk0p5"}) is None


def test_a_bundle_must_hold_what_this_systems_slot_is_made_of(tmp_path, key, payload):
    p = make(tmp_path, key, payload)                 # kernel + root
    with pytest.raises(BundleError, match="one file for each of boot, root"):
        open_bundle(str(p), "x86_64", pub(key), ("boot", "root"))
    assert open_bundle(str(p), "x86_64", pub(key), ("kernel", "root")).payload_bytes > 0


def _layout(tmp_path, booted="a"):
    """Partitions as files in a directory: <dir>/2 is the boot state, <dir>/5 kernel_b..."""
    d = tmp_path / "disk"
    d.mkdir()
    sysfs = tmp_path / "sys"
    for n, size in ((2, 4096), (3, 8192), (4, 131072), (5, 8192), (6, 131072)):
        (d / str(n)).write_bytes(b"\0" * size)
        (sysfs / str(n)).mkdir(parents=True)
        (sysfs / str(n) / "size").write_text(str(size // 512))
    (d / "2").write_bytes(bootstate.format_state({"slot": booted, "version_a": "0.1"}))
    return slots.Layout(str(d), str(d) + "/", booted), str(sysfs)


def test_install_writes_the_inactive_slot_then_sets_the_try(tmp_path, key, payload):
    lay, sysfs = _layout(tmp_path)
    before_a = (tmp_path / "disk" / "4").read_bytes()
    b = open_bundle(str(make(tmp_path, key, payload)), "x86_64", pub(key))
    install.check_fits(b, lay, "b", sysfs)
    stages = set()
    slot = install.install(b, lay, progress=lambda s, d, t: stages.add(s))
    assert slot == "b" and stages == {"write", "check"}
    assert (tmp_path / "disk" / "5").read_bytes()[:3000] == payload[0].read_bytes()
    assert (tmp_path / "disk" / "6").read_bytes()[:70000] == payload[1].read_bytes()
    assert (tmp_path / "disk" / "4").read_bytes() == before_a
    assert bootstate.read(lay.state) == {"slot": "a", "try": "b", "tries": "1",
                                         "version_a": "0.1", "version_b": "1.2"}


def test_a_bundle_that_does_not_fit_is_refused(tmp_path, key, payload):
    lay, sysfs = _layout(tmp_path)
    (tmp_path / "sys" / "6" / "size").write_text("10")
    b = open_bundle(str(make(tmp_path, key, payload)), "x86_64", pub(key))
    with pytest.raises(BundleError, match="does not fit"):
        install.check_fits(b, lay, "b", sysfs)


def test_a_bundle_changed_after_its_check_stops_the_install_before_the_try(tmp_path, key, payload):
    lay, _ = _layout(tmp_path)
    p = make(tmp_path, key, payload)
    b = open_bundle(str(p), "x86_64", pub(key))
    verify(b)
    e, off = b.files[1]
    with open(p, "r+b") as f:          # swapped under our feet between check and write
        f.seek(off + 10)
        f.write(b"XXXX")
    with pytest.raises(BundleError, match="SHA-256"):
        install.install(b, lay)
    assert "try" not in bootstate.read(lay.state)


def test_an_old_try_of_the_slot_is_cleared_before_writing_it(tmp_path, key, payload):
    lay, _ = _layout(tmp_path)
    bootstate.write(lay.state, {"slot": "a", "try": "b", "tries": "0", "version_b": "1.1"})
    p = make(tmp_path, key, payload)
    b = open_bundle(str(p), "x86_64", pub(key))
    seen = []

    def progress(stage, done, total):    # the state while the slot is being written
        if stage == "write" and not seen:
            seen.append(bootstate.read(lay.state))
    install.install(b, lay, progress=progress)
    assert seen == [{"slot": "a"}]
