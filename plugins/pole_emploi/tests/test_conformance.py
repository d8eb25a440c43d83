"""The kit's conformance suite (cep_core.testing), as every operator plugin runs it."""

from __future__ import annotations

from cep_core.testing import check_operator_plugin
from cep_pole_emploi import hooks

# The registration number has a pattern no smallest answer can guess.
ANSWERS = {"intake": {"registration_id": "AB12345"}}


def test_conformance() -> None:
    report = check_operator_plugin(hooks, answers=ANSWERS)
    assert report.passed
    assert report.pdf.startswith(b"%PDF-")
