"""The planner: request -> validated plan, combining the parser, the model and the guard.

Order of work for one request:
1. normalise; questions about an action ("is it safe to delete X?") never act;
2. negated clauses are removed; one that says what it leaves out (a thing, a destructive
   tool) leaves the rest as asked, any other forbids every change;
3. the request is split into steps; each step goes to the deterministic parser, first as
   written, then with typos repaired; a step the parser does not recognise goes to the
   model (tool chosen by likelihood among the tools the step may use, arguments grounded
   in the request, grammar-constrained where a choice remains), or becomes `clarify`
   when no model is ready;
4. every plan passes the guard (destructive only when asked) and registry validation.
"""
from __future__ import annotations

import os
import re
import threading
from typing import Iterator

from ..tools.registry import PlanError, validate_plan
from . import docform, text as T
from .grounding import signal_meant
from .guard import asks_for, guard_plan, outside_negations, scoped_negations
from .parser import Context, act, clarify, parse_english, parse_shell
from .synonyms import canonical
from .templates import PATH_ARGS, match as match_template

NO_MODEL_REPLY = ("I can only act on requests here (try 'help'); the language model is "
                  "not available for free-form replies.")
LOADING_REPLY = "The language model is still loading; ask again in a moment, or try 'help'."


def context_from(cwd: str, history: list | None) -> Context:
    ctx = Context(cwd=cwd or "/")
    for turn in history or []:
        plan = turn.get("plan") if isinstance(turn, dict) else None
        if isinstance(plan, list):
            ctx.remember([a for a in plan if isinstance(a, dict) and "tool" in a])
    return ctx


def parse_step(step: str, ctx: Context, english: bool = True) -> list[dict] | None:
    """The deterministic readers on one step (exact command syntax, then a whole-step
    sentence template, then, with `english`, the English rules): its canonical form
    (synonyms.py), as written, then both again with typos repaired."""
    repaired = T.repair_typos(step)
    for variant in dict.fromkeys((canonical(step), step, canonical(repaired), repaired)):
        acts = parse_shell(variant, ctx)
        if acts is None:
            acts = match_template(variant, ctx)
        if acts is None and english:
            acts = parse_english(variant, ctx)
        if acts is not None:
            return acts
    return None


_SAFE_TO_REMOVE = re.compile(r"\b(?:safe|ok|okay)\b.*\b(?:delete|remove|erase|rm)\b|\b(?:delete|remove|erase)\b.*\bsafely\b", re.I)


_REFERS_BACK = re.compile(r"(?<![\w'])(?:it|its|that|this one|that one|them|there|the same|"
                          r"that (?:file|folder|directory|process|one))(?![\w'])|它|那里|那儿|这里|"
                          r"那个|这个文件|刚才", re.I)


def refers_back(text: str) -> bool:
    """The request points at something said before ("delete it", "move b.txt there")."""
    from .veto import QUOTED
    return _REFERS_BACK.search(QUOTED.sub(" ", text)) is not None


def _all_read(steps: list[str], ctx: Context, english: bool) -> bool:
    """Whether the deterministic readers read every step, each in the context the steps
    before it leave ("make a folder x and go into it": "it" is x, cwd following cd)."""
    for step in steps:
        acts = parse_step(step, ctx, english=english)
        if acts is None:
            return False
        ctx.remember(acts)
        for a in acts:
            if a["tool"] == "change_dir":
                ctx.cwd = a["args"]["path"]
    return True


def _acts(step: str, ctx: Context) -> bool:
    """Whether exact syntax or a template reads `step` as an action (not as a question back)."""
    acts = parse_step(step, ctx, english=False)
    return bool(acts) and any(a["tool"] not in ("clarify", "answer") for a in acts)


def rules_plan(steps: list[str], ctx: Context) -> list[dict] | None:
    """What the deterministic readers, English rules included, plan for `steps` (cwd
    following cd), or None when a step is not theirs or they would ask back."""
    plan: list[dict] = []
    for step in steps:
        acts = parse_step(step, ctx)
        if not acts or any(a["tool"] in ("clarify", "answer") for a in acts):
            return None
        ctx.remember(acts)
        for a in acts:
            if a["tool"] == "change_dir":
                ctx.cwd = a["args"]["path"]
        plan.extend(acts)
    return plan


def _drops_steps(model: list[dict], rules: list[dict]) -> bool:
    """The model's plan is the rules' with steps left out ("make a folder x and list it"
    answered with the listing alone): the rules found more of what was asked."""
    it = iter(rules)
    return 0 < len(model) < len(rules) and all(any(a == r for r in it) for a in model)


def _parts(path, cwd: str) -> set[str]:
    """The components of `path` below `cwd` (all of them when it lies elsewhere)."""
    if not isinstance(path, str):
        return set()
    base = cwd.rstrip("/") + "/"
    rel = path[len(base):] if path.startswith(base) else path
    return {p for p in rel.split("/") if p}


def _words(request: str) -> set[str]:
    """The request's words, casefolded, a full stop at the end left off."""
    return {w.rstrip(".") for w in re.findall(r"[^\s,;:!?'\"]+", request.casefold())}


def _drops_places(model: list[dict], rules: list[dict], request: str, cwd: str) -> bool:
    """The model's plan is the rules' with a place the request names left out of a path
    ("delete budget.xlsx from logs" answered with rm budget.xlsx): the model writes spans
    of the request and cannot join "logs" and "budget.xlsx"; the rules did. Same tools,
    every path the model wrote is in the rules' one, and what the rules add is written in
    the request as a word."""
    if len(model) != len(rules) or [a["tool"] for a in model] != [r["tool"] for r in rules]:
        return False
    words = _words(request)
    added = False
    for a, r in zip(model, rules):
        for key in PATH_ARGS:
            mine, theirs = a["args"].get(key), r["args"].get(key)
            if mine == theirs:
                continue
            m, t = _parts(mine, cwd), _parts(theirs, cwd)
            if not m or not m < t or not all(x.casefold() in words for x in t - m):
                return False
            added = True
        if any(a["args"].get(k) != r["args"].get(k) for k in set(a["args"]) | set(r["args"])
               if k not in PATH_ARGS):
            return False
    return added


def _written(name: str, words: set[str], request: str) -> bool:
    """`name` is written in the request: as a whole word, or, holding a Chinese character
    (no spaces there), as a piece of it."""
    n = name.casefold()
    return n in words or (any("\u4e00" <= c <= "\u9fff" for c in n) and n in request.casefold())


def _drops_names(model: list[dict], rules: list[dict], request: str, cwd: str) -> bool:
    """The rules' plan is the model's with a name the request writes left out of a path:
    "List the contents of the locations projects" read by the rules as `ls` (the cwd),
    "Rename this path to the target path: a.txt b.bak" as `mv path b.bak` (a generic noun
    taken for the name). Same tools, and a path of the model's has a component, written in
    the request as a word, that no path of the rules' has: the model read more of the
    request, and its reading stands without weighing."""
    if len(model) != len(rules) or [a["tool"] for a in model] != [r["tool"] for r in rules]:
        return False
    words = _words(request)
    theirs: set[str] = set()
    for r in rules:
        for key in PATH_ARGS:
            theirs |= {x.casefold() for x in _parts(r["args"].get(key), cwd)}
    return any(_written(x, words, request) and x.casefold() not in theirs
               for a in model for key in PATH_ARGS for x in _parts(a["args"].get(key), cwd))


def _guarded(plan: list[dict], request: str) -> bool:
    """The guard would set part of `plan` aside for `request` (guard.guard_plan: a generic
    word taken as a name, a removal nobody asked for, ...): such a reading is no rival for
    one it leaves as it is."""
    return guard_plan([(request, plan)], request=request) != plan


def with_signals_meant(plan: list[dict] | None, request: str) -> list[dict] | None:
    """A model's kill without a signal, for a request that names one by its meaning
    ("forcibly terminate process 65", "强制结束进程 65"), sends that signal."""
    sig = signal_meant(request) if plan else None
    if sig is None:
        return plan
    return [{"tool": a["tool"], "args": {**(a.get("args") or {}), "signal": sig}}
            if a["tool"] == "kill_process" and "signal" not in (a.get("args") or {}) else a
            for a in plan]


def _writes_other_text(plan: list[dict] | None, data: str) -> bool:
    """A model's (or the server's) write whose text is not the request's data: the text of
    a write runs to the end of the request, so a plan that wrote a piece of it ("at 5" of
    "with the text meeting at 5") misread it."""
    return bool(plan) and bool(data) and any(
        a["tool"] in ("write_file", "append_file") and a["args"].get("text") != data for a in plan)


def _places(text: str) -> list[tuple[str, str]]:
    from .translation import places
    return places(text)


def question_plan(text: str, ctx: Context) -> list[dict]:
    """A question about an action: information, never the action."""
    from .grounding import extract, resolve
    if _SAFE_TO_REMOVE.search(text):
        ents = extract(text)
        if ents.paths:
            return [act("file_info", path=resolve(ents.paths[0], ctx.cwd))]
    return [act("answer")]


# How much less likely (in nats, whole answer) the English rules' reading may be than the
# model's own answer and still stand (LLMOS_PLANNER_ORDER=arbitrated). Chosen on the dev
# sets (tests/eval/*.jsonl and the adversarial set), never on the held-out man pages:
# `tests/eval/arbitration.py` sweeps 0..16 nats and a per-token length bonus; 12 nats has
# the best mean dev accuracy with no unsafe plan (4 nats before, on a narrower sweep),
# the length bonus gains nothing that holds.
ARBITRATION_MARGIN = 12.0
LOADER_NICE = 10
# RAM the model needs beyond its file size (KV cache, compute buffers, the console itself);
# measured in the guest: a 94 MiB model loads with -m 128 and is OOM-killed with -m 96.
MODEL_RAM_MARGIN = 20 << 20


def memory_shortfall(model_path: str, meminfo: str = "/proc/meminfo") -> str | None:
    """Why this machine has too little RAM for the model, or None when it has enough.

    Loading anyway would get the console OOM-killed (and restarted, and killed again)."""
    try:
        with open(meminfo) as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        total = int(fields["MemTotal"].split()[0]) << 10
    except (OSError, KeyError, ValueError):
        return None
    need = os.path.getsize(model_path) + MODEL_RAM_MARGIN
    if total < need:
        return (f"not enough memory for the model ({total >> 20} MiB RAM, "
                f"needs about {need >> 20} MiB); the console works without it")
    return None


class Planner:
    """Plans requests; owns the (optional) model runtime.

    status: "none" (no model file found), "loading", "ready", "unavailable: <reason>".
    """

    def __init__(self, model_path: str | None = None, threads: int | None = None,
                 use_model: bool = True):
        from .models import find_model
        self.threads = threads  # None: runtime.default_threads() ($LLMOS_THREADS or the CPUs we may use)
        self.model_path = model_path if model_path else (find_model() if use_model else None)
        self._runtime = None
        self._status = "none" if not self.model_path else "unavailable: not loaded yet"
        self.adapter_status = "none"     # the trained adapter: "<file>", "none", "refused: why"
        self.last_source = "parser"      # who planned the last request: parser or model
        self.last_translation = None
        # the English rules before the model (True) or only when it is missing (False)
        order = os.environ.get("LLMOS_PLANNER_ORDER", "arbitrated")
        self.english_first = order == "english-first"
        # arbitrated: the model translates; where the English rules read the request
        # otherwise, the model scores both readings and the rules' stands if it is about
        # as likely as the model's own (ARBITRATION_MARGIN)
        self.arbitrate = order == "arbitrated"
        self.arbitration_margin = ARBITRATION_MARGIN
        self.last_arbitration: dict | None = None
        self._model_logprob = 0.0       # log P of the last translation (runtime.translate)
        self.remote_url: str | None = None   # None: the setting decides; "": no server
        self.remote_note: str | None = None  # who planned the last request, with a server set
        self.answer_note: str | None = None  # who answered the last free-form reply, idem
        self._remote_failed: tuple[str, str] | None = None   # (request, why) of the last plan
        self.data_dir = "/data"
        self._remote = None
        self._remote_deferred = False    # a server's reading set aside for the rules' (the
        #                                  local model is not asked again for that request)
        # llama.cpp RPC workers for the local model (rpc.py: llmos.rpc=, /data/etc/rpc);
        # such a model runs in a child (modelhost.py) started with `spawn` (the console's
        # reaper; None: a reaper of the planner's own, which nothing drives)
        self.spawn = None
        self.rpc_note: str | None = None     # where the model runs, with workers set
        self._workers_failed = False         # a worker failed: local from then on
        self.rpc_wait: float | None = None   # seconds an unreachable worker is asked again
        self._lock = threading.Lock()
        self._loaded = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- model lifecycle --------------------------------------------------------------
    @property
    def status(self) -> str:
        return self._status

    def start_loading(self) -> None:
        """Load the model in a background thread; plan() works meanwhile (parser only)."""
        if not self.model_path or self._thread is not None:
            if not self.model_path:
                self._loaded.set()
            return
        self._status = "loading"
        self._thread = threading.Thread(target=self._load, name="planner-model", daemon=True)
        self._thread.start()

    def load(self) -> str:
        """Load synchronously (CLI, eval); returns the status."""
        self.start_loading()
        self._loaded.wait()
        return self._status

    def wait_ready(self, timeout: float | None = None) -> bool:
        self._loaded.wait(timeout)
        return self._status == "ready"

    def _load(self) -> None:
        from .gguf import GGUFError, check_gguf
        from .runtime import ModelRuntime
        if self._thread is not None and threading.current_thread() is self._thread:
            # Background loading must never starve the console's own thread (on a slow,
            # 2-CPU guest it competes with the line editor): run it, and the ggml worker
            # threads it creates (they inherit this), at a lower priority.
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOADER_NICE)
            except OSError:
                pass
        try:
            check_gguf(self.model_path)
            short = memory_shortfall(self.model_path)
            if short:
                self._status = f"unavailable: {short}"
                return
            rt = self._load_with_workers()
            if rt is not None:
                self._runtime = rt
                self._status = "ready"
                return
            rt = ModelRuntime(self.model_path, threads=self.threads, adapter=self._adapter())
            try:
                rt.load()
            except (ValueError, RuntimeError) as e:
                if not rt.adapter:
                    raise
                # llama.cpp could not apply the adapter: the model alone still plans
                self.adapter_status = f"refused: llama.cpp could not load it ({e})"
                rt = ModelRuntime(self.model_path, threads=self.threads)
                rt.load()
            self._runtime = rt
            self._status = "ready"
        except GGUFError as e:
            self._status = f"unavailable: {e}"
        except ImportError as e:
            self._status = f"unavailable: llama_cpp not importable ({e})"
        except Exception as e:  # llama.cpp raises ValueError/RuntimeError on bad models
            self._status = f"unavailable: {type(e).__name__}: {e}"
        finally:
            self._loaded.set()

    def rpc_setting(self) -> str | None:
        """The model's RPC workers (rpc.setting: /data/etc/rpc, else llmos.rpc=)."""
        from .rpc import setting
        return setting(data_file=os.path.join(self.data_dir, "etc", "rpc"))

    def _load_with_workers(self):
        """The model loaded in a modelhost child with the RPC workers set, or None (no
        workers set, a worker failed before, or they cannot be used: rpc_note says why,
        and the model loads here, locally)."""
        value = self.rpc_setting()
        if not value or self._workers_failed:
            return None
        from .modelhost import HostedRuntime, WorkerGone
        from .rpc import RpcError, parse
        spawn = self.spawn
        if spawn is None:
            from ..reaper import Reaper
            spawn = Reaper().spawn
        rt = None
        try:
            parse(value)
            rt = HostedRuntime(self.model_path, self.threads, self._adapter(), value, spawn,
                               wait=self.rpc_wait)
            rt.load()
        except (WorkerGone, RpcError, ValueError, OSError) as e:
            if rt is not None:
                rt.close()
            self._workers_failed = True
            self.rpc_note = (f"RPC workers {value}: not used ({_short(str(e))}); "
                             f"the model runs locally")
            return None
        note = f"the model runs on the RPC worker{'s' if len(rt.workers) > 1 else ''} " \
               f"{', '.join(rt.workers)}"
        if rt.skipped:
            note += f" (not used: {_short('; '.join(rt.skipped))})"
        self.rpc_note = note
        return rt

    def _worker_gone(self, rt, why: str) -> None:
        """A worker (or the model's process) failed mid-session: the model loads here,
        locally, in the background; meanwhile the rules plan."""
        with self._lock:
            if self._runtime is not rt:
                return                     # already switched
            self._runtime = None
            self._workers_failed = True
            self.rpc_note = (f"the model's RPC worker failed ({_short(why)}); "
                             f"the model now loads locally")
            self._thread = None
            self._loaded.clear()
        rt.close()
        self.start_loading()

    def _adapter(self) -> str | None:
        from .adapter import AdapterError, check, find_adapter
        path = find_adapter(self.model_path)
        if not path:
            self.adapter_status = "none"
            return None
        try:
            check(path, self.model_path)
        except AdapterError as e:
            self.adapter_status = f"refused: {e}"
            return None
        self.adapter_status = os.path.basename(path)
        return path

    @property
    def runtime(self):
        return self._runtime if self._status == "ready" else None

    # ---- planning ---------------------------------------------------------------------
    def plan(self, request: str, cwd: str, history: list | None = None) -> list[dict]:
        self.remote_note = self._remote_failed = None
        from .modelhost import WorkerGone
        try:
            try:
                return validate_plan(self._plan(request, cwd, history))
            except WorkerGone as e:    # the model's RPC worker failed: plan without it
                self._worker_gone(self._runtime, str(e))
                return validate_plan(self._plan(request, cwd, history))
        except PlanError as e:  # never hand out an invalid plan
            return [clarify(f"I could not form a valid plan ({e}); please rephrase.")]

    def _plan(self, request: str, cwd: str, history: list | None) -> list[dict]:
        ctx = context_from(cwd, history)
        text = T.normalise(request or "")
        if not text:
            return [act("help")]
        # the text of a write is data: no question, negation, content or step rule reads it
        text, data = T.split_text(text)
        command = text            # what the vetoes read (guard.py): the request, less its data
        if T.is_question_about_action(text) and not re.search(r"\bhow do i use\b", text, re.I):
            return question_plan(text, ctx)
        # A write or append whose template accounts for the whole request: its text is data
        # ("write don't panic to notes.txt"), so no negation or step rule may read it.
        if not data:
            whole = match_template(text, ctx)
            if whole and {a["tool"] for a in whole} <= {"write_file", "append_file"}:
                return guard_plan([(text, whole)])
        text = T.strip_content(text) or text
        # A story, then the request: the request is read, the story only by the vetoes
        # (its "not", its "somebody told me" still forbid every change)
        focus = T.final_request(text)
        said = focus or T.normalise(request or "")     # the request as the model reads it
        if focus:
            text = focus
        from .grounding import extract, resolve
        clauses = T.negated_clauses(text)
        mentioned = [{"tool": "mention", "args": {"path": resolve(p, ctx.cwd)}}
                     for clause in clauses for p in extract(clause).paths]
        if mentioned:   # "don't delete old.txt, show it": it = old.txt, for every reader below
            ctx.remember(mentioned)
            history = [*(history or []), {"request": text, "plan": mentioned}]
        rest, negated = T.strip_negations(text)
        if negated and not rest:
            return [act("answer", text="OK, I won't do anything.")]
        # A negation that says what it leaves out ("delete a.txt, not b.txt", "kill 42 but
        # don't reboot") leaves the rest of the request as asked: the vetoes read the rest,
        # and no state change may touch what a negated clause names (guard.outside_negations).
        # Any other ("delete a.txt? no, don't do it") forbids every change, as before.
        scoped = negated and not focus and scoped_negations(clauses, ctx.cwd)
        forbid = negated and not scoped
        if scoped:
            command = rest

        def finish(plan: list[dict]) -> list[dict]:
            why = outside_negations(plan, clauses, cwd) if scoped else None
            return [clarify(f"Nothing changed: {why}.")] if why else plan
        steps = T.split_steps(rest, commas=True) or [rest]
        if len(steps) > 1 and any(parse_step(s, context_from(cwd, history)) is None for s in steps):
            steps = T.split_steps(rest) or [rest]   # "the file x says ..., show it": no comma steps
        if len(steps) > 1 and not negated and not data and docform.values(rest) and \
                not any(_acts(s, context_from(cwd, history)) for s in steps[:-1]):
            # a description, then its values, is one command ("Open the file, read it, and
            # close the file: a.txt"), unless a clause before is an action ("cd x; rm a.log")
            steps = [rest]
        if data:
            steps[-1] = f"{steps[-1]} {data}"
        # Exact syntax and whole-step templates first; anything else is the trained
        # model's to translate (translation.py), the English rules only without it.
        self.last_source = "parser"
        # The model sees the request and the cwd, not the conversation: a request that points
        # back at it ("copy it to photos", "把它删掉") is the rules' to resolve first, and so
        # is one with a negated clause to leave out ("delete a.txt, not b.txt"), and one whose
        # later step points back at an earlier one ("make a folder x and go into it"): the
        # model writes spans of the request, the rules carry what each step named to the next.
        # The same for a file the request places in a directory ("a.txt from docs"): the
        # rules join the two, the model cannot (translation.misplaced refuses its attempt).
        english = self.english_first or negated or (bool(ctx.actions) and refers_back(text)) \
            or any(refers_back(s) for s in steps[1:]) or bool(_places(text))
        self.last_arbitration = None
        got = self._remote_plan(said, steps, ctx, cwd, history, data)
        if got is not None:     # the server's plan, checked as the model's is (remote.py)
            if not got:
                return [act("answer")]
            got = with_signals_meant(got, said)
            whole = f"{rest} {data}".strip() if data else rest
            return finish(guard_plan([(whole, got)], forbid_destructive=forbid, request=command, data=data))
        if self.translator is not None and not self._remote_deferred and \
                not _all_read(steps, context_from(cwd, history), english):
            got = self._translate(said, ctx)
            if _writes_other_text(got, data):
                got = None
                self.last_source = "parser (the model's text was not the request's)"
            elif not negated and not data and len(steps) == 1:
                got = self._documented(said, ctx, got)
            got = with_signals_meant(got, said)
            if got is not None and self.arbitrate and \
                    self._rules_stand(got, steps, cwd, history, said,
                                      self._local_scores(said, ctx.cwd),
                                      model_text=self.last_translation.text.strip()):
                got = None      # the model reads the request as the rules do: theirs
                self.last_source = "parser (the model preferred the rules' reading)"
            if got is not None:
                self.last_source = "model"
                if not got:           # the model: no command fits (chat, a question)
                    return [act("answer")]
                whole = f"{rest} {data}".strip() if data else rest
                return finish(guard_plan([(whole, got)], forbid_destructive=forbid, request=command, data=data))
            elif self.last_source == "parser":
                self.last_source = "parser (the model's answer was not usable)"
        done: list[tuple[str, list[dict]]] = []
        for step in steps:
            acts = parse_step(step, ctx)
            if acts is None:
                acts = self._model_step(step, ctx, forbid_destructive=forbid)
            ctx.remember(acts)
            for a in acts:   # "cd docs; rm old.log": the next step starts in docs
                if a["tool"] == "change_dir":
                    ctx.cwd = a["args"]["path"]
            done.append((step, acts))
        plan = finish(guard_plan(done, forbid_destructive=forbid, request=command, data=data))
        # "hello there, how are you?": one reply, not one per clause
        plan = [a for i, a in enumerate(plan) if not (i and a == plan[i - 1] and a["tool"] == "answer")]
        if len(plan) > 1:  # a step we could not resolve makes the whole request a question
            clar = [a for a in plan if a["tool"] == "clarify"]
            if clar:
                return clar[:1]
        return plan

    def remote_setting(self) -> str | None:
        """The planner's server (remote.setting: /data/etc/llm, else llmos.llm=), read at
        every request; a test or the host CLI sets `remote_url` instead."""
        if self.remote_url is not None:
            return self.remote_url or None
        from .remote import setting
        return setting(data_file=os.path.join(self.data_dir, "etc", "llm"))

    def _remote_plan(self, said: str, steps: list[str], ctx: Context, cwd: str,
                     history: list | None, data: str) -> list[dict] | None:
        """With a server set, the plan it gives for a request that is not exact command
        syntax, read back like the local model's (translation.read_answer); None when
        there is no server, the request is exact syntax, or its answer is not usable
        (remote_note then says why, and the local planner answers)."""
        self.remote_note = None
        self._remote_failed = None
        self._remote_deferred = False
        url = self.remote_setting()
        if not url or all(parse_shell(s, context_from(cwd, history)) is not None for s in steps):
            return None
        import time

        from .remote import RemoteError
        from .translation import answer_grammar, read_answer
        t0 = time.monotonic()
        try:
            answer = self._remote_at(url).translate(said, ctx.cwd, answer_grammar(said, ctx))
            tr = read_answer(answer, said, ctx)
            why = tr.why if tr.plan is None else None
            if _writes_other_text(tr.plan, data):
                why = "its text was not the request's"
        except (RemoteError, ValueError) as e:
            why = _short(str(e))
            self._remote_failed = (said, why)    # not asked again for this request's answer
        took = time.monotonic() - t0
        if why is not None:
            why = _short(why)                    # its text is the server's
            self.remote_note = (f"the server at {url} gave no usable plan ({why}); "
                                f"the local planner answered")
            return None
        self.remote_note = f"planned by the server at {url} ({took:.2f} s)"
        if tr.plan and self.arbitrate:
            server = self._remote_at(url)
            failed: list[str] = []

            def scores(cmd: str) -> tuple[float, float] | None:
                """The server's model weighs the rules' reading (cmd) against its own."""
                if server.last_logprob is None:
                    failed.append("its reply gives no token probabilities")
                    return None
                try:
                    return server.answer_logprob(said, ctx.cwd, cmd), server.last_logprob
                except (RemoteError, ValueError) as e:
                    failed.append(_short(str(e)))
                    return None
            stands = self._rules_stand(tr.plan, steps, cwd, history, said, scores,
                                       model_text=answer.strip())
            if stands:
                # the rules' reading (the per-step loop); the local model is not asked again
                self._remote_deferred = True
                self.last_source = "parser (the server preferred the rules' reading)"
                said_back = _short(answer.strip().replace("\n", "; "))
                self.remote_note += (f": its reading ({said_back}) is set aside "
                                     f"for the rules' one, "
                                     + (f"as it could not weigh the two ({failed[0]})" if failed
                                        else stands.replace("its model", "it")))
                return None
        self.last_source = "remote"
        return tr.plan

    def _remote_at(self, url: str):
        """The Remote for `url` (kept while the setting stays: its chat format is asked once);
        ValueError for a URL that is not http://HOST:PORT."""
        from .remote import Remote
        if self._remote is None or self._remote.url != url:
            self._remote = Remote(url)
        return self._remote

    @property
    def translator(self):
        """The runtime when its adapter translates requests into canonical commands."""
        rt = self.runtime
        return rt if rt is not None and getattr(rt, "adapter", None) else None

    def _translate(self, request: str, ctx: Context) -> list[dict] | None:
        from .translation import translate
        with self._lock:
            tr = translate(self.translator, request, ctx)
            self._model_logprob = self.translator.last_logprob
        self.last_translation = tr
        return tr.plan

    def _documented(self, said: str, ctx: Context, got: list[dict] | None) -> list[dict] | None:
        """`got`, the model's plan; or, for a request in the documentation form (a
        description, then its values: "Copy data and metadata a.yaml b.txt") where that plan
        is unusable, more than one command or leaves out a value, the whole command the
        model finds likeliest among those that use the values (docform.py)."""
        from .canonical import command
        from .translation import read_answer
        vals = docform.values(said)
        if not vals or (got is not None and (not got or len(got) == 1 and
                                             not docform.leaves_out(got, vals, ctx.cwd))):
            return got      # (a description stands for one command: two are a misreading)
        best, scores = None, self._local_scores(said, ctx.cwd)
        for a in docform.candidates(vals, said, ctx.cwd):
            cmd = command(a, ctx.cwd)
            if cmd is None:
                continue
            lp, _ = scores(cmd)
            if best is None or lp > best[0]:
                best = (lp, cmd)
        if best is None:
            return got
        tr = read_answer(best[1], said, ctx)
        if tr.plan is None:
            return got
        self.last_translation, self._model_logprob = tr, best[0]
        return tr.plan

    def _local_scores(self, request: str, cwd: str):
        """scores(cmd) for _rules_stand: (log P of `cmd`, log P of the model's own last
        answer, counted while it was decoded) under the local model."""
        def scores(cmd: str) -> tuple[float, float]:
            with self._lock:
                lp_rules, _ = self.translator.answer_logprob(request, cwd, cmd)
            return lp_rules, self._model_logprob
        return scores

    def _rules_stand(self, got: list[dict], steps: list[str], cwd: str, history: list | None,
                     said: str, scores, model_text: str) -> str | None:
        """Why the English rules' reading of the request stands over the model's plan `got`
        (the local model's or a server's, which answered `model_text`), or None when it
        does not. Only where the rules read every step, otherwise than the model: theirs
        stands where the model's plan leaves out a step or a place they read; the model's
        where theirs leaves out a name the model read or a value a description ends with
        (docform.values) that the model's uses, or the guard would set theirs aside
        and not the model's; else the model weighs the two (`scores(cmd)`: log P of the
        rules' commands and of its own answer, or None when it cannot say, and then the
        rules' reading stands) and theirs stands within ARBITRATION_MARGIN nats. A reading
        with no canonical form cannot be weighed: the model's. last_arbitration holds what
        was weighed."""
        from .canonical import commands
        rules = rules_plan(steps, context_from(cwd, history))
        if rules is None or rules == got:
            return None
        if _drops_steps(got, rules) or _drops_places(got, rules, said, cwd):
            return "which leaves out a step or a place they read"
        if _drops_names(got, rules, said, cwd):
            return None     # theirs leaves out a name the model read: the model's stands
        vals = docform.values(said)
        if vals and docform.leaves_out(rules, vals, cwd) and not docform.leaves_out(got, vals, cwd):
            return None     # a description's value theirs leaves out ("... process 31337" as ps)
        if _guarded(rules, said) and not _guarded(got, said):
            return None     # the guard would set theirs aside ("mv directories x"), not the model's
        cmd = commands(rules, cwd)
        if cmd is None:
            return None
        got_scores = scores(cmd)
        if got_scores is None:
            return "as the model could not weigh the two"
        lp_rules, lp_model = got_scores
        self.last_arbitration = {"rules": cmd, "rules_logprob": lp_rules,
                                 "model": model_text, "model_logprob": lp_model}
        if lp_rules >= lp_model - self.arbitration_margin:
            return f"which its model found about as likely ({lp_rules:.1f} against {lp_model:.1f} nats)"
        return None

    def _model_step(self, step: str, ctx: Context, forbid_destructive: bool) -> list[dict]:
        rt = self.runtime
        if rt is not None and getattr(rt, "adapter", None):
            # the adapter's translation of this request was not usable (translation.py)
            why = getattr(self.last_translation, "why", "")
            # the reason is the model's reading set aside, said as such ("n" was once
            # answered "(a change of directory to where it already is)", which read as ours)
            return [clarify("I'm not sure what you mean" + (f" (I set aside my model's reading: {why})" if why else "") +
                            ". Try a command like 'ls /data', 'show notes.txt', or 'help'.")]
        if rt is None:
            if self._status == "loading":
                return [clarify("I didn't understand that yet (the language model is still loading). "
                                "Try a command like 'ls /data', or 'help'.")]
            return [clarify("I didn't understand that. Try a command like 'ls /data', "
                            "'show notes.txt', 'delete old.log', or 'help'.")]
        from .modelplan import model_step
        with self._lock:
            return model_step(rt, step, ctx, allow=lambda tool: not forbid_destructive and asks_for(tool, step))

    # ---- replies ----------------------------------------------------------------------
    def stream_answer(self, text: str, cancel: threading.Event | None = None) -> Iterator[str]:
        """A free-form reply: the server's when one is set (streamed, remote.py), else, or
        when it fails before its first piece, the local model's; answer_note then says
        which one answered. A server that fails after some text ends the answer there."""
        self.answer_note = None
        url = self.remote_setting()
        if url:
            failed = self._remote_failed
            if failed is not None and failed[0] == T.normalise(text or ""):
                # the plan of this very request found no server: not asked again
                self.answer_note = f"the server at {url} gave no answer ({failed[1]})"
            else:
                got = yield from self._remote_answer(url, text, cancel)
                if got:
                    return
            if self.runtime is not None:
                self.answer_note += "; the local model answered"
        yield from self._local_answer(text, cancel)

    def _remote_answer(self, url: str, text: str, cancel: threading.Event | None):
        """Streams the server's answer; True when it gave one (answer_note says so), False
        when it failed before any text (answer_note says why)."""
        import time

        from .remote import RemoteError
        t0, shown = time.monotonic(), False
        try:
            for piece in self._remote_at(url).stream_reply(text, cancel=cancel):
                shown = True
                yield piece
        except (RemoteError, ValueError) as e:
            if not shown:
                self.answer_note = f"the server at {url} gave no answer ({_short(str(e))})"
                return False
            self.answer_note = f"the server at {url} broke off its answer ({_short(str(e))})"
            return True
        self.answer_note = f"answered by the server at {url} ({time.monotonic() - t0:.2f} s)"
        return True

    def _local_answer(self, text: str, cancel: threading.Event | None) -> Iterator[str]:
        rt = self.runtime
        if rt is None:
            yield LOADING_REPLY if self._status == "loading" else NO_MODEL_REPLY
            return
        from .modelhost import WorkerGone
        try:
            with self._lock:
                yield from rt.stream_reply(text, cancel=cancel)
        except WorkerGone as e:      # the model's RPC worker failed: the answer stops here
            self.answer_note = f"the model's RPC worker failed ({_short(str(e))})"
            self._worker_gone(rt, str(e))


def _short(why: str, limit: int = 120) -> str:
    """A reason for the console, cut to `limit` characters (a server's text is untrusted)."""
    return why if len(why) <= limit else why[:limit - 3] + "..."
