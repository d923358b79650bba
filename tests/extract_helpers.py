"""Reading extraction output back, and running an extraction, for the tests."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import fsspec

from airflow_provider_genesys.core.clock import SystemClock
from airflow_provider_genesys.core.extract import Extraction, ExtractionResult
from airflow_provider_genesys.core.sink import Destination
from airflow_provider_genesys.core.spec import build_spec
from airflow_provider_genesys.core.state import ClientRegistry
from airflow_provider_genesys.sandbox.data import METRICS as SANDBOX_METRICS
from tests.helpers import make_engine

METRICS = list(SANDBOX_METRICS)


def local_destination(folder: Path) -> Destination:
    return Destination(fsspec.filesystem("file"), str(folder))


def read_records(folder: Path) -> list[dict[str, Any]]:
    """Every record of every chunk file the manifest lists, in manifest order."""
    manifest = json.loads((folder / "_manifest.json").read_text())
    records: list[dict[str, Any]] = []
    for chunk in manifest["chunks"]:
        raw = (folder / chunk["path"]).read_bytes()
        text = gzip.decompress(raw).decode() if chunk["path"].endswith(".gz") else raw.decode()
        records.extend(json.loads(line) for line in text.splitlines() if line)
    return records


def metric_totals(records: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Sum count and sum per metric over aggregates results (what ground truth reports)."""
    totals: dict[str, Counter[str]] = {}
    for result in records:
        for bucket in result.get("data", []):
            for metric in bucket.get("metrics", []):
                stats = metric["stats"]
                counter = totals.setdefault(metric["metric"], Counter())
                counter["count"] += stats.get("count", 0)
                counter["sum"] += stats.get("sum", stats.get("count", 0))
    return {name: {"count": c["count"], "sum": c["sum"]} for name, c in totals.items()}


def truth_totals(truth: dict[str, Any]) -> dict[str, dict[str, float]]:
    return {
        name: {"count": v["count"], "sum": v["sum"]} for name, v in truth["aggregates"].items() if v["count"]
    }


def run_extraction(
    url: str,
    folder: Path,
    kind: str,
    *,
    registry: ClientRegistry | None = None,
    engine_settings: dict[str, Any] | None = None,
    **spec_args: Any,
) -> ExtractionResult:
    """Build and run one extraction against the sandbox at ``url`` into ``folder``."""
    registry = registry or ClientRegistry(SystemClock())
    engine = make_engine(url, registry, **(engine_settings or {}))
    spec = build_spec(kind, **spec_args)
    extraction = Extraction(engine, local_destination(folder), spec)

    async def main() -> ExtractionResult:
        try:
            return await extraction.run()
        finally:
            await engine.aclose()

    return asyncio.run(main())
