"""Kits made of the five operator plugins, without entry points, for orientation tests.

Tests run with ``--import-mode=importlib``, so they cannot import this file: what they share
comes as fixtures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

import pytest

from cep_apec import hooks as apec
from cep_cap_emploi import hooks as cap_emploi
from cep_core import Kit
from cep_core.settings import Settings
from cep_mission_locale import hooks as mission_locale
from cep_pole_emploi import hooks as pole_emploi
from cep_regional import hooks as regional

KitFactory = Callable[[Sequence[ModuleType]], Kit]


@pytest.fixture(scope="session")
def operator_modules() -> dict[str, ModuleType]:
    """The five hooks modules by operator id, in id order."""
    return {
        "apec": apec,
        "cap_emploi": cap_emploi,
        "mission_locale": mission_locale,
        "pole_emploi": pole_emploi,
        "regional": regional,
    }


@pytest.fixture(scope="module")
def make_kit(tmp_path_factory: pytest.TempPathFactory) -> KitFactory:
    data_dir: Path = tmp_path_factory.mktemp("kit")

    def make(modules: Sequence[ModuleType]) -> Kit:
        kit = Kit(list(modules), settings=Settings(data_dir=data_dir), load_entrypoints=False)
        assert kit.registry.refused == []
        return kit

    return make


@pytest.fixture(scope="module")
def kit(make_kit: KitFactory, operator_modules: dict[str, ModuleType]) -> Kit:
    return make_kit(list(operator_modules.values()))
