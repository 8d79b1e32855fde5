"""Command line for ragkit: parse, call the core, render. No logic lives here."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from aiinfra_shared.cli import AppGroup, CLIError, ExitCode, NotFoundError, echo_json, progress_bar
from rich.console import Console
from rich.table import Table

from ragkit import __version__, bundled
from ragkit.config import Settings

EPILOG_MAIN = """\b
Examples:
  ragkit ingest docs/                      # index a folder (incremental)
  ragkit ask "How do I roll back a deploy?"
  ragkit search "PgConnectionsSaturated" --mode bm25 --json
  ragkit eval                              # quality table on the bundled eval set
  ragkit serve --port 8080                 # HTTP API with /metrics
Settings: --config ragkit.yaml, or env vars RAGKIT_* (e.g. RAGKIT_LLM__BACKEND=openai).
"""


def _settings(ctx: click.Context, **overrides: Any) -> Settings:
    obj = ctx.find_root().obj or {}
    values = {k: v for k, v in overrides.items() if v is not None}
    return Settings.load(obj.get("config"), **values)


def _system(settings: Settings) -> Any:
    from ragkit.rag import RagSystem

    return RagSystem(settings)


def _translate(exc: Exception) -> CLIError:
    """Map core exceptions to one-line errors with documented exit codes."""
    from ragkit.adapters.chroma import CollectionNotFoundError, EmbeddingMismatchError, StoreError
    from ragkit.adapters.embeddings import EmbeddingError
    from ragkit.adapters.llm import LLMError
    from ragkit.evaluation import DatasetError
    from ragkit.rag import QueryError
    from ragkit.realdocs import RealDocsError

    if isinstance(exc, RealDocsError):
        return NotFoundError(str(exc))

    if isinstance(exc, CollectionNotFoundError):
        return NotFoundError(str(exc))
    if isinstance(exc, QueryError | DatasetError):
        return CLIError(str(exc), ExitCode.USAGE)
    if isinstance(exc, EmbeddingMismatchError):
        return CLIError(str(exc), ExitCode.CONFIG)
    if isinstance(exc, StoreError | EmbeddingError | LLMError):
        return CLIError(str(exc), ExitCode.UNAVAILABLE)
    if isinstance(exc, FileNotFoundError):
        return NotFoundError(str(exc))
    raise exc


def _parse_filters(values: tuple[str, ...]) -> dict[str, Any] | None:
    filters: dict[str, Any] = {}
    for value in values:
        key, sep, raw = value.partition("=")
        if not sep or not key:
            raise CLIError(f"bad --filter '{value}': expected KEY=VALUE", ExitCode.USAGE)
        filters[key] = int(raw) if raw.isdigit() else raw
    return filters or None


@click.group(cls=AppGroup, epilog=EPILOG_MAIN)
@click.version_option(__version__, prog_name="ragkit")
@click.option("--config", "config", type=click.Path(path_type=Path), default=None,
              envvar="RAGKIT_CONFIG", help="YAML/TOML settings file (env RAGKIT_CONFIG).")
@click.pass_context
def cli(ctx: click.Context, config: Path | None) -> None:
    """Retrieval-augmented answers over your documents: ingest, ask, evaluate, serve."""
    ctx.obj = {"config": config}


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path), required=False)
@click.option("-c", "--collection", default=None, help="Collection (default: settings).")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Where the embedded Chroma lives (default .ragkit).")
@click.option("--strategy", type=click.Choice(["recursive", "markdown", "token"]), default=None,
              help="Chunking strategy (default markdown).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def ingest(ctx: click.Context, folder: Path | None, collection: str | None,
           data_dir: Path | None, strategy: str | None, as_json: bool) -> None:
    """Index FOLDER (default: the bundled runbook corpus) into a collection.

    \b
    Incremental: unchanged files are skipped, changed ones re-embedded, deleted ones removed.
    Unreadable, encrypted, empty or unsupported files are skipped and listed; exit code 0.
      ragkit ingest ./docs --collection team-docs
    """
    settings = _settings(ctx, data_dir=data_dir, collection=collection)
    if strategy:
        settings.chunking.strategy = strategy  # type: ignore[assignment]
    folder = folder or bundled.CORPUS
    try:
        system = _system(settings)
        with progress_bar(f"Ingesting {folder}") as advance:
            report = system.ingest(folder, progress=advance)
    except Exception as exc:
        raise _translate(exc) from exc
    if as_json:
        echo_json(report.as_dict())
        return
    click.echo(f"collection {report.collection}: {len(report.added)} added, "
               f"{len(report.updated)} updated, {len(report.unchanged)} unchanged, "
               f"{len(report.deleted)} deleted; {report.chunks_embedded} chunks embedded "
               f"({report.chunks_per_second:.1f}/s), {report.chunks_deleted} removed")
    for skipped in report.skipped:
        click.echo(f"skipped {skipped['source']}: {skipped['reason']}", err=True)


def _render_answer(answer: Any) -> None:
    console = Console()
    console.print(answer.text, markup=False)
    if answer.abstained:
        console.print(f"(abstained: best similarity {answer.max_similarity:.3f})")
        return
    # Small models do not always write [n]: then show what they were given, labelled as such.
    rows, title = ((answer.citations, "cited sources") if answer.citations
                   else (answer.sources, "sources given to the model (none cited)"))
    table = Table("n", "source", "section", "page", "score", title=title)
    for c in rows:
        table.add_row(f"[{c['n']}]", str(c["source"]), str(c["section"] or ""),
                      str(c["page"] or ""), f"{c['score']:.4f}")
    console.print(table)


@cli.command()
@click.argument("question")
@click.option("-c", "--collection", default=None)
@click.option("-k", "k", type=click.IntRange(1, 100), default=None, help="Chunks in the prompt.")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE",
              help="Metadata filter, e.g. --filter kind=pdf (repeatable).")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def ask(ctx: click.Context, question: str, collection: str | None, k: int | None,
        filters: tuple[str, ...], data_dir: Path | None, as_json: bool) -> None:
    """Answer QUESTION from the indexed documents, citing sources as [1], [2].

    \b
    Abstains ("Not found in the documents.") when retrieval confidence is low.
      ragkit ask "What port does PgBouncer listen on?"
      RAGKIT_LLM__BACKEND=openai RAGKIT_LLM__BASE_URL=http://127.0.0.1:8000/v1 ragkit ask "..."
    """
    settings = _settings(ctx, data_dir=data_dir)
    try:
        answer = _system(settings).ask(question, collection, k, _parse_filters(filters))
    except CLIError:
        raise
    except Exception as exc:
        raise _translate(exc) from exc
    if as_json:
        echo_json(answer.as_dict())
    else:
        _render_answer(answer)


@cli.command()
@click.argument("query")
@click.option("-c", "--collection", default=None)
@click.option("-k", "k", type=click.IntRange(1, 100), default=None)
@click.option("--mode", type=click.Choice(["vector", "bm25", "hybrid", "hybrid_mmr"]),
              default=None, help="Retrieval mode (default hybrid).")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def search(ctx: click.Context, query: str, collection: str | None, k: int | None,
           mode: str | None, filters: tuple[str, ...], data_dir: Path | None,
           as_json: bool) -> None:
    """Show the chunks retrieval finds for QUERY (no LLM).

    \b
      ragkit search "etcd NOSPACE" --mode hybrid_mmr -k 5
    """
    settings = _settings(ctx, data_dir=data_dir)
    if mode:
        settings.retrieval.mode = mode  # type: ignore[assignment]
    try:
        result = _system(settings).retrieve(query, collection, k, _parse_filters(filters))
    except CLIError:
        raise
    except Exception as exc:
        raise _translate(exc) from exc
    rows = [{"rank": i, "id": h.id, "source": h.metadata.get("source"),
             "section": h.metadata.get("section"), "score": h.score, "text": h.text}
            for i, h in enumerate(result.hits, 1)]
    if as_json:
        echo_json({"query": query, "max_similarity": result.max_similarity, "hits": rows})
        return
    table = Table("rank", "source", "section", "score", "text")
    for r in rows:
        table.add_row(str(r["rank"]), str(r["source"]), str(r["section"] or ""),
                      f"{r['score']:.4f}", str(r["text"])[:80].replace("\n", " "))
    Console().print(table)


@cli.group(invoke_without_command=True)
@click.option("--data-dir", type=click.Path(path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def collections(ctx: click.Context, data_dir: Path | None, as_json: bool) -> None:
    """List collections (or `collections drop NAME`)."""
    ctx.obj = dict(ctx.find_root().obj or {}, data_dir=data_dir)
    if ctx.invoked_subcommand:
        return
    try:
        rows = _system(_settings(ctx, data_dir=data_dir)).collections()
    except Exception as exc:
        raise _translate(exc) from exc
    if as_json:
        echo_json(rows)
        return
    table = Table("name", "chunks")
    for row in rows:
        table.add_row(row["name"], str(row["chunks"]))
    Console().print(table)


@collections.command("drop")
@click.argument("name")
@click.pass_context
def collections_drop(ctx: click.Context, name: str) -> None:
    """Delete collection NAME and all its chunks."""
    try:
        system = _system(_settings(ctx, data_dir=ctx.obj.get("data_dir")))
        system.store.delete_collection(name)
    except Exception as exc:
        raise _translate(exc) from exc
    click.echo(f"dropped {name}")


def _resolve_eval_inputs(settings: Settings, suite: str | None, dataset: Path | None,
                         corpus: Path | None) -> tuple[Path, Path]:
    """(dataset, corpus folder): a real-docs suite, or the given files, or the bundled set.
    A suite is copied from its Debian package into data_dir/realdocs/NAME and, unless -c was
    given, indexed in its own collection named after it."""
    if suite is None:
        return dataset or bundled.QA, corpus or bundled.CORPUS
    from ragkit import realdocs

    if dataset or corpus:
        raise CLIError("--suite brings its own dataset and corpus: drop --dataset/--corpus",
                       ExitCode.USAGE)
    chosen = realdocs.suite(suite)
    folder = realdocs.materialize(chosen, settings.data_dir / "realdocs" / suite)
    return chosen.dataset, folder


_SUITE = click.option("--suite", type=click.Choice(["python-docs", "git-docs"]), default=None,
                      help="Real documentation set: Debian's python3.11-doc or git-doc pages "
                           "with their question set (own collection, named after it).")
_SPLIT = click.option("--split", type=click.Choice(["tune", "report"]), default=None,
                      help="Only this half of the questions (tune on one, report the other).")


def _quality_table(rows: list[dict[str, Any]]) -> Table:
    keys = [k for k in rows[0] if k != "label"]
    table = Table("config", *keys)
    for row in rows:
        table.add_row(str(row["label"]), *(f"{row[k]:.3f}" for k in keys))
    return table


@cli.command("eval")
@click.option("--dataset", type=click.Path(path_type=Path), default=None,
              help="QA JSON lines (default: the bundled qa.jsonl).")
@click.option("--corpus", type=click.Path(path_type=Path), default=None,
              help="Folder to (incrementally) ingest first (default: the bundled corpus).")
@click.option("--modes", default="vector,bm25,hybrid,hybrid_mmr", show_default=True,
              help="Comma-separated retrieval modes to compare.")
@click.option("--answers", is_flag=True,
              help="Also generate answers: citation correctness, groundedness, abstention.")
@_SUITE
@_SPLIT
@click.option("-c", "--collection", default=None, help="Collection (default: settings).")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def eval_cmd(ctx: click.Context, dataset: Path | None, corpus: Path | None, modes: str,
             answers: bool, suite: str | None, split: str | None, collection: str | None,
             data_dir: Path | None, as_json: bool) -> None:
    """Report recall@k, MRR, nDCG@10 (and answer quality with --answers) per retrieval mode.

    \b
      ragkit eval
      ragkit eval --dataset my-qa.jsonl --corpus ./docs --modes hybrid --answers --json
      ragkit eval --suite python-docs --split report     # Python 3.11 docs, reporting half
    """
    from ragkit.evaluation import evaluate, load_dataset

    settings = _settings(ctx, data_dir=data_dir, collection=collection or suite)
    wanted = [m.strip() for m in modes.split(",") if m.strip()]
    bad = [m for m in wanted if m not in {"vector", "bm25", "hybrid", "hybrid_mmr"}]
    if bad or not wanted:
        raise CLIError(f"unknown mode(s): {', '.join(bad) or '(none)'}", ExitCode.USAGE)
    try:
        dataset, corpus = _resolve_eval_inputs(settings, suite, dataset, corpus)
        items = load_dataset(dataset, split)
        system = _system(settings)
        with progress_bar(f"Ingesting {corpus}") as advance:
            system.ingest(corpus, settings.collection, progress=advance)
        results = []
        for mode in wanted:
            rs = settings.retrieval.model_copy(update={"mode": mode})
            with progress_bar(f"Evaluating {mode}", total=len(items)) as advance:
                results.append(evaluate(system, items, label=mode, retrieval=rs,
                                        collection=settings.collection,
                                        answers=answers and mode == settings.retrieval.mode,
                                        progress=advance))
    except CLIError:
        raise
    except Exception as exc:
        raise _translate(exc) from exc
    if as_json:
        echo_json({"questions": len(items), "collection": settings.collection,
                   "split": split, "results": [
            {"label": r.label, "retrieval": r.retrieval, "answers": r.answers,
             "per_question": r.per_question} for r in results]})
        return
    # a pipe or file gets the whole table (rich would fold it into 80 columns)
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(f"{len(items)} questions, collection {settings.collection}"
                  + (f", split {split}" if split else ""))
    console.print(_quality_table([{"label": r.label, **r.retrieval} for r in results]))
    for r in results:
        if r.answers:
            console.print(f"answers ({r.label}): " + ", ".join(
                f"{k} {v:.3f}" for k, v in r.answers.items()))


@cli.command()
@click.option("--dataset", type=click.Path(path_type=Path), default=None)
@click.option("--corpus", type=click.Path(path_type=Path), default=None)
@click.option("--chunk-sizes", default="300,600,1000", show_default=True)
@click.option("--overlaps", default="0,100", show_default=True)
@click.option("--ks", default="3,5", show_default=True)
@click.option("--weights", default="1:0.5,1:1,0.5:1", show_default=True,
              help="vector:bm25 fusion weight pairs.")
@click.option("--fusions", default="convex,rrf", show_default=True,
              help="Hybrid fusion functions to compare.")
@click.option("--section-headers", "headers", default="1", show_default=True,
              help="Contextual section headers in chunks: 1, 0 or 0,1 (chunking: re-embeds).")
@click.option("--per-source", default="", show_default="the configured value",
              help="retrieval.max_per_source values (chunks of one document; 0 = off), "
                   "e.g. 0,1,2.")
@_SUITE
@_SPLIT
@click.option("--top", type=int, default=5, show_default=True, help="Rows to show.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def tune(ctx: click.Context, dataset: Path | None, corpus: Path | None, chunk_sizes: str,
         overlaps: str, ks: str, weights: str, fusions: str, headers: str, per_source: str,
         suite: str | None, split: str | None, top: int, data_dir: Path | None,
         as_json: bool) -> None:
    """Grid-search chunk size/overlap, k, hybrid weights and source collapsing; best
    configuration by nDCG@10.

    \b
      ragkit tune --chunk-sizes 400,800 --overlaps 0,50 --ks 3,5 --weights 1:1,0.5:1
      ragkit tune --suite python-docs --split tune --chunk-sizes 600 --overlaps 80 --ks 4
    Pick settings on one half (--split tune) and report them on the other (eval --split report).
    """
    from ragkit.evaluation import TuneSpace, load_dataset
    from ragkit.evaluation import tune as run_tune
    from ragkit.rag import RagSystem

    settings = _settings(ctx, data_dir=data_dir, collection=suite)
    try:
        fusion_list = tuple(f.strip() for f in fusions.split(",") if f.strip())
        if not fusion_list or set(fusion_list) - {"rrf", "convex"}:
            raise ValueError(f"fusions must be rrf and/or convex, got '{fusions}'")
        caps = tuple(int(x) for x in per_source.split(",") if x.strip())
        if any(c < 0 for c in caps):
            raise ValueError(f"per-source values must be >= 0, got '{per_source}'")
        space = TuneSpace(
            fusions=fusion_list,
            section_headers=tuple(bool(int(x)) for x in headers.split(",")),
            per_source=caps,
            chunk_sizes=tuple(int(x) for x in chunk_sizes.split(",")),
            overlaps=tuple(int(x) for x in overlaps.split(",")),
            ks=tuple(int(x) for x in ks.split(",")),
            weights=tuple((float(a), float(b)) for a, b in
                          (w.split(":") for w in weights.split(","))))
    except ValueError as exc:
        raise CLIError(f"bad grid value: {exc}", ExitCode.USAGE) from exc
    base = RagSystem(settings)
    try:
        dataset, corpus = _resolve_eval_inputs(settings, suite, dataset, corpus)
        items = load_dataset(dataset, split)
        total = (len(space.chunk_sizes) * len(space.overlaps) * len(space.ks)
                 * len(space.weights) * len(space.fusions) * len(space.section_headers)
                 * max(1, len(space.per_source)))
        with progress_bar("Tuning", total=total) as advance:
            rows = run_tune(settings, corpus, items, space,
                            lambda s: RagSystem(s, embedder=base.embedder,
                                                metrics=base.metrics),
                            progress=advance)
    except Exception as exc:
        raise _translate(exc) from exc
    if as_json:
        echo_json({"best": rows[0] if rows else None, "trials": rows})
        return
    table = Table(*rows[0].keys()) if rows else Table()
    for row in rows[:top]:
        table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row.values()))
    Console().print(table)
    if rows:
        click.echo("best: " + json.dumps(rows[0]))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--data-dir", type=click.Path(path_type=Path), default=None)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, data_dir: Path | None) -> None:
    """Run the HTTP API: /ingest /query /collections /feedback /health /metrics.

    \b
      ragkit serve --host 0.0.0.0 --port 8080
      curl -s localhost:8080/query -H content-type:application/json \\
           -d '{"question": "What is the RPO?"}'
    """
    import uvicorn

    from ragkit.service import create_app

    settings = _settings(ctx, data_dir=data_dir)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


main = cli
