"""Extract the outside dev set's phrases (phrases.jsonl) from documentation this project did not write.

    python3 tests/eval/outside/extract.py [--debs DIR] [--out FILE]

Two sources, neither of them a manual page (the frozen held-out set, tests/eval/manpages/,
is built from Debian's manual pages; this set must not share its wording):

- **Message catalogues** of GLib's `gio` tool and of systemd (their polkit actions and
  tool help), in Debian bookworm's `libglib2.0-data` and `systemd` packages: every one-line
  message is a phrase twice, its English original (msgid, lang "en") and the zh_CN team's
  translation (msgstr, lang "zh"), both keyed by the msgid. The packages are fetched with
  mkimage/debian.py (cached), or read from --debs DIR, and unpacked with `dpkg-deb -x`.
- **Python's documentation strings** of the standard-library functions behind the tools
  (os.remove, shutil.copytree, os.kill ...), English only: the first sentence of the
  first paragraph that is not a call signature, from the interpreter running this script
  (its version is recorded in each phrase).

Nothing here chooses or edits wording: build.py picks phrases by (lang, command, key) and
joins them with values, with tests/eval/manpages/build.py's mechanics. The output is
committed; rerunning with the same package and Python versions reproduces it.
"""
from __future__ import annotations

import argparse
import gettext
import importlib
import os
import platform
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.eval.manpages.extract import deb_version, find_deb, write_phrases  # noqa: E402

# package -> the version the committed phrases came from
PACKAGES = {"libglib2.0-data": "2.74.6-2+deb12u9", "systemd": "252.39-1~deb12u2"}
# (command recorded, package, catalogue inside it)
CATALOGUES = [
    ("gio", "libglib2.0-data", "usr/share/locale/zh_CN/LC_MESSAGES/glib20.mo"),
    ("systemd", "systemd", "usr/share/locale/zh_CN/LC_MESSAGES/systemd.mo"),
]
# Python functions whose documentation strings are read (module, attribute path)
PYTHON = [
    ("os", "remove"), ("os", "rmdir"), ("shutil", "rmtree"), ("os", "listdir"),
    ("os", "mkdir"), ("os", "chdir"), ("os", "rename"), ("shutil", "move"), ("shutil", "copy"),
    ("shutil", "copy2"), ("shutil", "copytree"), ("os", "kill"), ("os", "uname"),
    ("socket", "sethostname"), ("socket", "gethostname"), ("shutil", "disk_usage"),
    ("os", "stat"), ("time", "time"), ("os", "getloadavg"), ("os", "cpu_count"),
    ("pathlib", "Path.glob"), ("pathlib", "Path.rglob"), ("pathlib", "Path.read_text"),
    ("pathlib", "Path.mkdir"), ("pathlib", "Path.unlink"), ("pathlib", "Path.rename"),
    ("pathlib", "Path.iterdir"), ("pathlib", "Path.stat"),
]

# A catalogue message is a phrase when it is one line of at most 100 characters with no
# printf or systemd placeholder and starts with a capital letter.
PLACEHOLDER = re.compile(r"%|\$\(|\{\}")
SIGNATURE = re.compile(r"^[\w.]+\(.*\)(\s*->.*)?$")


def catalogue_phrases(command: str, package: str, version: str, path: str,
                      langs: tuple[str, ...] = ("en", "zh"), first_line: bool = False) -> list[dict]:
    """The catalogue's phrases: its one-line messages; with `first_line` (tests/eval/helptext),
    the first line of every message whose first line is one sentence, once each."""
    with open(path, "rb") as f:
        # the parsed catalogue (msgid -> msgstr); gettext keeps it in _catalog
        catalog = gettext.GNUTranslations(f)._catalog
    rows, seen = [], set()
    for msgid in sorted(k for k in catalog if isinstance(k, str)):
        en, zh = msgid.strip(), str(catalog[msgid]).strip()
        if first_line:
            en, zh = en.split("\n")[0].strip(), zh.split("\n")[0].strip()
            if not en.endswith(".") or en in seen:
                continue
            seen.add(en)
        if not en or "\n" in en or len(en) > 100 or PLACEHOLDER.search(en) or not en[0].isupper():
            continue
        for lang, text in (("en", en), ("zh", zh)):
            if text and lang in langs:
                rows.append({"lang": lang, "command": command, "page": os.path.basename(path),
                             "section": "msgid" if lang == "en" else "msgstr zh_CN", "key": en,
                             "text": text, "package": package, "version": version})
    return rows


def first_sentence(doc: str) -> str | None:
    for para in re.split(r"\n\s*\n", doc.strip()):
        text = " ".join(para.split())
        if not text or SIGNATURE.match(text):
            continue
        m = re.match(r"(.+?\.)(\s|$)", text)
        return (m.group(1) if m else text).strip()
    return None


def python_phrases() -> list[dict]:
    version = platform.python_version()
    rows = []
    for module, attr in PYTHON:
        obj = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
        text = first_sentence(obj.__doc__ or "")
        if text:
            rows.append({"lang": "en", "command": "python", "page": f"{module}.{attr}",
                         "section": "docstring", "key": f"{module}.{attr}", "text": text,
                         "package": "python", "version": version})
    return rows


def command_line(argv: list[str] | None, description: str, here: str) -> argparse.Namespace:
    """--debs DIR and --out FILE, as this script and tests/eval/helptext/extract.py take them."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--debs", help="directory holding the .deb files (default: mkimage/debian.py's cache)")
    ap.add_argument("--out", default=os.path.join(here, "phrases.jsonl"))
    return ap.parse_args(argv)


def debs_of(packages: dict[str, str], debdir: str | None) -> dict[str, str]:
    """package -> .deb: from `debdir`, or fetched (cached) with mkimage/debian.py."""
    if debdir:
        return {p: find_deb(debdir, p) for p in packages}
    from mkimage import debian
    return {p: str(d) for p, d in debian.download(list(packages), debian.host_arch()).items()}


def unpacked(deb: str, pkg: str, expected: str, tmp: str) -> tuple[str, str]:
    """(the directory `deb` is unpacked in under tmp, its version), warning when the version
    is not the one the committed phrases came from."""
    version = deb_version(deb)
    if version != expected:
        print(f"warning: {pkg} is {version}, the set was built from {expected}", file=sys.stderr)
    root = os.path.join(tmp, pkg)
    if not os.path.isdir(root):
        subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
    return root, version


def main(argv: list[str] | None = None) -> int:
    args = command_line(argv, __doc__.splitlines()[0], HERE)
    debs = debs_of(PACKAGES, args.debs)
    rows = []
    with tempfile.TemporaryDirectory(prefix="outside-src-") as tmp:
        for command, pkg, rel in CATALOGUES:
            root, version = unpacked(debs[pkg], pkg, PACKAGES[pkg], tmp)
            rows += catalogue_phrases(command, pkg, version, os.path.join(root, rel))
    rows += python_phrases()
    write_phrases(args.out, rows)
    print(f"{args.out}: {len(rows)} phrases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
