"""`python -m mkimage [kernel|wheel|image] [--target NAME]`: the offline image build."""
from __future__ import annotations

import argparse
import contextlib
import os
import sys

from . import targets


def run_step(a: argparse.Namespace, target: targets.Target):
    if a.step == "kernel":
        from . import kernel
        return kernel.build(target)
    if a.step == "wheel":
        from . import wheel
        return wheel.build(target.arch)
    if a.step == "model":
        from . import model
        return model.resolve(a.model)
    if target.base:  # a board's SD card, assembled from its QEMU target's images
        from . import sdcard
        sdcard.build(target, model_path=a.model, out=a.out)
    else:
        from . import image
        image.build(target, model_path=a.model, out=a.out, version=a.version)
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="mkimage")
    ap.add_argument("step", nargs="?", default="image", choices=["kernel", "wheel", "model", "image"])
    ap.add_argument("--target", default="x86_64")
    ap.add_argument("--model", help="a GGUF file to build with instead of the default model")
    ap.add_argument("--out", help="output directory (default images/<target>)")
    ap.add_argument("--version", help="the version the image says it is (/etc/llmos/release)")
    a = ap.parse_args(argv)
    target = targets.get(a.target)
    # The printed result (a path) is the only thing on stdout: callers capture it, e.g.
    # `pip install "$(python -m mkimage wheel)"`. Everything the steps and the tools they
    # run (pip, make, apt-get) print goes to stderr.
    sys.stdout.flush()
    real_stdout = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            result = run_step(a, target)
    finally:
        sys.stdout.flush()
        os.dup2(real_stdout, 1)
        os.close(real_stdout)
    if result is not None:
        print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
