"""Readers for the Buildroot external tree (buildroot/): defconfigs, Kconfig files,
package .mk files, .hash files and genimage configs.  Test helpers only: no
Buildroot checkout is needed (or downloaded) to use them."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXTERNAL = REPO / "buildroot"
EXTERNAL_VAR = "BR2_EXTERNAL_LLMOS_PATH"

_DEFCONFIG_SET = re.compile(r"^(BR2_[A-Za-z0-9_]+)=(.*)$")
_DEFCONFIG_UNSET = re.compile(r"^# (BR2_[A-Za-z0-9_]+) is not set$")


def defconfigs() -> dict[str, Path]:
    return {p.name: p for p in sorted((EXTERNAL / "configs").glob("*_defconfig"))}


def read_defconfig(path: Path) -> dict[str, str]:
    """SYMBOL -> value ('y', 'n' for "is not set", strings unquoted)."""
    out: dict[str, str] = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if m := _DEFCONFIG_SET.match(line):
            value = m.group(2)
            if value.startswith('"'):
                if not (value.endswith('"') and len(value) >= 2):
                    raise ValueError(f"{path.name}:{n}: unterminated string")
                value = value[1:-1]
            if m.group(1) in out:
                raise ValueError(f"{path.name}:{n}: {m.group(1)} set twice")
            out[m.group(1)] = value
        elif m := _DEFCONFIG_UNSET.match(line):
            out[m.group(1)] = "n"
        elif line and not line.startswith("#"):
            raise ValueError(f"{path.name}:{n}: not a defconfig line: {line!r}")
    return out


def expand_external(value: str) -> str:
    """$(BR2_EXTERNAL_LLMOS_PATH) and $BR2_EXTERNAL_LLMOS_PATH -> buildroot/."""
    return value.replace(f"$({EXTERNAL_VAR})", str(EXTERNAL)).replace(f"${EXTERNAL_VAR}", str(EXTERNAL))


def external_paths(value: str) -> list[Path]:
    """The paths of a whitespace-separated value that start in the external tree."""
    return [Path(expand_external(w)).resolve() for w in value.split()
            if EXTERNAL_VAR in w]


# ---- Kconfig -----------------------------------------------------------------

def config_in_files() -> list[Path]:
    """Config.in and every file it sources (recursively), in order."""
    seen: list[Path] = []

    def visit(path: Path) -> None:
        seen.append(path)
        for line in path.read_text().splitlines():
            m = re.match(r'^\s*source\s+"([^"]+)"', line)
            if m:
                visit(Path(expand_external(m.group(1))))
    visit(EXTERNAL / "Config.in")
    return seen


def sourced_paths() -> list[tuple[Path, Path]]:
    """(Config.in file, path it sources) pairs, without following them."""
    out = []
    for f in [EXTERNAL / "Config.in", *sorted(EXTERNAL.glob("package/*/Config.in"))]:
        for line in f.read_text().splitlines():
            m = re.match(r'^\s*source\s+"([^"]+)"', line)
            if m:
                out.append((f, Path(expand_external(m.group(1)))))
    return out


def declared_symbols(files: list[Path]) -> set[str]:
    syms = set()
    for f in files:
        for line in f.read_text().splitlines():
            m = re.match(r"^\s*(?:menu)?config\s+([A-Za-z0-9_]+)\s*$", line)
            if m:
                syms.add(m.group(1))
    return syms


def referenced_symbols(files: list[Path]) -> set[str]:
    """Symbols named by depends on / select / default ... if / if blocks."""
    refs = set()
    for f in files:
        for line in f.read_text().splitlines():
            s = line.strip()
            if re.match(r"^(depends on|select|imply|default|if|visible if)\b", s):
                refs.update(re.findall(r"\bBR2_[A-Za-z0-9_]+", s.split("#", 1)[0]))
    return refs


# ---- package .mk files -------------------------------------------------------

@dataclass
class Package:
    name: str
    dir: Path
    mk_text: str
    variables: dict[str, str] = field(default_factory=dict)
    evals: list[str] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return self.name.upper().replace("-", "_")

    def var(self, suffix: str, host: bool = False) -> str | None:
        return self.variables.get(("HOST_" if host else "") + f"{self.prefix}_{suffix}")

    def expand(self, value: str, extra: dict[str, str] | None = None) -> str:
        """Expand $(VAR) references to variables this .mk defines (others stay)."""
        env = dict(self.variables, **(extra or {}))
        env.setdefault(EXTERNAL_VAR, str(EXTERNAL))
        for _ in range(10):
            new = re.sub(r"\$\(([A-Za-z0-9_]+)\)", lambda m: env.get(m.group(1), m.group(0)), value)
            if new == value:
                break
            value = new
        return value


def _logical_lines(text: str) -> list[str]:
    lines, cur = [], ""
    for raw in text.splitlines():
        if raw.endswith("\\"):
            cur += raw[:-1] + " "
            continue
        lines.append(cur + raw)
        cur = ""
    if cur:
        lines.append(cur)
    return lines


def read_package(pkg_dir: Path) -> Package:
    mk = pkg_dir / f"{pkg_dir.name}.mk"
    text = mk.read_text()
    pkg = Package(pkg_dir.name, pkg_dir, text)
    depth = 0  # inside define ... endef
    for line in _logical_lines(text):
        s = line.strip()
        if s.startswith("define "):
            depth += 1
            continue
        if s == "endef":
            depth -= 1
            continue
        if depth:
            continue
        if m := re.match(r"^\$\(eval \$\(([a-z-]+)\)\)$", s):
            pkg.evals.append(m.group(1))
        elif m := re.match(r"^([A-Z0-9_]+)\s*(\+=|\?=|:=|=)\s*(.*)$", s):
            name, op, value = m.groups()
            value = " ".join(value.split())
            if op == "+=" and name in pkg.variables:
                pkg.variables[name] = f"{pkg.variables[name]} {value}".strip()
            elif op != "?=" or name not in pkg.variables:
                pkg.variables[name] = value
    return pkg


def packages() -> list[Package]:
    return [read_package(d) for d in sorted((EXTERNAL / "package").iterdir()) if d.is_dir()]


def read_hash(path: Path) -> dict[str, tuple[str, str]]:
    """file name -> (algorithm, digest); raises on malformed lines."""
    out = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 3 or parts[0] not in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512"):
            raise ValueError(f"{path.name}:{n}: not '<algo>  <hash>  <file>': {line!r}")
        algo, digest, name = parts
        if algo == "sha256" and not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise ValueError(f"{path.name}:{n}: not a sha256: {digest}")
        out[name] = (algo, digest)
    return out


# ---- genimage (the libconfuse subset genimage configs use) ---------------------

@dataclass
class Section:
    kind: str
    name: str | None
    options: dict[str, object] = field(default_factory=dict)
    children: list["Section"] = field(default_factory=list)

    def child(self, kind: str, name: str | None = None) -> "Section | None":
        for c in self.children:
            if c.kind == kind and (name is None or c.name == name):
                return c
        return None


_TOKEN = re.compile(r'\s*(?:(#[^\n]*|//[^\n]*|/\*.*?\*/)|("(?:[^"\\]|\\.)*")|([{}=,])|([^\s{}=,"]+))', re.S)


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip():
                raise ValueError(f"genimage: cannot parse near {text[pos:pos + 30]!r}")
            break
        pos = m.end()
        if m.group(1):
            continue
        out.append(m.group(2) or m.group(3) or m.group(4))
    return out


def _value(tok: str) -> str:
    return tok[1:-1] if tok.startswith('"') else tok


def parse_genimage(text: str) -> Section:
    toks = _tokens(text)
    i = 0

    def parse_body(sec: Section, closing: bool) -> None:
        nonlocal i
        while i < len(toks):
            t = toks[i]
            if t == "}":
                if not closing:
                    raise ValueError("genimage: unbalanced }")
                i += 1
                return
            if i + 1 < len(toks) and toks[i + 1] == "=":
                i += 2
                if toks[i] == "{":   # a list: { "a", "b" }
                    i += 1
                    items = []
                    while toks[i] != "}":
                        if toks[i] != ",":
                            items.append(_value(toks[i]))
                        i += 1
                    i += 1
                    sec.options[t] = items
                else:
                    sec.options[t] = _value(toks[i])
                    i += 1
            elif i + 1 < len(toks) and toks[i + 1] == "{":
                child = Section(t, None)
                i += 2
                parse_body(child, True)
                sec.children.append(child)
            elif i + 2 < len(toks) and toks[i + 2] == "{":
                child = Section(t, _value(toks[i + 1]))
                i += 3
                parse_body(child, True)
                sec.children.append(child)
            else:
                raise ValueError(f"genimage: unexpected {t!r}")
        if closing:
            raise ValueError("genimage: missing }")

    root = Section("root", None)
    parse_body(root, False)
    return root


def genimage_size_bytes(size: str) -> int:
    m = re.fullmatch(r"(\d+)([KMG]?)", size)
    if not m:
        raise ValueError(f"genimage: bad size {size!r}")
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2)]
