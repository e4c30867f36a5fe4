"""`make serve`: llama.cpp's own `llama-server` (and `rpc-server`) on this host, built from
the llama.cpp that the pinned llama-cpp-python sdist vendors, with the wheel's portable CPU
flags, like llama-bench (bench/llamabench.py), and cached under <cache>/llama-server/<key>.

It serves a GGUF (the image's own model unless MODEL= names another) on 127.0.0.1:8080
(PORT=, BIND=). A QEMU guest on user networking reaches the host's loopback at 10.0.2.2
(`llmos.llm=http://10.0.2.2:8080`); a Pi on a LAN needs BIND=0.0.0.0 (or the host's LAN
address) and `llmos.llm=http://<host's LAN address>:8080`.

The server is built offline: no web UI (neither npm nor the prebuilt download), no curl,
no OpenSSL; GGML_RPC on, so the same build makes `rpc-server` (ggml-rpc-server).
"""
from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.llamabench import build_tools
from mkimage.wheel import cmake_args

STEP = "llama-server"
SERVER, RPC = "llama-server", "ggml-rpc-server"
EXTRA_ARGS = ["-DLLAMA_BUILD_TOOLS=ON", "-DLLAMA_BUILD_COMMON=ON", "-DLLAMA_BUILD_SERVER=ON",
              "-DLLAMA_CURL=OFF", "-DLLAMA_OPENSSL=OFF", "-DLLAMA_BUILD_UI=OFF",
              "-DLLAMA_USE_PREBUILT_UI=OFF", "-DGGML_RPC=ON", "-DBUILD_SHARED_LIBS=OFF",
              "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
              "-DGGML_BUILD_TESTS=OFF", "-DGGML_BUILD_EXAMPLES=OFF"]


def host_arch() -> str:
    return "aarch64" if platform.machine() in ("aarch64", "arm64") else "x86_64"


def configure_args(arch: str) -> list[str]:
    """The wheel's pinned CMake arguments, then ours (a later -D wins in CMake). The
    wheel's RPC flags (-DGGML_RPC=ON, -DGGML_RPC_RDMA=OFF) are left out: ours turn RPC on,
    the host's rpc-server may use RDMA where the host has it, and this build (and its
    cache key) stays the one it was before the wheel had them."""
    return [a for a in cmake_args(arch) if not a.startswith("-DGGML_RPC")] + EXTRA_ARGS


def build(arch: str | None = None, jobs: int | None = None) -> dict[str, Path]:
    """{"llama-server": path, "ggml-rpc-server": path}, built first when missing."""
    arch = arch or host_arch()
    return build_tools(STEP, configure_args(arch), [SERVER, RPC], arch, jobs)


def image_model() -> Path:
    """The GGUF the image is built with by default (SmolLM2, fetched and checked)."""
    from mkimage import model
    return model.default()


def server_command(exe: Path, model: Path, host: str, port: int, threads: int,
                   adapter: str | None = None, ctx: int = 2048) -> list[str]:
    """llama-server with a small context (the planner's prompts are short), one slot, no
    web UI, and the planner's LoRA adapter when it belongs to this model (the same
    canonical commands as the guest's model then)."""
    cmd = [str(exe), "-m", str(model), "--host", host, "--port", str(port),
           "-t", str(threads), "-c", str(ctx), "-np", "1", "--no-webui"]
    return cmd + (["--lora", adapter] if adapter else [])


def rpc_worker_command(exe: Path, host: str, port: int, threads: int) -> list[str]:
    """rpc-server: the worker of llama.cpp's RPC backend (`llmos.rpc=HOST:PORT` in a guest),
    serving this host's CPU backend to one client at a time."""
    return [str(exe), "-H", host, "-p", str(port), "-t", str(threads)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_kib(pid: int, field: str) -> int:
    """A KiB figure of /proc/PID/status (VmRSS, VmHWM), 0 when the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class _Logged:
    """A host process started with its output in `log_path`, ready when `ready()` says so;
    a context manager that stops it (each kind has its own stop)."""

    def _start(self, what: str, log_path: Path, ready, ready_timeout: float) -> None:
        self.log_path = Path(log_path)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.command, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + ready_timeout
        while not ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{what} did not start: {self.text()[-2000:]}")
            time.sleep(0.2)

    def text(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Running(_Logged):
    """llama-server on 127.0.0.1:`port` serving the image's model with its adapter (what
    `make serve` runs), its log in `log_path`; started at once, ready when this returns.
    For the QEMU tests and the benchmarks; a context manager that stops it."""

    def __init__(self, port: int, log_path: Path, threads: int = 1, ctx: int = 1024,
                 ready_timeout: float = 120):
        from llmos_init.planner.adapter import find_adapter
        exe = build()[SERVER]                        # cached after the first build
        self.model = image_model()
        self.port, self.threads = port, threads
        self.command = server_command(exe, self.model, "127.0.0.1", port, threads,
                                      find_adapter(str(self.model)), ctx=ctx)
        self._start("llama-server", log_path, lambda: "listening on" in self.text(), ready_timeout)

    def tasks(self) -> int:
        """Completions it has served (one "processing task" line each)."""
        return self.text().count("processing task")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.log.close()


class RpcWorker(_Logged):
    """rpc-server on 127.0.0.1:`port` (what `make rpc-worker` runs), its log in `log_path`
    (line-buffered through stdbuf: it prints with printf); ready when this returns. For
    the QEMU tests and the benchmarks; a context manager that stops it."""

    def __init__(self, port: int, log_path: Path, threads: int = 1, ready_timeout: float = 60):
        import shutil
        exe = build()[RPC]
        self.port = port
        self.command = rpc_worker_command(exe, "127.0.0.1", port, threads)
        if shutil.which("stdbuf"):
            self.command = ["stdbuf", "-oL", "-eL"] + self.command
        self._start("rpc-server", log_path, self._listening, ready_timeout)

    def _listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True       # (a connection without HELLO: it logs one and goes on)
        except OSError:
            return False

    def clients(self) -> int:
        """Client connections it has accepted (one "Accepted client connection" each)."""
        return self.text().count("Accepted client connection")

    def rss_kib(self) -> int:
        """Its resident memory: it holds the layers a client loaded onto it."""
        return status_kib(self.proc.pid, "VmRSS")

    def peak_kib(self) -> int:
        """Its peak resident memory (VmHWM): the layers and the KV cache it held."""
        return status_kib(self.proc.pid, "VmHWM")

    def cpu_s(self) -> float:
        """CPU seconds it has used (user + system): it computes what its client's graphs ask."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return 0.0

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()       # a worker that goes away, as a crashed host's would
            self.proc.wait(30)
        if not self.log.closed:
            self.log.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="make serve", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=os.environ.get("MODEL") or None)
    ap.add_argument("--host", default="127.0.0.1", help="the address to listen on (BIND=)")
    ap.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 0) or None,
                    help="PORT=: 8080 for the server, 50052 for an RPC worker")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--build-only", action="store_true", help="build, print the paths, exit")
    ap.add_argument("--rpc-worker", action="store_true",
                    help="run rpc-server instead (`make rpc-worker`; --port default 50052)")
    a = ap.parse_args(argv)
    bins = build()
    if a.build_only:
        for name, path in bins.items():
            print(f"{name}: {path}")
        return 0
    if a.rpc_worker:
        port = a.port or 50052
        cmd = rpc_worker_command(bins[RPC], a.host, port, a.threads)
        print(f"rpc-server on {a.host}:{port} (a QEMU guest: llmos.rpc=10.0.2.2:{port}); "
              "it trusts every client: only on a network you own", file=sys.stderr, flush=True)
        os.execv(cmd[0], cmd)
        return 1  # not reached
    model = Path(a.model) if a.model else image_model()
    if not model.is_file():
        print(f"make serve: MODEL={model}: no such file", file=sys.stderr)
        return 2
    from llmos_init.planner.adapter import find_adapter
    port = a.port or 8080
    cmd = server_command(bins[SERVER], model, a.host, port, a.threads,
                         find_adapter(str(model)))
    print(f"serving {model} on http://{a.host}:{port} (a QEMU guest: "
          f"llmos.llm=http://10.0.2.2:{port})", file=sys.stderr, flush=True)
    os.execv(cmd[0], cmd)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
