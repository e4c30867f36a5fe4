"""GGUF sanity check before a model file is handed to llama.cpp.

llama.cpp may abort the whole process on some malformed files, and PID 1 must never die
because /model holds a bad file. `check_gguf` walks the header, every metadata entry and
every tensor description with bounds checks, and verifies that each tensor's data lies
inside the file: a truncated download, random bytes or a file of another format raise
GGUFError with a message fit for the console.
"""
from __future__ import annotations

import os
import struct

MAGIC = b"GGUF"
# ggml type id -> (elements per block, bytes per block)
GGML_BLOCKS = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176),
    14: (256, 210), 15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98),
    19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1),
    25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2),
    34: (256, 54), 35: (256, 66), 39: (32, 17),
}
_SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
           10: "<Q", 11: "<q", 12: "<d"}
MAX_STRING = 16 << 20
MAX_DIMS = 8


class GGUFError(ValueError):
    """The file is not a usable GGUF model."""


class _Reader:
    """Bounds-checked reads from the file's bytes (an mmap: the header, a megabyte or two of
    metadata for a 49k-token vocabulary, is parsed without a system call per value)."""

    def __init__(self, buf, size: int):
        self.buf, self.size, self.pos = buf, size, 0

    def tell(self) -> int:
        return self.pos

    def read(self, n: int) -> bytes:
        if self.pos + n > self.size:
            raise GGUFError("file ends inside the header (truncated?)")
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def _unpack(self, fmt: struct.Struct):
        if self.pos + fmt.size > self.size:
            raise GGUFError("file ends inside the header (truncated?)")
        v = fmt.unpack_from(self.buf, self.pos)[0]
        self.pos += fmt.size
        return v

    def u32(self) -> int:
        return self._unpack(_U32)

    def u64(self) -> int:
        return self._unpack(_U64)

    def _string_len(self) -> int:
        n = self.u64()
        if n > MAX_STRING or self.pos + n > self.size:
            raise GGUFError("metadata string runs past the end of the file (corrupt or truncated)")
        return n

    def string(self) -> bytes:
        return self.read(self._string_len())

    def value(self, vtype: int, depth: int = 0):
        if vtype in _SCALAR:
            return self._unpack(_STRUCTS[vtype])
        if vtype == 8:
            return self.string()
        if vtype == 9:
            if depth > 2:
                raise GGUFError("nested metadata arrays too deep (corrupt)")
            itype, n = self.u32(), self.u64()
            if n > self.size:
                raise GGUFError("metadata array longer than the file (corrupt)")
            if itype in _SCALAR:  # skip scalar arrays without decoding them
                width = _STRUCTS[itype].size
                if self.pos + n * width > self.size:
                    raise GGUFError("metadata array runs past the end of the file (truncated?)")
                self.pos += n * width
                return None
            if itype == 8:        # a vocabulary: skip each string by its length
                for _ in range(n):
                    skip = self._string_len()      # moves past the length: read it first
                    self.pos += skip
                return None
            for _ in range(n):
                self.value(itype, depth + 1)
            return None
        raise GGUFError(f"unknown metadata value type {vtype} (corrupt)")


_U32, _U64 = struct.Struct("<I"), struct.Struct("<Q")
_STRUCTS = {k: struct.Struct(v) for k, v in _SCALAR.items()}


def check_gguf(path: str) -> dict:
    """Validate `path`; return {"version", "tensors", "metadata": {key: scalar}} or raise GGUFError."""
    import mmap
    try:
        size = os.path.getsize(path)
        f = open(path, "rb")
    except OSError as e:
        raise GGUFError(f"cannot open model {path}: {e.strerror or e}") from None
    with f:
        if size < 24:
            raise GGUFError(f"{path} is too small to be a model ({size} bytes)")
        try:
            buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as e:
            raise GGUFError(f"cannot read model {path}: {e}") from None
        try:
            return _check(path, _Reader(buf, size), size)
        finally:
            buf.close()


def _check(path: str, r: _Reader, size: int) -> dict:
    if r.read(4) != MAGIC:
        raise GGUFError(f"{path} is not a GGUF model (bad magic)")
    version = r.u32()
    if version not in (2, 3):
        raise GGUFError(f"{path}: unsupported GGUF version {version}")
    n_tensors, n_kv = r.u64(), r.u64()
    if n_tensors == 0 or n_tensors > 100_000 or n_kv > 100_000:
        raise GGUFError(f"{path}: implausible header ({n_tensors} tensors, {n_kv} keys)")
    meta: dict[str, object] = {}
    for _ in range(n_kv):
        key = r.string().decode("utf-8", "replace")
        vtype = r.u32()
        v = r.value(vtype)
        if v is not None:
            meta[key] = v.decode("utf-8", "replace") if isinstance(v, bytes) else v
    alignment = int(meta.get("general.alignment", 32) or 32)
    if alignment <= 0 or alignment & (alignment - 1):
        raise GGUFError(f"{path}: bad alignment {alignment}")
    extents = []
    for _ in range(n_tensors):
        r.string()
        nd = r.u32()
        if nd == 0 or nd > MAX_DIMS:
            raise GGUFError(f"{path}: tensor with {nd} dimensions (corrupt)")
        dims = [r.u64() for _ in range(nd)]
        ttype, offset = r.u32(), r.u64()
        n = 1
        for d in dims:
            n *= d
        blk = GGML_BLOCKS.get(ttype)
        nbytes = (n // blk[0]) * blk[1] if blk else 0
        extents.append((offset, nbytes))
    data_start = (r.tell() + alignment - 1) // alignment * alignment
    end = max(o + nb for o, nb in extents)
    if data_start + end > size:
        raise GGUFError(f"{path} is truncated: tensor data needs {data_start + end} bytes, "
                        f"the file has {size}")
    return {"version": version, "tensors": n_tensors, "metadata": meta}
