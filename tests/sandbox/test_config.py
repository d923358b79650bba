"""SandboxConfig defaults, client specs and the command line."""

from __future__ import annotations

import pytest

from airflow_provider_genesys.sandbox import ClientSpec, SandboxConfig
from airflow_provider_genesys.sandbox.config import ALL_PERMISSIONS, FAULT_KINDS, parse_args


def test_defaults_match_the_documented_flags() -> None:
    config = SandboxConfig()
    assert (config.seed, config.per_day, config.token_ttl) == (42, 2000, 86_400)
    assert (config.rate, config.window, config.window_mode) == (300, 60, "sliding")
    assert (config.max_concurrent, config.latency, config.job_delay) == (0, 0, 2)
    assert (config.availability_lag, config.result_cap, config.job_result_cap) == (300, 0, 400_000)
    assert (config.fault_rate, config.faults, config.slow_seconds) == (0, FAULT_KINDS, 30)
    assert (config.penalty, config.details_window, config.auth_error_status) == (0, "day", 401)
    assert config.clients == (ClientSpec("sandbox-client", "sandbox-secret", ALL_PERMISSIONS),)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a:b", ClientSpec("a", "b", ALL_PERMISSIONS)),
        ("a:b:", ClientSpec("a", "b", frozenset())),
        (
            "a:b:analytics:conversationDetail:view",
            ClientSpec("a", "b", frozenset({"analytics:conversationDetail:view"})),
        ),
        ("a:b:x:y,z", ClientSpec("a", "b", frozenset({"x:y", "z"}))),
    ],
)
def test_client_spec_parsing(text: str, expected: ClientSpec) -> None:
    assert ClientSpec.parse(text) == expected


@pytest.mark.parametrize("text", ["", "onlyid", ":secret", "id:"])
def test_bad_client_specs_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        ClientSpec.parse(text)


def test_strings_are_accepted_where_the_cli_accepts_them() -> None:
    config = SandboxConfig(clients=["x:y:p1"], faults="429, drop")  # type: ignore[arg-type]
    assert config.clients == (ClientSpec("x", "y", frozenset({"p1"})),)
    assert config.faults == ("429", "drop")


@pytest.mark.parametrize(
    "bad",
    [
        {"window_mode": "rolling"},
        {"details_window": "week"},
        {"auth_error_status": 403},
        {"fault_rate": 1.5},
        {"faults": ("teapot",)},
        {"window": 0},
        {"rate": -1},
        {"clients": ()},
    ],
)
def test_invalid_settings_raise(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SandboxConfig(**bad)  # type: ignore[arg-type]


def test_every_flag_maps_to_a_field() -> None:
    config, host, port = parse_args(
        [
            "--host", "127.0.0.1", "--port", "0", "--seed", "7", "--per-day", "10",
            "--client", "a:b", "--client", "c:d:analytics:conversationDetail:view",
            "--token-ttl", "60", "--rate", "5", "--window", "10", "--window-mode", "fixed",
            "--max-concurrent", "3", "--latency", "0.5", "--job-delay", "1", "--availability-lag", "30",
            "--result-cap", "9", "--job-result-cap", "99", "--fault-rate", "0.1", "--faults", "429,drop",
            "--slow-seconds", "4", "--penalty", "2", "--details-window", "overlap", "--auth-error-status", "400",
        ]
    )  # fmt: skip
    assert (host, port) == ("127.0.0.1", 0)
    assert config == SandboxConfig(
        seed=7, per_day=10, clients=(ClientSpec("a", "b"), ClientSpec("c", "d", frozenset({"analytics:conversationDetail:view"}))),
        token_ttl=60, rate=5, window=10, window_mode="fixed", max_concurrent=3, latency=0.5, job_delay=1,
        availability_lag=30, result_cap=9, job_result_cap=99, fault_rate=0.1, faults=("429", "drop"),
        slow_seconds=4, penalty=2, details_window="overlap", auth_error_status=400,
    )  # fmt: skip


def test_cli_defaults_equal_the_dataclass_defaults() -> None:
    config, host, port = parse_args([])
    assert config == SandboxConfig()
    assert (host, port) == ("127.0.0.1", 8765)


def test_unknown_fault_kind_on_the_cli_exits() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--faults", "429,teapot"])
