"""`python -m mkimage [kernel|wheel|image] [--target NAME]`: the offline image build."""
from __future__ import annotations

import argparse
import sys

from . import targets


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="mkimage")
    ap.add_argument("step", nargs="?", default="image", choices=["kernel", "wheel", "model", "image"])
    ap.add_argument("--target", default="x86_64")
    ap.add_argument("--model", help="a GGUF file to build with instead of the default model")
    ap.add_argument("--out", help="output directory (default images/<target>)")
    a = ap.parse_args(argv)
    target = targets.get(a.target)
    if a.step == "kernel":
        from . import kernel
        print(kernel.build(target))
    elif a.step == "wheel":
        from . import wheel
        print(wheel.build(target.arch))
    elif a.step == "model":
        from . import model
        print(model.resolve(a.model))
    else:
        from . import image
        image.build(target, model_path=a.model, out=a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
