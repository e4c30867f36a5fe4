"""The model runtime: llama.cpp loaded once, the prompt prefix's KV state reused for every request.

The prefix (a one-line instruction and the tool names, generated from the
registry) only primes the scoring of tool names. Its KV state is either
- read from a state file written at image build time next to the GGUF
  (`build_prefix_state`, checked against the model, llama-cpp-python and the prefix tokens
  before use), or
- computed at load time when no valid state file exists (the host, a user's --model).

A request then costs only its own tokens: the KV cache is rolled back to the end of the
prefix, the request is evaluated once, and the tool is found by a best-first search over
the token trie of the tool names. Log probabilities only fall along a path, so the first
complete name taken off the queue is the exact argmax of the full trie walk; usually it
costs no evaluation beyond the request's own tokens, or one or two single tokens.
After a free-form reply (which overwrites the cache) the prefix state is restored from
memory. llama_cpp is imported only here, inside `load` / `build_prefix_state`.
"""
from __future__ import annotations

import ctypes
import heapq
import json
import math
import os
import threading
from collections import defaultdict
from typing import Iterator

from ..digest import sha256
from ..tools.registry import TOOLS

# the system line of a free-form reply, here and on the planner's server (remote.py)
REPLY_SYSTEM = ("You are the console of a tiny operating system. "
                "Answer in one or two short sentences.")

# The KV cache holds the prefix, one request (or a short reply) and its tool name; the
# chat reply path (system + user + up to 96 tokens) fits in the same context.
N_CTX = 512
N_BATCH = 256
STATE_SUFFIX = ".prefix-state"
META_SUFFIX = ".prefix-state.json"
STATE_FORMAT = 1
_FP_CHUNK = 4 << 20


def prefix_text(style: str = "names") -> str:
    """The text before each request. `style` exists for measurement (tests/eval/bench_model.py).

    Tool-choice accuracy of SmolLM2-135M on the dev sets (108 single-step cases, all tools
    allowed) by style, measured 2025-11-28:
      "names"     (default) instruction + bare tool names          170 tokens  31.5%
      "summaries" instruction + tool names with their summaries    453 tokens  26.9%
      "examples"  instruction + one example request per tool       462 tokens  19.4%
      "full"      summaries + examples (the old prefix)            890 tokens  21.3%
    """
    head = "You are the planner of a small operating system. For each request, name the one tool that does it."
    lines = [head]
    if style in ("full", "names", "summaries"):
        lines.append("Tools:")
        for t in TOOLS.values():
            if t.by_model:
                lines.append(f"- {t.name}" if style == "names" else f"- {t.name}: {t.summary}")
        lines.append("")
    if style in ("full", "examples"):
        for t in TOOLS.values():
            if t.example and t.by_model:
                lines.append(f"Request: {t.example}\nTool: {t.name}")
    elif style not in ("names", "summaries"):
        raise ValueError(f"unknown prefix style {style!r}")
    return "\n".join(lines) + "\nRequest:"


def default_threads() -> int:
    """$LLMOS_THREADS, else 1 on up to 2 usable CPUs, else the usable CPUs (at most 4).

    ggml's worker threads spin at barriers: on 2 CPUs shared with anything else (the
    host's builds, QEMU's other vCPU) 2 threads were measured 15x slower than 1 (a dev
    run of 108 requests: 40 s with 1 thread, not done after 11 minutes with 2, load 12).
    Single-token evaluation is memory-bound, so 1 thread loses little when idle.
    """
    env = os.environ.get("LLMOS_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    cpus = len(os.sched_getaffinity(0))
    return 1 if cpus <= 2 else min(cpus, 4)


# ---- the prefix state file -------------------------------------------------------------

def state_paths(model_path: str) -> tuple[str, str]:
    """(state file, metadata JSON) that belong next to `model_path`."""
    return model_path + STATE_SUFFIX, model_path + META_SUFFIX


_FINGERPRINTS: dict[tuple, str] = {}


def model_fingerprint(model_path: str) -> str:
    """sha256 of the size, the first and the last 4 MiB: cheap enough for every boot, and
    computed once per file and process (finding the adapter and checking it both ask)."""
    st = os.stat(model_path)
    key = (os.path.realpath(model_path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in _FINGERPRINTS:
        _FINGERPRINTS[key] = _fingerprint(model_path)
    return _FINGERPRINTS[key]


def _fingerprint(model_path: str) -> str:
    h = sha256()
    size = os.path.getsize(model_path)
    h.update(str(size).encode())
    with open(model_path, "rb") as f:
        h.update(f.read(_FP_CHUNK))
        if size > 2 * _FP_CHUNK:
            f.seek(size - _FP_CHUNK)
        h.update(f.read(_FP_CHUNK))
    return h.hexdigest()


def _file_sha256(path: str) -> str:
    h = sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _llama_version() -> str:
    import llama_cpp
    return llama_cpp.__version__


def expected_meta(model_path: str, style: str = "names") -> dict:
    """What a state file's metadata must say to be used with this model and this code."""
    text = prefix_text(style)
    return {"format": STATE_FORMAT, "llama_cpp_python": _llama_version(), "n_ctx": N_CTX,
            "prefix_sha256": sha256(text.encode()).hexdigest(),
            "model_bytes": os.path.getsize(model_path),
            "model_fingerprint": model_fingerprint(model_path)}


def state_mismatch(model_path: str, meta: dict, style: str = "names") -> str | None:
    """Why a state file's metadata does not fit (None when it fits)."""
    want = expected_meta(model_path, style)
    for k, v in want.items():
        if meta.get(k) != v:
            return f"{k} is {meta.get(k)!r}, expected {v!r}"
    return None


def build_prefix_state(model_path: str, out_dir: str) -> list[str]:
    """Compute the prefix KV state of `model_path` and write it to `out_dir`.

    Writes `<model file name>.prefix-state` (llama.cpp's session file: the prefix tokens and
    their KV cache) and `<model file name>.prefix-state.json` (model sha256 and fingerprint,
    llama-cpp-python version, prefix sha256, token count). Returns the paths written.
    Raises RuntimeError when llama.cpp cannot save the state.
    """
    os.makedirs(out_dir, exist_ok=True)
    rt = ModelRuntime(model_path, threads=default_threads())
    rt.load(use_state_file=False)
    base = os.path.join(out_dir, os.path.basename(model_path))
    state, meta_path = state_paths(base)
    tokens = (ctypes.c_int32 * rt.n_prefix)(*rt.prefix_tokens)
    import llama_cpp
    tmp = state + ".partial"
    if not llama_cpp.llama_state_save_file(rt.llm._ctx.ctx, tmp.encode(), tokens, rt.n_prefix):
        raise RuntimeError(f"llama.cpp could not save the prefix state to {tmp}")
    os.replace(tmp, state)
    meta = expected_meta(model_path)
    meta.update({"n_prefix": rt.n_prefix, "model_file": os.path.basename(model_path),
                 "model_sha256": _file_sha256(model_path),
                 "state_sha256": _file_sha256(state)})
    with open(meta_path + ".partial", "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(meta_path + ".partial", meta_path)
    rt.close()
    return [state, meta_path]



class _NoRedirect:
    """Stands in for llama_cpp's suppress_stdout_stderr, which dup2()s the PROCESS's fds 1
    and 2 to /dev/null while a model loads: in the console those fds are the serial
    terminal, so everything the console printed meanwhile (echo, prompts) vanished."""

    def __init__(self, disable: bool = True):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


LLAMA_LOG: list[str] = []  # llama.cpp's last log lines (errors), kept instead of printed


def keep_stdio(llama_cpp) -> None:
    """Make llama_cpp leave stdin/stdout/stderr alone: no fd redirection, logs kept here."""
    import ctypes

    from llama_cpp import _internals, llama
    llama.suppress_stdout_stderr = _NoRedirect
    _internals.suppress_stdout_stderr = _NoRedirect
    if getattr(keep_stdio, "callback", None) is None:
        @llama_cpp.llama_log_callback
        def callback(level, text, user_data):
            if level in (2, 3):  # warnings and errors
                LLAMA_LOG.append(text.decode("utf-8", "replace"))
                del LLAMA_LOG[:-20]
        keep_stdio.callback = callback  # referenced for as long as llama.cpp may call it
        llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))

class ModelRuntime:
    def __init__(self, path: str, threads: int | None = None, n_ctx: int = N_CTX,
                 style: str = "names", adapter: str | None = None,
                 workers: list[tuple[str, int]] | None = None):
        self.path, self.n_ctx, self.style = path, n_ctx, style
        # llama.cpp RPC workers (rpc.py) that hold every layer; only in a process that may
        # die with them (modelhost.py): ggml aborts when one fails
        self.workers = list(workers or [])
        self.devices: list[str] = []     # ggml's devices once the workers are added
        self.adapter = adapter           # a LoRA GGUF trained to translate (adapter.py checked it)
        self.threads = threads or default_threads()
        self.llm = None
        self.n_prefix = 0
        self.prefix_tokens: list[int] = []
        self.prefix_source = ""          # "state file" or "computed (<reason>)"
        self.load_seconds: dict[str, float] = {}
        self._state: bytes | None = None
        self._dirty = False
        self._req_end = 0                # cache position after the last request evaluated
        self.tool_tokens: dict[str, list[int]] = {}
        self.evals = 0                   # decode calls (for measurement)
        self.ggml = ""                   # which ggml CPU backend (cpuvariant.preload)
        self.format = None               # canonical.Format of the model's family (load())
        self.last_logprob = 0.0          # log P of translate()'s last answer (unconstrained)

    def load(self, use_state_file: bool = True) -> None:
        import time
        t0 = time.perf_counter()
        from .cpuvariant import preload
        self.ggml = preload()          # before llama_cpp: may load the portable backend
        import llama_cpp  # noqa: F401  (pulls numpy; only in the loader thread)
        from llama_cpp import Llama
        keep_stdio(llama_cpp)
        self._np = __import__("numpy")
        if self.workers:
            from .rpc import add_workers
            self.devices = add_workers(self.workers)
        t1 = time.perf_counter()
        self.llm = Llama(model_path=self.path, n_ctx=self.n_ctx, n_threads=self.threads,
                         n_threads_batch=self.threads, n_batch=N_BATCH, verbose=False,
                         logits_all=False, n_gpu_layers=-1 if self.workers else 0)
        from .canonical import format_for
        # the turn markers the adapter was trained with: the model family's own
        self.format = format_for(self.llm.metadata.get("general.architecture"))
        if self.adapter:
            self._init_adapter(llama_cpp)
        t2 = time.perf_counter()
        if self.adapter:
            # The adapter translates whole requests (translate); tool scoring, and so its
            # prefix, is not used with it: nothing more to compute before "ready".
            self.prefix_source = "none (the adapter translates requests)"
            self.n_prefix = 0
            self._state = self._save_mem()
            self.load_seconds = {"import": t1 - t0, "model": t2 - t1, "prefix": 0.0,
                                 "total": time.perf_counter() - t0}
            return
        self.prefix_tokens = self.llm.tokenize(prefix_text(self.style).encode(), add_bos=True, special=False)
        if len(self.prefix_tokens) + 128 > self.n_ctx:
            raise ValueError(f"prefix of {len(self.prefix_tokens)} tokens does not fit n_ctx {self.n_ctx}")
        why = self._load_state_file() if use_state_file else "not asked to"
        if why is not None:
            self.llm.reset()
            self.llm.eval(self.prefix_tokens)
            self.prefix_source = f"computed ({why})"
        else:
            self.prefix_source = "state file"
        t3 = time.perf_counter()
        self.n_prefix = self.llm.n_tokens
        self._state = self._save_mem()
        self.tool_tokens = {t: self.llm.tokenize((" " + t).encode(), add_bos=False, special=False)
                            for t in TOOLS}
        self.load_seconds = {"import": t1 - t0, "model": t2 - t1, "prefix": t3 - t2,
                             "total": time.perf_counter() - t0}

    def _init_adapter(self, llama_cpp) -> None:
        """Load the LoRA adapter onto the model (Llama's own lora_path would turn mmap off
        and read the whole model into memory)."""
        lora = llama_cpp.llama_adapter_lora_init(self.llm._model.model, self.adapter.encode())
        if not lora:
            raise ValueError(f"llama.cpp could not load the adapter {os.path.basename(self.adapter)}")
        self._lora = lora
        self.llm._stack.callback(lambda: llama_cpp.llama_adapter_lora_free(lora))
        self._use_adapter(True)

    def _use_adapter(self, on: bool) -> None:
        """Apply the adapter (planning) or take it off (free-form replies: it was trained to
        answer with commands only)."""
        import llama_cpp
        if on:
            arr = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(self._lora)
            scales = (ctypes.c_float * 1)(1.0)
            if llama_cpp.llama_set_adapters_lora(self.llm._ctx.ctx, arr, 1, scales):
                raise ValueError("llama.cpp could not apply the adapter")
        else:
            llama_cpp.llama_set_adapters_lora(self.llm._ctx.ctx, None, 0, None)

    def close(self) -> None:
        if self.llm is not None:
            self.llm.close()
            self.llm = None

    # ---- prefix state ---------------------------------------------------------------
    def _load_state_file(self) -> str | None:
        """Restore the prefix from the state file next to the model; None on success, else why not."""
        import llama_cpp
        state, meta_path = state_paths(self.path)
        if self.style != "names":
            return "non-default prefix style"
        try:
            with open(meta_path, encoding="utf-8") as f:
                meta = json.load(f)
        except FileNotFoundError:
            return "no state file"
        except (OSError, ValueError) as e:
            return f"unreadable {os.path.basename(meta_path)}: {e}"
        why = state_mismatch(self.path, meta, self.style)
        if why:
            return f"state file does not fit: {why}"
        cap = len(self.prefix_tokens) + 8
        toks = (ctypes.c_int32 * cap)()
        n = ctypes.c_size_t(0)
        if not llama_cpp.llama_state_load_file(self.llm._ctx.ctx, state.encode(), toks, cap, ctypes.byref(n)):
            self.llm.reset()
            return "llama.cpp refused the state file"
        if list(toks[:n.value]) != self.prefix_tokens:
            self.llm.reset()
            return "state file holds other prefix tokens"
        self.llm.input_ids[:n.value] = self.prefix_tokens
        self.llm.n_tokens = n.value
        return None

    def _save_mem(self) -> bytes:
        import llama_cpp
        ctx = self.llm._ctx.ctx
        size = llama_cpp.llama_state_get_size(ctx)
        buf = (ctypes.c_uint8 * size)()
        n = llama_cpp.llama_state_get_data(ctx, buf, size)
        return bytes(buf[:n])

    def _rewind(self) -> None:
        if self._dirty:
            import llama_cpp
            data = (ctypes.c_uint8 * len(self._state)).from_buffer_copy(self._state)
            llama_cpp.llama_state_set_data(self.llm._ctx.ctx, data, len(self._state))
            self.llm.input_ids[:self.n_prefix] = self.prefix_tokens
            self._dirty = False
        self.llm.n_tokens = self.n_prefix

    # ---- low level ------------------------------------------------------------------
    def _logprobs(self):
        np = self._np
        n_vocab = self.llm.n_vocab()
        logits = np.ctypeslib.as_array(self.llm._ctx.get_logits(), shape=(n_vocab,)).astype(np.float64)
        m = logits.max()
        return logits - (m + math.log(np.exp(logits - m).sum()))

    def _eval(self, tokens: list[int]):
        self.evals += 1
        self.llm.eval(tokens)
        return self._logprobs()

    def _eval_request(self, request: str):
        self._rewind()
        req = self.llm.tokenize((" " + request + "\nTool:").encode(), add_bos=False, special=False)
        room = self.n_ctx - self.n_prefix - 48
        if len(req) > room:  # keep the end: "...\nTool:" is what the names follow
            req = req[-room:]
        lp = self._eval(req)
        self._req_end = self.llm.n_tokens
        return lp

    # ---- scoring ------------------------------------------------------------------------
    def best_tool(self, request: str, tools: list[str]) -> tuple[str, float]:
        """The tool whose name the model finds likeliest after the request (exact argmax).

        A name's score is the log probability of its tokens up to the one that sets it
        apart from every other candidate (the rest of the name is then determined).
        """
        lp0 = self._eval_request(request)
        # queue entries: (-score, tie, members, depth, path tokens, logprobs or None)
        heap: list = []
        tie = 0

        def expand(members, depth, path, lp, acc):
            nonlocal tie
            groups: dict[int, list[str]] = defaultdict(list)
            for t in members:
                seq = self.tool_tokens[t]
                if depth >= len(seq):
                    heapq.heappush(heap, (-acc, tie, [t], depth, path, None))
                    tie += 1
                else:
                    groups[seq[depth]].append(t)
            for tok, ms in groups.items():
                a = acc + float(lp[tok])
                heapq.heappush(heap, (-a, tie, ms, depth + 1, path + [tok], "leaf" if len(ms) == 1 else None))
                tie += 1

        expand(list(tools), 0, [], lp0, 0.0)
        while heap:
            neg, _, members, depth, path, kind = heapq.heappop(heap)
            if len(members) == 1 and (kind == "leaf" or depth >= len(self.tool_tokens[members[0]])):
                return members[0], -neg
            self.llm.n_tokens = self._req_end
            lp = self._eval(path)
            expand(members, depth, path, lp, -neg)
        raise ValueError("no tools to choose from")

    def score_tools(self, request: str, tools: list[str]) -> dict[str, float]:
        """log P(tool name | prefix, request) for every tool (full trie walk; for measurement)."""
        lp = self._eval_request(request)
        scores: dict[str, float] = {}
        self._walk(tools, 0, lp, 0.0, [], scores)
        return scores

    def _walk(self, labels, depth, lp, acc, path, out) -> None:
        groups: dict[int, list[str]] = defaultdict(list)
        for l in labels:
            seq = self.tool_tokens[l]
            if depth >= len(seq):
                out[l] = acc
            else:
                groups[seq[depth]].append(l)
        for tok, members in groups.items():
            a = acc + float(lp[tok])
            if len(members) == 1:
                out[members[0]] = a  # the rest of the name is determined
                continue
            self.llm.n_tokens = self._req_end
            nxt = self._eval(path + [tok])
            self._walk(members, depth + 1, nxt, a, path + [tok], out)

    # ---- generation -------------------------------------------------------------------
    def generate_args(self, request: str, tool: str, grammar_text: str, max_tokens: int = 64) -> str:
        """Grammar-constrained argument object for `tool` (JSON text).

        Reuses the request already in the cache when `best_tool` just evaluated it.
        """
        from llama_cpp import LlamaGrammar
        grammar = LlamaGrammar.from_string(grammar_text, verbose=False)
        if self._req_end <= self.n_prefix or self._dirty:
            self._eval_request(request)
        self.llm.n_tokens = self._req_end
        self.llm.eval(self.llm.tokenize(f" {tool}\nArguments:".encode(), add_bos=False, special=False))
        out: list[int] = []
        for tok in self.llm.generate([], temp=0.0, top_k=1, grammar=grammar, reset=False):
            if tok == self.llm.token_eos() or len(out) >= max_tokens:
                break
            out.append(tok)
            text = self.llm.detokenize(out).decode("utf-8", "replace")
            if text.rstrip().endswith("}") and _balanced(text):
                break
        self.llm.n_tokens = self.n_prefix
        self._req_end = 0
        return self.llm.detokenize(out).decode("utf-8", "replace").strip()

    def translate(self, request: str, cwd: str, grammar_text: str | None = None,
                  max_tokens: int = 64) -> str:
        """The adapter's answer to `request`: canonical commands, one per line, or
        canonical.NO_COMMAND (greedy, under `grammar_text` when given)."""
        fmt, toks = self._prompt_tokens(request, cwd)
        if len(toks) + max_tokens > self.n_ctx:
            return ""      # a request too long to plan: the caller says so
        grammar = None
        if grammar_text:
            from llama_cpp import LlamaGrammar
            grammar = LlamaGrammar.from_string(grammar_text, verbose=False)
        end = set(self.llm.tokenize(fmt.answer_end.encode(), add_bos=False, special=True))
        end.add(self.llm.token_eos())
        self._dirty = True
        self._req_end = 0
        out: list[int] = []
        # reset=True: llama-cpp-python keeps the longest prefix this prompt shares with the
        # last one in the KV cache ("<|im_start|>user\ncwd=/data\n" and more) and evaluates
        # only the rest
        self.last_logprob = 0.0          # of the answer and its end, as answer_logprob counts it
        for tok in self.llm.generate(toks, temp=0.0, top_k=1, grammar=grammar, reset=True):
            self.last_logprob += self._logprob_of(tok)
            if tok in end or len(out) >= max_tokens:
                break
            out.append(tok)
        return self.llm.detokenize(out).decode("utf-8", "replace").strip()

    def _prompt_tokens(self, request: str, cwd: str):
        """(the model family's canonical.Format, the tokens of the prompt for `request`)."""
        from . import canonical
        fmt = self.format or canonical.CHATML
        return fmt, self.llm.tokenize(canonical.prompt(request, cwd, fmt).encode(),
                                      add_bos=fmt.bos, special=True)

    def _log_softmax(self, rows: int):
        """The log-probabilities of the last `rows` positions evaluated: their logits
        straight from llama.cpp (Llama keeps no scores without logits_all), unconstrained
        by any grammar."""
        np = self._np
        n_vocab = self.llm.n_vocab()
        x = np.ctypeslib.as_array(self.llm._ctx.get_logits(), shape=(rows * n_vocab,))
        x = x.reshape(rows, n_vocab).astype(np.float64)
        m = x.max(axis=1, keepdims=True)
        return x - (m + np.log(np.exp(x - m).sum(axis=1, keepdims=True)))

    def _logprob_of(self, tok: int) -> float:
        """log P(tok) at the position just evaluated."""
        return float(self._log_softmax(1)[0, tok])

    def answer_logprob(self, request: str, cwd: str, answer: str) -> tuple[float, int]:
        """log P(answer, then the end marker | the prompt of `request`) under the adapter, and
        its token count: how readily the model itself would write `answer` (greedy decoding
        finds its own best answer; this scores another one, the rules' reading)."""
        fmt, toks = self._prompt_tokens(request, cwd)
        ans = self.llm.tokenize((answer + fmt.answer_end).encode(), add_bos=False, special=True)
        if len(toks) + len(ans) > self.n_ctx:
            return float("-inf"), len(ans)
        self._dirty = True
        self._req_end = 0
        # reuse the KV cache of the prompt translate() has just evaluated, less its last
        # token, which is evaluated again for its logits
        seen = list(self.llm._input_ids[:self.llm.n_tokens])
        n = 0
        while n < min(len(seen), len(toks) - 1) and seen[n] == toks[n]:
            n += 1
        self.llm.n_tokens = n
        if len(toks) - 1 > n:
            self.llm.eval(toks[n:-1])
        # the prompt's last token and the answer but its last, in one batch with the logits
        # of every position (what Llama.eval does, with logits_all for this batch only)
        batch = [toks[-1]] + ans[:-1]
        llm = self.llm
        llm._ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)
        llm._batch.set_batch(batch=batch, n_past=llm.n_tokens, logits_all=True)
        llm._ctx.decode(llm._batch)
        llm.input_ids[llm.n_tokens:llm.n_tokens + len(batch)] = batch
        llm.n_tokens += len(batch)
        lp = self._log_softmax(len(batch))
        return float(sum(lp[i, t] for i, t in enumerate(ans))), len(ans)

    def stream_reply(self, text: str, cancel: threading.Event | None = None,
                     max_tokens: int = 96) -> Iterator[str]:
        """A short free-form reply, streamed piece by piece."""
        self._dirty = True
        self._req_end = 0
        if self.adapter:
            self._use_adapter(False)
        messages = [{"role": "system", "content": REPLY_SYSTEM}, {"role": "user", "content": text}]
        try:
            for chunk in self.llm.create_chat_completion(messages=messages, max_tokens=max_tokens,
                                                         temperature=0.2, stream=True):
                if cancel is not None and cancel.is_set():
                    break
                piece = chunk["choices"][0].get("delta", {}).get("content")
                if piece:
                    yield piece
        finally:
            if self.adapter:
                self._use_adapter(True)
            self._rewind()


def _balanced(text: str) -> bool:
    depth, in_str, esc = 0, False, False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
    return depth == 0 and not in_str
