"""The regional operators plugin: private-sector employees and self-employed people in work."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from cep_core import (
    FormChannel,
    Kit,
    OperatorContext,
    ParameterError,
    ParameterSet,
    PluginKind,
    Situation,
    Status,
    regions,
)
from cep_regional import hooks

LOCATOR = "https://mon-cep.org/"
GENERIC_2020 = "Opérateur régional du CEP"
GENERIC_2024 = "Opérateur régional du CEP « Avenir(s) Actifs »"


def situation(
    as_of: date = date(2025, 6, 1), status: Status = Status.EMPLOYEE, **flags: Any
) -> Situation:
    return Situation(birth_date=date(1985, 3, 10), as_of=as_of, status=status, **flags)


# -- who is served ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "flags", "competent"),
    [
        (Status.EMPLOYEE, {}, True),
        (Status.APPRENTICE, {}, True),
        (Status.SELF_EMPLOYED, {}, True),
        (Status.STUDENT, {"working": True}, True),
        (Status.RETIRED, {"working": True}, True),
        (Status.JOBSEEKER, {"working": True}, True),
        (Status.JOBSEEKER, {}, False),
        (Status.STUDENT, {"seeking_job": True}, False),
        (Status.INACTIVE, {}, False),
        (Status.PUBLIC_AGENT, {}, False),
        (Status.PUBLIC_AGENT, {"working": True, "cadre": True}, False),
    ],
)
def test_rules(status: Status, flags: dict[str, Any], competent: bool) -> None:
    answer = hooks.cep_assess_competence(situation(status=status, region="53", **flags))
    assert answer.operator == "regional"
    assert answer.competent is competent
    assert answer.reason.startswith(("Vous ", "En tant qu'agent(e) public(que)"))


def test_public_agents_are_never_served() -> None:
    answer = hooks.cep_assess_competence(
        situation(status=Status.PUBLIC_AGENT, working=True, region="11")
    )
    assert answer.competent is False
    assert "agent(e) public(que)" in answer.reason


def test_before_the_first_market_the_network_did_not_exist() -> None:
    answer = hooks.cep_assess_competence(situation(date(2019, 12, 31), region="53"))
    assert answer.competent is False
    assert "2020" in answer.reason


# -- which organisation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "organisation"),
    [("53", "Catalys"), ("24", "Groupement Évolution"), ("75", "EVA Nouvelle-Aquitaine")],
)
def test_known_2020_2023_holders(code: str, organisation: str) -> None:
    answer = hooks.cep_assess_competence(situation(date(2021, 6, 1), region=code))
    assert answer.competent is True
    assert answer.name == organisation
    assert f"il s'agit de {organisation} (marché France compétences 2020–2023)" in answer.reason
    assert answer.contact is not None
    assert answer.contact.url == LOCATOR


def test_2024_2027_holder_not_known_gives_generic_label_and_locator() -> None:
    answer = hooks.cep_assess_competence(situation(date(2025, 6, 1), region="53"))
    assert answer.competent is True
    assert answer.name == f"{GENERIC_2024} – Bretagne"
    assert "Catalys" not in answer.reason
    assert answer.reason.endswith(f"sur {LOCATOR}.")


def test_holder_ends_with_its_market() -> None:
    last_day = hooks.cep_assess_competence(situation(date(2023, 12, 31), region="53"))
    assert last_day.name == "Catalys"
    between_markets = hooks.cep_assess_competence(situation(date(2024, 1, 1), region="53"))
    assert between_markets.name == f"{GENERIC_2020} – Bretagne"
    assert between_markets.reason.endswith(f"sur {LOCATOR}.")


def test_region_whose_holder_was_never_known() -> None:
    answer = hooks.cep_assess_competence(situation(date(2021, 6, 1), region="11"))
    assert answer.name == f"{GENERIC_2020} – Île-de-France"
    assert "(Île-de-France)" in answer.reason
    assert answer.reason.endswith(f"sur {LOCATOR}.")


@pytest.mark.parametrize("region", [None, "99"])
def test_no_usable_region(region: str | None) -> None:
    answer = hooks.cep_assess_competence(situation(region=region))
    assert answer.competent is True
    assert answer.name == GENERIC_2024
    assert "Vous n'avez pas indiqué" in answer.reason
    assert answer.reason.endswith(f"sur {LOCATOR}.")


def test_overseas_regions_mention_the_unawarded_lot() -> None:
    overseas = hooks.cep_assess_competence(situation(region="04"))
    assert "outre-mer" in overseas.reason
    assert overseas.reason.endswith(f"sur {LOCATOR}.")
    assert "outre-mer" not in hooks.cep_assess_competence(situation(region="53")).reason
    before = hooks.cep_assess_competence(situation(date(2022, 6, 1), region="04"))
    assert "outre-mer" not in before.reason


def test_after_the_known_markets_no_market_is_claimed() -> None:
    answer = hooks.cep_assess_competence(situation(date(2028, 3, 1), region="53"))
    assert answer.competent is True
    assert answer.name == f"{GENERIC_2024} – Bretagne"
    assert "marché" not in answer.reason


def test_labels_are_dated() -> None:
    info = hooks.cep_plugin_info()
    assert info.label(date(2024, 1, 1)) == GENERIC_2020
    assert info.label(date(2024, 1, 2)) == GENERIC_2024
    assert hooks.cep_assess_competence(situation(date(2024, 1, 2))).name == GENERIC_2024


# -- data ------------------------------------------------------------------------------------


def test_parameter_file_covers_every_region_with_sources() -> None:
    params = hooks.packaged_parameters()
    codes = {name.removeprefix("operators.") for name in params if name.startswith("operators.")}
    assert codes == set(regions())
    assert len(codes) == 18
    for parameter in params.values():
        assert parameter.description.strip()
        for value in parameter.values:
            assert value.source.strip(), (parameter.name, value.valid_from)


def test_operator_entries_end_with_their_market() -> None:
    params = hooks.packaged_parameters()
    markets = params["market.period"].values
    assert [(m.valid_from, m.valid_until) for m in markets] == [
        (date(2020, 1, 1), date(2023, 12, 31)),
        (date(2024, 1, 2), date(2027, 12, 31)),
    ]
    for code in regions():
        for entry in params[f"operators.{code}"].values:
            assert (entry.valid_from, entry.valid_until) in {
                (m.valid_from, m.valid_until) for m in markets
            }
            assert isinstance(entry.value, str)


def test_a_parameter_set_without_every_region_is_refused() -> None:
    params = hooks.packaged_parameters()
    incomplete = ParameterSet({k: v for k, v in params.items() if k != "operators.53"})
    with pytest.raises(ParameterError, match=r"operators\.53"):
        hooks.RegionalOperator(incomplete)


# -- deployment override ---------------------------------------------------------------------

OVERRIDE = """
[operators."11"]
description = "Titulaire connu du déploiement"
values = [
  { valid_from = 2024-01-02, valid_until = 2027-12-31, value = "Exemple IDF", source = "Contrat" },
]
"""


@pytest.fixture
def override_file(tmp_path: Path) -> Path:
    path = tmp_path / "regional.toml"
    path.write_text(OVERRIDE, encoding="utf-8")
    return path


def test_override_file_replaces_only_its_tables(override_file: Path) -> None:
    operator = hooks.RegionalOperator.from_file(override_file)
    idf = operator.cep_assess_competence(situation(region="11"))
    assert idf.name == "Exemple IDF"
    assert "2024–2027" in idf.reason
    assert operator.cep_assess_competence(situation(date(2021, 6, 1), region="11")).name == (
        f"{GENERIC_2020} – Île-de-France"
    )
    assert operator.cep_assess_competence(situation(date(2021, 6, 1), region="53")).name == (
        "Catalys"
    )


def test_from_env(override_file: Path) -> None:
    chosen = hooks.from_env({hooks.OVERRIDE_ENV: str(override_file)})
    assert chosen.cep_assess_competence(situation(region="11")).name == "Exemple IDF"
    packaged = hooks.from_env({})
    assert packaged.cep_assess_competence(situation(region="11")).name == (
        f"{GENERIC_2024} – Île-de-France"
    )


def test_an_instance_is_admitted_in_place_of_the_module(override_file: Path) -> None:
    kit = Kit([hooks.RegionalOperator.from_file(override_file)], load_entrypoints=False)
    assert kit.registry.refused == []
    orientation = kit.orientation.orient(situation(region="11"))
    assert [(o.id, o.name) for o in orientation.operators] == [("regional", "Exemple IDF")]
    # The instance keeps the operator's flow and funding hooks, not only its orientation.
    record = kit.registry.operator("regional")
    assert {
        "cep_intake_form",
        "cep_session_steps",
        "cep_validate_step",
        "cep_funding_options",
    } <= set(record.hooks)
    ctx = OperatorContext(operator="regional", today=date(2026, 3, 2))
    form = kit.hooks.intake_form(ctx, FormChannel.COUNSELLOR)
    assert form is not None and form.operator == "regional"


def test_module_and_instance_together_clash_on_the_id() -> None:
    kit = Kit([hooks, hooks.from_env({})], load_entrypoints=False)
    assert len(kit.registry.refused) == 1
    assert "regional" in kit.registry.refused[0].reason


def test_admitted_by_a_kit() -> None:
    kit = Kit([hooks], load_entrypoints=False)
    assert kit.registry.refused == []
    info = kit.registry.operators()[0].info
    assert info.id == "regional"
    assert info.kind is PluginKind.OPERATOR
    assert info.contact is not None
    assert info.contact.url == LOCATOR


def test_every_day_across_both_markets_gets_an_answer() -> None:
    day = date(2019, 12, 25)
    while day <= date(2028, 1, 5):
        answer = hooks.cep_assess_competence(situation(day, region="53"))
        assert answer.competent is (day >= date(2020, 1, 1))
        assert answer.reason.endswith(".")
        day += timedelta(days=1)
