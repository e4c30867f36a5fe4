"""`python -m mkimage STEP` prints only its result on stdout (Makefile captures it)."""
from __future__ import annotations

import subprocess
import sys

from mkimage import __main__ as cli
from mkimage import wheel


def test_only_the_result_reaches_stdout(monkeypatch, capfd):
    def noisy_build(arch):
        print("Building wheel ... (python print)")
        subprocess.run([sys.executable, "-c", "print('pip says things on its stdout')"], check=True)
        return "/cache/wheel/llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl"

    monkeypatch.setattr(wheel, "build", noisy_build)
    assert cli.main(["wheel"]) == 0
    out, err = capfd.readouterr()
    assert out == "/cache/wheel/llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl\n"
    assert "pip says things" in err and "python print" in err
