"""Cache keys change exactly when a step's inputs change; kernel fragments are checked."""
from __future__ import annotations

from pathlib import Path

from mkimage import cache, kernel, targets


def test_key_depends_on_file_content_not_mtime(tmp_path):
    f = tmp_path / "frag.config"
    f.write_text("CONFIG_A=y\n")
    k1 = cache.key("x", f)
    f.touch()
    assert cache.key("x", f) == k1
    f.write_text("CONFIG_A=n\n")
    assert cache.key("x", f) != k1
    assert cache.key("y", f) != cache.key("x", f)


def test_building_is_atomic(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMOS_CACHE", str(tmp_path))
    try:
        with cache.building("step", "k1") as d:
            (d / "half").write_text("x")
            raise RuntimeError("interrupted")
    except RuntimeError:
        pass
    assert not cache.is_done(cache.entry("step", "k1"))
    with cache.building("step", "k1") as d:
        (d / "out").write_text("ok")
    assert cache.is_done(cache.entry("step", "k1"))
    assert (cache.entry("step", "k1") / "out").read_text() == "ok"


def test_cache_root_honours_llmos_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("LLMOS_CACHE", str(tmp_path / "c"))
    assert cache.cache_root() == tmp_path / "c"


def test_missing_options_detects_dropped_dependencies():
    wanted = {"CONFIG_SQUASHFS": "y", "CONFIG_EXT4_FS": "y", "CONFIG_FOO": "n"}
    config = "CONFIG_EXT4_FS=y\n# CONFIG_SQUASHFS is not set\n"
    assert kernel.missing_options(config, wanted) == ["CONFIG_SQUASHFS: wanted y, got n"]


def test_fragments_ask_for_what_the_issue_names():
    t = targets.get("x86_64")
    opts = kernel.requested_options(t.fragment_paths)
    for name in ["CONFIG_SERIAL_8250_CONSOLE", "CONFIG_VIRTIO_BLK", "CONFIG_VIRTIO_NET",
                 "CONFIG_HW_RANDOM_VIRTIO", "CONFIG_VIRTIO_CONSOLE", "CONFIG_SQUASHFS_ZSTD",
                 "CONFIG_EXT4_FS", "CONFIG_DEVTMPFS", "CONFIG_TMPFS", "CONFIG_ACPI",
                 "CONFIG_RTC_CLASS", "CONFIG_I6300ESB_WDT", "CONFIG_UNIX", "CONFIG_INET",
                 "CONFIG_FUTEX", "CONFIG_EPOLL", "CONFIG_EVENTFD", "CONFIG_SIGNALFD",
                 "CONFIG_TIMERFD", "CONFIG_ADVISE_SYSCALLS", "CONFIG_BINFMT_SCRIPT"]:
        assert opts.get(name) == "y", name
    assert all(p.exists() for p in t.fragment_paths)


def test_key_hashes_files_inside_lists(tmp_path):
    """Fragments are passed as a list: their content, not their path, is in the key."""
    a, b = tmp_path / "a.config", tmp_path / "b.config"
    a.write_text("CONFIG_A=y\n")
    b.write_text("CONFIG_B=y\n")
    k1 = cache.key([a, b], {"x": a})
    b.write_text("CONFIG_B=n\n")
    k2 = cache.key([a, b], {"x": a})
    assert k1 != k2
    a.write_text("CONFIG_A=n\n")
    assert cache.key([a, b], {"x": a}) != k2


def test_a_patched_tree_leaves_the_shared_tree_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMOS_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "linux-source-6.1"
    (src / "drivers").mkdir(parents=True)
    (src / "drivers/a.c").write_text("int a;\n")
    (src / "drivers/b.c").write_text("int b;\n")
    patch = tmp_path / "a.patch"
    patch.write_text("--- a/drivers/a.c\n+++ b/drivers/a.c\n@@ -1 +1,2 @@\n int a;\n+int tryboot;\n")
    out = kernel.patched_tree(src, [patch])
    assert out.name == src.name and out != src
    assert (out / "drivers/a.c").read_text() == "int a;\nint tryboot;\n"
    assert (src / "drivers/a.c").read_text() == "int a;\n"           # the shared tree as it was
    assert (out / "drivers/b.c").stat().st_ino == (src / "drivers/b.c").stat().st_ino   # linked
    assert kernel.patched_tree(src, [patch]) == out                  # cached


def test_the_arm64_kernel_carries_the_tryboot_patch_and_x86_none():
    """The Pi's `reboot "0 tryboot"` needs it (mainline 6.1 sets no tryboot flag); it
    applies to the Debian source the build uses when that is in the cache."""
    for name in ("aarch64-virt", "rpi4"):
        t = targets.get(name)
        assert [p.name for p in t.kernel_patch_paths] == ["rpi-firmware-tryboot.patch"]
        assert all(p.is_file() for p in t.kernel_patch_paths)
    assert targets.get("x86_64").kernel_patches == ()
    text = targets.get("rpi4").kernel_patch_paths[0].read_text()
    assert "RPI_FIRMWARE_SET_REBOOT_FLAGS 0x00038064" in text and 'strstr(data, " tryboot")' in text
    assert "register_reboot_notifier" in text
