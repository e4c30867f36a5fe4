"""llama.cpp's RPC backend: the local model's layers on `rpc-server` workers (another
machine's CPU or GPU), for one model across machines.

The setting: `llmos.rpc=HOST:PORT[,HOST:PORT]` on the kernel command line, or the first
line of /data/etc/rpc (which wins; `off` there turns the command line's workers off). It
is read when the model loads (at boot, and again after a worker failed).

llama-cpp-python 0.3.36 ignores `Llama(rpc_servers=...)` (llama.cpp dropped the field
from llama_model_params). What llama.cpp's own `--rpc` does (common/arg.cpp,
add_rpc_devices) is done here instead, through the ggml library llama_cpp has loaded:
`ggml_backend_reg_by_name("RPC")`, its `ggml_backend_rpc_add_server` (found with
`ggml_backend_reg_get_proc_address`), `ggml_backend_register` of the registry that
returns; the model then loads with `n_gpu_layers` covering every layer, which llama.cpp
spreads over the registered devices. ctypes, not cffi: the guest has cffi's compiled
backend only (its API-mode modules), and llama_cpp's own bindings already hold the
library.

Every failure of a worker is fatal to the process in this llama.cpp: ggml-rpc.cpp ends
with GGML_ABORT ("Remote RPC server crashed or returned malformed response", "Failed to
connect to ...") and its sockets have no timeouts. So a model with workers never loads in
the console's own process: modelhost.py runs it in a child the console can lose. Before
a worker is handed to llama.cpp, `probe` checks it answers RPC's HELLO within a timeout
with a protocol version this llama.cpp speaks, so a worker that is down at boot costs a
status line, not a process.
"""
from __future__ import annotations

import socket
import struct

from . import settings

SETTING_FILE = "/data/etc/rpc"
CMDLINE_KEY = "llmos.rpc"
PROBE_TIMEOUT_S = 3.0
NETWORK_WAIT_S = 30.0               # how long an unreachable worker is asked again
MAX_WORKERS = 16                    # GGML_RPC_MAX_SERVERS

# ggml-rpc.cpp's wire format: | cmd (1 byte) | size (8 bytes, LE) | data |, the answer
# | size (8 bytes) | data |; HELLO is command 14 (static_assert there), its request 24
# bytes of connection capabilities (zeros: plain TCP), its answer major, minor, patch, a
# pad byte and the server's 24 capability bytes.
RPC_CMD_HELLO = 14
CONN_CAPS = 24
PROTO_MAJOR, PROTO_MINOR = 7, 0     # RPC_PROTO_MAJOR_VERSION / _MINOR_ in ggml-rpc.h


class RpcError(Exception):
    """A worker that cannot be used, or workers this llama.cpp cannot add (says why).
    `final`: False when asking again later may work (no network yet, nothing listening)."""

    def __init__(self, why: str, final: bool = True):
        super().__init__(why)
        self.final = final


def setting(cmdline: str = "/proc/cmdline", data_file: str = SETTING_FILE) -> str | None:
    """The configured workers (`HOST:PORT[,HOST:PORT]`), or None: /data/etc/rpc first,
    then llmos.rpc=."""
    value = settings.read(CMDLINE_KEY, data_file, cmdline)
    return None if value is not None and value.lower() in ("off", "none") else value


def parse(value: str) -> list[tuple[str, int]]:
    """[(host, port)] of `HOST:PORT[,HOST:PORT]`; ValueError for anything else."""
    out: list[tuple[str, int]] = []
    for item in value.strip().split(","):
        host, sep, port = item.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{item.strip()!r}: an RPC worker is HOST:PORT")
        if any(c.isspace() or c in "/@[]" for c in host):
            raise ValueError(f"{item.strip()!r}: an RPC worker is HOST:PORT")
        out.append((host, int(port)))
    if len(out) > MAX_WORKERS:
        raise ValueError(f"at most {MAX_WORKERS} RPC workers")
    return out


def endpoint(worker: tuple[str, int]) -> str:
    return f"{worker[0]}:{worker[1]}"


def probe(worker: tuple[str, int], timeout: float = PROBE_TIMEOUT_S) -> str:
    """The worker's protocol version ("7.0.0") after one HELLO exchange within `timeout`;
    RpcError when it cannot be reached, is not an rpc-server or speaks another version.
    (rpc-server serves one client at a time: probe before the model loads, not after.)"""
    host, port = worker
    hello = bytes([RPC_CMD_HELLO]) + struct.pack("<Q", CONN_CAPS) + bytes(CONN_CAPS)
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(hello)
            size, = struct.unpack("<Q", _recv(s, 8))
            if size != 4 + CONN_CAPS:
                raise RpcError(f"{endpoint(worker)}: not a llama.cpp rpc-server of this "
                               f"version (its HELLO answer would be {size} bytes)")
            got = _recv(s, size)
    except TimeoutError:
        raise RpcError(f"{endpoint(worker)}: no answer within {timeout:g} s", False) from None
    except OSError as e:
        raise RpcError(f"{endpoint(worker)}: {e.strerror or e}", False) from None
    major, minor, patch = got[0], got[1], got[2]
    if major != PROTO_MAJOR or minor > PROTO_MINOR:
        raise RpcError(f"{endpoint(worker)}: rpc-server protocol {major}.{minor}.{patch}, "
                       f"this llama.cpp speaks {PROTO_MAJOR}.{PROTO_MINOR}")
    return f"{major}.{minor}.{patch}"


def usable(workers: list[tuple[str, int]], wait: float = NETWORK_WAIT_S,
           timeout: float = PROBE_TIMEOUT_S) -> tuple[list[tuple[str, int]], list[str]]:
    """(the workers that answer the probe, why each other one does not). A worker that
    cannot be reached yet is asked again for `wait` seconds: at boot the model loads
    while DHCP may still be on its way (net/service.py)."""
    import time
    deadline = time.monotonic() + wait
    ok, skipped = [], []
    for w in workers:
        while True:
            try:
                probe(w, timeout)
                ok.append(w)
                break
            except RpcError as e:
                if e.final or time.monotonic() + 1 > deadline:
                    skipped.append(str(e))
                    break
                time.sleep(1)
    return ok, skipped


def _recv(s: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        piece = s.recv(n - len(buf))
        if not piece:
            raise OSError(0, "it closed the connection" + (" during HELLO" if buf else ""))
        buf += piece
    return buf


def add_workers(workers: list[tuple[str, int]]) -> list[str]:
    """Register each worker as ggml devices (what `--rpc` does), after llama_cpp is
    imported and before the model loads; returns the names of the devices ggml then has.
    RpcError when this llama.cpp has no RPC backend. (A worker that does not answer aborts
    the process here: probe it first.)"""
    import ctypes
    import os

    import llama_cpp  # noqa: F401  (its libllama has loaded libggml.so.0)
    # The instance libllama uses, by its SONAME: a dlopen by path of another copy of the
    # file (a venv holds libggml.so, .so.0 and .so.0.25.3 as three files; llama_cpp's
    # _ggml.py opens libggml.so) would be a second ggml, with a device registry of its own.
    try:
        lib = ctypes.CDLL("libggml.so.0", mode=os.RTLD_NOLOAD)
    except OSError as e:
        raise RpcError(f"llama_cpp has not loaded libggml.so.0 ({e})") from None
    lib.ggml_backend_reg_by_name.restype = ctypes.c_void_p
    lib.ggml_backend_reg_by_name.argtypes = [ctypes.c_char_p]
    lib.ggml_backend_reg_get_proc_address.restype = ctypes.c_void_p
    lib.ggml_backend_reg_get_proc_address.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.ggml_backend_register.restype = None
    lib.ggml_backend_register.argtypes = [ctypes.c_void_p]
    lib.ggml_backend_dev_count.restype = ctypes.c_size_t
    lib.ggml_backend_dev_get.restype = ctypes.c_void_p
    lib.ggml_backend_dev_get.argtypes = [ctypes.c_size_t]
    lib.ggml_backend_dev_name.restype = ctypes.c_char_p
    lib.ggml_backend_dev_name.argtypes = [ctypes.c_void_p]
    reg = lib.ggml_backend_reg_by_name(b"RPC")
    if not reg:
        raise RpcError("this llama.cpp was built without its RPC backend (GGML_RPC)")
    addr = lib.ggml_backend_reg_get_proc_address(reg, b"ggml_backend_rpc_add_server")
    if not addr:
        raise RpcError("this llama.cpp's RPC backend has no ggml_backend_rpc_add_server")
    add_server = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_char_p)(addr)
    for w in workers:
        got = add_server(endpoint(w).encode())
        if not got:
            raise RpcError(f"{endpoint(w)}: llama.cpp could not add it")
        lib.ggml_backend_register(got)
    return [lib.ggml_backend_dev_name(lib.ggml_backend_dev_get(i)).decode("utf-8", "replace")
            for i in range(lib.ggml_backend_dev_count())]
