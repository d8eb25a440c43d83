"""The five plugins are found through their ``cep`` entry points, as a deployment finds them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from cep_core import Kit, Situation, Status
from cep_core.settings import Settings

OPERATOR_IDS = frozenset({"apec", "cap_emploi", "mission_locale", "pole_emploi", "regional"})


def test_installed_plugins_are_loaded_from_entry_points(tmp_path: Path) -> None:
    kit = Kit(settings=Settings(data_dir=tmp_path))
    ids = {record.info.id for record in kit.registry.operators()}
    assert ids >= OPERATOR_IDS
    assert [r for r in kit.registry.refused if r.name in OPERATOR_IDS] == []
    names = {r.name for r in kit.registry.records.values() if r.info.id in OPERATOR_IDS}
    assert names == OPERATOR_IDS  # registered under their entry-point names
    orientation = kit.orientation.orient(
        Situation(birth_date=date(1990, 1, 1), as_of=date(2025, 6, 1), status=Status.EMPLOYEE)
    )
    assert [o.id for o in orientation.operators] == ["regional"]


def test_a_disabled_entry_point_is_not_loaded(tmp_path: Path) -> None:
    kit = Kit(settings=Settings(data_dir=tmp_path, disabled_plugins=("regional",)))
    ids = {record.info.id for record in kit.registry.operators()}
    assert "regional" not in ids
    assert ids >= OPERATOR_IDS - {"regional"}
