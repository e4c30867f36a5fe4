"""bench/RESULTS.md: the figures of results.json as markdown tables."""
from __future__ import annotations

MISSING = "—"


def fmt_seconds(x: float | None) -> str:
    if x is None:
        return MISSING
    if x < 1:
        return f"{x * 1000:.0f} ms"
    if x < 100:
        return f"{x:.2f} s"
    return f"{x:.0f} s"


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return MISSING
    if n < 1 << 20:
        return f"{n / 1024:.0f} KiB"
    if n < 1 << 30:
        return f"{n / (1 << 20):.1f} MiB"
    return f"{n / (1 << 30):.2f} GiB"


def fmt_ratio(x: float | None) -> str:
    """1.97×; below 0.1 as a fraction (1/640), where two decimals would read 0.00×."""
    if x is None:
        return MISSING
    return f"{x:.2f}×" if x >= 0.1 or x <= 0 else f"1/{1 / x:.0f}"


def fmt_share(x: float | None) -> str:
    return MISSING if x is None else f"{x * 100:.0f} %"


def fmt_rate(x: float | None, unit: str = "t/s") -> str:
    if x is None:
        return MISSING
    if x >= 100:
        return f"{x:.0f} {unit}"
    return f"{x:.1f} {unit}" if x >= 1 else f"{x:.3g} {unit}"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured markdown table; the first column left-aligned, the rest right."""
    align = [":---"] + ["---:"] * (len(headers) - 1)
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    for r in rows:
        if len(r) != len(headers):
            raise ValueError(f"row has {len(r)} cells, the table {len(headers)}: {r}")
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
    return "\n".join(lines)


def _get(d, *path):
    for k in path:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


BOOT_ROWS = (("QEMU start → kernel start", "qemu_to_kernel"),
             ("kernel start → PID 1 start", "kernel_to_pid1"),
             ("PID 1 start → console prompt", "pid1_to_prompt"),
             ("  PID 1 start → its first line (interpreter, imports)", "pid1_to_init_line"),
             ("  its first line → prompt (boot steps, console)", "init_line_to_prompt"),
             ("**QEMU start → console prompt**", "to_prompt"),
             ("console prompt → model ready", "prompt_to_model_ready"),
             ("**QEMU start → model ready**", "to_model_ready"))


def boot_section(b: dict) -> str:
    n_l = _get(b, "llmos", "to_prompt", "n") or 0
    n_b = _get(b, "baseline", "to_prompt", "n") or 0
    n_r = _get(b, "llmos", "to_model_ready", "n") or 0
    rows = []
    not_ready = bool(b.get("ready_timeouts")) and not n_r
    for label, key in BOOT_ROWS:
        llmos = fmt_seconds(_get(b, "llmos", key, "median"))
        if not_ready and "model_ready" in key:
            llmos = f"not within {fmt_seconds(b.get('ready_timeout_s'))} of the prompt"
        base = "no model" if "model_ready" in key else fmt_seconds(_get(b, "baseline", key, "median"))
        rows.append([label, llmos, base,
                     fmt_ratio(_get(b, "ratio", key))])
    same = ("kernel, boot loader (U-Boot, the system disk's slot A) and QEMU command line"
            if b.get("baseline_firmware") else "kernel and QEMU command line")
    head = (f"## Boot (QEMU TCG, -m {b.get('mem_mb', '?')}; medians of {n_l} llmos and {n_b} "
            f"baseline boots, model ready: {n_r} boot(s))\n\n"
            f"Baseline: the same {same}, root = static BusyBox shell as init.\n\n")
    text = head + table(["phase", "llmos", "BusyBox baseline", "llmos / baseline"], rows)
    if b.get("baseline_direct"):
        text += ("\n\nThe same baseline booted with QEMU's -kernel (no boot loader): QEMU start → "
                 f"prompt {fmt_seconds(_get(b, 'baseline_direct', 'to_prompt', 'median'))}, llmos / it "
                 f"{fmt_ratio(_get(b, 'ratio_direct', 'to_prompt'))}; kernel start → prompt "
                 f"{fmt_ratio(_ratio_of(b, 'baseline_direct'))} (llmos / it).")
    return text


def _ratio_of(b: dict, base: str) -> float | None:
    """llmos / `base` of kernel start → prompt (the boot loader left out of both)."""
    def k2p(who):
        total, q2k = _get(b, who, "to_prompt", "median"), _get(b, who, "qemu_to_kernel", "median")
        return None if total is None or q2k is None else total - q2k
    a, c = k2p("llmos"), k2p(base)
    return a / c if a and c else None


def inference_section(inf: dict) -> str:
    host = inf.get("host") or {}
    rows = []
    n_p = n_g = "?"
    for t, row in sorted((host.get("by_threads") or {}).items(), key=lambda kv: int(kv[0])):
        ours, ref, cmp_ = row.get("ours") or {}, row.get("llama_bench") or {}, row.get("compare") or {}
        n_p, n_g = ours.get("n_prompt", n_p), ours.get("n_gen", n_g)
        for key, label in (("pp", f"pp{n_p}"), ("tg", f"tg{n_g}")):
            rows.append([label, t, fmt_rate(_get(ours, key, "median")), fmt_rate(_get(ref, key, "median")),
                         fmt_ratio(cmp_.get(f"{key}_ratio")),
                         fmt_share(cmp_.get("ours_bandwidth_share")) if key == "tg" else MISSING,
                         fmt_share(cmp_.get("llama_bench_bandwidth_share")) if key == "tg" else MISSING])
    bw = host.get("bandwidth") or {}
    limit = (bw["best"] / host["model_bytes"]) if bw.get("best") and host.get("model_bytes") else None
    text = (f"## Inference (host; {host.get('model_file', 'model')}, {fmt_bytes(host.get('model_bytes'))})\n\n"
            f"pp{n_p}: prompt processing of {n_p} tokens in one batch; tg{n_g}: generating {n_g} "
            "tokens one by one (greedy). Our runtime: ModelRuntime's Llama (llama-cpp-python, the "
            "planner's settings); llama-bench: built from the llama.cpp vendored in the same sdist, "
            "same CMake flags, batch 512, no flash attention. Medians of the repetitions.\n\n")
    text += table(["test", "threads", "our runtime", "llama-bench", "ours / llama-bench",
                   "ours: share of bandwidth limit", "llama-bench: share"], rows)
    per = ", ".join(f"{k} thread(s) {fmt_bytes(v)}/s" for k, v in bw.items() if k != "best")
    text += (f"\n\nCopy bandwidth (numpy copy of 256 MiB, read + write counted): best "
             f"{fmt_bytes(bw.get('best'))}/s ({per}); generation limit = bandwidth / model bytes "
             f"= {fmt_rate(limit)}.")
    if host.get("errors"):
        text += "\n\nNot measured: " + "; ".join(host["errors"])
    text += "\n\n" + guest_inference_section(inf.get("guest") or {})
    return text


def guest_inference_section(guest: dict) -> str:
    """The guest's pp/tg: our runtime (llmos booted with llmos.bench=...) and llama-bench
    (BusyBox root), and the host with the same settings."""
    if guest.get("skipped"):
        return f"In the guest: not measured ({guest['skipped']})."
    st = guest.get("settings") or {}
    if not st:
        return "In the guest: not measured."
    n_p, n_g, t = st.get("n_prompt", "?"), st.get("n_gen", "?"), st.get("threads", "?")
    ours, ref = guest.get("ours") or {}, guest.get("llama_bench") or {}
    host, cmp_ = guest.get("host_same_settings") or {}, guest.get("compare") or {}
    rows = []
    for key, label in (("pp", f"pp{n_p}"), ("tg", f"tg{n_g}")):
        rows.append([label, str(t), fmt_rate(_get(ours, key, "median")),
                     fmt_rate(_get(ref, key, "median")),
                     fmt_ratio(cmp_.get(f"{key}_ratio")), fmt_rate(_get(host, key, "median")),
                     fmt_ratio(cmp_.get(f"guest_over_host_{key}_ratio"))])
    text = (f"### In the guest (QEMU TCG, -cpu {st.get('cpu', '?')}, -m {st.get('mem_mb', '?')}; "
            f"{st.get('reps', '?')} repetitions after a warm-up)\n\n"
            "Our runtime: the image booted with `llmos.bench=" f"pp{n_p},tg{n_g},r{st.get('reps', '?')},t{t}` "
            "(its one-shot modelbench service, llmos_init/modelbench.py). llama-bench: the same "
            "binary as above in the BusyBox baseline root, on the same kernel, QEMU command line "
            "and model partition. Host: our runtime on this machine with the guest's settings.\n\n")
    text += table(["test", "threads", "guest: our runtime", "guest: llama-bench",
                   "ours / llama-bench", "host: our runtime", "guest / host"], rows)
    dflt = guest.get("ours_default_cpu") or {}
    if dflt:
        text += (f"\n\nOn run-qemu.sh's default x86_64 TCG CPU (no AVX), the planner runs the "
                 f"model on the image's SSE-only ggml backend "
                 f"({_get(dflt, 'raw', 'ggml') or '?'}): pp{n_p} {fmt_rate(_get(dflt, 'pp', 'median'))}, "
                 f"tg{n_g} {fmt_rate(_get(dflt, 'tg', 'median'))}, "
                 f"{fmt_ratio(cmp_.get('default_cpu_over_avx2_pp_ratio'))} and "
                 f"{fmt_ratio(cmp_.get('default_cpu_over_avx2_tg_ratio'))} the AVX2 figures above.")
    raw = ours.get("raw") or {}
    if raw.get("copy_bandwidth"):
        text += (f"\n\nIn the guest, copy bandwidth (numpy, 32 MiB) {fmt_bytes(raw['copy_bandwidth'])}/s: "
                 f"generation reaches {fmt_share(raw.get('tg_bandwidth_share'))} of the limit it "
                 "implies (emulated vector arithmetic, not memory, is what bounds a TCG guest).")
    if guest.get("errors"):
        text += "\n\nIn the guest, not measured: " + "; ".join(guest["errors"])
    return text


def latency_section(lat: dict) -> str:
    rows = []
    for path in ("deterministic", "model"):
        h, g = _get(lat, "host", path) or {}, _get(lat, "guest", path) or {}
        rows.append([f"{path} path", fmt_seconds(h.get("median")), fmt_seconds(h.get("p95")),
                     fmt_seconds(g.get("median")), fmt_seconds(g.get("p95")),
                     f"{h.get('n', 0)} / {g.get('n', 0)}"])
    text = ("## Command latency (request → executed result)\n\n"
            "Host: Planner + Executor in-process against a sandbox directory, the model loaded. "
            "Guest: a request typed on the serial console until the next prompt, on a boot whose "
            "model is ready. Requests: " + "; ".join(
                f"{p}: " + ", ".join(f"'{r}'" for r in (_get(lat, "host", p, "requests") or []))
                for p in ("deterministic", "model")) + ".\n\n"
            + table(["path", "host p50", "host p95", "guest p50", "guest p95", "samples host / guest"], rows))
    guest = lat.get("guest") or {}
    if guest and not _get(guest, "model", "n"):
        text += "\n\nGuest model path: not measured (no boot had its model ready within the wait)."
    if guest.get("note"):
        text += f"\n\nGuest: {guest['note']}."
    if guest.get("failed"):
        text += "\n\nGuest requests without an answer: " + "; ".join(guest["failed"])
    return text


def remote_section(rm: dict) -> str:
    """The remote planner's latency from the guest beside the local model's (bench/remote.py)."""
    def cells(sm: dict | None) -> list[str]:
        sm = sm or {}
        return [fmt_seconds(sm.get("median")), fmt_seconds(sm.get("p95")), str(sm.get("n", 0))]

    rows = [["remote: llama-server on the host, every round", *cells(_get(rm, "remote", "all"))],
            ["  rounds it planned", *cells(_get(rm, "remote", "planned"))],
            ["    of which the server's exchange (the planner's own figure)",
             *cells(_get(rm, "remote", "server", "all"))],
            ["  rounds whose server plan was refused: the local planner's",
             *cells(_get(rm, "remote", "fell_back_s"))],
            ["local: the guest's model", *cells(_get(rm, "local", "all"))],
            [f"floor: an exact command ('{rm.get('floor_request', '?')}'), no planning",
             *cells(_get(rm, "floor", "all"))]]
    text = ("## Remote planner (a llama-server on the host, from the guest)\n\n"
            f"One guest (QEMU TCG, -m {rm.get('mem_mb', '?')}, user networking) booted with "
            "`llmos.llm=http://10.0.2.2:PORT`, its own model ready first "
            f"({fmt_seconds(rm.get('model_ready_s'))} after QEMU start); each request typed on the "
            f"serial console {rm.get('reps', '?')} times (after one untimed request), first planned by "
            f"llama-server on this host ({rm.get('server_model', '?')} with the planner's adapter, "
            f"{rm.get('server_threads', '?')} thread: `make serve`'s build), then, after "
            "`echo off > /data/etc/llm` in the same guest, by the guest's own model. Time: the request "
            "sent → the next prompt (the plan, its read-only action, the output). Requests: "
            + ", ".join(f"'{r}'" for r in rm.get("requests") or []) + ".\n\n"
            + table(["path", "p50", "p95", "samples"], rows))
    per = []
    for r in rm.get("requests") or []:
        rem, loc = _get(rm, "remote", "by_request", r) or {}, _get(rm, "local", "by_request", r) or {}
        plan_r = (_get(rm, "remote", "runs", r) or [{}])[0].get("plan") or []
        plan_l = (_get(rm, "local", "runs", r) or [{}])[0].get("plan") or []
        per.append([f"'{r}'", fmt_seconds(rem.get("median")), fmt_seconds(loc.get("median")),
                    fmt_ratio(None if not rem.get("median") or not loc.get("median")
                              else loc["median"] / rem["median"]),
                    "; ".join(plan_r) or "(a reply)",
                    "same" if (rm.get("same_plan") or {}).get(r) else ("; ".join(plan_l) or "(a reply)")])
    if per:
        text += "\n\nPer request (medians) and the plan each side gave:\n\n" + table(
            ["request", "remote", "local", "local / remote", "remote plan", "local plan"], per)
    notes = []
    if _get(rm, "remote", "fell_back"):
        notes.append(f"{rm['remote']['fell_back']} remote round(s) fell back to the local planner "
                     "(timed as they were), the server's plan refused: "
                     + "; ".join(_get(rm, "remote", "fell_back_why") or []))
    if _get(rm, "local", "asked_server"):
        notes.append(f"the server saw {rm['local']['asked_server']} request(s) after it was turned off")
    if rm.get("failed"):
        notes.append("requests without an answer: " + "; ".join(rm["failed"]))
    if notes:
        text += "\n\n" + "\n".join(f"- {n}" for n in notes)
    return text


def rpc_section(r: dict) -> str:
    """The guest's tokens/s local and with every layer on an rpc-server (bench/rpc.py)."""
    st = r.get("settings") or {}
    loc, rpc, w = r.get("local") or {}, r.get("rpc") or {}, r.get("worker") or {}
    cmp_ = r.get("compare") or {}

    def row(name: str, d: dict) -> list[str]:
        return [name, fmt_rate(_get(d, "pp", "median")), fmt_rate(_get(d, "tg", "median")),
                fmt_seconds(d.get("load_s"))]

    rows = [row("local: the guest's CPU (TCG, portable backend)", loc),
            row("RPC: every layer on an rpc-server on the host", rpc),
            ["RPC / local", fmt_ratio(cmp_.get("pp_rpc_over_local")),
             fmt_ratio(cmp_.get("tg_rpc_over_local")), ""]]
    text = ("## llama.cpp RPC (the guest's model on an rpc-server on the host)\n\n"
            f"The image's modelbench service (pp{st.get('n_prompt', '?')}, tg{st.get('n_gen', '?')}, "
            f"median of {st.get('reps', '?')} after a warm-up, {st.get('threads', '?')} thread) in two "
            f"guests (QEMU TCG, run-qemu.sh's default CPU, -m {st.get('mem_mb', '?')}, user "
            "networking): one local, one booted with `llmos.rpc=10.0.2.2:PORT`, every layer on "
            f"`{' '.join(r.get('worker_command') or ['rpc-server'])}` on this host's loopback "
            f"({st.get('worker_threads', '?')} thread). Load: the model's load through the runtime "
            "(with RPC: the weights sent to the worker).\n\n"
            + table(["run", "pp t/s", "tg t/s", "load"], rows))
    if w:
        grown = (w.get("rss_kib_peak") or 0) - (w.get("rss_kib_before") or 0)
        text += (f"\n\nThe worker: peak resident memory +{fmt_bytes(grown * 1024)} (the layers and "
                 f"the KV cache it held), {fmt_seconds(w.get('cpu_s'))} of CPU time, "
                 f"{w.get('clients', '?')} client connection(s) (the guest's probe, then llama.cpp's).")
    if r.get("errors"):
        text += "\n\n" + "\n".join(f"- {e}" for e in r["errors"])
    return text


def footprint_section(fp: dict) -> str:
    s = fp.get("sizes") or {}
    rows = [["kernel (" + _get(s, "files", "kernel") + ")" if _get(s, "files", "kernel") else "kernel",
             fmt_bytes(s.get("kernel"))],
            ["root image (rootfs.squashfs)", fmt_bytes(s.get("root"))],
            ["model image (model.squashfs)", fmt_bytes(s.get("model"))],
            ["**total image** (kernel + root + model)", fmt_bytes(s.get("total"))],
            ["data partition (user's, not counted)", fmt_bytes(s.get("data"))]]
    rss = fp.get("rss") or {}
    for when, label in (("at_prompt", "at the prompt (model loading)"), ("model_ready", "model ready")):
        rows.append([f"PID 1 (supervisor) RSS, {label}", fmt_bytes(_get(rss, when, "pid1"))])
        rows.append([f"console (holds the model) RSS, {label}", fmt_bytes(_get(rss, when, "console"))])
    if rss.get("after_wait"):
        label = f"after {fmt_seconds(_get(rss, 'after_wait', 'waited_s'))} at the prompt, model still loading"
        rows.append([f"PID 1 (supervisor) RSS, {label}", fmt_bytes(_get(rss, "after_wait", "pid1"))])
        rows.append([f"console RSS, {label}", fmt_bytes(_get(rss, "after_wait", "console"))])
    tried_lines = []
    for key, label in (("min_mem", "boots and answers"), ("min_mem_model", "gets the model ready")):
        mm = fp.get(key) or {}
        if not mm:
            continue
        tried = ", ".join(f"{k}: {'ok' if v else 'fails'}"
                          for k, v in sorted((mm.get("tried") or {}).items(), key=lambda kv: int(kv[0])))
        small = mm.get("smallest_mb")
        lowest = min((int(k) for k in mm.get("tried") or {}), default=None)
        value = MISSING if not small else (f"≤ {small} MiB (the smallest tried)" if small == lowest
                                           else f"{small} MiB")
        rows.append([f"smallest guest -m that {label} ({mm.get('criterion', '?')})", value])
        if tried:
            tried_lines.append(f"-m tried (MiB) for \"{label}\": {tried}.")
    text = "## Footprint\n\n" + table(["item", "size"], rows)
    if tried_lines:
        text += "\n\n" + "\n".join(tried_lines)
    return text


def machine_section(m: dict) -> str:
    return ("## Machine\n\n"
            f"- CPU: {m.get('cpu')}, {m.get('cores')} cores ({m.get('usable_cores')} usable), "
            f"{fmt_bytes(m.get('mem_total'))} RAM\n"
            f"- load average (1, 5, 15 min) at start {m.get('load_start')}, at end {m.get('load_end')}\n"
            f"- {m.get('qemu')}; host kernel {m.get('kernel')}; Python {m.get('python')}\n"
            f"- run {m.get('date')}, {m.get('elapsed_s', 0) / 60:.0f} min; command: `{m.get('command')}`")


def merged_section(merged: list[dict]) -> str:
    lines = []
    for m in merged:
        mach = m.get("machine") or {}
        lines.append(f"- {', '.join(m.get('sections') or [])}: rerun {mach.get('date')}, load "
                     f"{mach.get('load_start')} → {mach.get('load_end')}, `{mach.get('command')}`")
    return "Sections measured in a later run (same machine):\n\n" + "\n".join(lines)


def markdown(results: dict) -> str:
    parts = ["# llmos benchmarks\n\nGenerated by `make bench` (bench/); every figure a median "
             "over the runs noted, measured in one session on one machine. Benchmarks report, "
             "they never fail on a number. Raw data: bench/results.json."]
    sections = (("machine", machine_section), ("boot", boot_section), ("inference", inference_section),
                ("latency", latency_section), ("remote", remote_section), ("rpc", rpc_section),
                ("footprint", footprint_section))
    for key, fn in sections:
        if results.get(key):
            parts.append(fn(results[key]))
        if key == "machine" and results.get("merged"):
            parts.append(merged_section(results["merged"]))
    if results.get("errors"):
        parts.append("## Problems during the run\n\n" + "\n".join(f"- {e}" for e in results["errors"]))
    return "\n\n".join(parts) + "\n"
