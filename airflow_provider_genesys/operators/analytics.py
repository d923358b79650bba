"""Operators that extract Genesys Cloud analytics for a data interval into files.

They are thin: arguments and the Airflow context become an
:class:`~airflow_provider_genesys.core.spec.ExtractionSpec`; the destination URI becomes an
fsspec filesystem through Airflow's ``ObjectStoragePath``; the client core does the rest
(:class:`~airflow_provider_genesys.core.extract.Extraction`).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from airflow.sdk import BaseOperator, ObjectStoragePath
from airflow.sdk.exceptions import AirflowException

from airflow_provider_genesys.core.errors import GenesysConfigError, GenesysError
from airflow_provider_genesys.core.extract import Extraction
from airflow_provider_genesys.core.queries import cancel_job
from airflow_provider_genesys.core.sink import Destination
from airflow_provider_genesys.core.spec import ExtractionSpec, build_spec
from airflow_provider_genesys.hooks.genesys import GenesysCloudHook

__all__ = [
    "GenesysConversationAggregatesOperator",
    "GenesysConversationDetailsJobOperator",
    "GenesysConversationDetailsOperator",
    "GenesysExtractOperator",
]


def open_destination(uri: str, conn_id: str | None) -> Destination:
    """The run's destination folder as an fsspec filesystem and root, via ``ObjectStoragePath``."""
    if not isinstance(uri, str) or not uri.strip():
        raise GenesysConfigError(
            "destination", "is empty", "give a URI such as file:///data/genesys/date={{ ds }}/"
        )
    text = uri.strip()
    if text.startswith("/"):
        text = "file://" + text
    elif "://" not in text:
        raise GenesysConfigError(
            "destination",
            f"{uri!r} is a relative path, which would depend on the worker's current directory",
            "give an absolute path or a URI such as file:///data/genesys/ or s3://bucket/prefix/",
        )
    try:
        path = ObjectStoragePath(text, conn_id=conn_id)
        fs = path.fs
    except (ValueError, ImportError) as exc:
        raise GenesysConfigError(
            "destination",
            f"{uri!r} uses an unsupported scheme ({exc})",
            "use file://, or s3:// / gs:// / abfs:// with the matching Airflow provider installed",
        ) from None
    return Destination(fs, str(path.path).rstrip("/"))


class GenesysExtractOperator(BaseOperator):
    """Base of the extraction operators: one interval → chunk files + ``_manifest.json``.

    :param destination: templated URI of this run's folder (``file://``, ``s3://``, ``gs://`` …, or
        an absolute path), e.g. ``s3://lake/genesys/aggregates/date={{ ds }}/``.
    :param destination_conn_id: Airflow connection for the storage (optional).
    :param interval_start: templated start (aware datetime or ISO-8601 with an offset);
        default: the run's ``data_interval_start``.
    :param interval_end: likewise; default: the run's ``data_interval_end``.
    :param chunk: ISO-8601 duration of one query's interval (``PT1H``, ``P1D`` …).
    :param time_zone: IANA zone for calendar chunks and aggregate buckets (default ``UTC``).
    :param query: the request body without ``interval`` (templated).
    :param output_format: ``jsonl`` (default) or ``parquet`` (``[parquet]`` extra).
    :param compression: ``gzip`` (default) or ``None``.
    :param genesys_conn_id: the Genesys Cloud connection.
    :param max_concurrency: per-task override of the in-flight caps (number or per-family map).
    :param timeout: per-task override of the per-request timeout in seconds.
    :param validate_names: check metric/dimension/field names against the SDK lists.
    """

    kind: ClassVar[str] = ""
    default_chunk: ClassVar[str] = "P1D"
    template_fields: Sequence[str] = (
        "destination",
        "interval_start",
        "interval_end",
        "query",
        "chunk",
        "time_zone",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"query": "json"}
    ui_color = "#ff4f1f"

    def __init__(
        self,
        *,
        destination: str,
        destination_conn_id: str | None = None,
        interval_start: str | datetime | None = None,
        interval_end: str | datetime | None = None,
        chunk: str | None = None,
        time_zone: str = "UTC",
        query: dict[str, Any] | None = None,
        output_format: str = "jsonl",
        compression: str | None = "gzip",
        genesys_conn_id: str = GenesysCloudHook.default_conn_name,
        max_concurrency: int | dict[str, int] | None = None,
        timeout: float | None = None,
        validate_names: bool = True,
        entity: str = "conversations",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.destination = destination
        self.destination_conn_id = destination_conn_id
        self.interval_start = interval_start
        self.interval_end = interval_end
        self.chunk = chunk or self.default_chunk
        self.time_zone = time_zone
        self.query = query
        self.output_format = output_format
        self.compression = compression
        self.genesys_conn_id = genesys_conn_id
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self.validate_names = validate_names
        self.entity = entity
        self._extraction: Extraction | None = None

    # -- building blocks -------------------------------------------------------------------

    def _spec_options(self) -> dict[str, Any]:
        """Kind-specific arguments for :func:`build_spec` (overridden by subclasses)."""
        return {}

    def build_spec(self, context: Any) -> ExtractionSpec:
        """Validate every argument (before any request) and plan the chunks."""
        start = self.interval_start if self.interval_start is not None else context.get("data_interval_start")
        end = self.interval_end if self.interval_end is not None else context.get("data_interval_end")
        if start is None or end is None:
            raise GenesysConfigError(
                "interval_start",
                "no interval given and the run has no data interval",
                "pass interval_start/interval_end",
            )
        ti = context.get("ti")
        return build_spec(
            self.kind,
            interval_start=start,
            interval_end=end,
            chunk=self.chunk,
            time_zone=self.time_zone,
            query=self.query,
            entity=self.entity,
            output_format=self.output_format,
            compression=self.compression,
            validate_names=self.validate_names,
            run_id=str(context.get("run_id") or "manual"),
            try_number=int(getattr(ti, "try_number", 1) or 1),
            **self._spec_options(),
        )

    def make_extraction(self, context: Any) -> Extraction:
        spec = self.build_spec(context)
        destination = open_destination(self.destination, self.destination_conn_id)
        hook = GenesysCloudHook(
            self.genesys_conn_id, max_concurrency=self.max_concurrency, timeout=self.timeout
        )
        return Extraction(
            hook.get_conn(), destination, spec, destination_uri=self.destination, logger=self.log
        )

    def _run(self, extraction: Extraction, coro: Any) -> Any:
        async def main() -> Any:
            try:
                return await coro
            finally:
                await extraction.engine.aclose()

        try:
            return asyncio.run(main())
        except GenesysConfigError:
            raise
        except GenesysError as exc:
            raise AirflowException(str(exc)) from exc
        finally:
            extraction.engine.log_summary(self.log)

    # -- Airflow entry points ----------------------------------------------------------------

    def execute(self, context: Any) -> dict[str, Any]:
        extraction = self._extraction = self.make_extraction(context)
        result = self._run(extraction, extraction.run())
        self.log.info(
            "Wrote %d record(s) in %d file(s) to %s (%d request(s), %d rate-limited)",
            result.summary["records"],
            result.summary["files"],
            result.summary["destination"],
            result.summary["requests"],
            result.summary["rate_limited"],
        )
        return result.summary


class GenesysConversationAggregatesOperator(GenesysExtractOperator):
    """Conversation aggregates ("summary") per chunk: ``POST .../conversations/aggregates/query``.

    ``query`` holds ``metrics``, ``groupBy``, ``filter``, ``granularity``, ``views``; the
    operator sets ``interval`` per chunk and ``timeZone`` from ``time_zone``. Default chunk ``PT1H``.
    When Genesys answers that a result set is too large, the chunk is split on a bucket boundary.
    """

    kind = "aggregates"
    default_chunk = "PT1H"


class GenesysConversationDetailsOperator(GenesysExtractOperator):
    """Conversation details per chunk: ``POST .../conversations/details/query``, paged to the end.

    :param page_size: records per page, 1–100 (default 100).

    Each conversation is written once, in the chunk where it started (de-duplicated on
    ``conversationId``). Default chunk ``P1D``; at most ``P7D`` without a filter, ``P31D`` with one.
    """

    kind = "details"
    default_chunk = "P1D"

    def __init__(self, *, page_size: int = 100, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.page_size = page_size

    def _spec_options(self) -> dict[str, Any]:
        return {"page_size": self.page_size}


class GenesysConversationDetailsJobOperator(GenesysExtractOperator):
    """Conversation details through async jobs: submit, poll, read every ``cursor`` page.

    :param page_size: records per results page, 1–1000 (default 1000).
    :param deferrable: submit, then free the worker while a trigger polls the jobs (a wait for
        data availability, if any, still runs in the worker before the jobs are submitted; a
        task killed while deferred does not cancel its jobs, which expire on Genesys's side).
    :param poll_interval: seconds between job status polls.
    :param job_timeout: seconds a job (or the wait for data availability) may take.
    :param wait_for_availability: wait until ``dataAvailabilityDate`` passes the interval end
        instead of failing.
    """

    kind = "jobs"
    default_chunk = "P1D"

    def __init__(
        self,
        *,
        page_size: int = 1000,
        deferrable: bool = False,
        poll_interval: float = 5.0,
        job_timeout: float = 3600.0,
        wait_for_availability: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.page_size = page_size
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.job_timeout = job_timeout
        self.wait_for_availability = wait_for_availability

    def _spec_options(self) -> dict[str, Any]:
        return {
            "page_size": self.page_size,
            "poll_interval": self.poll_interval,
            "job_timeout": self.job_timeout,
            "wait_for_availability": self.wait_for_availability,
        }

    def execute(self, context: Any) -> dict[str, Any]:
        if not self.deferrable:
            return super().execute(context)
        extraction = self._extraction = self.make_extraction(context)

        async def submit() -> dict[str, str]:
            todo = await extraction.prepare()
            if not todo:
                return {}
            await extraction.check_availability()
            return await extraction.submit_jobs(todo)

        jobs = self._run(extraction, submit())
        if not jobs:
            return self._collect(context)
        from airflow_provider_genesys.triggers.analytics import GenesysDetailsJobTrigger

        self.defer(
            trigger=GenesysDetailsJobTrigger(
                job_ids=sorted(jobs.values()),
                genesys_conn_id=self.genesys_conn_id,
                poll_interval=self.poll_interval,
                deadline=extraction.engine.clock.time() + self.job_timeout,
                entity=self.entity,
            ),
            method_name="execute_complete",
        )
        raise AssertionError("defer() returns only by raising")  # pragma: no cover

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger: fail on its error, else read every job into files."""
        if not event or event.get("status") != "success":
            message = (event or {}).get("message", "the trigger ended without an event")
            self._cancel(context, [str(j) for j in (event or {}).get("job_ids") or []])
            raise AirflowException(f"Genesys analytics jobs did not finish: {message}")
        return self._collect(context)

    def _cancel(self, context: Any, job_ids: list[str]) -> None:
        """Cancel jobs the trigger gave up on, so none keeps running in the org."""
        if not job_ids:
            return
        extraction = self._extraction = self.make_extraction(context)
        extraction.active_jobs.update(job_ids)
        try:
            self._run(extraction, extraction.cancel_active_jobs())
        except AirflowException as exc:
            self.log.warning("Could not cancel Genesys job(s) %s: %s", ", ".join(job_ids), exc)

    def _collect(self, context: Any) -> dict[str, Any]:
        extraction = self._extraction = self.make_extraction(context)

        async def collect() -> Any:
            todo = await extraction.prepare()
            await extraction.fetch(todo)
            return await extraction.finish()

        result = self._run(extraction, collect())
        return dict(result.summary)

    def on_kill(self) -> None:
        """Cancel the jobs this task still waits on (DELETE), so none runs on orphaned.

        ``on_kill`` may run inside a signal handler while ``execute``'s event loop is frozen
        (holding pool slots, a token refresh or a pause), so the cancel runs on a detached
        engine of the same client in a thread of its own, with a short timeout.
        """
        extraction = self._extraction
        if extraction is None:
            return
        job_ids = sorted(set(extraction.active_jobs) | set(extraction.jobs.values()))
        if not job_ids:
            return
        engine = extraction.engine.detached(timeout=10)
        entity = extraction.spec.entity
        errors: list[BaseException] = []

        async def cancel_all() -> None:
            try:
                for job_id in job_ids:
                    await cancel_job(engine, entity, job_id)
            finally:
                await engine.aclose()

        def run() -> None:
            try:
                asyncio.run(cancel_all())
            except (GenesysError, RuntimeError) as exc:  # best effort on the way down
                errors.append(exc)

        worker = threading.Thread(target=run, name="genesys-cancel-jobs", daemon=True)
        worker.start()
        worker.join(timeout=30)
        for exc in errors:
            self.log.warning("Could not cancel Genesys job(s) %s: %s", ", ".join(job_ids), exc)
        if not errors and not worker.is_alive():
            self.log.info("Cancelled Genesys job(s) %s", ", ".join(job_ids))
