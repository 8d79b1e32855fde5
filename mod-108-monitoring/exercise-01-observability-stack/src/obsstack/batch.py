"""The batch scoring job: score a file of entity ids through the features service (which
calls the model), as one trace per job: a `batch.score` root span with one child span per
chunk, each request carrying the trace context, so a slow nightly run can be followed into
the services like an online request. Results are written atomically (JSON lines)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from aiinfra_shared.io import atomic_write_text
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

from obsstack.config import Settings
from obsstack.telemetry import current_ids, setup_logging, setup_tracing


class BatchInputError(ValueError):
    """The input file is missing or holds no entity ids."""


@dataclass
class BatchResult:
    trace_id: str
    scored: int
    failed: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def read_entities(path: Path) -> list[str]:
    """One entity id per line (blank lines and `#` comments skipped)."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as exc:
        raise BatchInputError(f"cannot read {path}: {exc.strerror}") from None
    entities = [x.strip() for x in lines if x.strip() and not x.startswith("#")]
    if not entities:
        raise BatchInputError(f"{path} holds no entity ids")
    return entities


def run_batch(entities: Sequence[str], out: Path, settings: Settings, chunk_size: int = 50,
              progress: Callable[[int], None] | None = None) -> BatchResult:
    """Score `entities`, write `out` (one JSON object per entity), return a summary."""
    # BEGIN SOLUTION
    provider = setup_tracing("batch", settings.otlp_endpoint,
                             sample_ratio=settings.sample_ratio,
                             timeout_s=settings.otlp_timeout_s)
    tracer = provider.get_tracer("obsstack.batch")
    logger = setup_logging("batch", settings.log_dir)
    client = httpx.Client(timeout=10)
    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider)
    rows: list[dict[str, Any]] = []
    failed = 0
    start = time.perf_counter()
    try:
        with tracer.start_as_current_span("batch.score") as root:
            root.set_attribute("batch.size", len(entities))
            root.set_attribute("batch.chunk_size", chunk_size)
            trace_id, _ = current_ids()
            for first in range(0, len(entities), chunk_size):
                chunk = entities[first:first + chunk_size]
                with tracer.start_as_current_span("batch.chunk") as span:
                    span.set_attribute("batch.chunk.first", first)
                    span.set_attribute("batch.chunk.size", len(chunk))
                    for entity in chunk:
                        try:
                            response = client.post(f"{settings.features_url}/score",
                                                   json={"entity_id": entity})
                        except httpx.HTTPError as exc:
                            response = None
                            error = str(exc)
                        if response is not None and response.status_code == 200:
                            rows.append({"entity_id": entity, **response.json()})
                        else:
                            failed += 1
                            detail = error if response is None else response.text[:200]
                            rows.append({"entity_id": entity, "error": detail})
                            logger.error("scoring %s failed", entity,
                                         extra={"fields": {"entity_id": entity}})
                if progress is not None:
                    progress(len(chunk))
            root.set_attribute("batch.failed", failed)
            logger.info("batch scored %d entities, %d failed", len(entities) - failed, failed,
                        extra={"fields": {"scored": len(entities) - failed,
                                          "failed": failed}})
        atomic_write_text(out, "".join(json.dumps(r) + "\n" for r in rows))
    finally:
        client.close()
        provider.force_flush(10_000)
        provider.shutdown()
        logging.getLogger(__name__).debug("batch done")
    return BatchResult(trace_id, len(entities) - failed, failed,
                       round(time.perf_counter() - start, 3))
    # END SOLUTION
