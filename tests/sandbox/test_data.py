"""Deterministic synthetic data: same (seed, date) → same day; realistic shape; fast."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, timedelta

import pytest

from airflow_provider_genesys.sandbox.data import (
    MAX_DURATION_MS,
    DataStore,
    Day,
    generate_day,
    make_pools,
    observations,
)
from airflow_provider_genesys.sandbox.timefmt import day_start_ms

MAY1 = date(2024, 5, 1)


@pytest.fixture(scope="module")
def day() -> Day:
    return generate_day(42, 2000, MAY1, make_pools(42))


def _columns(d: Day) -> tuple[object, ...]:
    return (
        bytes(d.ids),
        d.start.tobytes(),
        d.end.tobytes(),
        bytes(d.queue),
        d.agent.tobytes(),
        d.talk.tobytes(),
    )


def test_same_seed_and_date_give_identical_days(day: Day) -> None:
    again = generate_day(42, 2000, MAY1, make_pools(42))
    assert _columns(again) == _columns(day)
    assert [again.record(i) for i in range(50)] == [day.record(i) for i in range(50)]


def test_other_seed_or_date_differ(day: Day) -> None:
    assert generate_day(43, 2000, MAY1, make_pools(43)).conversation_id(0) != day.conversation_id(0)
    other = generate_day(42, 2000, MAY1 + timedelta(days=1), make_pools(42))
    assert not {other.conversation_id(i) for i in range(len(other))} & {
        day.conversation_id(i) for i in range(100)
    }


def test_pools_are_fixed_by_the_seed() -> None:
    pools = make_pools(42)
    assert pools == make_pools(42) != make_pools(1)
    assert (len(pools.queue_ids), len(pools.agent_ids), len(pools.division_ids)) == (8, 40, 2)


def test_count_is_close_to_per_day() -> None:
    pools = make_pools(42)
    counts = [len(generate_day(42, 2000, MAY1 + timedelta(days=k), pools)) for k in range(10)]
    assert all(1940 <= n <= 2060 for n in counts)
    assert len(set(counts)) > 1


def test_sorted_by_start_then_id_within_the_day(day: Day) -> None:
    keys = [(day.start[i], day.conversation_id(i)) for i in range(len(day))]
    assert keys == sorted(keys)
    assert day.start[0] >= day_start_ms(MAY1) and day.start[len(day) - 1] < day_start_ms(MAY1) + 86_400_000


def test_daily_curve_has_quiet_nights_busy_days_and_no_empty_hour(day: Day) -> None:
    hours = Counter((day.start[i] - day_start_ms(MAY1)) // 3_600_000 for i in range(len(day)))
    assert set(hours) == set(range(24))
    assert min(hours[h] for h in range(9, 17)) > 4 * max(hours[h] for h in range(0, 5))


def test_shape_rates_and_duration_bounds(day: Day) -> None:
    records = [day.record(i) for i in range(len(day))]
    answered = [r for r in records if r.answered]
    assert 0.05 < 1 - len(answered) / len(records) < 0.11  # ~8 % abandoned
    assert 0.75 < sum(r.direction == 0 for r in records) / len(records) < 0.85  # ~80 % inbound
    assert 0.07 < sum(r.transferred for r in answered) / len(answered) < 0.13  # ~10 % transferred
    assert all(0 <= r.ivr <= 60_000 and 0 <= r.wait <= 600_000 for r in records)
    assert all(30_000 <= r.talk <= 2_400_000 and 0 <= r.acw <= 300_000 for r in answered)
    assert all(0 < r.end - r.start <= MAX_DURATION_MS for r in records)
    assert len({r.media for r in records}) == 5


def test_some_conversations_cross_midnight() -> None:
    pools = make_pools(42)
    crossing = 0
    for k in range(5):
        d = generate_day(42, 2000, MAY1 + timedelta(days=k), pools)
        crossing += sum(d.end[i] >= day_start_ms(d.date) + 86_400_000 for i in range(len(d)))
    assert crossing > 0


def test_observations_follow_the_bucket_rule(day: Day) -> None:
    for i in range(200):
        c = day.record(i)
        obs = {o.metric: o for o in observations(c)}
        assert obs["nOffered"].emit == c.start + c.ivr and obs["tWait"].emit == c.start + c.ivr + c.wait
        if not c.answered:
            assert set(obs) == {"nOffered", "tWait", "tAbandon"}
            continue
        assert obs["nConnected"].emit == obs["tAnswered"].emit == c.wait_end
        assert obs["tTalk"].emit == c.talk_end and ("nTransferred" in obs) == c.transferred
        assert obs["tAcw"].emit == obs["tHandle"].emit == c.end
        assert obs["tHandle"].value == c.talk + c.acw
        assert {m for m, o in obs.items() if o.agent_level} == set(obs) - {"nOffered", "tWait"}


def test_generation_is_fast() -> None:
    pools = make_pools(42)
    started = time.perf_counter()
    generate_day(42, 2000, date(2030, 1, 1), pools)
    assert time.perf_counter() - started < 0.1
    started = time.perf_counter()
    big = generate_day(42, 50_000, date(2030, 1, 2), pools)
    assert time.perf_counter() - started < 1.5
    assert len(big.ids) == 16 * len(big)


def test_store_caches_days_and_evicts_by_budget() -> None:
    store = DataStore(42, 100, budget=0)  # budget floor: 3 days' worth
    first = store.day(MAY1)
    assert store.day(MAY1) is first
    for k in range(1, 6):
        store.day(MAY1 + timedelta(days=k))
    again = store.day(MAY1)
    assert again is not first and _columns(again) == _columns(first)
