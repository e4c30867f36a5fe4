import pytest

from bench.boot import compare, phases, summarize
from bench.guest import BootResult
from bench.serial import BootMarks


def result(kernel, pid1, prompt, ready=None, ok=True, init_line=None):
    return BootResult(ok, BootMarks(kernel_start=kernel, pid1_start=pid1,
                                    init_first_line=init_line), prompt=prompt,
                      model_ready=ready)


def test_phases_of_one_boot():
    p = phases(result(1.0, 5.0, 9.5, 70.0, init_line=5.75))
    assert p == {"qemu_to_kernel": 1.0, "kernel_to_pid1": 4.0, "pid1_to_prompt": 4.5,
                 "pid1_to_init_line": 0.75, "init_line_to_prompt": 3.75,
                 "prompt_to_model_ready": 60.5, "to_prompt": 9.5, "to_model_ready": 70.0}
    # the BusyBox baseline prints no init line of its own: those two phases are missing
    b = phases(result(1.0, 5.0, 5.2))
    assert b["pid1_to_init_line"] is None and b["init_line_to_prompt"] is None


def test_missing_milestones_give_missing_phases():
    p = phases(result(None, 5.0, 9.5))
    assert p["qemu_to_kernel"] is None and p["kernel_to_pid1"] is None
    assert p["pid1_to_prompt"] == 4.5 and p["prompt_to_model_ready"] is None


def test_summaries_skip_failed_boots_and_ratios_use_medians():
    llmos = summarize([result(1, 5, 10, 100), result(1, 5, 12), result(1, 5, 99, ok=False)])
    base = summarize([result(1, 4, 5), result(1, 4, 6)])
    assert llmos["to_prompt"]["n"] == 2 and llmos["to_prompt"]["median"] == 11
    assert llmos["to_model_ready"]["n"] == 1
    r = compare(llmos, base)
    assert r["to_prompt"] == pytest.approx(11 / 5.5)
    assert r["to_model_ready"] is None
