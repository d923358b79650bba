"""The 18 Genesys Cloud regions and the rules that turn a region or host into URLs.

Source: the official Python SDK 269 ``purecloud_region_hosts.py``. This is the only
region table in the provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from airflow_provider_genesys.core.errors import GenesysConfigError

__all__ = ["DEFAULT_REGION", "REGIONS", "Endpoints", "region_names", "resolve_endpoints"]

#: AWS region name -> Genesys API host.
REGIONS: dict[str, str] = {
    "us-east-1": "api.mypurecloud.com",
    "us-east-2": "api.use2.us-gov-pure.cloud",
    "us-west-2": "api.usw2.pure.cloud",
    "ca-central-1": "api.cac1.pure.cloud",
    "sa-east-1": "api.sae1.pure.cloud",
    "mx-central-1": "api.mxc1.pure.cloud",
    "eu-west-1": "api.mypurecloud.ie",
    "eu-west-2": "api.euw2.pure.cloud",
    "eu-central-1": "api.mypurecloud.de",
    "eu-central-2": "api.euc2.pure.cloud",
    "eusc-de-east-1": "api.edee1.eusc-pure.cloud",
    "me-central-1": "api.mec1.pure.cloud",
    "ap-south-1": "api.aps1.pure.cloud",
    "ap-southeast-1": "api.apse1.pure.cloud",
    "ap-southeast-2": "api.mypurecloud.com.au",
    "ap-northeast-1": "api.mypurecloud.jp",
    "ap-northeast-2": "api.apne2.pure.cloud",
    "ap-northeast-3": "api.apne3.pure.cloud",
}

DEFAULT_REGION = "us-east-1"

_DOMAINS = {host.removeprefix("api."): region for region, host in REGIONS.items()}


@dataclass(frozen=True)
class Endpoints:
    """Where API calls and token requests go, derived from a region or a host override."""

    api_base: str
    token_url: str
    label: str

    @property
    def host(self) -> str:
        return urlsplit(self.api_base).netloc


def region_names() -> list[str]:
    """Every accepted region value: AWS names first, then Genesys domains."""
    return list(REGIONS) + list(_DOMAINS)


def _genesys_domain(netloc: str) -> str | None:
    """The Genesys domain of an ``api.<domain>`` host, or None for any other host."""
    host = netloc.split(":", maxsplit=1)[0].lower()
    if host.startswith("api."):
        domain = host.removeprefix("api.")
        if domain in _DOMAINS:
            return domain
    return None


def _from_region(region: str) -> Endpoints:
    key = region.strip().lower()
    if key in REGIONS:
        host = REGIONS[key]
    elif key.removeprefix("api.") in _DOMAINS:
        host = "api." + key.removeprefix("api.")
    else:
        raise GenesysConfigError(
            "region",
            f"unknown Genesys Cloud region {region!r}",
            "use one of: " + ", ".join(region_names()),
        )
    domain = host.removeprefix("api.")
    return Endpoints(f"https://{host}", f"https://login.{domain}/oauth/token", f"region {key}")


def _from_host(host: str) -> Endpoints:
    raw = host.strip().rstrip("/")
    if "://" not in raw:
        raw = "https://" + raw
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise GenesysConfigError(
            "host", f"{host!r} is not a base URL", "give a full URL such as https://api.mypurecloud.ie"
        )
    base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    domain = _genesys_domain(parts.netloc)
    if domain is not None and parts.scheme == "https" and not parts.path.strip("/"):
        return Endpoints(base, f"https://login.{domain}/oauth/token", f"host {base}")
    return Endpoints(base, f"{base}/oauth/token", f"host {base}")


def resolve_endpoints(region: str | None = None, host: str | None = None) -> Endpoints:
    """Map a region (AWS name or Genesys domain) or a base-URL override to the two URLs.

    A Genesys ``https://api.<domain>`` host takes its token from ``https://login.<domain>``;
    any other host (sandbox, proxy) serves both ``{host}/api/v2/...`` and ``{host}/oauth/token``.
    The host override wins over the region, but an invalid region is still an error.
    """
    by_region = _from_region(region or DEFAULT_REGION)
    if host and host.strip():
        return _from_host(host)
    return by_region
