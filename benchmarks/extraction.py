"""Benchmark: extraction throughput, CPU and memory against the sandbox in its own process.

Scenarios (each extraction runs in a fresh child process so its peak RSS and CPU are its own):

- ``week``: 7 days of conversation details (about 7,000 conversations a day, ~50,000 in all)
  and 7 days of hourly aggregates, with the sandbox's default limit (300 requests per 60 s);
  reports wall time ÷ theoretical minimum (requests ÷ allowed rate), requests, 429s, peak
  RSS and CPU seconds per 1,000 records.
- ``day-size``: one day of details at 10,000 and at 200,000 conversations with limits off;
  reports peak RSS for each (it should be flat in the day's size) and CPU per 1,000.

    python benchmarks/extraction.py [week|day-size|all]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from tests.extract_helpers import run_extraction
args = json.loads(sys.argv[2])
start = time.monotonic()
result = run_extraction(args.pop("url"), Path(args.pop("folder")), args.pop("kind"),
                        engine_settings=args.pop("engine_settings"), **args)
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": time.monotonic() - start, "cpu": usage.ru_utime + usage.ru_stime,
                  "rss_mb": usage.ru_maxrss / 1024, "summary": result.summary}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_sandbox(*flags: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "airflow_provider_genesys.sandbox", "--port", str(port), *flags]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    proc.stdout.readline()  # "listening on ..."
    return proc, f"http://127.0.0.1:{port}"


def _extract(url: str, kind: str, **args: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        payload = {"url": url, "folder": folder, "kind": kind, **args}
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, str(ROOT), json.dumps(payload)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _row(name: str, run: dict[str, Any], minimum: float | None) -> None:
    summary = run["summary"]
    records = max(1, summary["records"])
    parts = [
        f"{name}:",
        f"wall {run['wall']:.1f}s",
        f"wall/min {run['wall'] / minimum:.3f}" if minimum else "",
        f"requests {summary['requests']}",
        f"429s {summary['rate_limited']}",
        f"records {summary['records']}",
        f"peak RSS {run['rss_mb']:.0f} MB",
        f"CPU {run['cpu'] / records * 1000:.3f}s per 1,000 records",
    ]
    print("  " + "  ".join(p for p in parts if p), flush=True)


def week() -> None:
    proc, url = _start_sandbox("--per-day", "7000")
    try:
        print("7 days, sandbox default limit 300 requests / 60 s", flush=True)
        interval = {
            "interval_start": "2024-05-01T00:00:00+00:00",
            "interval_end": "2024-05-08T00:00:00+00:00",
        }
        settings = {"requests_per_minute": 300, "max_concurrency": 4}
        details = _extract(url, "details", engine_settings=settings, chunk="P1D", **interval)
        _row("details", details, details["summary"]["requests"] / 5.0)
        aggregates = _extract(
            url,
            "aggregates",
            engine_settings=settings,
            chunk="PT1H",
            query={
                "metrics": ["nOffered", "tHandle", "tTalk"],
                "granularity": "PT30M",
                "groupBy": ["queueId"],
            },
            **interval,
        )
        _row("aggregates", aggregates, aggregates["summary"]["requests"] / 5.0)
    finally:
        proc.terminate()
        proc.wait()


def day_size() -> None:
    print("one day of details, limits off", flush=True)
    for per_day in (10_000, 200_000):
        proc, url = _start_sandbox("--rate", "0", "--per-day", str(per_day))
        try:
            run = _extract(
                url,
                "details",
                engine_settings={"requests_per_minute": 1_000_000, "max_concurrency": 4},
                chunk="P1D",
                interval_start="2024-05-01T00:00:00+00:00",
                interval_end="2024-05-02T00:00:00+00:00",
            )
            _row(f"{per_day:,} conversations", run, None)
        finally:
            proc.terminate()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("which", nargs="?", choices=("week", "day-size", "all"), default="all")
    which = parser.parse_args().which
    os.environ.setdefault("PYTHONHASHSEED", "0")
    started = time.monotonic()
    if which in ("week", "all"):
        week()
    if which in ("day-size", "all"):
        day_size()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(benchmark driver: {time.monotonic() - started:.0f}s, its own RSS {own:.0f} MB)")


if __name__ == "__main__":
    main()
