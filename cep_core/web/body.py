"""Strict decoding of JSON request bodies.

Litestar converts request bodies with ``msgspec.convert(..., strict=False)``, which accepts
``"true"`` or ``1`` for a boolean and ``"12"`` for an integer: a client sending the wrong type
would be silently "understood". The contract says a wrong type is a 400, so this
``before_request`` hook first decodes the raw body with msgspec in strict mode against the
handler's ``data`` type and stops the request with the field's path when it does not fit.
Litestar then decodes the same body again for the handler (a few microseconds); this keeps
the handler signature, and so the OpenAPI document, plain Litestar.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec
from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.params import BodyKwarg

from cep_core.domain.issues import InvalidInput, Issue
from cep_core.validation import issues_from_msgspec_error


@cache
def _decoder(model: type[msgspec.Struct]) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(model, strict=True)


def _json_struct_model(request: Request[Any, Any, Any]) -> type[msgspec.Struct] | None:
    """The Struct the handler reads from a JSON body, or None (no body, other media types)."""
    field = request.route_handler.parsed_data_field
    if field is None:
        return None
    kwarg = field.kwarg_definition
    if isinstance(kwarg, BodyKwarg) and kwarg.media_type != RequestEncodingType.JSON:
        return None
    model = field.annotation
    if isinstance(model, type) and issubclass(model, msgspec.Struct):
        return model
    return None


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    """``before_request`` hook: raise `InvalidInput` (a 400) unless the body fits strictly.

    Reading the body here also enforces ``request_max_body_size`` (413) before any decoding.
    """
    model = _json_struct_model(request)
    if model is None:
        return
    body = await request.body()
    if not body.strip():
        raise InvalidInput(
            [
                Issue(
                    path="",
                    code="empty_body",
                    message="Le corps de la requête est vide : un objet JSON est attendu.",
                )
            ]
        )
    try:
        _decoder(model).decode(body)
    except msgspec.MsgspecError as exc:
        raise InvalidInput(issues_from_msgspec_error(exc, model)) from exc


def refuse_unknown_query(
    request: Request[Any, Any, Any],
    known: frozenset[str],
    hints: dict[str, str] | None = None,
) -> None:
    """A query parameter the route does not know would be silently ignored (a mistyped
    filter returns everything): refuse it with a 400 naming the accepted ones.

    `hints` gives a better message for names a client is likely to try (``name`` on the
    case list: a name never goes in an address).
    """
    unknown = sorted(set(request.query_params) - known)
    if not unknown:
        return
    accepted = ", ".join(sorted(known))
    raise InvalidInput(
        [
            Issue(
                path=name[:100],
                code="unknown_parameter",
                message=(hints or {}).get(name)
                or f"Paramètre inconnu (paramètres acceptés : {accepted}).",
            )
            for name in unknown[:10]
        ]
    )
