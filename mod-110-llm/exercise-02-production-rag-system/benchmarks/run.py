"""Benchmarks for ragkit: ingestion throughput, retrieval latency at ~10k chunks, quality table.

    make bench                      # or: uv run python benchmarks/run.py --chunks 10000
    uv run python benchmarks/run.py --quality-only   # only the eval-set quality table (~1 min)

Writes benchmarks/results.json and rewrites the table between the BENCH markers in README.md.
The 10k-chunk corpus is synthetic: sentences of the bundled runbooks recombined with random
hosts, tickets and numbers, one chunk per file, so BM25 and vectors both have work to do.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

from ragkit import bundled
from ragkit.config import Settings
from ragkit.documents import iter_files, load_document
from ragkit.evaluation import evaluate, load_dataset
from ragkit.rag import RagSystem

HERE = Path(__file__).parent
README = HERE.parent / "README.md"


def synthetic_corpus(folder: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic text, not security
    sentences: list[str] = []
    for path in iter_files(bundled.CORPUS):
        for page in load_document(path, bundled.CORPUS).pages:
            sentences += [s.strip() for s in re.split(r"(?<=[.!?])\s+", page.text)
                          if len(s.split()) > 5 and not s.startswith("#")]
    for i in range(n):
        picked = rng.sample(sentences, 3)
        host = f"node-{rng.randint(1, 400)}.{rng.choice(['eu', 'us', 'ap'])}"
        ticket = f"INC-{rng.randint(1000, 99999)}"
        text = (f"# Incident {ticket}\n\nOn {host} the on-call engineer noted: "
                + " ".join(picked) + f" Duration {rng.randint(2, 240)} minutes.\n")
        (folder / f"incident-{i:05d}.md").write_text(text)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--quality-only", action="store_true",
                        help="only re-measure the quality table; keep the throughput and "
                             "latency numbers of the last full run in results.json")
    args = parser.parse_args()
    results: dict[str, object] = {"machine": f"{platform.machine()}, {platform.processor()}",
                                  "cpus_note": "2 shared cores"}
    if args.quality_only:
        results = json.loads((HERE / "results.json").read_text())
        results["quality_note"] = ("quality re-measured with --quality-only; ingestion and "
                                   "latency numbers are from the last full run")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", torch_threads=2)
        system = RagSystem(settings)
        system.embedder.embed(["warm up"])
        if not args.quality_only:
            measure_speed(system, settings, Path(tmp), args.chunks, args.queries, results)

        # 3. quality on the bundled eval set
        system.ingest(bundled.CORPUS)
        items = load_dataset(bundled.QA)
        quality = {}
        for mode in ("vector", "bm25", "hybrid", "hybrid_mmr"):
            rs = settings.retrieval.model_copy(update={"mode": mode})
            quality[mode] = {k: round(v, 4) for k, v in
                             evaluate(system, items, retrieval=rs).retrieval.items()}
        results["quality"] = {"questions": len(items), **quality}
        print("quality", quality, flush=True)

    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    write_readme(results)


def measure_speed(system: RagSystem, settings: Settings, tmp: Path, chunks: int,
                  queries: int, results: dict[str, object]) -> None:
    """Ingestion throughput and retrieval latency on the synthetic ~10k-chunk corpus."""
    # 1. ingestion throughput on the synthetic corpus
    corpus = tmp / "synthetic"
    corpus.mkdir()
    synthetic_corpus(corpus, chunks)
    report = system.ingest(corpus, collection="bench")
    results["ingest"] = {"documents": len(report.added),
                         "chunks": report.chunks_embedded,
                         "seconds": round(report.seconds, 2),
                         "chunks_per_s": round(report.chunks_per_second, 1)}
    print("ingest", results["ingest"], flush=True)
    again = system.ingest(corpus, collection="bench")
    results["reingest_unchanged_s"] = round(again.seconds, 2)

    # 2. retrieval latency at ~10k chunks (no LLM), single-threaded queries
    import torch

    torch.set_num_threads(1)
    questions = [i.question for i in load_dataset(bundled.QA)]
    latency: dict[str, dict[str, float]] = {}
    for mode in ("vector", "bm25", "hybrid", "hybrid_mmr"):
        rs = settings.retrieval.model_copy(update={"mode": mode})
        system.retrieve(questions[0], collection="bench", settings=rs)  # BM25 build, warm
        times = []
        for q in range(queries):
            started = time.perf_counter()
            system.retrieve(questions[q % len(questions)], collection="bench", settings=rs)
            times.append(time.perf_counter() - started)
        latency[mode] = {"p50_ms": round(1000 * statistics.median(times), 1),
                         "p95_ms": round(1000 * percentile(times, 0.95), 1)}
        print("latency", mode, latency[mode], flush=True)
    results["retrieval_latency"] = {"chunks": report.chunks_embedded,
                                    "queries": queries, **latency}



def write_readme(r: dict[str, object]) -> None:
    ing = r["ingest"]
    lat = r["retrieval_latency"]
    qual = r["quality"]
    assert isinstance(ing, dict) and isinstance(lat, dict) and isinstance(qual, dict)
    lines = [
        "<!-- BENCH:START -->",
        f"Measured on this 2-core shared machine (`make bench`, {lat['chunks']} chunks).",
        "",
        "| measure | value |", "|---|---|",
        f"| ingestion throughput (embed + upsert) | {ing['chunks_per_s']} chunks/s "
        f"({ing['chunks']} chunks in {ing['seconds']} s) |",
        f"| re-ingest, nothing changed | {r['reingest_unchanged_s']} s |",
    ]
    for mode in ("vector", "bm25", "hybrid", "hybrid_mmr"):
        lines.append(f"| retrieval latency {mode} p50 / p95 | {lat[mode]['p50_ms']} ms / "
                     f"{lat[mode]['p95_ms']} ms |")
    note = f" ({r['quality_note']})" if r.get("quality_note") else ""
    lines += ["", f"Quality on the bundled eval set ({qual['questions']} questions){note}:", "",
              "| mode | recall@1 | recall@5 | MRR | nDCG@10 | abstention (gate) |",
              "|---|---|---|---|---|---|"]
    for mode in ("vector", "bm25", "hybrid", "hybrid_mmr"):
        q = qual[mode]
        lines.append(f"| {mode} | {q['recall@1']:.3f} | {q['recall@5']:.3f} | {q['mrr']:.3f} | "
                     f"{q['ndcg@10']:.3f} | {q['abstention_acc_gate']:.3f} |")
    lines.append("<!-- BENCH:END -->")
    text = README.read_text()
    start, end = text.index("<!-- BENCH:START -->"), text.index("<!-- BENCH:END -->")
    README.write_text(text[:start] + "\n".join(lines) + text[end + len("<!-- BENCH:END -->"):])


if __name__ == "__main__":
    main()
