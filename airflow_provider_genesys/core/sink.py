"""Streaming record writers, atomic publish and the run manifest, over any fsspec filesystem.

An extraction writes one file per chunk, then the manifest last. Each file is spooled
locally while its pages arrive (memory stays flat however many pages a chunk has), then
made visible under its final name in one step: ``os.replace`` of a temporary sibling on
local disks, a single upload on object stores (which never show a partial object). A
reader, or a resumed try, therefore sees a whole file or none.

Parquet files are compressed with Snappy (:data:`PARQUET_COMPRESSION`), the codec every
Parquet reader supports; :func:`open_writer` also takes ``compression="zstd"`` (the operators
offer ``gzip`` — meaning Snappy for Parquet — or none).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_genesys.core.errors import GenesysConfigError

if TYPE_CHECKING:
    import fsspec

__all__ = [
    "KINDS",
    "MANIFEST_NAME",
    "OUTPUT_FORMATS",
    "PARQUET_COMPRESSION",
    "Destination",
    "RecordWriter",
    "WrittenFile",
    "file_name",
    "open_writer",
    "parquet_schema",
    "prune",
    "read_manifest",
    "verify",
    "write_manifest",
]

#: The manifest's name at the root of the destination; written last, after every chunk.
MANIFEST_NAME = "_manifest.json"
#: The file formats a writer can produce.
OUTPUT_FORMATS = ("jsonl", "parquet")
#: The record kinds Parquet files have a fixed schema for.
KINDS = ("aggregates", "conversations")
#: Parquet's codec for the default ``compression="gzip"``: Snappy, readable everywhere.
PARQUET_COMPRESSION = "snappy"

_LOCAL_PROTOCOLS = frozenset({"file", "local"})
# Filesystems without real folders, where one upload is atomic and "mkdir" may create buckets.
_OBJECT_STORE_PROTOCOLS = frozenset(
    {"s3", "s3a", "gs", "gcs", "abfs", "abfss", "az", "adl", "oss", "r2", "oci", "cos", "b2", "wasb", "wasbs"}
)
_TMP_MARK = ".tmp-"
_COPY_BLOCK = 1 << 20
# Remote reads fetch this much per request: far less than a chunk file, far more than one row.
_REMOTE_READ_BLOCK = 8 << 20
_GZIP_LEVEL = 6
_JSONL_CODECS: dict[str, str | None] = {"gzip": "gzip", "none": None}
_PARQUET_CODECS: dict[str, str | None] = {
    "gzip": PARQUET_COMPRESSION,
    "snappy": "snappy",
    "zstd": "zstd",
    "none": None,
}
_STATS = ("count", "sum", "max", "min", "ratio", "numerator", "denominator", "target")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class WrittenFile:
    """What was published for one chunk: where, how many records, and its bytes' identity."""

    rel_path: str
    records: int
    sha256: str
    size: int


class Destination:
    """A run's destination folder on any fsspec filesystem; callers name files relative to it."""

    def __init__(self, fs: fsspec.AbstractFileSystem, root: str) -> None:
        self.fs = fs
        self.root = _clean_root(fs, root)

    def __repr__(self) -> str:
        return f"Destination({_protocols(self.fs)[0]}://{self.root})"

    @property
    def is_local(self) -> bool:
        """Whether the filesystem is the local disk (``file``/``local``)."""
        return bool(_LOCAL_PROTOCOLS.intersection(_protocols(self.fs)))

    @property
    def is_object_store(self) -> bool:
        """Whether the filesystem is an object store (S3, GCS, Azure …) without real folders."""
        return bool(_OBJECT_STORE_PROTOCOLS.intersection(_protocols(self.fs)))

    def path(self, rel: str) -> str:
        """The full filesystem path of ``rel`` below the root."""
        return f"{self.root}/{_clean_rel(rel)}"

    def exists(self, rel: str) -> bool:
        """Whether ``rel`` exists below the root."""
        return bool(self.fs.exists(self._fresh(rel)))

    def read_bytes(self, rel: str) -> bytes | None:
        """The stored bytes of ``rel``, or None when it does not exist."""
        try:
            return bytes(self.fs.cat_file(self._fresh(rel)))
        except FileNotFoundError:
            return None

    def sha256(self, rel: str) -> str | None:
        """Hex SHA-256 of the stored bytes of ``rel`` (streamed), or None when it does not exist."""
        try:
            with self._open_read(self._fresh(rel)) as stream:
                return _digest_stream(stream)[0]
        except FileNotFoundError:
            return None

    def list_files(self) -> list[str]:
        """Relative paths of every file below the root, sorted; crash temporaries are left out."""
        return sorted(rel for rel in self._walk() if not _is_temporary(rel))

    def delete(self, rel: str) -> None:
        """Remove ``rel``; a file that is already gone is fine."""
        path = self.path(rel)
        with suppress(FileNotFoundError):
            self.fs.rm_file(path)
        self._invalidate(path)

    def publish(self, local_file: str, rel: str) -> None:
        """Make a fully written local file visible as ``rel`` in one step (whole or not at all)."""
        target = self.path(rel)
        if self.is_local:
            _replace_local(target, lambda out: _copy_into(local_file, out))
        elif self.is_object_store:
            self.fs.put_file(local_file, target)
        else:
            self._replace_remote(target, lambda tmp: self.fs.put_file(local_file, tmp))
        self._invalidate(target)

    def write_bytes_atomic(self, rel: str, data: bytes) -> None:
        """Store ``data`` as ``rel`` with the same whole-or-nothing guarantee as :meth:`publish`."""
        target = self.path(rel)
        if self.is_local:
            _replace_local(target, lambda out: out.write(data))
        elif self.is_object_store:
            self.fs.pipe_file(target, data)
        else:
            self._replace_remote(target, lambda tmp: self.fs.pipe_file(tmp, data))
        self._invalidate(target)

    def ensure_root(self) -> None:
        """Create the root folder where the filesystem has folders (never a bucket)."""
        if self.is_local:
            os.makedirs(self.root, exist_ok=True)
        elif not self.is_object_store:
            self.fs.makedirs(self.root, exist_ok=True)

    def remove_temporaries(self) -> list[str]:
        """Delete temporaries a crashed publish left behind; returns their relative paths."""
        stale = sorted(rel for rel in self._walk() if _is_temporary(rel))
        for rel in stale:
            self.delete(rel)
        return stale

    def _walk(self) -> list[str]:
        """Every file below the root, temporaries included, relative to the root."""
        self._invalidate(self.root)
        try:
            found = self.fs.find(self.root, withdirs=False)
        except FileNotFoundError:
            return []
        prefix = self.root + "/"
        return [path[len(prefix) :] for path in found if path.startswith(prefix) and len(path) > len(prefix)]

    def _replace_remote(self, target: str, write: Callable[[str], object]) -> None:
        """Write a temporary sibling, then rename it: for remote filesystems with real folders."""
        self.fs.makedirs(target.rpartition("/")[0], exist_ok=True)
        tmp = _temporary_sibling(target)
        try:
            write(tmp)
            self.fs.mv(tmp, target)
        except BaseException:
            with suppress(Exception):
                self.fs.rm_file(tmp)
            raise

    def _open_read(self, path: str) -> IO[bytes]:
        if self.is_local:
            return open(path, "rb")
        return self.fs.open(path, "rb", block_size=_REMOTE_READ_BLOCK)

    def _fresh(self, rel: str) -> str:
        """The path of ``rel``, forgetting any cached listing so another process's writes show."""
        path = self.path(rel)
        self._invalidate(path)
        return path

    def _invalidate(self, path: str) -> None:
        if not self.is_local:
            self.fs.invalidate_cache(path)


class RecordWriter:
    """Streams one chunk's records to a local spool file, then publishes it whole or discards it.

    Leaving a ``with`` block without calling :meth:`finish` (or through an exception)
    discards the spool: a file only appears at the destination when finished explicitly.
    """

    def __init__(self, destination: Destination, rel_path: str, spool_dir: str | None = None) -> None:
        self.destination = destination
        self.rel_path = _clean_rel(rel_path)
        self.records = 0
        self._closed = False
        fd, self._spool = tempfile.mkstemp(prefix="genesys-spool-", dir=spool_dir)
        try:
            self._open(fd)
        except BaseException:
            _remove_quietly(self._spool)
            raise

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.abort()

    def write_page(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Append one API page to the spool; nothing of it stays in memory afterwards."""
        self._check_open()
        self._write(records)
        self.records += len(records)

    def finish(self) -> WrittenFile:
        """Close the spool, publish it under ``rel_path`` and describe what was published."""
        self._check_open()
        self._closed = True
        try:
            self._close()
            with open(self._spool, "rb") as stream:
                digest, size = _digest_stream(stream)
            self.destination.publish(self._spool, self.rel_path)
        finally:
            _remove_quietly(self._spool)
        return WrittenFile(self.rel_path, self.records, digest, size)

    def abort(self) -> None:
        """Discard the spool so nothing appears at the destination; calling it again is harmless."""
        if self._closed:
            return
        self._closed = True
        try:
            with suppress(Exception):
                self._close()
        finally:
            _remove_quietly(self._spool)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"the writer of {self.rel_path} is already finished or aborted")

    def _open(self, fd: int) -> None:
        raise NotImplementedError

    def _write(self, records: Sequence[Mapping[str, Any]]) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError


class _JsonlWriter(RecordWriter):
    """One JSON object per line, sorted keys, optionally gzip with a fixed header (reproducible)."""

    def __init__(self, destination: Destination, rel_path: str, gzipped: bool, spool_dir: str | None) -> None:
        self._gzipped = gzipped
        super().__init__(destination, rel_path, spool_dir)

    def _open(self, fd: int) -> None:
        self._raw = os.fdopen(fd, "wb")
        self._stream: IO[bytes] | gzip.GzipFile = self._raw
        if self._gzipped:
            # mtime=0 and an empty name keep the header free of anything but the data.
            self._stream = gzip.GzipFile(
                filename="", mode="wb", fileobj=self._raw, mtime=0, compresslevel=_GZIP_LEVEL
            )

    def _write(self, records: Sequence[Mapping[str, Any]]) -> None:
        self._stream.write("".join(_json_text(record) + "\n" for record in records).encode("utf-8"))

    def _close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._raw.close()


class _ParquetWriter(RecordWriter):
    """A Parquet file with the kind's fixed schema, one row group per page."""

    def __init__(
        self, destination: Destination, rel_path: str, kind: str, codec: str | None, spool_dir: str | None
    ) -> None:
        self._pa, self._pq = _import_pyarrow()
        self._columns = _COLUMN_BUILDERS[kind]
        self._schema = parquet_schema(kind)
        self._codec = codec or "none"
        super().__init__(destination, rel_path, spool_dir)

    def _open(self, fd: int) -> None:
        os.close(fd)
        self._writer = self._pq.ParquetWriter(self._spool, self._schema, compression=self._codec)

    def _write(self, records: Sequence[Mapping[str, Any]]) -> None:
        table = self._pa.Table.from_pydict(self._columns(records), schema=self._schema)
        if table.num_rows:
            self._writer.write_table(table, row_group_size=table.num_rows)

    def _close(self) -> None:
        self._writer.close()


def open_writer(
    destination: Destination,
    rel_path: str,
    output_format: str = "jsonl",
    compression: str | None = "gzip",
    kind: str | None = None,
    *,
    spool_dir: str | None = None,
) -> RecordWriter:
    """Start the writer of one chunk file; ``kind`` (aggregates/conversations) is needed for parquet."""
    fmt = _check_format(output_format)
    codec = _codec(fmt, compression)
    if fmt == "jsonl":
        return _JsonlWriter(destination, rel_path, codec == "gzip", spool_dir)
    return _ParquetWriter(destination, rel_path, _check_kind(kind), codec, spool_dir)


def file_name(stem: str, output_format: str = "jsonl", compression: str | None = "gzip") -> str:
    """The file name for ``stem`` in this format: ``.jsonl.gz``, ``.jsonl`` or ``.parquet``."""
    if not stem:
        raise GenesysConfigError("file name", "the stem is empty", "give the chunk a name")
    fmt = _check_format(output_format)
    codec = _codec(fmt, compression)
    if fmt == "parquet":
        return f"{stem}.parquet"
    return f"{stem}.jsonl.gz" if codec else f"{stem}.jsonl"


def parquet_schema(kind: str) -> Any:
    """The fixed Arrow schema of one kind's Parquet files, identical across files so they union."""
    pa, _ = _import_pyarrow()
    fields = _SCHEMA_FIELDS[_check_kind(kind)](pa)
    return pa.schema(fields)


def read_manifest(destination: Destination) -> dict[str, Any] | None:
    """The stored manifest, or None when it is missing or not a JSON object."""
    data = destination.read_bytes(MANIFEST_NAME)
    if data is None:
        return None
    try:
        manifest = json.loads(data.decode("utf-8"))
    except ValueError:
        return None
    return manifest if isinstance(manifest, dict) else None


def write_manifest(destination: Destination, manifest: Mapping[str, Any]) -> None:
    """Store the manifest atomically as pretty JSON with sorted keys."""
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    destination.write_bytes_atomic(MANIFEST_NAME, text.encode("utf-8"))


def verify(destination: Destination, rel_path: str, sha256: str) -> bool:
    """Whether ``rel_path`` is stored with exactly the bytes ``sha256`` names (to reuse a chunk)."""
    if not sha256:
        return False
    return destination.sha256(rel_path) == sha256.lower()


def prune(destination: Destination, keep: Iterable[str]) -> list[str]:
    """Delete every file below the root except ``keep`` and the manifest; returns what went."""
    kept = {_clean_rel(rel) for rel in keep} | {MANIFEST_NAME}
    stale = [rel for rel in destination.list_files() if rel not in kept]
    for rel in stale:
        destination.delete(rel)
    return stale


def _aggregate_fields(pa: Any) -> list[Any]:
    instant = pa.timestamp("ms", tz="UTC")
    return [
        pa.field("interval_start", instant, nullable=False),
        pa.field("interval_end", instant, nullable=False),
        pa.field("metric", pa.string(), nullable=False),
        pa.field("qualifier", pa.string()),
        *(pa.field(name, pa.float64()) for name in _STATS),
        pa.field("group_json", pa.string(), nullable=False),
    ]


def _conversation_fields(pa: Any) -> list[Any]:
    instant = pa.timestamp("ms", tz="UTC")
    return [
        pa.field("conversationId", pa.string(), nullable=False),
        pa.field("conversationStart", instant, nullable=False),
        pa.field("conversationEnd", instant),
        pa.field("originatingDirection", pa.string()),
        # "element" is the item name Parquet readers give lists back with; "item" would not round-trip.
        *(pa.field(name, pa.list_(pa.field("element", pa.string()))) for name in _CONVERSATION_LISTS),
        pa.field("raw_json", pa.string(), nullable=False),
    ]


_CONVERSATION_LISTS = ("divisionIds", "mediaTypes", "queueIds", "userIds")


def _aggregate_columns(records: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Flatten aggregate ``results[]`` to one row per group × bucket × metric."""
    rows = [
        _metric_row(group_json, bucket, metric)
        for result in records
        for group_json in [_json_text(result.get("group") or {})]
        for bucket in result.get("data") or []
        for metric in bucket.get("metrics") or []
    ]
    return _to_columns(rows, _AGGREGATE_COLUMNS)


def _metric_row(group_json: str, bucket: Mapping[str, Any], metric: Mapping[str, Any]) -> dict[str, Any]:
    start, end = _interval_ms(_required(bucket, "interval"))
    stats = metric.get("stats") or {}
    row: dict[str, Any] = {
        "interval_start": start,
        "interval_end": end,
        "metric": _required(metric, "metric"),
        "qualifier": metric.get("qualifier"),
        "group_json": group_json,
    }
    row.update((name, _as_float(stats.get(name))) for name in _STATS)
    return row


def _conversation_columns(records: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """One row per conversation detail record."""
    return _to_columns([_conversation_row(record) for record in records], _CONVERSATION_COLUMNS)


def _conversation_row(record: Mapping[str, Any]) -> dict[str, Any]:
    participants = list(record.get("participants") or [])
    sessions = [session for p in participants for session in p.get("sessions") or []]
    segments = [segment for session in sessions for segment in session.get("segments") or []]
    end = record.get("conversationEnd")
    return {
        "conversationId": _required(record, "conversationId"),
        "conversationStart": _instant_ms(_required(record, "conversationStart")),
        "conversationEnd": None if end is None else _instant_ms(end),
        "originatingDirection": record.get("originatingDirection"),
        "divisionIds": [str(division) for division in record.get("divisionIds") or []],
        "mediaTypes": _unique(session.get("mediaType") for session in sessions),
        "queueIds": _unique(segment.get("queueId") for segment in segments),
        "userIds": _unique(p.get("userId") for p in participants),
        "raw_json": _json_text(record),
    }


_AGGREGATE_COLUMNS = ("interval_start", "interval_end", "metric", "qualifier", *_STATS, "group_json")
_CONVERSATION_COLUMNS = (
    "conversationId",
    "conversationStart",
    "conversationEnd",
    "originatingDirection",
    *_CONVERSATION_LISTS,
    "raw_json",
)
_SCHEMA_FIELDS: dict[str, Callable[[Any], list[Any]]] = {
    "aggregates": _aggregate_fields,
    "conversations": _conversation_fields,
}
_COLUMN_BUILDERS: dict[str, Callable[[Sequence[Mapping[str, Any]]], dict[str, list[Any]]]] = {
    "aggregates": _aggregate_columns,
    "conversations": _conversation_columns,
}


def _to_columns(rows: list[dict[str, Any]], names: Sequence[str]) -> dict[str, list[Any]]:
    return {name: [row[name] for row in rows] for name in names}


def _unique(values: Iterable[Any]) -> list[str]:
    """Distinct non-empty strings, sorted so equal records give equal rows."""
    return sorted({value for value in values if isinstance(value, str) and value})


def _required(mapping: Mapping[str, Any], key: str) -> Any:
    value = mapping.get(key)
    if value is None:
        raise ValueError(f"record has no {key!r}: cannot write it to parquet")
    return value


def _as_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _interval_ms(interval: str) -> tuple[int, int]:
    """``"start/end"`` (ISO-8601) → both ends in epoch milliseconds."""
    start, sep, end = str(interval).partition("/")
    if not sep:
        raise ValueError(f"interval {interval!r} is not 'start/end'")
    return _instant_ms(start), _instant_ms(end)


def _instant_ms(text: str) -> int:
    """An ISO-8601 instant (``Z`` or offset; naive means UTC) → epoch milliseconds."""
    text = str(text).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return (value - _EPOCH) // _ONE_MS


def _json_text(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, real UTF-8, so equal data gives equal bytes."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _import_pyarrow() -> tuple[Any, Any]:
    """pyarrow and pyarrow.parquet, imported only when parquet is asked for (optional extra)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise GenesysConfigError(
            "output_format", "parquet needs pyarrow", "pip install 'airflow-provider-genesys[parquet]'"
        ) from exc
    return pa, pq


def _check_format(output_format: str) -> str:
    if output_format not in OUTPUT_FORMATS:
        raise GenesysConfigError(
            "output_format", f"{output_format!r} is not supported", "use one of: " + ", ".join(OUTPUT_FORMATS)
        )
    return output_format


def _check_kind(kind: str | None) -> str:
    if kind not in KINDS:
        raise GenesysConfigError(
            "kind", f"{kind!r} has no parquet schema", "use one of: " + ", ".join(KINDS) + ", or jsonl"
        )
    return kind


def _codec(output_format: str, compression: str | None) -> str | None:
    """Normalise ``compression`` for the format: gzip/None for jsonl, a Parquet codec for parquet."""
    codecs = _JSONL_CODECS if output_format == "jsonl" else _PARQUET_CODECS
    key = str(compression).lower() if compression else "none"
    if key not in codecs:
        raise GenesysConfigError(
            "compression",
            f"{compression!r} is not supported for {output_format}",
            "use one of: " + ", ".join(codecs),
        )
    return codecs[key]


def _protocols(fs: Any) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def _clean_root(fs: Any, root: str) -> str:
    """The root without protocol or trailing slash; an empty root is refused."""
    cleaned = str(fs._strip_protocol(root) if root else "").rstrip("/")
    if not cleaned:
        raise GenesysConfigError(
            "destination", f"root {root!r} is empty", "give a folder, e.g. s3://bucket/prefix"
        )
    return cleaned


def _clean_rel(rel: str) -> str:
    """A relative path kept inside the root: no ``..``, no leading slash, no empty name."""
    parts = [part for part in str(rel).split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        raise GenesysConfigError("path", f"{rel!r} is not a file path inside the destination", None)
    return "/".join(parts)


def _is_temporary(rel: str) -> bool:
    name = rel.rpartition("/")[2]
    return name.startswith(".") and _TMP_MARK in name


def _temporary_sibling(target: str) -> str:
    head, _, name = target.rpartition("/")
    return f"{head}/.{name}{_TMP_MARK}{uuid.uuid4().hex}"


def _replace_local(target: str, write: Callable[[IO[bytes]], object]) -> None:
    """Write a temporary sibling, sync it, then ``os.replace`` it onto ``target``."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = _temporary_sibling(target)
    try:
        with open(tmp, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        _remove_quietly(tmp)
        raise


def _copy_into(source: str, out: IO[bytes]) -> None:
    with open(source, "rb") as stream:
        shutil.copyfileobj(stream, out, _COPY_BLOCK)


def _digest_stream(stream: IO[bytes]) -> tuple[str, int]:
    """Hex SHA-256 and size of a stream, read block by block."""
    digest = hashlib.sha256()
    size = 0
    while block := stream.read(_COPY_BLOCK):
        digest.update(block)
        size += len(block)
    return digest.hexdigest(), size


def _remove_quietly(path: str) -> None:
    with suppress(FileNotFoundError):
        os.remove(path)
