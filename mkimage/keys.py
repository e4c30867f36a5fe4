"""The update signing key (ed25519, PyNaCl): outside the repository, made on first use.

$LLMOS_UPDATE_KEY, else ${XDG_CONFIG_HOME:-~/.config}/llmos/update-key: the 32-byte seed,
hex, mode 0600, with update-key.pub (the public key, hex) beside it. Every image built
here carries that public key as /etc/llmos/update.pub (image.release_texts) and installs
only bundles it signed (bundle.py): keep a backup of the key, or devices built with it
take no further bundles (they can still be re-flashed).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path


def key_path() -> Path:
    env = os.environ.get("LLMOS_UPDATE_KEY")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")) / "llmos" / "update-key"


def signing_key(path: Path | None = None):
    """The private key (nacl.signing.SigningKey), generated on first use."""
    from nacl.signing import SigningKey
    path = path or key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = SigningKey.generate()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key.encode().hex() + "\n")
        path.with_name(path.name + ".pub").write_text(key.verify_key.encode().hex() + "\n")
        print(f"mkimage: new update signing key {path} (keep it: images built with it "
              "accept only bundles it signs)", file=sys.stderr)
    return SigningKey(bytes.fromhex(path.read_text().strip()))


def public_key_hex(path: Path | None = None) -> str:
    return signing_key(path).verify_key.encode().hex()


def published_key_hex(path: Path | None = None) -> str:
    """The public key from update-key.pub, without PyNaCl (Buildroot's host python3):
    the key must exist already (the offline build or `make update` makes it)."""
    from llmos_init.update.bundle import BundleError, load_public_key   # the image's own reader
    path = path or key_path()
    pub = path.with_name(path.name + ".pub")
    if not pub.is_file():
        raise ValueError(f"no update key at {pub}: run `make image` or `make update` once to "
                         "make one, or set LLMOS_UPDATE_KEY")
    try:
        return load_public_key(str(pub)).hex()
    except BundleError as e:
        raise ValueError(str(e)) from None
