"""Every request body the app accepts is bounded and strict, read from the route table
(SEC-04, SEC-05): a new route with an unbounded string, list or number, or a body Struct that
accepts unknown fields, fails here without anyone listing it. Path and query parameters carry
opaque ids or enumerations only, never personal data (SEC-11)."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from litestar import Litestar
from pages import page_kit

from cep_core.domain.forms import unbounded_fields
from cep_core.kit import Kit
from cep_core.web.app import create_app

# Query parameters that may carry a person's words: none. Search is by POST (SEC-11); the
# request queue's lookup takes a request *reference* (an opaque code the person was given).
ALLOWED_TEXT_QUERY = {"suite", "reference", "curseur", "cursor", "motif", "message"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Litestar]:
    kit: Kit = page_kit(Path(tmp_path_factory.mktemp("bounds")))
    yield create_app(kit)
    kit.close()


def handlers(app: Litestar) -> Iterator[tuple[str, typing.Any]]:
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            yield route.path, handler


def test_every_json_body_is_a_bounded_strict_struct(app: Litestar) -> None:
    bodies: dict[str, type[msgspec.Struct]] = {}
    for path, handler in handlers(app):
        data = handler.parsed_fn_signature.parameters.get("data")
        if data is not None:
            bodies[f"{sorted(handler.http_methods)} {path}"] = data.annotation
    assert len(bodies) >= 12, bodies
    problems: list[str] = []
    for where, struct in bodies.items():
        if not (isinstance(struct, type) and issubclass(struct, msgspec.Struct)):
            problems.append(f"{where}: body {struct!r} is not a msgspec Struct")
            continue
        if not struct.__struct_config__.forbid_unknown_fields:
            problems.append(f"{where}: {struct.__name__} accepts unknown fields")
        problems += [f"{where}: {struct.__name__}.{f} unbounded" for f in unbounded_fields(struct)]
    assert not problems, "\n".join(problems)


def test_query_parameters_carry_no_free_text(app: Litestar) -> None:
    """Query strings hold enumerations, cursors and opaque codes, each bounded. (Path ids are
    left unbounded on purpose: any malformed id is "not found", 404, before any query.)"""
    problems: list[str] = []
    seen = 0
    for path, handler in handlers(app):
        if path.startswith("/schema"):
            continue  # Litestar's own OpenAPI routes
        for name, parameter in handler.parsed_fn_signature.parameters.items():
            kwarg = parameter.kwarg_definition
            if type(kwarg).__name__ != "ParameterKwarg" or f"{{{name}" in path:
                continue
            if getattr(kwarg, "header", None) or getattr(kwarg, "cookie", None):
                continue  # If-Match and the like
            seen += 1
            args = typing.get_args(parameter.annotation)
            text = parameter.annotation is str or str in args
            if not text:
                continue  # enumerations, numbers, booleans
            if name not in ALLOWED_TEXT_QUERY:
                problems.append(f"{path}: query parameter {name} is free text")
            elif getattr(kwarg, "max_length", None) is None:
                problems.append(f"{path}: query parameter {name} has no max_length")
    assert seen >= 5
    assert not problems, "\n".join(problems)
