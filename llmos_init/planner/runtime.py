"""The model runtime: llama.cpp loaded once, the system prompt's KV state computed once.

The prefix (tool list and one example per tool, both generated from the registry) is
evaluated at load time; a request then costs only its own tokens: the KV cache is rolled
back to the end of the prefix (llama-cpp-python drops cache entries past `n_tokens` on the
next eval), the request is evaluated, and the tools are scored by the model's own
likelihood of their names, walking the token trie of the names so that each shared prefix
is evaluated once. After a free-form reply (which overwrites the cache) the saved prefix
state is restored. llama_cpp is imported only here, inside `load`.
"""
from __future__ import annotations

import math
import threading
from collections import defaultdict
from typing import Iterator

from ..tools.registry import TOOLS

N_CTX = 2048


def prefix_text() -> str:
    lines = ["You are the planner of a small operating system. For each request, name the "
             "one tool that does it.", "Tools:"]
    for t in TOOLS.values():
        lines.append(f"- {t.name}: {t.summary}")
    lines.append("")
    for t in TOOLS.values():
        if t.example:
            lines.append(f"Request: {t.example}\nTool: {t.name}")
    return "\n".join(lines) + "\nRequest:"


class ModelRuntime:
    def __init__(self, path: str, threads: int, n_ctx: int = N_CTX):
        self.path, self.threads, self.n_ctx = path, threads, n_ctx
        self.llm = None
        self.n_prefix = 0
        self._state = None
        self._dirty = False
        self.tool_tokens: dict[str, list[int]] = {}
        self.baseline: dict[str, float] = {}

    def load(self) -> None:
        import llama_cpp  # noqa: F401  (pulls numpy; only in the loader thread)
        from llama_cpp import Llama
        self.llm = Llama(model_path=self.path, n_ctx=self.n_ctx, n_threads=self.threads,
                         n_threads_batch=self.threads, n_batch=512, verbose=False,
                         logits_all=False)
        self._np = __import__("numpy")
        toks = self.llm.tokenize(prefix_text().encode(), add_bos=True, special=False)
        self.llm.reset()
        self.llm.eval(toks)
        self.n_prefix = self.llm.n_tokens
        self._state = self.llm.save_state()
        self.tool_tokens = {t: self.llm.tokenize((" " + t).encode(), add_bos=False, special=False)
                            for t in TOOLS}
        # Contextual calibration: the tools' likelihood for an empty request.
        self.baseline = self.score_tools("", list(TOOLS))

    # ---- low level --------------------------------------------------------------------
    def _rewind(self) -> None:
        if self._dirty:
            self.llm.load_state(self._state)
            self._dirty = False
        self.llm.n_tokens = self.n_prefix

    def _logprobs(self):
        np = self._np
        n_vocab = self.llm.n_vocab()
        logits = np.ctypeslib.as_array(self.llm._ctx.get_logits(), shape=(n_vocab,)).astype(np.float64)
        m = logits.max()
        return logits - (m + math.log(np.exp(logits - m).sum()))

    def _eval(self, tokens: list[int]):
        self.llm.eval(tokens)
        return self._logprobs()

    # ---- scoring ------------------------------------------------------------------------
    def score_tools(self, request: str, tools: list[str], calibrate: bool = False) -> dict[str, float]:
        """log P(tool name | prefix, request) for each tool, by walking the name trie."""
        self._rewind()
        req = self.llm.tokenize((" " + request + "\nTool:").encode(), add_bos=False, special=False)
        lp = self._eval(req)
        scores: dict[str, float] = {}
        self._walk(tools, 0, lp, 0.0, self.llm.n_tokens, scores)
        if calibrate and self.baseline:
            return {t: s - self.baseline.get(t, 0.0) for t, s in scores.items()}
        return scores

    def _walk(self, labels, depth, lp, acc, pos, out) -> None:
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
            self.llm.n_tokens = pos
            nxt = self._eval([tok])
            self._walk(members, depth + 1, nxt, a, pos + 1, out)

    # ---- generation -------------------------------------------------------------------
    def generate_args(self, request: str, tool: str, grammar_text: str, max_tokens: int = 96) -> str:
        """Grammar-constrained argument object for `tool` (JSON text)."""
        from llama_cpp import LlamaGrammar
        self._rewind()
        grammar = LlamaGrammar.from_string(grammar_text, verbose=False)
        toks = self.llm.tokenize((" " + request + f"\nTool: {tool}\nArguments:").encode(),
                                 add_bos=False, special=False)
        self.llm.eval(toks)
        out: list[int] = []
        for tok in self.llm.generate([], temp=0.0, top_k=1, grammar=grammar, reset=False):
            if tok == self.llm.token_eos() or len(out) >= max_tokens:
                break
            out.append(tok)
            text = self.llm.detokenize(out).decode("utf-8", "replace")
            if text.rstrip().endswith("}") and _balanced(text):
                break
        self.llm.n_tokens = self.n_prefix
        return self.llm.detokenize(out).decode("utf-8", "replace").strip()

    def stream_reply(self, text: str, cancel: threading.Event | None = None,
                     max_tokens: int = 96) -> Iterator[str]:
        """A short free-form reply, streamed piece by piece."""
        self._dirty = True
        messages = [{"role": "system", "content": "You are the console of a tiny operating system. "
                     "Answer in one or two short sentences."},
                    {"role": "user", "content": text}]
        try:
            for chunk in self.llm.create_chat_completion(messages=messages, max_tokens=max_tokens,
                                                         temperature=0.2, stream=True):
                if cancel is not None and cancel.is_set():
                    break
                piece = chunk["choices"][0].get("delta", {}).get("content")
                if piece:
                    yield piece
        finally:
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
