"""Extract the help-text dev set's phrases (phrases.jsonl) from the tools' own help.

    python3 tests/eval/helptext/extract.py [--debs DIR] [--out FILE]

A second set of outside wording, from documents that are neither manual pages (the frozen
held-out set, tests/eval/manpages/) nor the outside dev set's (tests/eval/outside/: gio,
systemd, Python):

- **BusyBox's applet help** (Debian bookworm `busybox`), English: the description line that
  follows the usage lines of `busybox APPLET --help`, run from the unpacked package.
- **Message catalogues** (zh_CN) of bash's builtins, coreutils, findutils, psmisc and
  util-linux: a message whose first line is one sentence of at most 100 characters with no
  placeholder gives its first line as a phrase, the English original (lang "en") and the
  zh_CN team's translation (lang "zh"), keyed by the English. coreutils' and findutils'
  English is left out: their --help text is what their manual pages are generated from, so
  it is the frozen set's wording; their Chinese is the Translation Project's, not
  manpages-zh's.

Nothing here chooses or edits wording: build.py picks phrases by (lang, command, key).
The output is committed; rerunning with the same package versions reproduces it.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.eval.manpages.extract import write_phrases  # noqa: E402
from tests.eval.outside.extract import catalogue_phrases, command_line, debs_of, unpacked  # noqa: E402

PACKAGES = {"busybox": "1:1.35.0-4+deb12u1+b1", "bash": "5.2.15-2+b13", "coreutils": "9.1-1",
            "findutils": "4.9.0-4", "psmisc": "23.6-1", "util-linux-locales": "2.38.1-5+deb12u3"}
# (command recorded, package, catalogue inside it, languages taken)
CATALOGUES = [
    ("bash", "bash", "usr/share/locale/zh_CN/LC_MESSAGES/bash.mo", ("en", "zh")),
    ("coreutils", "coreutils", "usr/share/locale/zh_CN/LC_MESSAGES/coreutils.mo", ("zh",)),
    ("findutils", "findutils", "usr/share/locale/zh_CN/LC_MESSAGES/findutils.mo", ("zh",)),
    ("psmisc", "psmisc", "usr/share/locale/zh_CN/LC_MESSAGES/psmisc.mo", ("en", "zh")),
    ("util-linux", "util-linux-locales", "usr/share/locale/zh_CN/LC_MESSAGES/util-linux.mo",
     ("en", "zh")),
]


def busybox_description(binary: str, applet: str) -> str | None:
    """The line after the usage lines ('Usage: ...', '\tor: ...') of the applet's --help."""
    out = subprocess.run([binary, applet, "--help"], capture_output=True, text=True).stderr
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Usage:"):
            j = i + 1
            while j < len(lines) and lines[j].strip().startswith("or:"):
                j += 1
            for rest in lines[j:]:
                if rest.strip():
                    text = rest.strip()
                    return text if not text.startswith("-") and not rest.startswith("\t") else None
    return None


def busybox_phrases(root: str, version: str) -> list[dict]:
    binary = os.path.join(root, "bin", "busybox")
    applets = subprocess.run([binary, "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    rows = []
    for applet in sorted(applets):
        text = busybox_description(binary, applet)
        if text and text != "No help available":
            rows.append({"lang": "en", "command": applet, "page": "busybox", "section": "usage",
                         "key": "usage", "text": text, "package": "busybox", "version": version})
    return rows


def main(argv: list[str] | None = None) -> int:
    args = command_line(argv, __doc__.splitlines()[0], HERE)
    debs = debs_of(PACKAGES, args.debs)
    rows = []
    with tempfile.TemporaryDirectory(prefix="helptext-src-") as tmp:
        roots = {pkg: unpacked(debs[pkg], pkg, PACKAGES[pkg], tmp) for pkg in PACKAGES}
        rows += busybox_phrases(*roots["busybox"])
        for command, pkg, rel, langs in CATALOGUES:
            root, version = roots[pkg]
            rows += catalogue_phrases(command, pkg, version, os.path.join(root, rel), langs, first_line=True)
    write_phrases(args.out, rows)
    print(f"{args.out}: {len(rows)} phrases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
