"""The Buildroot tree builds the offline build's OS: the same kernel fragments,
kernel images, pins, partitions, data file system, kernel command line and QEMU
script (buildroot/support/offline.py reads mkimage/shared.toml and pins.toml, the
data files both builds read, for the Buildroot side)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mkimage import image, model, rootfs, targets, wheel
from mkimage.pins import pins
from tests.buildroot import brtree as br

sys.path.insert(0, str(br.EXTERNAL / "support"))
import offline  # noqa: E402  (buildroot/support/offline.py)

# defconfig -> the offline target it builds (mkimage/targets.py)
DEFCONFIG_TARGET = {
    "llmos_qemu_x86_64_defconfig": "x86_64",
    "llmos_qemu_aarch64_virt_defconfig": "aarch64-virt",
    "llmos_raspberrypi4_64_defconfig": "rpi4",
}
KERNEL_IMAGE_SYMBOL = {"bzImage": "BR2_LINUX_KERNEL_BZIMAGE", "Image": "BR2_LINUX_KERNEL_IMAGE"}
BR_ARCH = {"x86_64": "BR2_x86_64", "aarch64": "BR2_aarch64"}


def conf(name):
    return br.read_defconfig(br.defconfigs()[name])


def test_every_defconfig_has_a_target():
    assert set(br.defconfigs()) == set(DEFCONFIG_TARGET)
    assert set(DEFCONFIG_TARGET.values()) == set(targets.TARGETS)


@pytest.mark.parametrize("name", sorted(DEFCONFIG_TARGET))
def test_kernel_fragments_are_the_offline_builds(name):
    t = targets.TARGETS[DEFCONFIG_TARGET[name]]
    paths = br.external_paths(conf(name)["BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES"])
    assert paths == [p.resolve() for p in t.fragment_paths]     # same files, same order
    for p in paths:
        assert p.is_file()
    patches = br.external_paths(conf(name).get("BR2_LINUX_KERNEL_PATCH", ""))
    assert patches == [p.resolve() for p in t.kernel_patch_paths]   # the same kernel patches


@pytest.mark.parametrize("name", sorted(DEFCONFIG_TARGET))
def test_kernel_image_and_arch(name):
    c, t = conf(name), targets.TARGETS[DEFCONFIG_TARGET[name]]
    assert c.get(KERNEL_IMAGE_SYMBOL[t.kernel_image]) == "y"
    assert c.get(BR_ARCH[t.arch]) == "y"


def test_aarch64_cpu_is_the_one_qemu_emulates():
    # the offline aarch64 images are tested on a Cortex-A72 (the Pi 4's core)
    assert image.QEMU["aarch64"][2] == "cortex-a72"
    for name in ("llmos_qemu_aarch64_virt_defconfig", "llmos_raspberrypi4_64_defconfig"):
        assert conf(name).get("BR2_cortex_a72") == "y"


@pytest.mark.parametrize("name", ["llmos_qemu_x86_64_defconfig", "llmos_qemu_aarch64_virt_defconfig"])
def test_qemu_post_image_names_the_target(name):
    c = conf(name)
    assert c["BR2_ROOTFS_POST_SCRIPT_ARGS"] == DEFCONFIG_TARGET[name]
    assert br.external_paths(c["BR2_ROOTFS_POST_IMAGE_SCRIPT"]) == [
        br.EXTERNAL / "board/qemu/post-image.sh"]


# ---- offline.py reads the offline build faithfully -----------------------------

@pytest.mark.parametrize("name", sorted(targets.TARGETS))
def test_release_files_are_the_offline_roots(name, tmp_path, monkeypatch):
    """The Buildroot root gets the offline root's /etc/llmos/release and update.pub (a
    board's card holds its base target's root), the key read from update-key.pub."""
    from mkimage import keys
    monkeypatch.setenv("LLMOS_UPDATE_KEY", str(tmp_path / "key" / "update-key"))
    t = targets.TARGETS[name]
    keys.signing_key()                          # made on first use, as `make image` does
    monkeypatch.setattr(image, "DEFAULT_VERSION", offline.version())
    want = image.release_texts(targets.TARGETS[t.base] if t.base else t)
    offline.release_files(name, tmp_path / "root")
    got = {"/" + str(f.relative_to(tmp_path / "root")): f.read_text()
           for f in (tmp_path / "root").rglob("*") if f.is_file()}
    assert got == want
    assert keys.published_key_hex() == keys.public_key_hex()


def test_release_files_need_the_key_made_first(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMOS_UPDATE_KEY", str(tmp_path / "none" / "update-key"))
    with pytest.raises(ValueError, match="make image"):
        offline.release_files("x86_64", tmp_path / "root")
    assert not (tmp_path / "root" / "etc" / "llmos" / "update.pub").exists()


@pytest.mark.parametrize("name", ["board/qemu/post-image.sh", "board/raspberrypi4-64/post-image.sh"])
def test_post_image_writes_the_release_files_before_the_root(name):
    text = (br.EXTERNAL / name).read_text()
    assert text.index("release-files") < text.index("remake_rootfs\n")


@pytest.mark.parametrize("name", sorted(t.name for t in targets.TARGETS.values() if not t.base))
def test_start_qemu_is_run_qemu(name, tmp_path):
    t = targets.TARGETS[name]
    image.write_run_script(t, tmp_path / "run-qemu.sh")
    r = subprocess.run([sys.executable, str(br.EXTERNAL / "support/offline.py"), "start-qemu", name,
                        str(tmp_path / "start-qemu.sh")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "start-qemu.sh").read_bytes() == (tmp_path / "run-qemu.sh").read_bytes()
    assert (tmp_path / "start-qemu.sh").stat().st_mode & 0o111


def test_offline_constants():
    assert offline.rootfs_dirs() == rootfs.DIRS
    assert offline.shared("data", "size_mb") == image.DATA_SIZE_MB
    assert offline.qemu_table() == image.QEMU
    for arch in ("x86_64", "aarch64"):
        assert offline.cmake_args(arch) == wheel.cmake_args(arch)


def test_ggml_portable_backend_is_built_the_same_way():
    from mkimage import ggml_portable
    assert offline.ggml_portable_args() == ggml_portable.configure_args()
    assert not any(a.startswith("-DGGML_AVX=ON") or a.startswith("-DGGML_AVX2=ON")
                   for a in offline.ggml_portable_args())
    mk = (Path(__file__).resolve().parents[2] / "buildroot/package/python-llama-cpp-python/"
          "python-llama-cpp-python.mk").read_text()
    assert "ggml-portable-args" in mk and "--target ggml-cpu" in mk
    assert ggml_portable.GUEST_DIR in mk.replace("$(TARGET_DIR)", "")


def test_offline_data_dirs_are_what_make_data_image_creates(monkeypatch, tmp_path):
    seen = {}

    def fake_run(cmd, check):
        d = cmd[cmd.index("-d") + 1]
        seen["dirs"] = sorted(p.name for p in Path(d).iterdir())
        seen["cmd"] = cmd
        Path(cmd[-1]).write_bytes(b"")
    monkeypatch.setattr(image.subprocess, "run", fake_run)
    image.make_data_image(tmp_path / "data.ext4")
    assert sorted(offline.data_dirs()) == seen["dirs"]
    assert offline.mkfs_ext4_command() == \
        [a for a in seen["cmd"] if isinstance(a, str) and not a.startswith(str(tmp_path))
         and a != seen["cmd"][seen["cmd"].index("-d") + 1]]


def test_offline_model_squashfs_args():
    args = offline.model_squashfs_args()
    for opt in ("-noI", "-noD", "-noF", "-noX", "-noappend", "-all-root"):
        assert opt in args                      # uncompressed, owned by root
    assert not any(a.startswith(("/", "-comp")) for a in args)


def test_offline_model_squashfs_args_are_what_build_model_image_runs(monkeypatch, tmp_path):
    """offline.py's mksquashfs options are the ones build_model_image() passes."""
    import types

    from llmos_init.planner import runtime
    seen = {}
    monkeypatch.setenv("LLMOS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(sys.modules, "llama_cpp", types.SimpleNamespace(__version__="test"))
    monkeypatch.setattr(runtime, "build_prefix_state", lambda model, out: [])

    def fake_run(cmd, check):
        seen["cmd"] = cmd
    monkeypatch.setattr(image.subprocess, "run", fake_run)
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    image.build_model_image(gguf, "0" * 64)
    assert seen["cmd"][0] == "mksquashfs"
    assert seen["cmd"][3:] == offline.model_squashfs_args()


def test_the_buildroot_root_is_made_with_the_offline_builds_mksquashfs_options(monkeypatch, tmp_path):
    """build_rootfs() runs mksquashfs with offline.py's rootfs options (uncompressed), and
    both post-image scripts make Buildroot's rootfs.squashfs again with them."""
    seen = {}
    monkeypatch.setenv("LLMOS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(image.rootfs, "assemble", lambda *a, **k: [])
    monkeypatch.setattr(image.rootfs, "pool_for", lambda t: tmp_path / "pool")
    monkeypatch.setattr(image.ggml_portable, "build", lambda arch: None)
    monkeypatch.setattr(image, "pure_wheels", lambda: [])
    monkeypatch.setattr(image.shutil, "rmtree", lambda *a, **k: None)
    (tmp_path / "llmos.whl").write_bytes(b"wheel")

    def fake_run(cmd, check):
        seen["cmd"] = cmd
    monkeypatch.setattr(image.subprocess, "run", fake_run)
    image.build_rootfs(targets.TARGETS["x86_64"], tmp_path / "llmos.whl")
    args = offline.rootfs_squashfs_args()
    assert seen["cmd"][0] == "mksquashfs" and seen["cmd"][3:3 + len(args)] == args
    for opt in ("-noI", "-noD", "-noF", "-noX", "-noappend", "-all-root"):
        assert opt in args
    helpers = (br.EXTERNAL / "board/common/images.sh").read_text()
    assert "rootfs-squashfs-args" in helpers and "remake_rootfs()" in helpers
    for board in ("qemu", "raspberrypi4-64"):
        script = (br.EXTERNAL / f"board/{board}/post-image.sh").read_text()
        assert "\nremake_rootfs\n" in script, board


def test_offline_needs_only_the_standard_library():
    """Buildroot's host-python3 has no site-packages: offline.py runs with none (-S)."""
    r = subprocess.run([sys.executable, "-S", str(br.EXTERNAL / "support/offline.py"), "rootfs-dirs"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == rootfs.DIRS
    assert "import ast" not in (br.EXTERNAL / "support/offline.py").read_text()   # no source parsed


def test_offline_rejects_bad_input(tmp_path):
    cmd = [sys.executable, str(br.EXTERNAL / "support/offline.py")]
    r = subprocess.run(cmd + ["start-qemu", "no-such-target", str(tmp_path / "x")],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "no target 'no-such-target'" in r.stderr
    assert not (tmp_path / "x").exists()
    r = subprocess.run(cmd + ["cmake-args", "mips"], capture_output=True, text=True)
    assert r.returncode == 1 and "cmake_args.mips" in r.stderr
    r = subprocess.run(cmd + ["bogus"], capture_output=True, text=True)
    assert r.returncode == 2
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 60)
    r = subprocess.run(cmd + ["check-gguf", str(gguf), "0" * 64], capture_output=True, text=True)
    assert r.returncode == 1 and "sha256" in r.stderr
    r = subprocess.run(cmd + ["check-gguf", str(gguf), offline.sha256(gguf)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    (tmp_path / "n.gguf").write_bytes(b"NOPE")
    r = subprocess.run(cmd + ["check-gguf", str(tmp_path / "n.gguf"), offline.sha256(tmp_path / "n.gguf")],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "not a GGUF" in r.stderr


def test_offline_extract_model_checks_the_gguf(tmp_path):
    import zipfile
    p = pins()["model"]["smollm2"]
    bad = tmp_path / "bad.whl"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr(p["member"], b"GGUF not the pinned model")
    with pytest.raises(offline.OfflineError, match="sha256"):
        offline.extract_model(bad, tmp_path / "out")
    assert model.GGUF_MAGIC == b"GGUF"


# ---- pins ------------------------------------------------------------------------

def test_llama_cpp_python_is_the_pinned_sdist():
    p = {x.name: x for x in br.packages()}["python-llama-cpp-python"]
    pin = pins()["llama_cpp_python"]
    assert p.var("VERSION") == pin["version"]
    hashes = br.read_hash(p.dir / "python-llama-cpp-python.hash")
    assert hashes[p.expand(p.var("SOURCE"))] == ("sha256", pin["sdist_sha256"])
    assert "offline.py" in p.mk_text and "cmake-args" in p.mk_text   # flags read from pins.toml
    assert p.var("PINS_ARCH") is not None


def test_model_is_the_pinned_wheel():
    p = {x.name: x for x in br.packages()}["llmos-model"]
    pin = pins()["model"]["smollm2"]
    assert p.var("VERSION") == pin["version"]     # the default (SmolLM2) branch of the .mk
    source = p.expand(p.var("SOURCE"))
    assert source.startswith(pin["pypi"].replace("-", "_") + "-" + pin["version"] + "-")
    assert br.read_hash(p.dir / "llmos-model.hash")[source] == ("sha256", pin["wheel_sha256"])


# ---- partitions, data file system, kernel command line -------------------------

def offline_drives(boot: str = "direct") -> list[str]:
    """Image files of the offline QEMU drives, in order (vda, vdb, vdc), when run-qemu.sh
    boots `boot`: "direct" (QEMU's -kernel, one root disk: the layout the Buildroot tree
    makes) or "uboot" (system.img with the two root slots, then the same model and data
    disks; its fourth disk, the kernel arguments, is a file descriptor, not an image)."""
    text = (Path(image.__file__).with_name("templates") / "run-qemu.sh").read_text()
    # a drive may name a variable whose default is a file next to the script
    defaults = dict(re.findall(r'(\w+)="\$\{\w+:-\$here/([^}]+)\}"', text))

    def files(block: str) -> list[str]:
        return [defaults[f[1:]] if f.startswith("$") and f[1:] in defaults else f.removeprefix("$here/")
                for f in re.findall(r'-drive file="([^"]+)"', block)]
    # disks=(shared) ... uboot: disks=(system "${disks[@]}" ...) ... else: disks=(root "${disks[@]}")
    shared, uboot, direct = re.findall(r'disks=\((.*?)\)\n', text, re.S)
    block = {"uboot": uboot, "direct": direct}[boot]
    head, _, tail = block.partition('"${disks[@]}"')
    return files(head) + files(shared) + files(tail)


def test_offline_drives():
    assert offline_drives() == ["rootfs.squashfs", "model.squashfs", "data.ext4"]
    # the A/B system disk takes the root's place; model and data stay where they were
    assert offline_drives("uboot") == ["system.img", "model.squashfs", "data.ext4"]


def test_data_image_is_the_offline_one():
    cfg = br.parse_genimage((br.EXTERNAL / "board/common/genimage-data.cfg").read_text())
    (img,) = cfg.children
    assert img.name == "data.ext4"
    ext4 = img.child("ext4")
    assert br.genimage_size_bytes(img.options["size"]) == image.DATA_SIZE_MB << 20
    mkfs = offline.mkfs_ext4_command()
    assert ext4.options["label"] == mkfs[mkfs.index("-L") + 1]
    assert f"root_owner={ext4.options['root-owner']}" in mkfs[mkfs.index("-E") + 1].split(",")
    assert ext4.options["use-mke2fs"] == "true"
    assert img.options["mountpoint"] == "/data"


# ---- the Pi card and the QEMU system disk: the offline build's two-slot layouts ----

def _blob(path: Path, size: int, seed: int) -> Path:
    path.write_bytes(bytes((i * 7 + seed) % 251 + 1 for i in range(251)) * (size // 251) + b"x" * (size % 251))
    return path


@pytest.fixture
def pi_binaries(tmp_path):
    """A Buildroot BINARIES_DIR for the Pi defconfig, with small stand-ins of its files."""
    from mkimage.image import make_data_image
    t = targets.TARGETS["rpi4"]
    d = tmp_path / "images"
    (d / "rpi-firmware").mkdir(parents=True)
    for i, f in enumerate(("rpi-firmware/start4.elf", "rpi-firmware/fixup4.dat", t.kernel_image,
                           *(Path(x).name for x in t.dtbs))):
        _blob(d / f, 100_000 + i, i)
    _blob(d / "rootfs.squashfs", 5 << 20, 7)
    _blob(d / "model.squashfs", 9 << 20, 8)
    make_data_image(d / "data.ext4", 16)
    return d


def _offline(*args) -> str:
    r = subprocess.run([sys.executable, str(br.EXTERNAL / "support/offline.py"), *args],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_pi_card_genimage_config_is_the_offline_cards_layout(pi_binaries):
    """offline.py sdcard writes llmos's card files and genimage's config: the partitions of
    mkimage/sdcard.py's layout, with its offsets, sizes, types and images."""
    from mkimage import sdcard
    t = targets.TARGETS["rpi4"]
    cfg_path = Path(_offline("sdcard", str(pi_binaries)))
    assert cfg_path == pi_binaries / "genimage-sdcard.cfg"
    own = pi_binaries / "llmos-card"
    texts = sdcard.card_texts(t, offline.version())
    assert sorted(p.name for p in own.iterdir()) == sorted(texts)
    for name, data in texts.items():
        assert (own / name).read_bytes() == (data if isinstance(data, bytes) else data.encode()), name
    cfg = br.parse_genimage(cfg_path.read_text())
    card = cfg.child("image", "sdcard.img")
    hd = card.child("hdimage")
    assert hd.options["partition-table-type"] == "mbr"
    assert hd.options["extended-partition"] == str(sdcard.number("extended"))
    parts = [c for c in card.children if c.kind == "partition"]
    offline_parts = sdcard.layout({"autoboot": own / "autoboot.txt", "boot": own / "config.txt",
                                   "bootstate": own / "bootstate", "root": pi_binaries / "rootfs.squashfs",
                                   "model": pi_binaries / "model.squashfs", "data": pi_binaries / "data.ext4"})
    want = [p for p in offline_parts if p.role != "extended"]
    assert [p.name for p in parts] == [p.role for p in want]
    for g, p in zip(parts, want):
        assert int(g.options["offset"]) == p.offset and int(g.options["size"]) == p.size, p.role
        assert int(g.options["partition-type"], 16) == int(p.type_id, 16), p.role
    images = {g.name: g.options.get("image") for g in parts}
    assert images == {"autoboot": "autoboot.vfat", "boot_a": "boot.vfat", "boot_b": None,
                      "bootstate": "llmos-card/bootstate", "root_a": "rootfs.squashfs", "root_b": None,
                      "model": "model.squashfs", "data": "data.ext4"}
    boot = cfg.child("image", "boot.vfat")
    files = boot.child("vfat").options["files"]
    for f in (*sdcard.BUILDROOT_FIRMWARE, t.kernel_image, *(Path(x).name for x in t.dtbs),
              "llmos-card/config.txt", "llmos-card/cmdline_a.txt", "llmos-card/cmdline_b.txt"):
        assert f in files
    assert br.genimage_size_bytes(boot.options["size"]) == sdcard.card()["boot_mb"] << 20
    ab = cfg.child("image", "autoboot.vfat")
    assert ab.child("vfat").options["files"] == ["llmos-card/autoboot.txt"]
    assert "-F 16" in ab.child("vfat").options["extraargs"]


@pytest.mark.skipif(not shutil.which("genimage"), reason="genimage not installed (apt-get install genimage)")
def test_pi_card_made_by_genimage_has_the_offline_cards_table_and_files(pi_binaries, tmp_path):
    """genimage (Buildroot's image tool, the Debian package) run on that config makes the
    card the offline build makes: the same partition table, as sfdisk reads it, and
    autoboot.txt, config.txt and the command lines where the firmware reads them."""
    from mkimage import sdcard
    cfg = _offline("sdcard", str(pi_binaries))
    root = tmp_path / "root"
    root.mkdir()
    r = subprocess.run(["genimage", "--rootpath", str(root), "--tmppath", str(tmp_path / "gtmp"),
                        "--inputpath", str(pi_binaries), "--outputpath", str(pi_binaries), "--config", cfg],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    own = pi_binaries / "llmos-card"
    offline_card = tmp_path / "offline.img"
    sdcard.write_card(offline_card, sdcard.layout({
        "autoboot": own / "autoboot.txt", "boot": own / "config.txt", "bootstate": own / "bootstate",
        "root": pi_binaries / "rootfs.squashfs", "model": pi_binaries / "model.squashfs",
        "data": pi_binaries / "data.ext4"}), "00000000")

    def table(img):
        t = json.loads(subprocess.run(["sfdisk", "-J", str(img)], capture_output=True, text=True,
                                      check=True).stdout)["partitiontable"]
        return [(p["node"].removeprefix(str(img)), p["start"], p["size"], p["type"]) for p in t["partitions"]]
    card = pi_binaries / "sdcard.img"
    assert table(card) == table(offline_card)
    assert [p[0] for p in table(card)] == [str(n) for n in range(1, 10)]
    starts = {p[0]: p[1] * 512 for p in table(card)}
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")

    def mtype(part: str, name: str) -> str:
        return subprocess.run(["mtype", "-i", f"{card}@@{starts[part]}", f"::{name}"], env=env,
                              capture_output=True, text=True, check=True).stdout
    assert mtype("1", "autoboot.txt") == sdcard.autoboot_txt()
    for name, text in sdcard.slot_texts(targets.TARGETS["rpi4"]).items():
        assert mtype("2", name) == text
    with open(card, "rb") as f:
        f.seek(starts["5"])
        assert f.read(4096) == (own / "bootstate").read_bytes()
        f.seek(starts["6"])
        assert f.read(5 << 20) == (pi_binaries / "rootfs.squashfs").read_bytes()


def test_pi_defconfig_leaves_the_boot_files_to_the_offline_card():
    c = conf("llmos_raspberrypi4_64_defconfig")
    t = targets.TARGETS["rpi4"]
    dts = c["BR2_LINUX_KERNEL_INTREE_DTS_NAME"].split()
    assert [d + ".dtb" for d in dts] == list(t.dtbs)              # the offline card's DTBs
    assert c["BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI4"] == "y"
    # config.txt and the command lines are mkimage/sdcard.py's, not the firmware package's
    assert c["BR2_PACKAGE_RPI_FIRMWARE_CONFIG_FILE"] == "" and c["BR2_PACKAGE_RPI_FIRMWARE_CMDLINE_FILE"] == ""
    assert c["BR2_PACKAGE_HOST_GENIMAGE"] == "y" and c["BR2_PACKAGE_HOST_DOSFSTOOLS"] == "y"
    script = (br.EXTERNAL / "board/raspberrypi4-64/post-image.sh").read_text()
    assert 'cfg="$("${LLMOS_OFFLINE[@]}" sdcard "${BINARIES_DIR}")"\nrun_genimage "${cfg}"' in script
    assert not (br.EXTERNAL / "board/raspberrypi4-64/genimage.cfg").exists()   # no second copy


def test_qemu_post_image_makes_the_offline_system_disk():
    script = (br.EXTERNAL / "board/qemu/post-image.sh").read_text()
    assert '"${LLMOS_OFFLINE[@]}" system-disk "${target}" "${BINARIES_DIR}"\n' \
           '"${LLMOS_OFFLINE[@]}" start-qemu' in script
    for name in ("llmos_qemu_x86_64_defconfig", "llmos_qemu_aarch64_virt_defconfig"):
        assert targets.TARGETS[DEFCONFIG_TARGET[name]].boot == "uboot"
        assert conf(name)["BR2_PACKAGE_HOST_E2FSPROGS"] == "y"     # mke2fs for the boot partition


def _uboot_debs_cached() -> bool:
    from mkimage import cache
    d = cache.cache_root() / "uboot"
    return d.is_dir() and any(p.name.startswith("u-boot-qemu_") for p in d.iterdir()) \
        and any(p.name.startswith("u-boot-tools_") for p in d.iterdir())


@pytest.mark.skipif(not _uboot_debs_cached(), reason="Debian's u-boot-qemu/u-boot-tools not in the cache "
                    "(make image downloads them)")
@pytest.mark.parametrize("name", ["x86_64", "aarch64-virt"])
def test_offline_system_disk_is_sysdisks_layout_with_buildroots_kernel_and_root(name, tmp_path):
    from llmos_init.update import bootstate
    from mkimage import sysdisk, uboot
    t = targets.TARGETS[name]
    d = tmp_path / "images"
    d.mkdir()
    kernel = _blob(d / t.kernel_image, 3 << 20, 1)
    root = _blob(d / "rootfs.squashfs", 7 << 20, 2)
    _offline("system-disk", name, str(d))
    disk = d / "system.img"
    tab = json.loads(subprocess.run(["sfdisk", "-J", str(disk)], capture_output=True, text=True,
                                    check=True).stdout)["partitiontable"]
    assert tab["label"] == "gpt"
    assert [(p["name"], p["start"], p["size"]) for p in tab["partitions"]] == sysdisk.layout()
    at = {n: s * 512 for n, s, _ in sysdisk.layout()}
    with open(disk, "rb") as f:
        f.seek(at["kernel_a"])
        assert f.read(kernel.stat().st_size) == kernel.read_bytes()
        f.seek(at["root_a"])
        assert f.read(root.stat().st_size) == root.read_bytes()
        f.seek(at["bootstate"])
        assert bootstate.parse(f.read(4096)) == {"slot": "a", "version_a": offline.version()}
        f.seek(at["kernel_b"])
        assert f.read(1 << 20) == bytes(1 << 20)
    assert (d / "u-boot.rom").read_bytes() == uboot.rom(tmp_path / "offline.rom", t.arch).read_bytes()
    assert len(rom_text := (d / "u-boot.rom").read_bytes()) > 100_000 and b"bootdelay=0\0" in rom_text
