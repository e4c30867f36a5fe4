"""The Raspberry Pi's A/B boot (llmos_init/update/autoboot.py, tryboot.py) without a Pi:
autoboot.txt in real FAT file systems made by mkfs.vfat and mtools, the card's partitions
as files, PID 1's boot step, commit and reboot argument on them."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from llmos_init.update import autoboot, bootstate, commit, slots, tryboot

pytestmark = pytest.mark.skipif(not (shutil.which("mkfs.vfat") and shutil.which("mcopy")),
                                reason="mkfs.vfat and mtools needed (make deps TARGET=rpi4)")
MTOOLS = dict(os.environ, MTOOLS_SKIP_CHECK="1")


def fat(path, fat_bits: int, files: dict[str, str], size_mb: int = 4):
    """A FAT file system image holding files (in this order: autoboot.txt need not be first)."""
    subprocess.run(["mkfs.vfat", "-F", str(fat_bits), "-s", "1", "-S", "512", "-C", str(path),
                    str(size_mb * 1024)], check=True, stdout=subprocess.DEVNULL)
    src = path.parent / "src"
    src.mkdir(exist_ok=True)
    for name, text in files.items():
        (src / name).write_text(text)
        subprocess.run(["mcopy", "-i", str(path), str(src / name), f"::{name}"], check=True, env=MTOOLS)
    return path


def mtype(path, name="autoboot.txt") -> str:
    return subprocess.run(["mtype", "-i", str(path), f"::{name}"], check=True, env=MTOOLS,
                          capture_output=True, text=True).stdout


@pytest.mark.parametrize("bits,size_mb", [(16, 4), (32, 40)])
def test_autoboot_txt_is_found_read_and_swapped_in_place(tmp_path, bits, size_mb):
    other = {f"a-long-file-name-{i}.txt": "x" * 700 * i for i in range(1, 4)}
    img = fat(tmp_path / "p1.vfat", bits, {**other, "autoboot.txt": autoboot.text(2, 3)}, size_mb)
    assert autoboot.read(str(img)) == (2, 3)
    before = img.read_bytes()
    autoboot.commit(str(img), 3, 2)
    after = img.read_bytes()
    assert autoboot.read(str(img)) == (3, 2)
    assert mtype(img) == autoboot.text(3, 2)                     # what any FAT reader sees
    changed = {i // 512 for i in range(len(before)) if before[i] != after[i]}
    assert len(changed) == 1                                     # one sector, nothing else
    for name, text in other.items():
        assert mtype(img, name) == text
    if shutil.which("fsck.vfat"):
        r = subprocess.run(["fsck.vfat", "-n", str(img)], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
    autoboot.commit(str(img), 3, 2)                              # again: nothing to do
    assert img.read_bytes() == after


def test_an_autoboot_txt_that_is_not_ours_is_left_alone(tmp_path):
    edited = "# edited on a PC\n" + autoboot.text(2, 3)
    img = fat(tmp_path / "p1.vfat", 16, {"autoboot.txt": edited})
    before = img.read_bytes()
    with pytest.raises(autoboot.AutobootError, match="not ours to rewrite"):
        autoboot.commit(str(img), 3, 2)
    assert img.read_bytes() == before
    assert autoboot.read(str(img)) == (2, 3)                     # still readable
    with pytest.raises(autoboot.AutobootError, match="no autoboot.txt"):
        autoboot.read(str(fat(tmp_path / "empty.vfat", 16, {"config.txt": "x\n"})))
    with pytest.raises(autoboot.AutobootError, match="tryboot"):
        autoboot.parse("[all]\nboot_partition=2\n")
    with pytest.raises(ValueError):
        autoboot.text(2, 10)


def card(tmp_path, state: dict[str, str], booted: str, committed_part: int = 2):
    """The card's partitions as files <dir>/<n>: 1 autoboot (FAT16), 5 the boot state."""
    d = tmp_path / "card"
    d.mkdir()
    other = 3 if committed_part == 2 else 2
    fat(d / "1", 16, {"autoboot.txt": autoboot.text(committed_part, other)})
    (d / "5").write_bytes(bootstate.format_state(state))
    (tmp_path / "root").mkdir()
    return slots.Layout(str(d), f"{d}/", booted, "tryboot", "rpi4"), str(tmp_path / "root")


def test_the_reboot_after_an_install_is_the_one_try(tmp_path):
    lay, root = card(tmp_path, {"slot": "a", "try": "b", "tries": "1", "version_b": "1.2"}, "a")
    assert tryboot.start_try(lay) == "0 tryboot"                # installed: the next reboot tries
    assert bootstate.read(lay.state)["tries"] == "0"            # ... and that was its one try
    assert tryboot.start_try(lay) is None
    lay_b = lay.with_prefix(lay.prefix)
    lay_b.booted = "b"                                          # the firmware booted partition 3
    line, trying = commit.at_boot(lay_b, root)
    assert trying and "trying it" in line
    assert bootstate.read(lay.state)["tries"] == "0"
    assert tryboot.start_try(lay_b) is None                     # a reboot now goes back


def test_a_try_that_died_before_pid1_is_reported_as_rolled_back(tmp_path):
    # the try's kernel panicked (panic=5: a reset without the tryboot flag): slot A again
    lay, root = card(tmp_path, {"slot": "a", "try": "b", "tries": "1", "version_b": "1.2"}, "a")
    assert tryboot.start_try(lay) == "0 tryboot"
    line, trying = commit.at_boot(lay, root)
    assert not trying and "rolled back from slot b" in line
    assert "try" not in bootstate.read(lay.state)


def test_a_try_that_did_not_commit_is_reported_as_rolled_back(tmp_path):
    lay, root = card(tmp_path, {"slot": "a", "try": "b", "tries": "0", "version_a": "1.1",
                                "version_b": "1.2"}, "a")
    line, trying = commit.at_boot(lay, root)
    assert not trying and "rolled back from slot b" in line
    note = (tmp_path / "root/run/llmos/update-note").read_text()
    assert "1.2 (slot b) did not come up healthy" in note and "running 1.1 in slot a" in note
    assert bootstate.read(lay.state) == {"slot": "a", "version_a": "1.1", "version_b": "1.2"}
    assert autoboot.read(lay.config) == (2, 3)


def test_a_try_that_never_started_stays_asked_for(tmp_path):
    # installed, then powered off before the restart: the tryboot flag was never set
    lay, root = card(tmp_path, {"slot": "a", "try": "b", "tries": "1", "version_b": "1.2"}, "a")
    line, trying = commit.at_boot(lay, root)
    assert not trying and "tried at the next restart" in line
    assert bootstate.read(lay.state)["try"] == "b"
    assert tryboot.start_try(lay) == "0 tryboot"


def test_a_healthy_try_commits_autoboot_txt_then_the_state(tmp_path):
    lay, root = card(tmp_path, {"slot": "a", "try": "b", "tries": "1", "version_b": "1.2"}, "b")
    line, trying = commit.at_boot(lay, root)
    assert trying
    t = [0.0]
    c = commit.Committer(lay, watchdog_ok=lambda: True, console_pid=lambda: 7, reboot=lambda: None,
                         log=lambda m: None, clock=lambda: t[0], root=root)
    assert not c.check()
    t[0] = commit.HEALTHY_S + 1
    assert c.check()
    assert autoboot.read(lay.config) == (3, 2)                  # the firmware now boots b
    assert bootstate.read(lay.state) == {"slot": "b", "version_b": "1.2"}
    assert tryboot.start_try(lay) is None


def test_a_cut_between_autoboot_txt_and_the_state_is_finished_at_the_next_boot(tmp_path):
    # autoboot.txt says b (committed), the state still says try=b
    lay, root = card(tmp_path, {"slot": "a", "try": "b", "tries": "0", "version_b": "1.2"}, "b",
                     committed_part=3)
    line, trying = commit.at_boot(lay, root)
    assert not trying and line.endswith("committed")
    assert bootstate.read(lay.state) == {"slot": "b", "version_b": "1.2"}


def test_the_committed_slot_is_autoboot_txts_not_the_states(tmp_path):
    # a card whose autoboot.txt was set back to slot a by hand (README: recovery)
    lay, root = card(tmp_path, {"slot": "b", "version_b": "1.2"}, "a")
    line, _ = commit.at_boot(lay, root)
    assert bootstate.read(lay.state)["slot"] == "a" and line.endswith("committed")


def test_pid1_reboots_with_the_firmware_argument_only_when_one_is_asked_for(monkeypatch):
    from llmos_init.platform import Pid1Platform
    from llmos_init.sys import power
    calls = []
    monkeypatch.setattr(power, "restart", lambda: calls.append("restart"))
    monkeypatch.setattr(power, "restart_with", lambda a: calls.append(a))
    p = Pid1Platform()
    p.power("reboot")
    p.reboot_argument = lambda: "0 tryboot"
    p.power("reboot")
    p.reboot_argument = lambda: None
    p.power("reboot")

    def broken():
        raise OSError("unreadable boot state")
    p.reboot_argument = broken                                  # never stops the reboot
    p.power("reboot")
    assert calls == ["restart", "0 tryboot", "restart", "restart"]


@pytest.mark.parametrize("bad", ["", "0\0tryboot", None])
def test_the_reboot_argument_is_checked_before_any_system_call(bad):
    from llmos_init.sys import power
    with pytest.raises(ValueError):
        power.restart_with(bad, sync=False)
