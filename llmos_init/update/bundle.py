"""The update bundle: one uncompressed tar (ustar) file, its members in this order:

  manifest.json     {"format": 1, "version", "target", "created",
                     "files": [{"name", "part", "bytes", "sha256"}, ...]}
                    part: what of the slot the file is written into, one file each
                    (slots.py: "kernel" and "root" under U-Boot, "boot" and "root" on
                    the Pi, whose slot starts with a FAT boot partition)
  manifest.sig      the ed25519 signature (64 bytes) of manifest.json's exact bytes
  <each file>       in the manifest's order (bzImage or Image / boot.vfat, rootfs.squashfs)

The signature covers the manifest and the manifest the files' sizes and SHA-256, so a
verified manifest vouches for every byte. open_bundle() checks the signature (PyNaCl:
Debian's python3-nacl, libsodium) and the target; verify() reads every file through and
checks sizes and hashes, and that nothing else is in the bundle. Neither writes anything:
a corrupt, unsigned, wrong-target or truncated bundle is refused before a byte is written.
Standard library (json and tarfile imported when used) and PyNaCl.
mkimage/bundle.py makes and signs bundles; the image carries the public key (PUBLIC_KEY).
"""
from __future__ import annotations

import hashlib

FORMAT = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "/etc/llmos/update.pub"      # 32 raw bytes, hex-encoded (64 characters)
RELEASE = "/etc/llmos/release"           # version=..., target=... (mkimage/image.py)
PARTS = ("kernel", "root")               # a slot under U-Boot (slots.SCHEMES)
MANIFEST_MAX = 64 * 1024
CHUNK = 1 << 20


class BundleError(ValueError):
    """Why a bundle is refused."""


class Bundle:
    """A bundle whose manifest is signed by the trusted key and made for this target.
    files: [(manifest entry, offset of its data in the bundle file)]."""

    def __init__(self, path: str, manifest: dict, files: list[tuple[dict, int]], size: int, digest: str = ""):
        self.path = path
        self.manifest = manifest
        self.files = files
        self.size = size
        self.digest = digest     # SHA-256 of the manifest's exact bytes: what the question showed

    @property
    def version(self) -> str:
        return str(self.manifest["version"])

    @property
    def target(self) -> str:
        return str(self.manifest["target"])

    @property
    def payload_bytes(self) -> int:
        return sum(e["bytes"] for e, _ in self.files)


def release_text(version: str, target: str) -> str:
    """What RELEASE holds (mkimage/image.py and Buildroot's offline.py write it)."""
    return f"version={version}\ntarget={target}\n"


def read_release(path: str = RELEASE) -> dict[str, str]:
    """This system's version and target, {} when the file is missing."""
    try:
        with open(path) as f:
            return dict(line.strip().partition("=")[::2] for line in f if "=" in line)
    except OSError:
        return {}


def load_public_key(path: str = PUBLIC_KEY) -> bytes:
    try:
        with open(path) as f:
            key = bytes.fromhex(f.read().strip())
    except (OSError, ValueError) as e:
        raise BundleError(f"no trusted update key ({path}: {e})") from None
    if len(key) != 32:
        raise BundleError(f"{path}: not an ed25519 public key")
    return key


def check_signature(public_key: bytes, message: bytes, signature: bytes) -> None:
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey
    try:
        VerifyKey(public_key).verify(message, signature)
    except (BadSignatureError, ValueError, TypeError):
        raise BundleError("the signature does not match the trusted update key "
                          "(not signed, signed by another key, or altered)") from None


def _check_manifest(m: object, target: str, parts: tuple[str, ...]) -> dict:
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        raise BundleError(f"unknown bundle format {m.get('format') if isinstance(m, dict) else m!r}")
    if m.get("target") != target:
        raise BundleError(f"made for target {m.get('target')!r}, this system is {target!r}")
    if not isinstance(m.get("version"), str) or not m["version"]:
        raise BundleError("the manifest has no version")
    files = m.get("files")
    if not isinstance(files, list) or len(files) != len(parts) or \
            sorted(e.get("part") for e in files if isinstance(e, dict)) != sorted(parts):
        raise BundleError(f"the manifest must list one file for each of {', '.join(sorted(parts))}")
    for e in files:
        if not (isinstance(e, dict) and isinstance(e.get("name"), str) and isinstance(e.get("bytes"), int) and e["bytes"] > 0
                and isinstance(e.get("sha256"), str) and len(e["sha256"]) == 64):
            raise BundleError(f"bad manifest entry {e!r}")
    return m


def check_head(raw: bytes, sig: bytes, target: str, public_key: bytes, parts: tuple[str, ...] = PARTS) -> dict:
    """The manifest of a bundle's first two members (its bytes, their signature), once the
    signature is the trusted key's and the manifest is one for this target and slot."""
    import json
    check_signature(public_key, raw, sig)
    try:
        return _check_manifest(json.loads(raw), target, parts)
    except ValueError as e:
        if isinstance(e, BundleError):
            raise
        raise BundleError(f"unreadable manifest: {e}") from None


def open_bundle(path: str, target: str, public_key: bytes, parts: tuple[str, ...] = PARTS) -> Bundle:
    """Read the manifest and its signature; refuse what is not signed for this target or
    does not hold one file for each of `parts` (what this system's slot is made of)."""
    import tarfile  # not at import: the console imports the tools before its prompt
    try:
        with tarfile.open(path, "r:") as tar:
            members = tar.getmembers()    # every header: a truncated file fails here
            if len(members) < 2 or members[0].name != MANIFEST or members[1].name != SIGNATURE:
                raise BundleError("not an llmos update bundle (no manifest first)")
            if members[0].size > MANIFEST_MAX or members[1].size != 64:
                raise BundleError("bad manifest or signature size")
            raw = tar.extractfile(members[0]).read()
            sig = tar.extractfile(members[1]).read()
            manifest = check_head(raw, sig, target, public_key, parts)
            rest = members[2:]
            names = [e["name"] for e in manifest["files"]]
            if [m.name for m in rest] != names or not all(m.isfile() for m in rest):
                raise BundleError(f"the bundle holds {[m.name for m in rest]}, the manifest lists {names}")
            files = []
            for entry, member in zip(manifest["files"], rest):
                if member.size != entry["bytes"]:
                    raise BundleError(f"{entry['name']}: {member.size} bytes, the manifest says {entry['bytes']}")
                files.append((entry, member.offset_data))
            size = tar.fileobj.seek(0, 2)
    except tarfile.TarError as e:
        raise BundleError(f"not a readable bundle (truncated or corrupt: {e})") from None
    except OSError as e:
        raise BundleError(f"cannot read {path}: {e.strerror or e}") from None
    for entry, offset in files:
        if offset + entry["bytes"] > size:
            raise BundleError(f"{entry['name']}: truncated ({size} bytes in the file)")
    return Bundle(path, manifest, files, size, hashlib.sha256(raw).hexdigest())


def read_file(bundle: Bundle, entry: dict, offset: int, sink=None, progress=None):
    """Read one file of the bundle through, its chunks to sink(chunk) when given; raise
    BundleError unless its size and SHA-256 are the manifest's. progress(n) per chunk."""
    h = hashlib.sha256()
    left = entry["bytes"]
    with open(bundle.path, "rb") as f:
        f.seek(offset)
        while left:
            chunk = f.read(min(CHUNK, left))
            if not chunk:
                raise BundleError(f"{entry['name']}: truncated")
            h.update(chunk)
            if sink is not None:
                sink(chunk)
            left -= len(chunk)
            if progress is not None:
                progress(len(chunk))
    if h.hexdigest() != entry["sha256"]:
        raise BundleError(f"{entry['name']}: SHA-256 differs from the manifest's (corrupt)")


def verify(bundle: Bundle, progress=None) -> None:
    """Every file's size and hash, read through; nothing written."""
    for entry, offset in bundle.files:
        read_file(bundle, entry, offset, progress=progress)
