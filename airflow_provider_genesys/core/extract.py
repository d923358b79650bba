"""Plan → fetch → write for one interval: chunk files, exactly-once rows, manifest, resume.

A run (1) reads the destination's manifest and keeps the chunks an earlier *try of the
same run* wrote and that still verify by sha256; (2) rewrites the manifest as incomplete;
(3) fetches the other chunks concurrently (up to the family's pool size), streaming each
into its own file that becomes visible only when complete, and records every finished
chunk in the (still incomplete) manifest; (4) deletes files the manifest does not list;
(5) writes the complete manifest last. A failure at any point leaves
``"complete": false``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from airflow_provider_genesys import __version__
from airflow_provider_genesys.core.chunks import Chunk, split_chunk
from airflow_provider_genesys.core.engine import GenesysEngine
from airflow_provider_genesys.core.errors import (
    GenesysConfigError,
    GenesysDataNotAvailableError,
    GenesysJobError,
    GenesysNotFoundError,
    GenesysResultCapError,
)
from airflow_provider_genesys.core.queries import (
    TERMINAL_JOB_STATES,
    cancel_job,
    data_availability,
    details_pages,
    job_pages,
    job_status,
    query_aggregates,
    submit_job,
)
from airflow_provider_genesys.core.sink import (
    MANIFEST_NAME,
    Destination,
    file_name,
    open_writer,
    prune,
    read_manifest,
    verify,
    write_manifest,
)
from airflow_provider_genesys.core.spec import ExtractionSpec, iso_utc

__all__ = ["Extraction", "ExtractionResult"]

log = logging.getLogger("airflow_provider_genesys.extract")

_JOB_CAP_MARKERS = ("result limit", "400000", "pagination may not exceed")


#: Where a fetcher hands one page of kept records: the chunk's writer.
_Write = Callable[[list[dict[str, Any]]], Any]


@dataclass
class _Counters:
    """What fetching one chunk cost and produced."""

    pages: int = 0
    requests: int = 0
    records: int = 0
    read: int = 0
    total_hits: int | None = None
    skipped: int = 0
    seen: set[int | str] = field(default_factory=set)


@dataclass
class ExtractionResult:
    """The finished manifest and the small summary that goes to XCom."""

    manifest: dict[str, Any]
    summary: dict[str, Any]


def _is_cap_message(message: Any) -> bool:
    """Whether a FAILED job's errorMessage says its result was over the cap (so: split)."""
    return bool(message) and any(marker in str(message).lower() for marker in _JOB_CAP_MARKERS)


def _id_key(record_id: Any) -> int | str:
    """A compact de-duplication key: a UUID as its 128-bit int (about half the memory of the text)."""
    text = str(record_id)
    try:
        return uuid.UUID(text).int
    except ValueError:
        return text


def _parse_start(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class Extraction:
    """One extraction of one interval into one destination (the Airflow-free core of the operators)."""

    def __init__(
        self,
        engine: GenesysEngine,
        destination: Destination,
        spec: ExtractionSpec,
        *,
        destination_uri: str | None = None,
        logger: logging.Logger | logging.LoggerAdapter[Any] | Any = None,
    ) -> None:
        self.engine = engine
        self.destination = destination
        self.spec = spec
        self.destination_uri = destination_uri or destination.root
        self.log = logger or log
        self.entries: dict[str, dict[str, Any]] = {}
        self.active_jobs: set[str] = set()
        self.jobs: dict[str, str] = {}
        self._manifest_lock = asyncio.Lock()
        self._start_counts = (0, 0)
        self._jobs_from_earlier_try = False

    # -- phases --------------------------------------------------------------------------

    async def run(self) -> ExtractionResult:
        """All phases in one go (the non-deferrable path)."""
        todo = await self.prepare()
        if self.spec.kind == "jobs" and todo:
            await self.check_availability()
        await self.fetch(todo)
        return await self.finish()

    async def prepare(self) -> list[Chunk]:
        """Keep verified chunks of an earlier try, mark the manifest incomplete; return what to fetch."""
        self._start_counts = (self.engine.sent, self.engine.rate_limited)
        previous = await asyncio.to_thread(read_manifest, self.destination)
        reusable = await asyncio.to_thread(self._reusable, previous)
        self.entries = {entry["path"]: entry for entry in reusable}
        done = {entry["path"] for entry in reusable}
        todo = [c for c in self.spec.chunks if self._rel_path(c) not in done]
        if self._same_unfinished_run(previous):
            # Jobs of this very try (the deferrable path resuming) must report how they ended;
            # jobs of an earlier try that ended badly are simply submitted again.
            self._jobs_from_earlier_try = (previous or {}).get("try_number") != self.spec.try_number
            earlier_jobs = (previous or {}).get("jobs") or {}
            self.jobs = {
                c.basic_name: earlier_jobs[c.basic_name] for c in todo if c.basic_name in earlier_jobs
            }
        await asyncio.to_thread(self.destination.ensure_root)
        await asyncio.to_thread(self.destination.remove_temporaries)
        await self._write_progress()
        if reusable:
            self.log.info(
                "Resuming try %d of run %s: reusing %d verified chunk file(s), fetching %d",
                self.spec.try_number,
                self.spec.run_id,
                len(reusable),
                len(todo),
            )
        return todo

    async def fetch(self, todo: list[Chunk]) -> None:
        """Fetch chunks concurrently up to the family's pool size; the first error cancels the rest.

        Jobs already submitted for a chunk (``self.jobs``, e.g. by the deferrable path or an
        earlier try) are collected, never submitted again.
        """
        limit = asyncio.Semaphore(max(1, self.engine.settings.pool_size(self.spec.family)))

        async def one(chunk: Chunk) -> None:
            async with limit:
                entry = await self._fetch_chunk(chunk, self.jobs.get(chunk.basic_name))
            async with self._manifest_lock:
                self.entries[entry["path"]] = entry
                self.jobs.pop(chunk.basic_name, None)
                await self._write_progress()

        tasks = [asyncio.ensure_future(one(chunk)) for chunk in todo]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def finish(self) -> ExtractionResult:
        """Delete files the manifest does not list, then write the complete manifest last."""
        keep = set(self.entries) | {MANIFEST_NAME}
        removed = await asyncio.to_thread(prune, self.destination, keep)
        if removed:
            self.log.info(
                "Removed %d file(s) not in this run's manifest: %s", len(removed), ", ".join(removed)
            )
        manifest = self._manifest(complete=True)
        await asyncio.to_thread(write_manifest, self.destination, manifest)
        summary = {
            "destination": self.destination_uri,
            "manifest": self.destination.path(MANIFEST_NAME),
            "records": manifest["totals"]["records"],
            "files": manifest["totals"]["files"],
            "requests": manifest["totals"]["requests"],
            "rate_limited": manifest["totals"]["rate_limited"],
        }
        return ExtractionResult(manifest, summary)

    # -- availability and jobs (also used by the deferrable path) -------------------------

    async def check_availability(self) -> datetime:
        """Fail (or wait) while the interval ends after Genesys's ``dataAvailabilityDate``."""
        deadline = self.engine.clock.monotonic() + self.spec.job_timeout
        while True:
            available = await data_availability(self.engine, self.spec.entity)
            if available >= self.spec.end:
                return available
            message = (
                f"interval ends at {iso_utc(self.spec.end)} but Genesys guarantees data only up to "
                f"{iso_utc(available)} (dataAvailabilityDate)"
            )
            if not self.spec.wait_for_availability:
                raise GenesysDataNotAvailableError(
                    message + "; run later, end the interval earlier, or set wait_for_availability=True"
                )
            if self.engine.clock.monotonic() + self.spec.poll_interval > deadline:
                raise GenesysDataNotAvailableError(
                    message + f"; still so after job_timeout={self.spec.job_timeout:g}s"
                )
            self.log.info("%s; waiting %gs", message, self.spec.poll_interval)
            await self.engine.clock.sleep(self.spec.poll_interval)

    async def submit_jobs(self, todo: Iterable[Chunk]) -> dict[str, str]:
        """Submit one job per chunk and record the ids in the incomplete manifest."""
        for chunk in todo:
            if chunk.basic_name not in self.jobs:
                await self._submit(chunk, record_as=chunk.basic_name)
        return dict(self.jobs)

    async def cancel_active_jobs(self) -> None:
        """Cancel every job this extraction still waits on (``on_kill``)."""
        for job_id in list(self.active_jobs):
            await cancel_job(self.engine, self.spec.entity, job_id)
            self.active_jobs.discard(job_id)

    # -- one chunk -------------------------------------------------------------------------

    def _rel_path(self, chunk: Chunk) -> str:
        return file_name(chunk.basic_name, self.spec.output_format, self.spec.compression)

    async def _fetch_chunk(self, chunk: Chunk, job_id: str | None) -> dict[str, Any]:
        rel = self._rel_path(chunk)
        counters = _Counters()
        writer = open_writer(
            self.destination, rel, self.spec.output_format, self.spec.compression, self.spec.record_kind
        )
        try:
            await self._fill(chunk, chunk, writer.write_page, counters, job_id)
            written = await asyncio.to_thread(writer.finish)
        except BaseException:
            writer.abort()
            raise
        self._report_shortfall(chunk, counters)
        entry = {
            "start": iso_utc(chunk.start),
            "end": iso_utc(chunk.end),
            "path": written.rel_path,
            "records": written.records,
            "sha256": written.sha256,
            "pages": counters.pages,
            "requests": counters.requests,
        }
        if counters.total_hits is not None:
            entry["total_hits"] = counters.total_hits
        if counters.skipped:
            entry["skipped_records"] = counters.skipped
            self.log.warning(
                "Chunk %s: %d record(s) without %s or %s were not written",
                chunk.basic_name,
                counters.skipped,
                self.spec.entity.id_field,
                self.spec.entity.start_field,
            )
        self.log.info(
            "Chunk %s: %d record(s) in %d page(s), %d request(s) → %s",
            chunk.basic_name,
            written.records,
            counters.pages,
            counters.requests,
            written.rel_path,
        )
        return entry

    async def _fill(
        self,
        chunk: Chunk,
        part: Chunk,
        write: _Write,
        counters: _Counters,
        job_id: str | None = None,
    ) -> None:
        """Fetch ``part`` of ``chunk`` into the chunk's writer, splitting it on a result cap."""
        try:
            await self._fetchers[self.spec.kind](self, chunk, part, write, counters, job_id)
        except GenesysResultCapError as exc:
            await self._split(chunk, part, write, counters, exc)

    async def _split(
        self,
        chunk: Chunk,
        part: Chunk,
        write: _Write,
        counters: _Counters,
        cause: Exception,
    ) -> None:
        try:
            left, right = split_chunk(part, self.spec.granularity, self.spec.time_zone)
        except GenesysConfigError as exc:
            raise GenesysConfigError(
                exc.field,
                f"Genesys says the result set of {part.basic_name} is over its limit, and {exc.problem}",
                exc.fix,
            ) from cause
        self.log.warning(
            "Result set of %s is larger than Genesys's limit: splitting it into %s and %s",
            part.basic_name,
            left.basic_name,
            right.basic_name,
        )
        await self._fill(chunk, left, write, counters)
        await self._fill(chunk, right, write, counters)

    async def _aggregates(
        self,
        chunk: Chunk,
        part: Chunk,
        write: _Write,
        counters: _Counters,
        job_id: str | None,
    ) -> None:
        body = {**self.spec.query, "interval": part.iso_interval, "timeZone": self.spec.time_zone}
        counters.requests += 1
        results = await query_aggregates(self.engine, self.spec.entity, body)
        counters.pages += 1
        counters.records += len(results)
        write(results)

    def _keep(self, chunk: Chunk, records: list[dict[str, Any]], counters: _Counters) -> list[dict[str, Any]]:
        """Records that started inside ``chunk`` and were not seen before in it (exactly once)."""
        entity = self.spec.entity
        kept = []
        for record in records:
            started = _parse_start(record.get(entity.start_field))
            record_id = record.get(entity.id_field)
            if started is None or record_id is None:
                counters.skipped += 1  # cannot be placed in a chunk: reported, never silent
                continue
            key = _id_key(record_id)
            if not chunk.start <= started < chunk.end or key in counters.seen:
                continue
            counters.seen.add(key)
            kept.append(record)
        counters.records += len(kept)
        return kept

    async def _details(
        self,
        chunk: Chunk,
        part: Chunk,
        write: _Write,
        counters: _Counters,
        job_id: str | None,
    ) -> None:
        body = {**self.spec.query, "interval": part.iso_interval}
        hits: int | None = None
        async for page in details_pages(self.engine, self.spec.entity, body, self.spec.page_size):
            counters.requests += 1
            counters.pages += 1
            counters.read += len(page.records)
            hits = page.total_hits if hits is None else hits
            write(self._keep(chunk, page.records, counters))
        counters.requests += 1  # the empty page that ended the paging
        if hits is not None:
            counters.total_hits = (counters.total_hits or 0) + hits

    def _report_shortfall(self, chunk: Chunk, counters: _Counters) -> None:
        if counters.total_hits is None:
            return
        if counters.read < counters.total_hits:
            self.log.warning(
                "Chunk %s: totalHits said %d but %d record(s) were read (%d short); totalHits can be "
                "approximate, compare with the source if this persists",
                chunk.basic_name,
                counters.total_hits,
                counters.read,
                counters.total_hits - counters.read,
            )
        else:
            self.log.info(
                "Chunk %s: read %d record(s), totalHits %d",
                chunk.basic_name,
                counters.read,
                counters.total_hits,
            )

    async def _submit(self, part: Chunk, record_as: str | None = None) -> str:
        """Create the job for ``part``; a whole chunk's job is recorded in the manifest at once,
        so a later try collects it instead of submitting another."""
        body = {**self.spec.query, "interval": part.iso_interval}
        job_id = await submit_job(self.engine, self.spec.entity, body)
        self.active_jobs.add(job_id)
        self.log.info("Submitted job %s for %s", job_id, part.basic_name)
        if record_as is not None:
            async with self._manifest_lock:
                self.jobs[record_as] = job_id
                await self._write_progress()
        return job_id

    async def wait_job(self, job_id: str) -> dict[str, Any]:
        """Poll a job until it ends; cancel it and fail after ``job_timeout``."""
        deadline = self.engine.clock.monotonic() + self.spec.job_timeout
        while True:
            status = await job_status(self.engine, self.spec.entity, job_id)
            state = str(status.get("state", "")).upper()
            if state in TERMINAL_JOB_STATES:
                return status
            if self.engine.clock.monotonic() + self.spec.poll_interval > deadline:
                await cancel_job(self.engine, self.spec.entity, job_id)
                self.active_jobs.discard(job_id)
                raise GenesysJobError(
                    job_id, "TIMEOUT", f"still {state} after job_timeout={self.spec.job_timeout:g}s"
                )
            await self.engine.clock.sleep(self.spec.poll_interval)

    async def _reused_job_status(self, job_id: str) -> dict[str, Any] | None:
        """Status of a job submitted earlier (deferral or an earlier try); None if it is gone."""
        try:
            status = await job_status(self.engine, self.spec.entity, job_id)
        except GenesysNotFoundError:
            self.log.warning("Job %s from an earlier attempt no longer exists: submitting a new one", job_id)
            return None
        state = str(status.get("state", "")).upper()
        capped = state == "FAILED" and _is_cap_message(status.get("errorMessage"))
        if self._jobs_from_earlier_try and state in ("EXPIRED", "CANCELLED", "FAILED") and not capped:
            self.log.warning(
                "Job %s from an earlier attempt is %s (%s): submitting a new one",
                job_id,
                state,
                status.get("errorMessage") or "no errorMessage",
            )
            return None
        self.active_jobs.add(job_id)
        return status

    async def _jobs(
        self,
        chunk: Chunk,
        part: Chunk,
        write: _Write,
        counters: _Counters,
        job_id: str | None,
    ) -> None:
        status: dict[str, Any] | None = None
        if job_id is not None:
            status = await self._reused_job_status(job_id)
            if status is None:
                job_id = None
        if job_id is None:
            counters.requests += 1
            job_id = await self._submit(part, record_as=chunk.basic_name if part == chunk else None)
        if status is None or str(status.get("state", "")).upper() not in TERMINAL_JOB_STATES:
            status = await self.wait_job(job_id)
        state = str(status.get("state", "")).upper()
        message = status.get("errorMessage")
        if state == "FAILED" and _is_cap_message(message):
            self.active_jobs.discard(job_id)
            raise GenesysResultCapError(str(message), code="job.result.cap")
        if state != "FULFILLED":
            self.active_jobs.discard(job_id)
            raise GenesysJobError(job_id, state, message)
        async for page in job_pages(self.engine, self.spec.entity, job_id, self.spec.page_size):
            counters.requests += 1
            counters.pages += 1
            counters.read += len(page.records)
            write(self._keep(chunk, page.records, counters))
        self.active_jobs.discard(job_id)

    _fetchers: ClassVar[dict[str, Callable[..., Awaitable[None]]]] = {
        "aggregates": _aggregates,
        "details": _details,
        "jobs": _jobs,
    }

    # -- manifest ----------------------------------------------------------------------------

    def _same_unfinished_run(self, previous: dict[str, Any] | None) -> bool:
        """Whether ``previous`` is an unfinished manifest of this very run and request."""
        if not previous or previous.get("complete") is not False:
            return False
        identity = self.spec.identity()
        return all(previous.get(key) == value for key, value in identity.items())

    def _reusable(self, previous: dict[str, Any] | None) -> list[dict[str, Any]]:
        """Chunks of an unfinished earlier try of this same run whose files still verify."""
        if not self._same_unfinished_run(previous):
            return []
        assert previous is not None
        wanted = {self._rel_path(c) for c in self.spec.chunks}
        return [
            entry
            for entry in previous.get("chunks") or []
            if entry.get("path") in wanted
            and verify(self.destination, entry["path"], entry.get("sha256", ""))
        ]

    def _manifest(self, complete: bool) -> dict[str, Any]:
        chunks = sorted(self.entries.values(), key=lambda e: e["start"])
        manifest: dict[str, Any] = {
            **self.spec.identity(),
            "complete": complete,
            "provider_version": __version__,
            "try_number": self.spec.try_number,
            "totals": {
                "records": sum(e["records"] for e in chunks),
                "files": len(chunks),
                "requests": self.engine.sent - self._start_counts[0],
                "rate_limited": self.engine.rate_limited - self._start_counts[1],
            },
            "chunks": chunks,
        }
        pending = {name: job for name, job in self.jobs.items() if not complete}
        if pending:
            manifest["jobs"] = pending
        return manifest

    async def _write_progress(self) -> None:
        await asyncio.to_thread(write_manifest, self.destination, self._manifest(complete=False))
