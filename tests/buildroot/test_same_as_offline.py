"""The Buildroot tree builds the offline build's OS: the same kernel fragments,
kernel images, pins, partitions, data file system, kernel command line and QEMU
script (buildroot/support/offline.py reads mkimage/shared.toml and pins.toml, the
data files both builds read, for the Buildroot side)."""
from __future__ import annotations

import re
import shlex
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


def offline_append(t) -> list[str]:
    text = (Path(image.__file__).with_name("templates") / "run-qemu.sh").read_text()
    append = re.search(r'-append "([^"]+)"', text).group(1)
    return [w for w in append.split() if not w.startswith("${APPEND")]


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


def card_numbers() -> dict[str, int]:
    """Partition number of each role on the offline SD card."""
    from mkimage import sdcard
    return {role: number for role, number, _type in sdcard.PHYSICAL_ORDER}


def offline_card_images() -> list[str]:
    """Image files of the offline card's partitions p2, p3, p4, by partition number."""
    drive = dict(zip(("root", "model", "data"), offline_drives()))  # QEMU vda, vdb, vdc
    numbers = card_numbers()
    return [drive[role] for role in sorted(drive, key=numbers.__getitem__)]


def test_pi_sdcard_partitions_are_the_offline_images():
    cfg = br.parse_genimage((br.EXTERNAL / "board/raspberrypi4-64/genimage.cfg").read_text())
    card = cfg.child("image", "sdcard.img")
    parts = [c for c in card.children if c.kind == "partition"]
    assert parts[0].options["image"] == "boot.vfat" and parts[0].options["partition-type"] == "0xC"
    # genimage numbers partitions in the order they are listed: p2, p3, p4 must hold what
    # the offline card (mkimage/sdcard.py) numbers p2, p3, p4
    assert [p.options["image"] for p in parts[1:]] == offline_card_images()


def test_pi_boot_partition():
    c = conf("llmos_raspberrypi4_64_defconfig")
    t = targets.TARGETS["rpi4"]
    cfg = br.parse_genimage((br.EXTERNAL / "board/raspberrypi4-64/genimage.cfg").read_text())
    files = cfg.child("image", "boot.vfat").child("vfat").options["files"]
    dts = c["BR2_LINUX_KERNEL_INTREE_DTS_NAME"].split()
    assert [d + ".dtb" for d in dts] == list(t.dtbs)              # the offline card's DTBs
    for dtb in t.dtbs:
        assert Path(dtb).name in files
    config_txt = dict(l.split("=", 1) for l in
                      (br.EXTERNAL / "board/raspberrypi4-64/config.txt").read_text().splitlines()
                      if l and not l.startswith("#"))
    assert config_txt["kernel"] == t.kernel_image and config_txt["kernel"] in files
    assert config_txt["arm_64bit"] == "1"
    for f in ("rpi-firmware/config.txt", "rpi-firmware/cmdline.txt",
              f"rpi-firmware/{config_txt['start_file']}", f"rpi-firmware/{config_txt['fixup_file']}"):
        assert f in files
    assert br.external_paths(c["BR2_PACKAGE_RPI_FIRMWARE_CONFIG_FILE"]) == [
        br.EXTERNAL / "board/raspberrypi4-64/config.txt"]
    assert br.external_paths(c["BR2_PACKAGE_RPI_FIRMWARE_CMDLINE_FILE"]) == [
        br.EXTERNAL / "board/raspberrypi4-64/cmdline.txt"]


def test_pi_cmdline_is_the_offline_one_with_the_cards_partitions():
    """The QEMU command line, with the card's partition of each role for vda, vdb, vdc."""
    t = targets.TARGETS["rpi4"]
    lines = (br.EXTERNAL / "board/raspberrypi4-64/cmdline.txt").read_text().splitlines()
    assert len(lines) == 1                      # the firmware reads one line
    numbers = card_numbers()
    want = []
    for w in offline_append(t):
        w = w.replace("@CONSOLE@", t.console)
        for letter, role in zip("abc", ("root", "model", "data")):  # QEMU's vda, vdb, vdc
            w = w.replace(f"@DISK@{letter}", f"{t.disk_prefix}{numbers[role]}")
        want.append(w)
    assert shlex.split(lines[0]) == want
