"""`pip install .` into a clean virtual environment, then Airflow discovers the provider."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def clean_install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with the package installed from the source tree (not editable)."""
    where = tmp_path_factory.mktemp("clean-venv")
    venv.EnvBuilder(with_pip=True).create(where)
    python = where / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(ROOT)],
        check=True,
        timeout=900,
    )
    return where


def _airflow(venv_dir: Path, tmp_path: Path, *args: str) -> str:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTHONPATH"))},
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    done = subprocess.run(  # noqa: PLW1510 (the return code is asserted with stderr)
        [str(venv_dir / "bin" / "airflow"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_airflow_lists_the_provider(clean_install: Path, tmp_path: Path) -> None:
    listed = json.loads(_airflow(clean_install, tmp_path, "providers", "list", "-o", "json"))
    ours = [p for p in listed if p["package_name"] == "airflow-provider-genesys"]
    assert ours and ours[0]["version"] == "0.1.0"


def test_airflow_lists_the_connection_type(clean_install: Path, tmp_path: Path) -> None:
    hooks = json.loads(_airflow(clean_install, tmp_path, "providers", "hooks", "-o", "json"))
    ours = [h for h in hooks if h.get("connection_type") == "genesys_cloud"]
    assert ours
    assert ours[0]["class"] == "airflow_provider_genesys.hooks.genesys.GenesysCloudHook"


def test_installed_package_is_not_the_source_tree(clean_install: Path) -> None:
    code = "import airflow_provider_genesys, sys; print(airflow_provider_genesys.__file__)"
    where = subprocess.run(
        [str(clean_install / "bin" / "python"), "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    ).stdout.strip()
    assert "site-packages" in where, where
    assert sys.prefix not in where
