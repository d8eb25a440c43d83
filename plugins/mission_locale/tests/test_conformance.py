"""The kit's conformance suite (cep_core.testing), as every operator plugin runs it."""

from __future__ import annotations

from cep_core.testing import check_operator_plugin
from cep_mission_locale import hooks


def test_conformance() -> None:
    report = check_operator_plugin(hooks)
    assert report.passed
    assert report.pdf.startswith(b"%PDF-")
