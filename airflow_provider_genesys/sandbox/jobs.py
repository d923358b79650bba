"""Async details jobs: creation, time-driven state, cursor-paged results, forced states.

A job's state follows the sandbox clock: QUEUED for the first half of
``job_delay``, PENDING until it has passed, then FULFILLED (or FAILED when it
matched more than ``job_result_cap``); EXPIRED a day after submission. Tests may
force any state. The selection is fixed at creation, so results never drift.
"""

from __future__ import annotations

import base64
import binascii
import random
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from airflow_provider_genesys.core.clock import Clock

from .clockutil import now_ms
from .config import SandboxConfig
from .data import DataStore
from .details import JOB_FIELDS, parse_conversation_query, render_page
from .errors import ApiError, bad_field, bad_request, not_found
from .observations import ConversationDims
from .selection import Selection, match_conversations
from .timefmt import format_ms

__all__ = ["JOB_STATES", "JOB_TTL_MS", "Job", "JobStore"]

JOB_STATES = ("QUEUED", "PENDING", "FULFILLED", "FAILED", "CANCELLED", "EXPIRED")
JOB_TTL_MS = 86_400_000


@dataclass
class Job:
    """One submitted job and what it matched."""

    job_id: str
    client_id: str
    submitted_ms: int
    selection: Selection
    matched: int
    forced: str | None = None
    forced_error: str | None = None
    forced_at_ms: int | None = None


class JobStore:
    """Every job the sandbox has accepted, keyed by id."""

    def __init__(self, config: SandboxConfig, clock: Clock, data: DataStore, dims: ConversationDims) -> None:
        self._config, self._clock, self._data, self._dims = config, clock, data, dims
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def create(self, client_id: str, body: object) -> Job:
        """Validate ``body`` and fix the job's selection now."""
        query, raw = parse_conversation_query(body, JOB_FIELDS)
        limit = raw.get("limit")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise bad_field("limit", "limit must be a positive integer")
        by_start = raw.get("startOfDayIntervalMatching", False)
        if not isinstance(by_start, bool):
            raise bad_field("startOfDayIntervalMatching", "startOfDayIntervalMatching must be a boolean")
        mode = "start" if by_start else "overlap"
        data, dims = self._data, self._dims
        selection = match_conversations(
            data, dims, query.start_ms, query.end_ms, mode=mode, accept=query.accept, by_end=query.by_end
        )
        selection = selection.reversed() if query.descending else selection
        if limit is not None and limit < len(selection):
            selection = selection.head(limit)
        job = Job(str(uuid.uuid4()), client_id, now_ms(self._clock), selection, len(selection))
        with self._lock:
            self._jobs[job.job_id] = job
        return job

    def get(self, job_id: str) -> Job:
        """The job, or 404 ``not.found``."""
        job = self._jobs.get(job_id)
        if job is None:
            raise not_found(f"Unable to find a job with ID {job_id}")
        return job

    def state(self, job: Job) -> tuple[str, str | None]:
        """The job's state now, with its error message when FAILED."""
        if job.forced is not None:
            return job.forced, job.forced_error
        elapsed = now_ms(self._clock) - job.submitted_ms
        delay = round(self._config.job_delay * 1000)
        if elapsed >= JOB_TTL_MS:
            return "EXPIRED", None
        if elapsed < delay / 2:
            return "QUEUED", None
        if elapsed < delay:
            return "PENDING", None
        cap = self._config.job_result_cap
        if job.matched > cap:
            return "FAILED", f"Result set is larger than result limit of {cap}"
        return "FULFILLED", None

    def status(self, job: Job) -> dict[str, Any]:
        """The ``GET .../jobs/{jobId}`` body."""
        state, error = self.state(job)
        out: dict[str, Any] = {"state": state}
        if error:
            out["errorMessage"] = error
        out["submissionDate"] = format_ms(job.submitted_ms)
        if state not in ("QUEUED", "PENDING"):
            out["completionDate"] = format_ms(self._completed_ms(job))
        out["expirationDate"] = format_ms(job.submitted_ms + JOB_TTL_MS)
        return out

    def _completed_ms(self, job: Job) -> int:
        natural = job.submitted_ms + round(self._config.job_delay * 1000)
        return natural if job.forced_at_ms is None else min(natural, job.forced_at_ms)

    def force(self, job_id: str, state: str, error_message: str | None = None) -> Job:
        """Put the job in ``state`` from now on (tests, ``DELETE`` → CANCELLED)."""
        if state not in JOB_STATES:
            raise bad_field("state", f"state must be one of {list(JOB_STATES)}")
        job = self.get(job_id)
        job.forced, job.forced_at_ms = state, now_ms(self._clock)
        job.forced_error = error_message or (
            f"Job {state.lower()} by the sandbox" if state == "FAILED" else None
        )
        return job

    def results(
        self, job: Job, page_size: int, cursor: str | None, short: random.Random | None
    ) -> dict[str, Any]:
        """One page of a FULFILLED job: conversations, a cursor when more remain, the availability date."""
        state, _ = self.state(job)
        if state != "FULFILLED":
            raise bad_request(f"Job {job.job_id} has no results to read: its state is {state}")
        offset = _decode_cursor(cursor, job) if cursor else 0
        stop = min(offset + page_size, job.matched)
        if short is not None and stop - offset >= 2:
            stop = offset + short.randint(1, stop - offset - 1)
        out: dict[str, Any] = {}
        page = render_page(self._data, job.selection, offset, stop)
        if page:
            out["conversations"] = page
        if stop < job.matched:
            out["cursor"] = _encode_cursor(job, stop)
        out["dataAvailabilityDate"] = self.availability()
        return out

    def availability(self) -> str:
        """``now - availability_lag``: the instant before which data is complete."""
        return format_ms(now_ms(self._clock) - round(self._config.availability_lag * 1000))


def _encode_cursor(job: Job, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{job.job_id}:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, job: Job) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        job_id, offset_text = text.rsplit(":", 1)
        offset = int(offset_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise _bad_cursor() from None
    if job_id != job.job_id or not 0 <= offset <= job.matched:
        raise _bad_cursor()
    return offset


def _bad_cursor() -> ApiError:
    return bad_field("cursor", "The cursor is not valid for this job")
