"""French messages for msgspec decoding errors, shared by the API and the CLI.

msgspec reports validation errors in English ("Expected `str`, got `int` - at `$.status`");
`issue_from_msgspec` turns them into a French message and a dotted field path (the whole
document is the empty path), so a person gets the same explanation over HTTP and in a terminal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import msgspec

from cep_core.domain.issues import Issue

TYPE_NAMES: Final[Mapping[str, str]] = {
    "str": "un texte",
    "int": "un nombre entier",
    "float": "un nombre",
    "bool": "un booléen (true ou false)",
    "null": "null",
    "object": "un objet JSON",
    "array": "un tableau JSON",
    "date": "une date (AAAA-MM-JJ)",
    "datetime": "une date et heure (RFC 3339)",
    "time": "une heure (HH:MM:SS)",
    "uuid": "un UUID",
    "decimal": "un nombre décimal",
    "bytes": "des données base64",
}

COMPARISONS: Final[Mapping[str, str]] = {
    ">=": "supérieur ou égal à",
    ">": "strictement supérieur à",
    "<=": "inférieur ou égal à",
    "<": "strictement inférieur à",
}

_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_EXPECTED_GOT = re.compile(r"^Expected `(?P<expected>[^`]+)`, got `(?P<got>[^`]+)`$")
_LENGTH = re.compile(r"^Expected `(?P<type>\w+)` of length (?P<op>[<>]=?) (?P<n>\d+)$")
_BOUND = re.compile(r"^Expected `(?P<type>\w+)` (?P<op>[<>]=?) (?P<n>\S+)$")
_MULTIPLE = re.compile(r"^Expected `(?P<type>\w+)` that's a multiple of (?P<n>\S+)$")
_PATTERN = re.compile(r"^Expected `str` matching regex (?P<regex>.+)$")
_UNKNOWN_FIELD = re.compile(r"^Object contains unknown field `(?P<field>[^`]*)`$")
_MISSING_FIELD = re.compile(r"^Object missing required field `(?P<field>[^`]*)`$")
_ENUM = re.compile(r"^Invalid enum value (?P<value>.+)$")
_RFC3339 = re.compile(r"^Invalid RFC3339 encoded (?P<kind>date|datetime|time)$")
_BYTE = re.compile(r"\(byte (?P<n>\d+)\)")


def _type_name(spec: str) -> str:
    """``str | null`` -> ``un texte ou null``."""
    parts = [TYPE_NAMES.get(p.strip(), f"`{p.strip()}`") for p in spec.split("|")]
    return " ou ".join(parts)


def _join(path: str, field: str) -> str:
    return f"{path}.{field}" if path else field


def json_path(raw: str | None) -> str:
    """``$.a.b[0]`` (msgspec) -> ``a.b[0]``; the whole body is the empty path."""
    return (raw or "").removeprefix(".")


def _unwrapped(info: Any) -> Any:
    """Strip what hides a field's real type: ``Meta`` wrappers and ``| None``."""
    mi = msgspec.inspect
    while True:
        if isinstance(info, mi.Metadata):
            info = info.type
        elif isinstance(info, mi.UnionType):
            info = next((t for t in info.types if not isinstance(t, mi.NoneType)), None)
        else:
            return info


def _choices_at(model: Any, path: str) -> list[str]:
    """Allowed values of the enum or literal field at `path` of `model` (empty if unknown)."""
    mi = msgspec.inspect
    info: Any = mi.type_info(model)
    for part in filter(None, re.split(r"\.|\[\d+\]", path)):
        info = _unwrapped(info)
        while isinstance(info, mi.ListType | mi.VarTupleType):
            info = _unwrapped(info.item_type)
        if not isinstance(info, mi.StructType):
            return []
        info = next((f.type for f in info.fields if f.encode_name == part), None)
    info = _unwrapped(info)
    if isinstance(info, mi.EnumType):
        return sorted(str(member.value) for member in info.cls)
    if isinstance(info, mi.LiteralType):
        return sorted(str(value) for value in info.values)
    return []


def issue_from_msgspec(text: str, base_path: str = "", model: Any = None) -> Issue:
    """Translate one msgspec validation message into a French `Issue` with its field path.

    `base_path` is where the message's ``$`` is (Litestar reports keys relative to the body);
    `model`, when known, lets an enum error list the allowed values. Unknown messages keep
    their English text inside a French sentence rather than vanish.
    """
    match = _AT.match(text.strip())
    message, raw_path = (match["message"], match["path"]) if match else (text, None)
    path = _join(base_path, json_path(raw_path)) if raw_path else base_path

    if m := _UNKNOWN_FIELD.match(message):
        return Issue(
            path=_join(path, m["field"]),
            code="unknown_field",
            message=f"Champ inconnu « {m['field']} » : retirez-le de la requête.",
        )
    if m := _MISSING_FIELD.match(message):
        return Issue(
            path=_join(path, m["field"]),
            code="missing_field",
            message=f"Le champ « {m['field']} » est obligatoire.",
        )
    if m := _EXPECTED_GOT.match(message):
        return Issue(
            path=path,
            code="invalid_type",
            message=f"Type invalide : {_type_name(m['expected'])} est attendu, "
            f"pas {_type_name(m['got'])}.",
        )
    if m := _ENUM.match(message):
        choices = _choices_at(model, path) if model is not None else []
        allowed = f" Valeurs possibles : {', '.join(choices)}." if choices else ""
        return Issue(
            path=path,
            code="invalid_choice",
            message=f"Valeur non autorisée : {m['value']}.{allowed}",
        )
    if m := _RFC3339.match(message):
        expected = {"date": "AAAA-MM-JJ", "datetime": "RFC 3339", "time": "HH:MM:SS"}[m["kind"]]
        noun = {"date": "Date", "datetime": "Date et heure", "time": "Heure"}[m["kind"]]
        return Issue(
            path=path,
            code="invalid_date",
            message=f"{noun} invalide : le format attendu est {expected}, "
            "avec une date qui existe au calendrier.",
        )
    if m := _LENGTH.match(message):
        unit = "caractères" if m["type"] == "str" else "éléments"
        limit = {"<=": "au plus", ">=": "au moins", "<": "moins de", ">": "plus de"}[m["op"]]
        return Issue(
            path=path,
            code="invalid_length",
            message=f"Longueur invalide : {limit} {m['n']} {unit} attendus.",
        )
    if m := _BOUND.match(message):
        return Issue(
            path=path,
            code="out_of_range",
            message=f"Valeur hors limites : un nombre {COMPARISONS[m['op']]} {m['n']} est attendu.",
        )
    if m := _MULTIPLE.match(message):
        return Issue(
            path=path,
            code="out_of_range",
            message=f"Valeur invalide : un multiple de {m['n']} est attendu.",
        )
    if m := _PATTERN.match(message):
        return Issue(
            path=path,
            code="invalid_format",
            message=f"Format invalide : la valeur doit correspondre au motif {m['regex']}.",
        )
    return Issue(path=path, code="invalid", message=f"Valeur invalide ({message}).")


def issue_from_decode_error(text: str) -> Issue:
    """A body that is not JSON at all (msgspec.DecodeError)."""
    if "truncated" in text:
        detail = "le document JSON est incomplet ou vide"
    elif m := _BYTE.search(text):
        detail = f"caractère inattendu à la position {m['n']}"
    else:
        detail = "le document n'est pas du JSON"
    return Issue(
        path="",
        code="invalid_json",
        message=f"Le corps de la requête n'est pas un JSON valide : {detail}.",
    )


def issues_from_msgspec_error(exc: msgspec.MsgspecError, model: Any = None) -> list[Issue]:
    if isinstance(exc, msgspec.ValidationError):
        return [issue_from_msgspec(str(exc), model=model)]
    return [issue_from_decode_error(str(exc))]
