"""`python -m bench [--quick] [--only SECTIONS] ...`: the llmos benchmarks (`make bench`).

Runs boot, inference, latency and footprint measurements against baselines, the remote
planner's latency beside the local model's and llama.cpp RPC's effect on the guest's
tokens/s, in the same session, then writes
bench/results.json and bench/RESULTS.md. A section that cannot be measured (no image, no
QEMU, a failed build) is reported as such; the command never fails on a number.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from . import machine, report
from .stats import summary

REPO = Path(__file__).resolve().parents[1]
SECTIONS = ("boot", "inference", "latency", "footprint", "remote", "rpc")
MEM_CANDIDATES = "32,40,48,56,64,96,128,192,256,512"
MODEL_MEM_CANDIDATES = "96,112,128,144,160,192,256,512"
MIN_MEM_BOOT_TIMEOUT = 120      # a boot takes 5-20 s; a too small guest may hang instead


def _sizes(text: str) -> list[int]:
    return sorted({int(x) for x in text.split(",")})


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="small settings for development: 1 boot each, short inference, few requests")
    p.add_argument("--only", default=",".join(SECTIONS),
                   help=f"comma-separated sections to run (default: all of {','.join(SECTIONS)})")
    p.add_argument("--target", default="x86_64", help="image under images/ (default x86_64)")
    p.add_argument("--boots", type=int, help="boots of llmos and of the baseline (default 3, quick 1)")
    p.add_argument("--ready-boots", type=int,
                   help="llmos boots that also wait for the model to be ready (default 1)")
    p.add_argument("--ready-timeout", type=float, default=2400.0,
                   help="seconds to wait for the guest's model (TCG is slow; default 2400)")
    p.add_argument("--mem", type=int, default=512, help="guest RAM (MiB) for the boot runs")
    p.add_argument("--mem-candidates", default=MEM_CANDIDATES,
                   help="guest RAM sizes (MiB) bisected for the smallest that boots and answers")
    p.add_argument("--model-mem-candidates", default=MODEL_MEM_CANDIDATES,
                   help="guest RAM sizes (MiB) bisected for the smallest at which the model "
                        "gets ready too")
    p.add_argument("--threads", help="comma-separated inference thread counts (default: 1 and "
                   "the usable cores, which is what the planner uses)")
    p.add_argument("--reps", type=int, help="inference repetitions (default 3, quick 2)")
    p.add_argument("--n-prompt", type=int, help="prompt tokens (default 128, quick 32)")
    p.add_argument("--n-gen", type=int, help="generated tokens (default 32, quick 8)")
    p.add_argument("--guest-n-prompt", type=int,
                   help="prompt tokens for inference in the guest (default 16, quick 8; TCG "
                        "runs a 135M model at well under 1 token/s)")
    p.add_argument("--guest-n-gen", type=int, help="generated tokens in the guest (default 4, quick 2)")
    p.add_argument("--guest-reps", type=int, help="inference repetitions in the guest (default 2, quick 1)")
    p.add_argument("--guest-threads", type=int, default=1,
                   help="inference threads in the guest (default 1, the planner's choice on 2 CPUs)")
    p.add_argument("--guest-timeout", type=float, default=3600.0,
                   help="seconds one guest inference run may take (default 3600)")
    p.add_argument("--latency-reps", type=int, help="host rounds over the request lists (default 5, quick 1)")
    p.add_argument("--remote-reps", type=int,
                   help="rounds over the remote section's requests, each path (default 2, quick 1)")
    p.add_argument("--merge", action="store_true",
                   help="keep the other sections of an existing results.json (rerun one section)")
    p.add_argument("--out", type=Path, default=REPO / "bench",
                   help="directory for results.json and RESULTS.md (default bench/)")
    ns = p.parse_args(argv)
    only = [s.strip() for s in ns.only.split(",") if s.strip()]
    bad = [s for s in only if s not in SECTIONS]
    if bad:
        p.error(f"unknown section(s) {', '.join(bad)}; choose from {', '.join(SECTIONS)}")
    ns.only = only
    for k in ("mem_candidates", "model_mem_candidates"):
        try:
            setattr(ns, k, sorted({int(x) for x in getattr(ns, k).split(",") if x.strip()}))
        except ValueError:
            p.error(f"--{k.replace('_', '-')} takes comma-separated MiB numbers, e.g. 128,256,512")
        if not getattr(ns, k):
            p.error(f"--{k.replace('_', '-')} lists no size")
    q = ns.quick
    defaults = {"boots": 1 if q else 3, "ready_boots": 1, "reps": 2 if q else 3,
                "n_prompt": 32 if q else 128, "n_gen": 8 if q else 32,
                "latency_reps": 1 if q else 5, "remote_reps": 1 if q else 2,
                "guest_n_prompt": 8 if q else 16, "guest_n_gen": 2 if q else 4,
                "guest_reps": 1 if q else 2,
                "threads": f"1,{len(os.sched_getaffinity(0))}"}
    for k, v in defaults.items():
        if getattr(ns, k) is None:
            setattr(ns, k, v)
    try:
        ns.threads = sorted({int(x) for x in str(ns.threads).split(",") if x.strip()})
    except ValueError:
        p.error("--threads takes comma-separated numbers, e.g. 1,2")
    if not ns.threads or min(ns.threads) < 1:
        p.error("--threads must list counts of at least 1")
    for k in ("boots", "reps", "n_prompt", "n_gen", "latency_reps", "remote_reps", "guest_n_prompt",
              "guest_n_gen", "guest_reps", "guest_threads"):
        if getattr(ns, k) < 1:
            p.error(f"--{k.replace('_', '-')} must be at least 1")
    if q and ns.mem_candidates == _sizes(MEM_CANDIDATES):
        ns.mem_candidates = [64, 512]
    if q and ns.model_mem_candidates == _sizes(MODEL_MEM_CANDIDATES):
        ns.model_mem_candidates = [128, 512]
    return ns


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Bench:
    def __init__(self, ns: argparse.Namespace, workdir: Path):
        self.ns = ns
        self.work = workdir
        self.image_dir = REPO / "images" / ns.target
        self.results: dict = {"errors": []}

    def error(self, section: str, exc: BaseException) -> None:
        msg = f"{section}: {type(exc).__name__}: {exc}"
        log(msg)
        traceback.print_exc(file=sys.stderr)
        self.results["errors"].append(msg)

    def model_path(self) -> Path:
        from mkimage.model import resolve
        return Path(resolve(None))

    # -- guest work: boots, guest latency, RSS, smallest -m -----------------------------
    def guest_runs(self) -> None:
        from . import baseline, boot, latency
        from .guest import rss_of
        ns = self.ns
        script = self.image_dir / "run-qemu.sh"
        if not script.exists():
            raise RuntimeError(f"no image in {self.image_dir}: run `make image`")
        base_script = baseline.run_dir(self.image_dir, self.work / "baseline-run")
        # with a boot loader in the image, the baseline boots through it too; the same
        # baseline booted with -kernel is measured beside it (the comparison before it)
        direct_script = baseline.run_dir(self.image_dir, self.work / "baseline-direct-run", firmware=False) \
            if (self.work / "baseline-run" / "system.img").exists() else None
        runs_l, runs_b, runs_d = [], [], []
        rss: dict = {}
        guest_lat = {"deterministic": [], "model": []}
        guest_failed: list[str] = []
        guest_note = None
        for i in range(ns.boots):
            for label, name, base, runs in (("baseline boot", "baseline", base_script, runs_b),
                                            ("baseline boot with -kernel", "baseline-direct", direct_script, runs_d)):
                if base is None:
                    continue
                r = boot.boot_baseline(self.work / f"{name}{i}", base, ns.mem, baseline.PROMPT_RE)
                runs.append(r)
                log(f"{label} {i + 1}/{ns.boots}: prompt {r.prompt and round(r.prompt, 2)} s {r.error or ''}")

            g = boot.new_guest(self.work / f"llmos{i}", script, ns.mem)
            ready = i < ns.ready_boots
            try:
                def at_prompt(gg):
                    if ready and "at_prompt" not in rss:
                        try:
                            rss["at_prompt"] = rss_of(gg.processes())
                        except AssertionError as exc:  # no prompt back: noted, the boot goes on
                            guest_failed.append(f"'list processes' at the prompt: {str(exc).splitlines()[0]}")

                r = boot.boot_llmos(g, 300, ns.ready_timeout, wait_ready=ready,
                                    before_ready=at_prompt if ready else None)
                if r.ok and ready and r.model_ready is None and "after_wait" not in rss:
                    try:  # what the console holds after the wait, the model still loading
                        rss["after_wait"] = rss_of(g.processes())
                        rss["after_wait"]["model_status"] = r.model_status
                        rss["after_wait"]["waited_s"] = ns.ready_timeout
                    except AssertionError:
                        pass
                    det = latency.guest_latency(g, 1 if ns.quick else 2, model=[])
                    guest_lat["deterministic"] += det["deterministic"]
                    guest_failed += det["failed"]
                    guest_note = "deterministic requests timed while the model was still loading"
                if r.ok and ready and r.model_ready is not None:
                    # measured with the model loaded and idle, as a user meets the console
                    if "model_ready" not in rss:
                        try:
                            rss["model_ready"] = rss_of(g.processes())
                        except AssertionError as exc:
                            guest_failed.append(f"'list processes' after the model: {str(exc).splitlines()[0]}")
                    n_model = 1 if ns.quick else 2
                    det = latency.guest_latency(g, 1 if ns.quick else 2, model=[])
                    mod = latency.guest_latency(g, 1, deterministic=[], model=latency.MODEL[:n_model])
                    guest_lat["deterministic"] += det["deterministic"]
                    guest_lat["model"] += mod["model"]
                    guest_failed += det["failed"] + mod["failed"]
            finally:
                g.close()
            runs_l.append(r)
            log(f"llmos boot {i + 1}/{ns.boots}: prompt {r.prompt and round(r.prompt, 2)} s, "
                f"model ready {r.model_ready and round(r.model_ready, 1)} s {r.error or ''}")
        if "boot" in ns.only:
            bl, bb = boot.summarize(runs_l), boot.summarize(runs_b)
            waited = [r for r in runs_l[:ns.ready_boots] if r.ok]
            self.results["boot"] = {"mem_mb": ns.mem, "llmos": bl, "baseline": bb,
                                    "ready_boots": len(waited),
                                    "ready_timeouts": sum(r.model_ready is None for r in waited),
                                    "ready_timeout_s": ns.ready_timeout,
                                    "ratio": boot.compare(bl, bb),
                                    "baseline_firmware": direct_script is not None,
                                    "runs": {"llmos": [r.to_dict() for r in runs_l],
                                             "baseline": [r.to_dict() for r in runs_b]}}
            if runs_d:
                bd = boot.summarize(runs_d)
                self.results["boot"]["baseline_direct"] = bd
                self.results["boot"]["ratio_direct"] = boot.compare(bl, bd)
                self.results["boot"]["runs"]["baseline_direct"] = [r.to_dict() for r in runs_d]
        if "latency" in ns.only:
            self.results.setdefault("latency", {})["guest"] = {
                k: summary(v) for k, v in guest_lat.items()}
            self.results["latency"]["guest"]["failed"] = guest_failed
            self.results["latency"]["guest"]["note"] = guest_note
            self.results["latency"]["guest"]["requests"] = {
                "deterministic": latency.DETERMINISTIC, "model": latency.MODEL[:1 if ns.quick else 2]}
        if "footprint" in ns.only:
            self.results.setdefault("footprint", {})["rss"] = rss

    def min_mem(self) -> None:
        """The smallest -m that boots and answers `ls`; then the smallest at which the model
        also gets ready (bisections over the candidate sizes)."""
        fp = self.results.setdefault("footprint", {})
        fp["min_mem"] = self._smallest_mem(self.ns.mem_candidates, with_model=False)
        fp["min_mem_model"] = self._smallest_mem(self.ns.model_mem_candidates, with_model=True)

    def _smallest_mem(self, candidates: list[int], with_model: bool) -> dict:
        from . import boot, footprint
        script = self.image_dir / "run-qemu.sh"
        details = {}
        what = "model ready and answers" if with_model else "boots and answers"

        def passes(mb: int) -> bool:
            g = boot.new_guest(self.work / f"mem{mb}{'-model' if with_model else ''}", script, mb)
            try:
                r = g.boot_to_prompt(MIN_MEM_BOOT_TIMEOUT)
                if r.ok and with_model:
                    r = g.wait_model_ready(r, timeout=min(self.ns.ready_timeout, 600))
                ok = False
                for _attempt in range(2 if r.ok and not r.error else 0):  # a key may get lost
                    try:
                        ok = "/data:" in g.ask("ls", timeout=120)
                    except AssertionError:
                        g.proc.send("\x15\r")
                    if ok:
                        break
                details[mb] = {"prompt": r.prompt, "answered": ok, "error": r.error,
                               "model_status": r.model_status, "model_ready": r.model_ready}
            finally:
                g.close()
            log(f"-m {mb}: {what if ok else 'fails'}" + (f" ({r.error})" if r.error else ""))
            return ok

        small, tried = footprint.smallest_passing(candidates, passes)
        return {"smallest_mb": small, "tried": {str(k): v for k, v in tried.items()},
                "details": {str(k): v for k, v in details.items()},
                "criterion": ("prompt, model ready, then `ls` answered" if with_model
                              else "prompt, then `ls` answered; model load not awaited")}

    # -- host work -----------------------------------------------------------------------
    def inference(self) -> None:
        from . import inference
        ns = self.ns
        model = self.model_path()
        host: dict = {"model_file": model.name, "model_bytes": model.stat().st_size, "errors": [],
                      "by_threads": {}}
        bw = {str(t): inference.copy_bandwidth(t) for t in sorted(set(ns.threads) | {1})}
        bw["best"] = max(bw.values())
        host["bandwidth"] = bw
        log(f"copy bandwidth {bw['best'] / 1e9:.1f} GB/s")
        for t in ns.threads:
            row: dict = {}
            try:
                row["llama_bench"] = inference.llama_bench_speed(model, t, ns.n_prompt, ns.n_gen, ns.reps)
                log(f"llama-bench, {t} thread(s): pp {row['llama_bench']['pp']['median']:.1f} t/s, "
                    f"tg {row['llama_bench']['tg']['median']:.1f} t/s")
            except Exception as exc:  # noqa: BLE001 - reported, the rest still runs
                self.error(f"inference/llama-bench ({t} threads)", exc)
                host["errors"].append(f"llama-bench ({t} threads): {exc}")
            row["ours"] = inference.runtime_speed(model, t, ns.n_prompt, ns.n_gen, ns.reps)
            log(f"our runtime, {t} thread(s): pp {row['ours']['pp']['median']:.1f} t/s, "
                f"tg {row['ours']['tg']['median']:.1f} t/s")
            row["compare"] = inference.compare(row["ours"], row.get("llama_bench"),
                                               host["model_bytes"], bw["best"])
            host["by_threads"][str(t)] = row
        self.results.setdefault("inference", {})["host"] = host

    def guest_inference(self) -> None:
        """pp/tg in the guest: our runtime (the image's modelbench service) and llama-bench
        (BusyBox root), same kernel, QEMU, model partition and settings; and our runtime on
        the host with those settings, for the emulation's cost."""
        import platform

        from . import guest_inference as gi
        from . import inference
        ns = self.ns
        n_p, n_g, reps, t = ns.guest_n_prompt, ns.guest_n_gen, ns.guest_reps, ns.guest_threads
        manifest = json.loads((self.image_dir / "manifest.json").read_text())
        model_file = manifest["model"]["file"]
        arch = "x86_64" if manifest.get("target", ns.target) == "x86_64" else "aarch64"
        guest: dict = {"settings": {"n_prompt": n_p, "n_gen": n_g, "reps": reps, "threads": t,
                                    "mem_mb": ns.mem, "model_file": model_file},
                       "errors": []}
        self.results.setdefault("inference", {})["guest"] = guest
        # ours and llama-bench on the same CPU: -cpu max (AVX2) on x86_64, as both are built
        same_cpu = "max" if arch == "x86_64" else None
        guest["settings"]["cpu"] = same_cpu or "run-qemu.sh's default"
        runs = [("ours", same_cpu, "our runtime")]
        if arch == "x86_64":  # and ours on the default TCG CPU (no AVX: portable backend)
            runs.append(("ours_default_cpu", None, "our runtime, default TCG CPU"))
        for key, cpu, label in runs:
            try:
                raw = gi.run_ours(self.image_dir, self.work / f"inf-{key}", n_p, n_g, reps, t,
                                  mem=ns.mem, timeout=ns.guest_timeout, cpu=cpu)
                guest[key] = inference.from_modelbench(raw)
                guest[key]["raw"] = raw
                log(f"guest, {label} (ggml {raw.get('ggml')}): pp{n_p} "
                    f"{guest[key]['pp']['median']:.3f} t/s, tg{n_g} {guest[key]['tg']['median']:.3f} t/s")
            except Exception as exc:  # noqa: BLE001 - reported, the rest still runs
                self.error(f"inference/guest ({label})", exc)
                guest["errors"].append(f"{label}: {exc}")
        if arch != platform.machine():
            guest["errors"].append(f"llama-bench: built on this {platform.machine()} host only, "
                                   f"not for an {arch} guest")
        else:
            try:
                lb = gi.run_llama_bench(self.image_dir, self.work / "inf-llama-bench", model_file,
                                        n_p, n_g, reps, t, mem=ns.mem, arch=arch,
                                        timeout=ns.guest_timeout, cpu=same_cpu)
                guest["llama_bench"] = ref = lb
                log(f"guest, llama-bench: pp{n_p} {ref['pp']['median']:.3f} t/s, "
                    f"tg{n_g} {ref['tg']['median']:.3f} t/s")
            except Exception as exc:  # noqa: BLE001
                self.error("inference/guest (llama-bench)", exc)
                guest["errors"].append(f"llama-bench: {exc}")
        guest["compare"] = gi.compare(guest.get("ours"), guest.get("llama_bench"))
        guest["compare"].update(gi.compare(guest.get("ours_default_cpu"), guest.get("ours"),
                                           prefix="default_cpu_over_avx2_"))
        try:  # the host with the guest's settings: what the emulation costs
            host = inference.runtime_speed(self.model_path(), t, n_p, n_g, max(reps, 2))
            guest["host_same_settings"] = host
            guest["compare"].update(gi.compare(guest.get("ours"), host, prefix="guest_over_host_"))
        except Exception as exc:  # noqa: BLE001
            self.error("inference/guest (host at the guest's settings)", exc)

    def host_latency(self) -> None:
        from . import latency
        ns = self.ns
        res = latency.host_latency(str(self.model_path()), ns.latency_reps)
        self.results.setdefault("latency", {})["host"] = res

    def remote(self) -> None:
        """Remote plan latency from the guest (a llama-server on this host) beside the local
        model's, the same requests in the same guest (bench/remote.py)."""
        from . import remote
        script = self.image_dir / "run-qemu.sh"
        if not script.exists():
            raise RuntimeError(f"no image in {self.image_dir}: run `make image`")
        ns = self.ns
        self.results["remote"] = remote.measure(self.image_dir, self.work / "remote", ns.remote_reps,
                                                mem=ns.mem, ready_timeout=min(ns.ready_timeout, 900),
                                                log=log)

    def rpc(self) -> None:
        """The guest's tokens/s local and with every layer on an rpc-server on this host
        (bench/rpc.py), at the guest inference settings (--guest-n-prompt ...)."""
        from . import rpc
        if not (self.image_dir / "run-qemu.sh").exists():
            raise RuntimeError(f"no image in {self.image_dir}: run `make image`")
        ns = self.ns
        self.results["rpc"] = rpc.measure(self.image_dir, self.work / "rpc", ns.guest_n_prompt,
                                          ns.guest_n_gen, ns.guest_reps, ns.guest_threads,
                                          mem=ns.mem, timeout=ns.guest_timeout, log=log)

    def run(self) -> dict:
        ns = self.ns
        t0 = time.monotonic()
        m = machine.describe()
        m["command"] = " ".join(["python -m bench", *sys.argv[1:]])
        self.results["machine"] = m
        self.results["settings"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(ns).items()}
        steps = []
        # the guest first: its boots are the longest part, and the llama-bench build (when
        # it is missing) is only needed by the inference step at the end
        if any(s in ns.only for s in ("boot", "latency", "footprint")):
            steps.append(("guest", self.guest_runs))
        if "footprint" in ns.only:
            from . import footprint
            self.results.setdefault("footprint", {})["sizes"] = footprint.sizes(self.image_dir)
            steps.append(("footprint/min-mem", self.min_mem))
        if "latency" in ns.only:
            steps.append(("latency/host", self.host_latency))
        if "remote" in ns.only:
            steps.append(("remote", self.remote))
        if "rpc" in ns.only:
            steps.append(("rpc", self.rpc))
        if "inference" in ns.only:
            steps.append(("inference", self.inference))
            steps.append(("inference/guest", self.guest_inference))
        for name, fn in steps:
            log(f"{name} ...")
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - one section never loses the others
                self.error(name, exc)
        m["load_end"] = machine.load()
        m["elapsed_s"] = time.monotonic() - t0
        return self.results


SECTION_KEYS = {"boot": ("boot",), "inference": ("inference",), "latency": ("latency",),
                "footprint": ("footprint",), "remote": ("remote",), "rpc": ("rpc",)}


def merge(old: dict, new: dict, sections: list[str]) -> dict:
    """`old` with the sections rerun in `new` replaced; the rerun's machine noted apart."""
    out = dict(old)
    for s in sections:
        for k in SECTION_KEYS[s]:
            if k in new:
                out[k] = new[k]
            else:
                out.pop(k, None)
    # inference measured for other thread counts is kept beside the rerun's
    old_threads = ((old.get("inference") or {}).get("host") or {}).get("by_threads") or {}
    if "inference" in sections and "inference" in out and old_threads:
        host = out["inference"].setdefault("host", {})
        host["by_threads"] = {**old_threads, **(host.get("by_threads") or {})}
    kept = [e for e in old.get("errors", []) if e.split("/")[0].split(":")[0] not in sections]
    out["errors"] = kept + new.get("errors", [])
    out["merged"] = [*old.get("merged", []), {"sections": sections, "machine": new.get("machine")}]
    return out


def write(results: dict, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    js, md = out / "results.json", out / "RESULTS.md"
    tmp = js.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=1, default=str) + "\n")
    tmp.replace(js)
    md.write_text(report.markdown(results))
    return js, md


def main(argv: list[str] | None = None) -> int:
    ns = parse_args(list(sys.argv[1:] if argv is None else argv))
    work = Path(tempfile.mkdtemp(prefix="llmos-bench-"))
    try:
        results = Bench(ns, work).run()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    previous = ns.out / "results.json"
    if ns.merge and previous.exists():
        results = merge(json.loads(previous.read_text()), results, ns.only)
    js, md = write(results, ns.out)
    log(f"wrote {js} and {md}")
    print(md.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
