"""Loading the model never takes the console's terminal away (fds 1 and 2 stay put).

llama_cpp, when not verbose, dup2()s the process's stdout/stderr to /dev/null while a
model loads; the console writes its echo and prompts to those fds from another thread
while the model loads in the background, so they must keep working throughout.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from llmos_init.planner.models import find_model

CHILD = textwrap.dedent("""
    import os, sys, threading, time
    from llmos_init.planner.runtime import ModelRuntime, default_threads
    written = 0
    stop = threading.Event()
    def tick():
        global written
        while not stop.is_set():
            os.write(1, b"tick\\n"); written += 1
            time.sleep(0.002)
    t = threading.Thread(target=tick); t.start()
    rt = ModelRuntime(sys.argv[1], threads=default_threads())
    rt.load(use_state_file=False)
    stop.set(); t.join()
    os.write(2, f"written={written}\\n".encode())
""")


def test_model_load_keeps_stdout_working():
    model = find_model()
    if not model:
        pytest.skip("no model found (run `make image` or set LLMOS_MODEL)")
    pytest.importorskip("llama_cpp")
    r = subprocess.run([sys.executable, "-c", CHILD, model], capture_output=True, text=True,
                       timeout=600, cwd=os.getcwd())
    assert r.returncode == 0, r.stderr
    written = int(r.stderr.strip().rsplit("written=", 1)[1])
    received = r.stdout.count("tick\n")
    assert written > 0
    assert received == written, f"{written - received} writes to fd 1 were lost while loading"
