"""A sixth operator, out of tree: examples/cmc, installed through its entry point only.

The default environment does not have it (public agents get the ``cmc`` redirect, which
other tests rely on); these tests build its wheel, install it into a folder of their own and
use it from subprocesses, as a deployment that installs it would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from cep_core import Kit, Settings, Situation, Status

ROOT = Path(__file__).resolve().parents[2]
AGENT = ["--birth-date", "1980-05-01", "--as-of", "2026-03-02", "--status", "public_agent"]
Run = Callable[..., Any]


def test_the_default_environment_does_not_load_it(tmp_path: Path) -> None:
    kit = Kit(settings=Settings(data_dir=tmp_path))
    try:
        assert "cmc" not in {record.info.id for record in kit.registry.operators()}
        agent = Situation(
            birth_date=date(1980, 5, 1), as_of=date(2026, 3, 2), status=Status.PUBLIC_AGENT
        )
        assert kit.orientation.orient(agent).redirect is not None
    finally:
        kit.close()


def test_nothing_in_the_core_or_the_bundled_plugins_names_it() -> None:
    sources = [*(ROOT / "cep_core").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")]
    assert sources
    assert [str(p) for p in sources if "cep_cmc" in p.read_text(encoding="utf-8")] == []
    assert "cep-cmc" not in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "cep-cmc" not in (ROOT / "uv.lock").read_text(encoding="utf-8")


def test_installed_it_serves_public_agents_instead_of_the_redirect(
    cmc_site: Path, run_cep: Run
) -> None:
    oriented = run_cep(cmc_site, "orient", *AGENT)
    assert oriented.returncode == 0, oriented.stderr
    answer = json.loads(oriented.stdout)
    assert [operator["id"] for operator in answer["operators"]] == ["cmc"]
    assert answer["redirect"] is None


def test_its_own_tests_pass_installed(cmc_site: Path, run_pytest: Run) -> None:
    """Conformance, orientation, a case through both levels to its PDF, the app, funding, and
    its entry point (it is loaded as distribution ``cep-cmc``)."""
    result = run_pytest(ROOT / "examples" / "cmc" / "tests", cmc_site)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "failed" not in result.stdout
