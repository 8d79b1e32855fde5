"""Benchmarks for ragkit: ingestion throughput, retrieval latency, quality table.

    make bench                      # or: uv run python benchmarks/run.py --chunks 10000
    uv run python benchmarks/run.py --quality-only   # only the eval-set quality table (~1 min)

1. Ingestion throughput (embed + upsert) on a synthetic corpus of --chunks documents (one
   chunk each), ingested in --parts equal parts into one growing collection (each part's
   incremental ingest skips the unchanged documents before it and is one throughput sample),
   then re-ingest with nothing changed, timed 5 times.
2. Retrieval latency over that collection (no LLM, single-threaded queries): --queries
   queries per mode, the four modes interleaved query by query (rotating order) so load drift
   falls on all of them; median with its CI and the p95 (goal p95 <= 50 ms).
3. Quality on the bundled eval set per mode (deterministic; goal: hybrid nDCG@10 >= vector-only
   + 5 points).

The synthetic corpus: sentences of the bundled runbooks recombined with random hosts, tickets
and numbers, so BM25 and vectors both have work to do. The exercise's goal is stated at ~10k
chunks; the default is 3,000 chunks (BENCH_CHUNKS) so that a run finishes in a few minutes on
a shared 2-core machine (embedding is ~90% of the time).
Statistics, results.json and the README table come from `aiinfra_shared.bench`.
Knobs: BENCH_CHUNKS (3000), BENCH_QUERIES (200), BENCH_PARTS (5) or the matching flags.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from aiinfra_shared.bench import (
    SCHEMA,
    Stats,
    markdown_table,
    measure,
    results_document,
    summarize,
    update_readme,
    write_results,
)

from ragkit import bundled
from ragkit.config import Settings
from ragkit.documents import iter_files, load_document
from ragkit.evaluation import evaluate, load_dataset
from ragkit.rag import RagSystem

HERE = Path(__file__).resolve().parent
OUT = HERE / "results.json"
README = HERE.parent / "README.md"
MODES = ("vector", "bm25", "hybrid", "hybrid_mmr")
P95_GOAL_MS = 50.0
NDCG_GAIN_GOAL = 0.05  # hybrid >= vector-only + 5 nDCG@10 points
SPEED_KEYS = ("ingest_throughput", "reingest_unchanged",
              *(f"retrieval_latency_{mode}" for mode in MODES))


def synthetic_docs(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic text, not security
    sentences: list[str] = []
    for path in iter_files(bundled.CORPUS):
        for page in load_document(path, bundled.CORPUS).pages:
            sentences += [s.strip() for s in re.split(r"(?<=[.!?])\s+", page.text)
                          if len(s.split()) > 5 and not s.startswith("#")]
    docs = []
    for _ in range(n):
        picked = rng.sample(sentences, 3)
        host = f"node-{rng.randint(1, 400)}.{rng.choice(['eu', 'us', 'ap'])}"
        ticket = f"INC-{rng.randint(1000, 99999)}"
        docs.append(f"# Incident {ticket}\n\nOn {host} the on-call engineer noted: "
                    + " ".join(picked) + f" Duration {rng.randint(2, 240)} minutes.\n")
    return docs


def p95(values: tuple[float, ...]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure_speed(system: RagSystem, settings: Settings, tmp: Path, chunks: int,
                  queries: int, parts: int) -> dict[str, Any]:
    """Ingestion throughput and retrieval latency on the synthetic corpus."""
    corpus = tmp / "synthetic"
    corpus.mkdir()
    docs = synthetic_docs(chunks)
    rates, seconds, embedded = [], 0.0, 0
    bounds = [round(i * len(docs) / parts) for i in range(parts + 1)]
    for low, high in itertools.pairwise(bounds):
        for i in range(low, high):
            (corpus / f"incident-{i:05d}.md").write_text(docs[i])
        report = system.ingest(corpus, collection="bench")
        assert len(report.added) == high - low and not report.updated, report.as_dict()
        rates.append(report.chunks_per_second)
        seconds += report.seconds
        embedded += report.chunks_embedded
        print(f"ingest part: {report.chunks_embedded} chunks, "
              f"{report.chunks_per_second:.1f} chunks/s", flush=True)
    ingest = summarize(rates, unit="chunks/s")
    reingest = measure(lambda: system.ingest(corpus, collection="bench"), runs=5, warmup=0)

    import torch

    torch.set_num_threads(1)
    questions = [i.question for i in load_dataset(bundled.QA)]
    settings_by_mode = {mode: settings.retrieval.model_copy(update={"mode": mode})
                        for mode in MODES}
    for mode in MODES:  # BM25 build, warm-up
        system.retrieve(questions[0], collection="bench", settings=settings_by_mode[mode])
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    for q in range(queries):
        question = questions[q % len(questions)]
        for j in range(len(MODES)):
            mode = MODES[(q + j) % len(MODES)]
            started = time.perf_counter()
            system.retrieve(question, collection="bench", settings=settings_by_mode[mode])
            times[mode].append((time.perf_counter() - started) * 1000)
    result: dict[str, Any] = {
        "ingest_throughput": {**ingest.as_dict(2), "documents": len(docs),
                              "chunks": embedded, "parts": parts, "seconds": round(seconds, 2),
                              "method": f"{parts} incremental ingests of {len(docs) // parts}"
                                        " new documents each"},
        "reingest_unchanged": {**reingest.as_dict(3), "chunks": embedded},
    }
    for mode in MODES:
        stats = summarize(times[mode], unit="ms")
        tail = p95(stats.samples)
        result[f"retrieval_latency_{mode}"] = {
            **stats.as_dict(2), "p95_ms": round(tail, 2), "goal": f"p95 <= {P95_GOAL_MS:g} ms",
            "met": tail <= P95_GOAL_MS, "chunks": embedded, "queries": queries}
        print(f"latency {mode}: {stats.format()}, p95 {tail:.1f} ms", flush=True)
    return result


def measure_quality(system: RagSystem, settings: Settings) -> dict[str, Any]:
    system.ingest(bundled.CORPUS)
    items = load_dataset(bundled.QA)
    quality: dict[str, Any] = {"questions": len(items)}
    for mode in MODES:
        rs = settings.retrieval.model_copy(update={"mode": mode})
        quality[mode] = {k: round(v, 4) for k, v in
                         evaluate(system, items, retrieval=rs).retrieval.items()}
    print("quality", quality, flush=True)
    gain = quality["hybrid"]["ndcg@10"] - quality["vector"]["ndcg@10"]
    return {"quality": quality, "hybrid_ndcg_gain_vs_vector": {
        "value": round(gain, 4), "goal": f">= +{NDCG_GAIN_GOAL:g}", "met": gain >= NDCG_GAIN_GOAL}}


def stats_of(entry: dict[str, Any]) -> Stats:
    """A results.json entry back into Stats (for --quality-only, which keeps old speeds)."""
    return Stats(tuple(entry["samples"]), entry["median"], entry["ci_low"], entry["ci_high"],
                 entry["confidence"], entry["unit"])


def yes_no(met: bool) -> str:
    return "yes" if met else "**no**"


def render(benchmarks: dict[str, Any], quality_note: str) -> str:
    ing, reingest = benchmarks["ingest_throughput"], benchmarks["reingest_unchanged"]
    chunks = ing["chunks"]
    rows: list[list[object]] = [
        [f"ingestion throughput (embed + upsert), {chunks} chunks in {ing['parts']} parts",
         stats_of(ing).format(".1f"), "-", "-"],
        [f"re-ingest, nothing changed ({chunks} chunks)", stats_of(reingest).format(), "-", "-"],
    ]
    for mode in MODES:
        lat = benchmarks[f"retrieval_latency_{mode}"]
        rows.append([f"retrieval latency {mode} at {chunks} chunks (p95 {lat['p95_ms']:.1f} ms)",
                     stats_of(lat).format(), f"p95 <= {P95_GOAL_MS:g} ms", yes_no(lat["met"])])
    gain = benchmarks["hybrid_ndcg_gain_vs_vector"]
    rows.append(["hybrid nDCG@10 gain over vector-only (eval set)",
                 f"{gain['value'] * 100:+.1f} points", f">= +{NDCG_GAIN_GOAL * 100:g} points",
                 yes_no(gain["met"])])
    qual = benchmarks["quality"]
    quality_rows = [[mode, *(f"{qual[mode][k]:.3f}" for k in
                             ("recall@1", "recall@5", "mrr", "ndcg@10", "abstention_acc_gate"))]
                    for mode in MODES]
    note = f" ({quality_note})" if quality_note else ""
    return "\n".join([
        markdown_table(["benchmark", "result", "goal", "met"], rows), "",
        f"Quality on the bundled eval set ({qual['questions']} questions){note}:", "",
        markdown_table(["mode", "recall@1", "recall@5", "MRR", "nDCG@10", "abstention (gate)"],
                       quality_rows)])


# "before" = the defaults until 2026-12-01 (plain chunks, RRF 1:1); "convex" = section
# headers + convex fusion 1:0.5, no source collapsing (the defaults of the first real-docs
# round); "now" = today's defaults (the same plus one chunk per document first)
REALDOCS_CONFIGS = {
    "before": ({"section_headers": False},
               {"fusion": "rrf", "vector_weight": 1.0, "bm25_weight": 1.0,
                "max_per_source": 0}),
    "convex": ({}, {"max_per_source": 0}),
    "now": ({}, {}),
}


def measure_realdocs(system: RagSystem, settings: Settings, tmp: Path) -> dict[str, Any]:
    """nDCG@10 / recall@10 per mode on the real-docs suites (Python: the reporting half, and
    the tuning half the defaults were chosen on; git: every question, nothing tuned on it),
    for the old, the intermediate and the current defaults."""
    from ragkit import realdocs

    out: dict[str, Any] = {}
    for key, name, split in (("python-docs", "python-docs", "report"),
                             ("python-docs-tune", "python-docs", "tune"),
                             ("git-docs", "git-docs", "report")):
        suite = realdocs.suite(name)
        folder = realdocs.materialize(suite, tmp / "realdocs" / name)
        items = load_dataset(suite.dataset, split)
        for label, (chunking, retrieval) in REALDOCS_CONFIGS.items():
            chunks = settings.chunking.model_copy(update=chunking)
            trial = settings.model_copy(update={
                # one collection per chunking: configurations that differ only in retrieval
                # reuse it (ingestion is incremental)
                "collection": f"{name}-h{int(chunks.section_headers)}",
                "chunking": chunks,
                "retrieval": settings.retrieval.model_copy(update=retrieval)})
            trial_system = RagSystem(trial, embedder=system.embedder)
            trial_system.ingest(folder)
            for mode in MODES:
                rs = trial.retrieval.model_copy(update={"mode": mode})
                r = evaluate(trial_system, items, retrieval=rs).retrieval
                out.setdefault(key, {"corpus": name, "questions": len(items),
                                     "split": split})[
                    f"{label}:{mode}"] = {"ndcg@10": round(r["ndcg@10"], 4),
                                          "recall@10": round(r["recall@10"], 4)}
        print("realdocs", key, out[key], flush=True)
    return {"realdocs_quality": out}


def render_realdocs(real: dict[str, Any]) -> str:
    rows = []
    for name, res in real.items():
        for label in REALDOCS_CONFIGS:
            corpus = res.get("corpus", name)
            rows.append([f"{corpus} ({res['questions']} q, {res['split']}), {label}", *(
                f"{res[f'{label}:{m}']['ndcg@10']:.3f} / {res[f'{label}:{m}']['recall@10']:.3f}"
                for m in MODES)])
    return "\n".join(["Real documentation (nDCG@10 / recall@10; README \"Evaluation on real "
                      "documentation\"):", "",
                      markdown_table(["corpus, defaults", *MODES], rows)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=int(os.environ.get("BENCH_CHUNKS", "3000")))
    parser.add_argument("--queries", type=int,
                        default=int(os.environ.get("BENCH_QUERIES", "200")))
    parser.add_argument("--parts", type=int, default=int(os.environ.get("BENCH_PARTS", "5")))
    parser.add_argument("--realdocs", action="store_true",
                        help="also evaluate on the Debian python3.11-doc / git-doc suites "
                             "(old vs current defaults; 4 ingests, several minutes)")
    parser.add_argument("--quality-only", action="store_true",
                        help="only re-measure the quality table; keep the throughput and "
                             "latency numbers of the last full run in results.json")
    args = parser.parse_args()
    began = time.perf_counter()
    benchmarks: dict[str, Any] = {}
    quality_note = ""
    if args.quality_only:
        old = json.loads(OUT.read_text())
        if old.get("schema") != SCHEMA:
            parser.error(f"{OUT} is not an {SCHEMA} document: run the full benchmark first")
        benchmarks = {k: old["benchmarks"][k] for k in SPEED_KEYS}
        quality_note = (f"quality re-measured with --quality-only; ingestion and latency "
                        f"numbers are from the full run of {old['measured_at']}")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", torch_threads=2)
        system = RagSystem(settings)
        system.embedder.embed(["warm up"])
        if not args.quality_only:
            benchmarks.update(measure_speed(system, settings, Path(tmp), args.chunks,
                                            args.queries, args.parts))
        benchmarks.update(measure_quality(system, settings))
        if args.realdocs:
            benchmarks.update(measure_realdocs(system, settings, Path(tmp)))
    elapsed = time.perf_counter() - began
    notes = f"Wall time of the run: {elapsed:.0f} s." + (f" {quality_note}." if quality_note
                                                          else "")
    write_results(OUT, results_document("110-02", benchmarks, notes))
    text = render(benchmarks, quality_note)
    if "realdocs_quality" in benchmarks:
        text += "\n\n" + render_realdocs(benchmarks["realdocs_quality"])
    update_readme(README, text)
    print(f"wrote {OUT} in {elapsed:.0f} s")


if __name__ == "__main__":
    main()
