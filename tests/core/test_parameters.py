"""Dated parameters: the value in force on a date, with its source; malformed files refused."""

from __future__ import annotations

import enum
from datetime import date
from typing import Annotated

import msgspec
import pytest

from cep_core import ParameterError, ParameterSet

TOML = """
[cpf.participation]
description = "Participation forfaitaire du titulaire"
unit = "centimes"
values = [
  { valid_from = 2019-01-01, value = 0, source = "avant le décret 2024-394" },
  { valid_from = 2024-05-02, value = 10000, source = "Décret n° 2024-394" },
  { valid_from = 2025-01-01, value = 10223, source = "Arrêté du 26 décembre 2024" },
]

[market.regional]
description = "Marché des opérateurs régionaux"
values = [
  { valid_from = 2024-01-02, valid_until = 2027-12-31, value = "2024-2027", source = "France compétences" },
]
"""


def test_value_in_force_on_each_date() -> None:
    params = ParameterSet.from_toml(TOML)
    assert params.at("cpf.participation", date(2024, 5, 1)) == 0
    assert params.at("cpf.participation", date(2024, 5, 2)) == 10000
    assert params.at("cpf.participation", date(2024, 12, 31)) == 10000
    assert params.at("cpf.participation", date(2030, 1, 1)) == 10223
    assert params["cpf.participation"].unit == "centimes"


def test_before_first_value_and_after_valid_until_is_undefined() -> None:
    params = ParameterSet.from_toml(TOML)
    with pytest.raises(ParameterError, match="non défini"):
        params.at("cpf.participation", date(2018, 12, 31))
    assert params.at("market.regional", date(2027, 12, 31)) == "2024-2027"
    assert params.get_at("market.regional", date(2028, 1, 1), "inconnu") == "inconnu"
    with pytest.raises(ParameterError, match="paramètre inconnu"):
        params.at("nope", date(2025, 1, 1))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[a]\ndescription='x'\nvalues=[]", "sans valeur"),
        (
            "[a]\ndescription='x'\nvalues=[{valid_from=2025-01-01, value=1, source='s'},"
            "{valid_from=2024-01-01, value=2, source='s'}]",
            "triées",
        ),
        ("[a]\ndescription='x'\nvalues=[{valid_from=2025-01-01, value=1, source=' '}]", "source"),
        ("[a]\ndescription='x'\nvalues=[{valid_from='hier', value=1, source='s'}]", "mal formé"),
        ("[a\n", "TOML invalide"),
    ],
)
def test_malformed_files_are_refused(text: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        ParameterSet.from_toml(text)


def test_core_orientation_parameters_load() -> None:
    params = ParameterSet.from_package("cep_core", "data/orientation.toml")
    assert "mobilité carrière" in params.at("redirect.cmc.name", date(2026, 1, 1))


def test_contact_and_labels_from_parameters() -> None:
    from cep_core import Contact, dated_labels

    params = ParameterSet.from_toml(
        """
        [label]
        description = "Nom"
        values = [
          { valid_from = 2008-12-19, value = "Pôle emploi", source = "Loi n° 2008-126" },
          { valid_from = 2024-01-01, value = "France Travail", source = "Loi n° 2023-1196" },
        ]
        [contact.url]
        description = "Site"
        values = [
          { valid_from = 2008-12-19, value = "https://www.pole-emploi.fr/", source = "s" },
          { valid_from = 2024-01-01, value = "https://www.francetravail.fr/", source = "s" },
        ]
        """
    )
    assert "contact.url" in params and "contact.phone" not in params
    assert Contact.from_parameters(params).url == "https://www.francetravail.fr/"
    assert Contact.from_parameters(params, date(2023, 6, 1)).url == "https://www.pole-emploi.fr/"
    assert Contact.from_parameters(params, date(2023, 6, 1)).phone is None
    labels = dated_labels(params["label"])
    assert [(label.valid_from, label.value) for label in labels] == [
        (date(2008, 12, 19), "Pôle emploi"),
        (date(2024, 1, 1), "France Travail"),
    ]


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


class Item(msgspec.Struct):
    colour: Annotated[Colour, msgspec.Meta(title="Couleur")] | None = None


class Order(msgspec.Struct):
    items: Annotated[list[Item], msgspec.Meta(max_length=3)]


def test_enum_choices_are_listed_through_meta_and_lists() -> None:
    from cep_core.validation import issues_from_msgspec_error

    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.json.decode(b'{"items": [{"colour": "green"}]}', type=Order)
    [issue] = issues_from_msgspec_error(caught.value, Order)
    assert issue.path == "items[0].colour"
    assert issue.message.endswith("Valeurs possibles : blue, red.")
