"""Region names, Genesys domains and host overrides map to the right API and token URLs."""

from __future__ import annotations

import pytest

from airflow_provider_genesys.core.errors import GenesysConfigError
from airflow_provider_genesys.core.regions import REGIONS, region_names, resolve_endpoints


def test_table_has_the_18_sdk_regions() -> None:
    assert len(REGIONS) == 18
    assert REGIONS["eu-west-1"] == "api.mypurecloud.ie"
    assert REGIONS["eusc-de-east-1"] == "api.edee1.eusc-pure.cloud"


@pytest.mark.parametrize(("region", "host"), sorted(REGIONS.items()))
def test_every_region_and_its_domain_map_to_the_same_urls(region: str, host: str) -> None:
    domain = host.removeprefix("api.")
    by_region = resolve_endpoints(region)
    by_domain = resolve_endpoints(domain)
    assert by_region.api_base == by_domain.api_base == f"https://{host}"
    assert by_region.token_url == by_domain.token_url == f"https://login.{domain}/oauth/token"


def test_default_region_is_us_east_1() -> None:
    endpoints = resolve_endpoints(None)
    assert endpoints.api_base == "https://api.mypurecloud.com"
    assert endpoints.token_url == "https://login.mypurecloud.com/oauth/token"


def test_region_names_are_case_and_space_insensitive() -> None:
    assert resolve_endpoints("  EU-West-1 ").api_base == "https://api.mypurecloud.ie"


def test_unknown_region_lists_the_valid_ones() -> None:
    with pytest.raises(GenesysConfigError) as info:
        resolve_endpoints("eu-west-9")
    message = str(info.value)
    assert message.startswith("region: unknown Genesys Cloud region 'eu-west-9'")
    for name in region_names():
        assert name in message


def test_genesys_api_host_override_takes_token_from_matching_login_host() -> None:
    endpoints = resolve_endpoints("us-east-1", "https://api.mypurecloud.jp")
    assert endpoints.api_base == "https://api.mypurecloud.jp"
    assert endpoints.token_url == "https://login.mypurecloud.jp/oauth/token"


def test_genesys_host_without_scheme_is_https() -> None:
    endpoints = resolve_endpoints(None, "api.euw2.pure.cloud/")
    assert endpoints.api_base == "https://api.euw2.pure.cloud"
    assert endpoints.token_url == "https://login.euw2.pure.cloud/oauth/token"


@pytest.mark.parametrize(
    "host", ["http://127.0.0.1:8765", "http://127.0.0.1:8765/", "https://proxy.example.com/genesys"]
)
def test_other_hosts_serve_api_and_token(host: str) -> None:
    endpoints = resolve_endpoints("eu-west-1", host)
    base = host.rstrip("/")
    assert endpoints.api_base == base
    assert endpoints.token_url == f"{base}/oauth/token"


def test_bad_host_is_a_clear_error() -> None:
    with pytest.raises(GenesysConfigError, match=r"^host: 'ftp://x' is not a base URL"):
        resolve_endpoints(None, "ftp://x")


def test_bad_region_is_an_error_even_with_a_host() -> None:
    with pytest.raises(GenesysConfigError, match="^region:"):
        resolve_endpoints("mars-1", "http://127.0.0.1:1")
