"""Tests for the sink: streaming writers, atomic publish, manifest, verify and prune (local, memory, S3)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import fsspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_genesys.core.errors import GenesysConfigError
from airflow_provider_genesys.core.sink import (
    MANIFEST_NAME,
    PARQUET_COMPRESSION,
    Destination,
    WrittenFile,
    file_name,
    open_writer,
    parquet_schema,
    prune,
    read_manifest,
    verify,
    write_manifest,
)

UTC = timezone.utc
RECORDS = [
    {"id": "a", "n": 1, "nested": {"z": 1, "a": [1, 2]}},
    {"id": "ü-ñ", "n": 2, "text": "line\nbreak", "none": None},
    {"n": 3.5, "id": "c"},
]
AGGREGATES = [
    {
        "group": {"queueId": "q1", "mediaType": "voice"},
        "data": [
            {
                "interval": "2024-01-01T00:00:00.000Z/2024-01-01T00:30:00.000Z",
                "metrics": [
                    {"metric": "nOffered", "qualifier": None, "stats": {"count": 5}},
                    {"metric": "tHandle", "stats": {"count": 2, "sum": 1200.5, "max": 900, "min": 300.5}},
                ],
            },
            {
                "interval": "2024-01-01T00:30:00.000Z/2024-01-01T01:00:00.000Z",
                "metrics": [
                    {
                        "metric": "oServiceLevel",
                        "qualifier": "60",
                        "stats": {"ratio": 0.8, "numerator": 4, "denominator": 5, "target": 0.8},
                    }
                ],
            },
        ],
    },
    {
        "group": {"mediaType": "chat"},
        "data": [
            {
                "interval": "2024-01-01T01:00:00-05:00/2024-01-01T01:30:00-05:00",
                "metrics": [{"metric": "nOffered", "stats": {"count": 1}}],
            }
        ],
    },
]
CONVERSATIONS = [
    {
        "conversationId": "c-1",
        "conversationStart": "2024-01-01T10:00:00.123Z",
        "conversationEnd": "2024-01-01T10:05:00.000Z",
        "originatingDirection": "inbound",
        "divisionIds": ["d1"],
        "participants": [
            {
                "purpose": "customer",
                "sessions": [{"mediaType": "voice", "segments": [{"segmentType": "interact"}]}],
            },
            {
                "purpose": "acd",
                "sessions": [{"mediaType": "voice", "segments": [{"queueId": "q2"}, {"queueId": "q1"}]}],
            },
            {
                "purpose": "agent",
                "userId": "u1",
                "sessions": [
                    {"mediaType": "voice", "segments": [{"queueId": "q1"}]},
                    {"mediaType": "callback", "segments": []},
                ],
            },
        ],
    },
    {"conversationId": "c-2", "conversationStart": "2024-01-01T11:00:00Z", "divisionIds": []},
]


@pytest.fixture
def fs() -> Any:
    return fsspec.filesystem("file")


@pytest.fixture
def dest(fs: Any, tmp_path: Path) -> Destination:
    return Destination(fs, str(tmp_path / "out"))


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    folder = tmp_path / "spool"
    folder.mkdir()
    return folder


def write(dest: Destination, rel: str, pages: list[list[dict[str, Any]]], **options: Any) -> WrittenFile:
    with open_writer(dest, rel, **options) as writer:
        for page in pages:
            writer.write_page(page)
        return writer.finish()


def read_jsonl(data: bytes) -> list[dict[str, Any]]:
    text = data.decode("utf-8")
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.split("\n")[:-1]]


def all_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# --- jsonl ----------------------------------------------------------------------------------


def test_jsonl_gzip_round_trip(dest: Destination) -> None:
    written = write(dest, "chunks/a.jsonl.gz", [RECORDS[:2], RECORDS[2:]])
    stored = dest.read_bytes("chunks/a.jsonl.gz")
    assert stored is not None
    assert read_jsonl(gzip.decompress(stored)) == RECORDS
    assert written == WrittenFile("chunks/a.jsonl.gz", 3, hashlib.sha256(stored).hexdigest(), len(stored))
    first_line = gzip.decompress(stored).split(b"\n")[0]
    assert first_line == b'{"id":"a","n":1,"nested":{"a":[1,2],"z":1}}'


def test_jsonl_plain_round_trip_is_utf8(dest: Destination) -> None:
    write(dest, "a.jsonl", [RECORDS], compression=None)
    stored = dest.read_bytes("a.jsonl")
    assert stored is not None
    assert read_jsonl(stored) == RECORDS
    assert "ü-ñ".encode() in stored
    assert write(dest, "b.jsonl", [RECORDS], compression="none").sha256 == hashlib.sha256(stored).hexdigest()


@pytest.mark.parametrize("compression", ["gzip", None])
def test_identical_records_give_identical_bytes(
    dest: Destination, compression: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write(dest, "one", [RECORDS], compression=compression)
    monkeypatch.setattr(time, "time", lambda: 2_000_000_000.0)  # a timestamped gzip header would differ
    second = write(dest, "two", [RECORDS[:1], [], RECORDS[1:]], compression=compression)
    assert first.sha256 == second.sha256
    assert dest.read_bytes("one") == dest.read_bytes("two")


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.lists(
            st.dictionaries(
                st.text(max_size=5),
                st.recursive(
                    st.none() | st.booleans() | st.integers() | st.text(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
                    max_leaves=5,
                ),
                max_size=4,
            ),
            max_size=4,
        ),
        max_size=4,
    )
)
def test_jsonl_round_trips_any_json(pages: list[list[dict[str, Any]]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        dest = Destination(fsspec.filesystem("file"), folder)
        written = write(dest, "x.jsonl.gz", pages)
        stored = dest.read_bytes("x.jsonl.gz")
    assert stored is not None
    assert read_jsonl(gzip.decompress(stored)) == [record for page in pages for record in page]
    assert written.records == sum(map(len, pages))


def test_streaming_many_pages_keeps_memory_flat(dest: Destination, spool: Path) -> None:
    def page(number: int) -> list[dict[str, Any]]:
        return [{"id": f"{number}-{i}", "n": i, "pad": "x" * 40} for i in range(400)]

    tracemalloc.start()
    try:
        with open_writer(dest, "big.jsonl.gz", spool_dir=str(spool)) as writer:
            for number in range(500):
                writer.write_page(page(number))
            peak_before_publish = tracemalloc.get_traced_memory()[1]
            written = writer.finish()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    data_size = 200_000 * len(json.dumps(page(0)[0]))
    assert written.records == 200_000
    assert peak_before_publish < data_size / 20
    assert peak < 3 << 20  # publishing and hashing copy in 1 MiB blocks
    assert os.listdir(spool) == []


# --- abort and the context manager ------------------------------------------------------------


def test_abort_leaves_nothing(dest: Destination, spool: Path) -> None:
    writer = open_writer(dest, "a.jsonl.gz", spool_dir=str(spool))
    writer.write_page(RECORDS)
    writer.abort()
    writer.abort()
    assert dest.list_files() == []
    assert os.listdir(spool) == []
    with pytest.raises(RuntimeError, match="already finished or aborted"):
        writer.write_page(RECORDS)


def test_exception_inside_the_block_leaves_nothing(dest: Destination, spool: Path) -> None:
    dest.ensure_root()
    with pytest.raises(KeyError), open_writer(dest, "a.jsonl.gz", spool_dir=str(spool)) as writer:
        writer.write_page(RECORDS)
        raise KeyError("boom")
    assert all_files(Path(dest.root)) == []
    assert os.listdir(spool) == []


def test_leaving_the_block_without_finish_discards(dest: Destination, spool: Path) -> None:
    with open_writer(dest, "a.jsonl.gz", spool_dir=str(spool)) as writer:
        writer.write_page(RECORDS)
    assert dest.list_files() == []
    assert os.listdir(spool) == []


def test_finish_twice_is_refused(dest: Destination) -> None:
    writer = open_writer(dest, "a.jsonl")
    writer.finish()
    with pytest.raises(RuntimeError):
        writer.finish()


def test_failed_publish_removes_the_spool(dest: Destination, spool: Path, monkeypatch: Any) -> None:
    def fail(local_file: str, rel: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(dest, "publish", fail)
    writer = open_writer(dest, "a.jsonl", spool_dir=str(spool))
    with pytest.raises(OSError, match="disk full"):
        writer.finish()
    assert os.listdir(spool) == []


# --- publish ------------------------------------------------------------------------------------


def test_publish_goes_through_a_temporary_sibling(
    dest: Destination, tmp_path: Path, monkeypatch: Any
) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(3 << 20))
    replaced: list[tuple[str, str, int]] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        replaced.append((src, dst, os.path.getsize(src)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    dest.publish(str(source), "sub/final.bin")
    [(src, dst, size)] = replaced
    assert dst == dest.path("sub/final.bin")
    assert os.path.dirname(src) == os.path.dirname(dst)
    assert os.path.basename(src).startswith(".final.bin.tmp-")
    assert size == source.stat().st_size
    assert dest.read_bytes("sub/final.bin") == source.read_bytes()
    assert all_files(Path(dest.root)) == ["sub/final.bin"]


def test_a_concurrent_reader_never_sees_a_partial_file(dest: Destination, tmp_path: Path) -> None:
    old, new = tmp_path / "old.bin", tmp_path / "new.bin"
    old.write_bytes(b"o" * (1 << 20))
    new.write_bytes(b"n" * (24 << 20))
    dest.publish(str(old), "data.bin")
    folder, target = Path(dest.root), Path(dest.path("data.bin"))
    seen: set[int] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if "data.bin" in os.listdir(folder):
                seen.add(target.stat().st_size)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        dest.publish(str(new), "data.bin")
    finally:
        done.set()
        watcher.join()
    assert seen <= {1 << 20, 24 << 20}
    assert target.stat().st_size == 24 << 20


def test_write_bytes_atomic_replaces_whole(dest: Destination) -> None:
    dest.write_bytes_atomic("x/y.txt", b"first")
    dest.write_bytes_atomic("x/y.txt", b"second")
    assert dest.read_bytes("x/y.txt") == b"second"
    assert all_files(Path(dest.root)) == ["x/y.txt"]


def test_failed_local_publish_leaves_no_temporary(
    dest: Destination, tmp_path: Path, monkeypatch: Any
) -> None:
    source = tmp_path / "s.bin"
    source.write_bytes(b"data")

    def refuse(src: str, dst: str) -> None:
        raise OSError("cross-device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        dest.publish(str(source), "f.bin")
    assert all_files(Path(dest.root)) == []


# --- listing, paths, verify, prune --------------------------------------------------------------


def test_destination_basics(fs: Any, tmp_path: Path) -> None:
    dest = Destination(fs, f"file://{tmp_path}/out/")
    assert dest.root == f"{tmp_path}/out"
    assert dest.is_local and not dest.is_object_store
    assert dest.path("./a//b.txt") == f"{tmp_path}/out/a/b.txt"
    assert dest.list_files() == []
    assert not dest.exists("a.txt")
    assert dest.read_bytes("a.txt") is None
    assert dest.sha256("a.txt") is None
    dest.delete("a.txt")
    dest.ensure_root()
    assert (tmp_path / "out").is_dir()


@pytest.mark.parametrize("rel", ["", "/", "../x", "a/../../x", "."])
def test_paths_must_stay_inside_the_root(dest: Destination, rel: str) -> None:
    with pytest.raises(GenesysConfigError) as info:
        dest.path(rel)
    assert info.value.field == "path"


@pytest.mark.parametrize("root", ["", "/", "file:///"])
def test_an_empty_root_is_refused(fs: Any, root: str) -> None:
    with pytest.raises(GenesysConfigError, match="destination"):
        Destination(fs, root)


def test_list_files_is_recursive_sorted_and_skips_temporaries(dest: Destination) -> None:
    for rel in ["b/2.txt", "a.txt", "b/1.txt", "b/c/3.txt", ".hidden"]:
        dest.write_bytes_atomic(rel, b"x")
    crash = Path(dest.path("b/.2.txt.tmp-0123abcd"))
    crash.write_bytes(b"partial")
    assert dest.list_files() == [".hidden", "a.txt", "b/1.txt", "b/2.txt", "b/c/3.txt"]
    assert dest.remove_temporaries() == ["b/.2.txt.tmp-0123abcd"]
    assert not crash.exists()
    assert dest.remove_temporaries() == []


def test_verify_detects_tampering(dest: Destination) -> None:
    written = write(dest, "a.jsonl.gz", [RECORDS])
    assert verify(dest, "a.jsonl.gz", written.sha256)
    assert verify(dest, "a.jsonl.gz", written.sha256.upper())
    assert not verify(dest, "missing.jsonl.gz", written.sha256)
    assert not verify(dest, "a.jsonl.gz", "")
    Path(dest.path("a.jsonl.gz")).write_bytes(b"tampered")
    assert not verify(dest, "a.jsonl.gz", written.sha256)


def test_prune_keeps_listed_files_and_the_manifest(dest: Destination) -> None:
    for rel in ["keep.jsonl.gz", "old.jsonl.gz", "sub/keep.jsonl.gz", "sub/old.parquet"]:
        dest.write_bytes_atomic(rel, b"x")
    write_manifest(dest, {"complete": False})
    deleted = prune(dest, {"keep.jsonl.gz", "./sub/keep.jsonl.gz"})
    assert deleted == ["old.jsonl.gz", "sub/old.parquet"]
    assert dest.list_files() == [MANIFEST_NAME, "keep.jsonl.gz", "sub/keep.jsonl.gz"]
    assert prune(dest, {"keep.jsonl.gz", "sub/keep.jsonl.gz"}) == []


# --- manifest -------------------------------------------------------------------------------------


def test_manifest_round_trip_is_pretty_sorted_and_atomic(dest: Destination, monkeypatch: Any) -> None:
    assert read_manifest(dest) is None
    manifest = {
        "complete": True,
        "interval": {"start": "2024-01-01T00:00:00Z", "end": "2024-01-02T00:00:00Z"},
        "chunks": [{"path": "a.jsonl.gz", "records": 3, "sha256": "ab", "pages": 1, "requests": 1}],
        "time_zone": "Europe/Zürich",
    }
    replaced: list[str] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        replaced.append(os.path.basename(src))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    write_manifest(dest, manifest)
    assert read_manifest(dest) == manifest
    assert replaced[0].startswith("._manifest.json.tmp-")
    text = Path(dest.path(MANIFEST_NAME)).read_text(encoding="utf-8")
    assert text == json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert text.index('"chunks"') < text.index('"complete"') < text.index('"interval"')


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b"\xff\xfe", b""])
def test_an_unreadable_manifest_reads_as_none(dest: Destination, content: bytes) -> None:
    dest.write_bytes_atomic(MANIFEST_NAME, content)
    assert read_manifest(dest) is None


# --- names and options ----------------------------------------------------------------------------


def test_file_names() -> None:
    assert file_name("2024-01-01") == "2024-01-01.jsonl.gz"
    assert file_name("c", "jsonl", None) == "c.jsonl"
    assert file_name("c", "jsonl", "none") == "c.jsonl"
    assert file_name("c", "parquet") == "c.parquet"
    assert file_name("c", "parquet", "zstd") == "c.parquet"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"output_format": "csv"}, "output_format"),
        ({"compression": "bz2"}, "compression"),
        ({"compression": "zstd"}, "compression"),
        ({"output_format": "parquet", "compression": "bz2", "kind": "aggregates"}, "compression"),
        ({"output_format": "parquet"}, "kind"),
        ({"output_format": "parquet", "kind": "users"}, "kind"),
    ],
)
def test_bad_options_are_refused_before_anything_is_written(
    dest: Destination, spool: Path, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(GenesysConfigError) as info:
        open_writer(dest, "x", spool_dir=str(spool), **options)
    assert info.value.field == field
    assert os.listdir(spool) == []


def test_file_name_refuses_an_empty_stem() -> None:
    with pytest.raises(GenesysConfigError):
        file_name("")


# --- parquet --------------------------------------------------------------------------------------

AGGREGATE_SCHEMA = [
    ("interval_start", "timestamp[ms, tz=UTC]", False),
    ("interval_end", "timestamp[ms, tz=UTC]", False),
    ("metric", "string", False),
    ("qualifier", "string", True),
    *((name, "double", True) for name in ["count", "sum", "max", "min", "ratio", "numerator"]),
    ("denominator", "double", True),
    ("target", "double", True),
    ("group_json", "string", False),
]
CONVERSATION_SCHEMA = [
    ("conversationId", "string", False),
    ("conversationStart", "timestamp[ms, tz=UTC]", False),
    ("conversationEnd", "timestamp[ms, tz=UTC]", True),
    ("originatingDirection", "string", True),
    ("divisionIds", "list<element: string>", True),
    ("mediaTypes", "list<element: string>", True),
    ("queueIds", "list<element: string>", True),
    ("userIds", "list<element: string>", True),
    ("raw_json", "string", False),
]


def read_parquet(dest: Destination, rel: str) -> Any:
    pq = pytest.importorskip("pyarrow.parquet")
    return pq.ParquetFile(dest.path(rel))


def schema_of(parquet: Any) -> list[tuple[str, str, bool]]:
    return [(f.name, str(f.type), f.nullable) for f in parquet.schema_arrow]


def test_parquet_aggregates_flatten_group_bucket_metric(dest: Destination) -> None:
    written = write(
        dest, "a.parquet", [AGGREGATES[:1], [], AGGREGATES[1:]], output_format="parquet", kind="aggregates"
    )
    parquet = read_parquet(dest, "a.parquet")
    assert schema_of(parquet) == AGGREGATE_SCHEMA
    assert parquet.schema_arrow == parquet_schema("aggregates")
    assert written.records == 2
    assert parquet.metadata.num_rows == 4
    assert parquet.metadata.num_row_groups == 2
    assert parquet.metadata.row_group(0).column(0).compression == PARQUET_COMPRESSION.upper()
    rows = parquet.read().to_pylist()
    assert rows[0] == {
        "interval_start": datetime(2024, 1, 1, 0, 0, tzinfo=UTC),
        "interval_end": datetime(2024, 1, 1, 0, 30, tzinfo=UTC),
        "metric": "nOffered",
        "qualifier": None,
        "count": 5.0,
        "sum": None,
        "max": None,
        "min": None,
        "ratio": None,
        "numerator": None,
        "denominator": None,
        "target": None,
        "group_json": '{"mediaType":"voice","queueId":"q1"}',
    }
    assert (rows[1]["sum"], rows[1]["max"], rows[1]["min"]) == (1200.5, 900.0, 300.5)
    assert (rows[2]["qualifier"], rows[2]["ratio"], rows[2]["target"]) == ("60", 0.8, 0.8)
    assert rows[3]["interval_start"] == datetime(2024, 1, 1, 6, 0, tzinfo=UTC)
    assert rows[3]["group_json"] == '{"mediaType":"chat"}'


def test_parquet_conversations_one_row_each(dest: Destination) -> None:
    write(dest, "c.parquet", [CONVERSATIONS], output_format="parquet", kind="conversations")
    parquet = read_parquet(dest, "c.parquet")
    assert schema_of(parquet) == CONVERSATION_SCHEMA
    assert parquet.schema_arrow == parquet_schema("conversations")
    first, second = parquet.read().to_pylist()
    assert first["conversationId"] == "c-1"
    assert first["conversationStart"] == datetime(2024, 1, 1, 10, 0, 0, 123000, tzinfo=UTC)
    assert first["conversationEnd"] == datetime(2024, 1, 1, 10, 5, tzinfo=UTC)
    assert first["originatingDirection"] == "inbound"
    assert first["divisionIds"] == ["d1"]
    assert first["mediaTypes"] == ["callback", "voice"]
    assert first["queueIds"] == ["q1", "q2"]
    assert first["userIds"] == ["u1"]
    assert json.loads(first["raw_json"]) == CONVERSATIONS[0]
    assert first["raw_json"] == json.dumps(CONVERSATIONS[0], sort_keys=True, separators=(",", ":"))
    assert second["conversationEnd"] is None
    assert second["mediaTypes"] == second["queueIds"] == second["userIds"] == []


@pytest.mark.parametrize(("kind", "records"), [("aggregates", AGGREGATES), ("conversations", CONVERSATIONS)])
def test_parquet_bytes_are_deterministic(dest: Destination, kind: str, records: list[dict[str, Any]]) -> None:
    first = write(dest, "1.parquet", [records, records], output_format="parquet", kind=kind)
    second = write(dest, "2.parquet", [records, records], output_format="parquet", kind=kind)
    assert first.sha256 == second.sha256
    assert dest.read_bytes("1.parquet") == dest.read_bytes("2.parquet")
    assert set(read_parquet(dest, "1.parquet").metadata.metadata) == {b"ARROW:schema"}


def test_parquet_codec_follows_compression(dest: Destination) -> None:
    for compression, codec in [("zstd", "ZSTD"), (None, "UNCOMPRESSED")]:
        write(
            dest,
            "z.parquet",
            [AGGREGATES],
            output_format="parquet",
            kind="aggregates",
            compression=compression,
        )
        assert read_parquet(dest, "z.parquet").metadata.row_group(0).column(0).compression == codec


def test_an_empty_parquet_chunk_still_has_the_schema(dest: Destination) -> None:
    written = write(dest, "e.parquet", [], output_format="parquet", kind="conversations")
    parquet = read_parquet(dest, "e.parquet")
    assert written.records == 0
    assert parquet.metadata.num_rows == 0
    assert schema_of(parquet) == CONVERSATION_SCHEMA


def test_a_bad_record_fails_and_leaves_nothing(dest: Destination, spool: Path) -> None:
    with (
        pytest.raises(ValueError, match="conversationStart"),
        open_writer(dest, "b.parquet", "parquet", kind="conversations", spool_dir=str(spool)) as writer,
    ):
        writer.write_page([{"conversationId": "c-9"}])
    assert dest.list_files() == []
    assert os.listdir(spool) == []


def test_missing_pyarrow_says_how_to_install_it(
    dest: Destination, spool: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(GenesysConfigError) as info:
        open_writer(dest, "a.parquet", "parquet", kind="aggregates", spool_dir=str(spool))
    assert info.value.field == "output_format"
    assert info.value.problem == "parquet needs pyarrow"
    assert info.value.fix == "pip install 'airflow-provider-genesys[parquet]'"
    assert os.listdir(spool) == []
    assert file_name("a", "parquet") == "a.parquet"
    write(dest, "still.jsonl.gz", [RECORDS])


def test_importing_the_sink_loads_neither_airflow_nor_pyarrow() -> None:
    code = (
        "import sys, airflow_provider_genesys.core.sink\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('airflow', 'pyarrow')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


# --- a remote filesystem with folders (memory) ----------------------------------------------------


def test_folder_filesystems_publish_through_a_temporary_and_a_rename(
    tmp_path: Path, monkeypatch: Any
) -> None:
    memory = fsspec.filesystem("memory")
    dest = Destination(memory, f"/sink-{uuid.uuid4().hex}/run")
    moves: list[tuple[str, str]] = []
    real_mv = memory.mv

    def spy(source: str, target: str, **kwargs: Any) -> None:
        moves.append((source, target))
        real_mv(source, target, **kwargs)

    monkeypatch.setattr(memory, "mv", spy)
    try:
        assert not dest.is_local and not dest.is_object_store
        dest.ensure_root()
        written = write(dest, "c/a.jsonl", [RECORDS], compression=None)
        write_manifest(dest, {"complete": True})
        [(data_tmp, data_target), (manifest_tmp, manifest_target)] = moves
        assert os.path.basename(data_tmp).startswith(".a.jsonl.tmp-")
        assert data_target == dest.path("c/a.jsonl")
        assert os.path.basename(manifest_tmp).startswith("._manifest.json.tmp-")
        assert manifest_target == dest.path(MANIFEST_NAME)
        assert dest.list_files() == [MANIFEST_NAME, "c/a.jsonl"]
        assert verify(dest, "c/a.jsonl", written.sha256)
        assert read_manifest(dest) == {"complete": True}
    finally:
        memory.rm(dest.root.rpartition("/")[0], recursive=True)


# --- S3 through moto_server -----------------------------------------------------------------------
from tests.moto_support import moto_s3

BUCKET = "genesys-sink-tests"


@pytest.fixture(scope="module")
def s3_fs() -> Iterator[Any]:
    pytest.importorskip("boto3")
    s3fs = pytest.importorskip("s3fs")
    with moto_s3(BUCKET) as url:
        yield s3fs.S3FileSystem(
            key="testing",
            secret="testing",
            client_kwargs={"endpoint_url": url, "region_name": "us-west-2"},
            skip_instance_cache=True,
        )


@pytest.fixture
def s3_dest(s3_fs: Any) -> Destination:
    return Destination(s3_fs, f"s3://{BUCKET}/{uuid.uuid4().hex}/run/")


def test_s3_publish_list_verify(s3_dest: Destination, tmp_path: Path, monkeypatch: Any) -> None:
    assert s3_dest.root.startswith(f"{BUCKET}/") and s3_dest.root.endswith("/run")
    assert s3_dest.is_object_store and not s3_dest.is_local
    assert s3_dest.list_files() == []
    s3_dest.ensure_root()
    monkeypatch.setattr(s3_dest.fs, "mv", None)  # object stores never rename
    source = tmp_path / "s.bin"
    source.write_bytes(b"payload" * 1000)
    s3_dest.publish(str(source), "sub/s.bin")
    written = write(s3_dest, "chunks/a.jsonl.gz", [RECORDS[:1], RECORDS[1:]])
    assert s3_dest.list_files() == ["chunks/a.jsonl.gz", "sub/s.bin"]
    assert s3_dest.exists("sub/s.bin")
    assert s3_dest.read_bytes("sub/s.bin") == source.read_bytes()
    assert s3_dest.sha256("sub/s.bin") == hashlib.sha256(source.read_bytes()).hexdigest()
    stored = s3_dest.read_bytes("chunks/a.jsonl.gz")
    assert stored is not None
    assert read_jsonl(gzip.decompress(stored)) == RECORDS
    assert verify(s3_dest, "chunks/a.jsonl.gz", written.sha256)
    s3_dest.write_bytes_atomic("chunks/a.jsonl.gz", b"tampered")
    assert not verify(s3_dest, "chunks/a.jsonl.gz", written.sha256)
    assert s3_dest.sha256("missing") is None


def test_s3_prune_manifest_and_abort(s3_dest: Destination) -> None:
    for rel in ["keep.jsonl.gz", "stale.jsonl.gz", "deep/stale.parquet"]:
        s3_dest.write_bytes_atomic(rel, b"x")
    with open_writer(s3_dest, "aborted.parquet", "parquet", kind="aggregates") as writer:
        writer.write_page(AGGREGATES)
        writer.abort()
    assert read_manifest(s3_dest) is None
    manifest = {"complete": True, "chunks": [{"path": "keep.jsonl.gz", "records": 1}]}
    write_manifest(s3_dest, manifest)
    assert read_manifest(s3_dest) == manifest
    assert prune(s3_dest, {"keep.jsonl.gz"}) == ["deep/stale.parquet", "stale.jsonl.gz"]
    assert s3_dest.list_files() == [MANIFEST_NAME, "keep.jsonl.gz"]
    s3_dest.write_bytes_atomic(MANIFEST_NAME, b"{broken")
    assert read_manifest(s3_dest) is None


def test_s3_parquet_round_trip(s3_dest: Destination) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    written = write(s3_dest, "c.parquet", [CONVERSATIONS], output_format="parquet", kind="conversations")
    with s3_dest.fs.open(s3_dest.path("c.parquet"), "rb") as stream:
        table = pq.read_table(stream)
    assert table.num_rows == 2
    assert verify(s3_dest, "c.parquet", written.sha256)
