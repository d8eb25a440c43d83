"""Fixtures for the plugin-author kit's tests.

- cep-core's pytest plugin (``cep_core.testing.plugin``): its fixtures are imported here, so
  these tests see exactly what a plugin author's tests see, whether or not the plugin's
  ``pytest11`` entry point is installed (when it is, these imports change nothing);
- ``install``: builds a distribution (``uv build``) and installs its wheel into a folder of
  its own, to put on ``PYTHONPATH`` of a subprocess: the entry points are then visible to that
  process only, and the project environment is never touched;
- ``run_pytest``: runs a plugin's own test suite in a subprocess, with cep-core's pytest
  plugin loaded as its entry point (or ``-p`` until the entry point exists);
- ``run_cep``: runs the ``cep`` command in a subprocess that sees a folder's distributions.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pytest

from cep_core.testing.plugin import (  # noqa: F401 (fixtures, as the pytest11 plugin gives them)
    cep_app,
    cep_client,
    cep_clock,
    cep_kit,
    cep_plugins,
    cep_settings,
    make_cep_kit,
    register_plugin,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

Install = Callable[[Path, Path], Path]
Run = Callable[..., subprocess.CompletedProcess[str]]


def plugin_args() -> list[str]:
    """``-p cep_core.testing.plugin`` unless cep-core's ``pytest11`` entry point loads it."""
    names = {ep.name for ep in metadata.entry_points(group="pytest11")}
    return [] if "cep_core" in names else ["-p", "cep_core.testing.plugin"]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any CEP_* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CEP_")}
    env.pop("PYTEST_ADDOPTS", None)
    return {**env, **extra}


def uv_executable() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    assert found, "uv est nécessaire pour construire les distributions (https://docs.astral.sh/uv/)"
    return found


@pytest.fixture(scope="session")
def install(tmp_path_factory: pytest.TempPathFactory) -> Install:
    """Build `project` into a wheel and install it into `site`; returns `site`."""

    def install(project: Path, site: Path) -> Path:
        dist = tmp_path_factory.mktemp("dist")
        uv = uv_executable()
        build = subprocess.run(
            [uv, "build", "--wheel", "--out-dir", str(dist), str(project)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert build.returncode == 0, build.stderr
        [wheel] = dist.glob("*.whl")
        target = ["--python", sys.executable, "--target", str(site)]
        placed = subprocess.run(
            [uv, "pip", "install", *target, "--no-deps", "--no-index", str(wheel)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert placed.returncode == 0, placed.stderr
        return site

    return install


@pytest.fixture(scope="session")
def run_pytest() -> Run:
    """Run a plugin's tests in a subprocess that sees the distributions installed in `site`.

    The working directory is `site`, never the project, so the code under test is the
    installed copy, not the sources next to the tests.
    """

    def run(tests: Path, site: Path, *args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        return subprocess.run(
            [*command, *plugin_args(), "--rootdir", str(tests.parent), *args, str(tests)],
            capture_output=True,
            text=True,
            cwd=site,
            env=clean_env(PYTHONPATH=str(site), PYTHONDONTWRITEBYTECODE="1"),
            timeout=600,
            check=False,
        )

    return run


@pytest.fixture(scope="session")
def cmc_site(install: Install, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CMC plugin (examples/cmc), built and installed in a folder of its own."""
    return install(EXAMPLES / "cmc", tmp_path_factory.mktemp("cmc-site"))


@pytest.fixture(scope="session")
def run_cep() -> Run:
    """Run ``cep ARGS`` in a subprocess that sees the distributions installed in `site`."""

    def run(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cep_core.cli", *args],
            capture_output=True,
            text=True,
            cwd=site,
            env=clean_env(PYTHONPATH=str(site), CEP_DATA_DIR=str(site / "data")),
            timeout=120,
            check=False,
        )

    return run
