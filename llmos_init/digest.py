"""sha256 without loading OpenSSL.

hashlib's first import dlopens libcrypto: about 160 ms of a boot under QEMU TCG, on the
path to the console prompt. CPython's builtin _sha256 module (built into Debian's
python3.11) gives the same digests at once; hashlib is the fallback for a Python built
without it.
"""
from __future__ import annotations

try:
    from _sha256 import sha256
except ImportError:  # pragma: no cover - a Python without the builtin module
    from hashlib import sha256

__all__ = ["sha256"]
