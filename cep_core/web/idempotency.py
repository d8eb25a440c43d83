"""The ``Idempotency-Key`` header on creating routes (REL-10), as an ASGI middleware.

A route opts in with ``opt={"idempotent": True}`` (and ``operation_class=IdempotentOperation``
so the OpenAPI document says so; `IDEMPOTENT_ROUTE` carries both). The key is optional: a
client that sends none gets today's behaviour, since refusing it would break every existing
client and the public form posts no API request. With a key, for one caller (operator and
actor):

- the first request runs and its answer (status, ``Location``, ``ETag``, ``Content-Type``...,
  body) is stored, 4xx included (Stripe semantics: the same request would fail the same way);
- the same key with the same request (method, path, canonical body) replays that answer,
  marked ``Idempotent-Replayed: true``, and creates nothing;
- the same key with another request: 422; while the first still runs: 409 with Retry-After;
- a 5xx or an exception releases the key: the failure is not stored, the client may retry.

It runs inside the kit's router, after routing (it reads the route's ``opt``) and inside
Litestar's exception handling (the handler's errors reach it as finished responses, in the
kit's French format); the body it reads is cached by Litestar for the strict decoding and the
handler. The caller is authenticated here first (the same cached client the handler gets).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import anyio.to_thread
from litestar import Request
from litestar.enums import ParamType, ScopeType
from litestar.exceptions import HTTPException
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Schema,
)
from litestar.status_codes import HTTP_409_CONFLICT, HTTP_422_UNPROCESSABLE_ENTITY

from cep_core.domain.issues import InvalidInput, Issue
from cep_core.services.idempotency import (
    Claimed,
    InProgress,
    Mismatch,
    Replay,
    StoredAnswer,
    caller_scope,
    fingerprint,
)
from cep_core.web.auth import provide_client
from cep_core.web.errors import PROBLEM_MEDIA_TYPE

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from cep_core.kit import Kit

HEADER: Final = "Idempotency-Key"
OPT_KEY: Final = "idempotent"
MAX_KEY_LENGTH: Final = 255
KEY_PATTERN: Final = "^[!-~]{1,255}$"  # 1 to 255 visible ASCII characters
_KEY_RE: Final = re.compile(KEY_PATTERN)
REPLAYED_HEADER: Final = "Idempotent-Replayed"
# The headers of the first answer that a replay gives back (the others are recomputed).
KEPT_HEADERS: Final = frozenset(
    {"content-type", "location", "etag", "retry-after", "content-disposition", "cache-control"}
)

HEADER_DESCRIPTION: Final = (
    "Facultatif. Une clé choisie par le client (1 à 255 caractères ASCII visibles, par "
    "exemple un UUID) pour rejouer la requête sans risque : même clé et même requête, la "
    "même réponse est renvoyée (en-tête ``Idempotent-Replayed: true``) et rien n'est créé "
    "une seconde fois ; même clé et autre requête : 422 ; pendant que la première requête "
    "est en cours : 409 (``Retry-After``). Les clés sont propres à chaque client et "
    "gardées 24 heures. Une requête qui échoue côté serveur (5xx) libère sa clé."
)
CONFLICT_DESCRIPTION: Final = (
    "Une requête avec la même clé ``Idempotency-Key`` est encore en cours : réessayez "
    "après ``Retry-After`` secondes."
)
MISMATCH_DESCRIPTION: Final = (
    "La clé ``Idempotency-Key`` a déjà servi pour une autre requête (autre corps ou autre "
    "adresse) : choisissez une nouvelle clé."
)


@dataclasses.dataclass
class IdempotentOperation(Operation):
    """An OpenAPI operation that documents ``Idempotency-Key`` and its 409 and 422 answers."""

    def __post_init__(self) -> None:
        header = Parameter(
            name=HEADER,
            param_in=ParamType.HEADER,
            required=False,
            description=HEADER_DESCRIPTION,
            schema=Schema(
                type=OpenAPIType.STRING,
                min_length=1,
                max_length=MAX_KEY_LENGTH,
                pattern=KEY_PATTERN,
            ),
        )
        self.parameters = [*(self.parameters or []), header]
        responses = dict(self.responses or {})
        # The problem format's schema, as the route's other error answers reference it.
        problem = next(
            (
                r.content[PROBLEM_MEDIA_TYPE]
                for r in responses.values()
                if isinstance(r, OpenAPIResponse) and r.content and PROBLEM_MEDIA_TYPE in r.content
            ),
            None,
        )
        content = (
            None
            if problem is None
            else {PROBLEM_MEDIA_TYPE: OpenAPIMediaType(schema=problem.schema)}
        )
        for status, text in (
            (HTTP_409_CONFLICT, CONFLICT_DESCRIPTION),
            (HTTP_422_UNPROCESSABLE_ENTITY, MISMATCH_DESCRIPTION),
        ):
            existing = responses.get(str(status))
            if isinstance(existing, OpenAPIResponse):
                responses[str(status)] = dataclasses.replace(
                    existing, description=f"{existing.description} Ou : {text}"
                )
            elif existing is None:
                responses[str(status)] = OpenAPIResponse(description=text, content=content)
        self.responses = responses


IDEMPOTENT_ROUTE: Final[dict[str, Any]] = {
    "opt": {OPT_KEY: True},
    "operation_class": IdempotentOperation,
}
"""Keyword arguments of a creating route's decorator: ``@post(..., **IDEMPOTENT_ROUTE)``."""


def idempotency_middleware(kit: Kit) -> Callable[[ASGIApp], ASGIApp]:
    """The middleware factory for the kit's router (`CepPlugin`).

    A closure, not ``DefineMiddleware(..., kit=kit)``: Litestar deep-copies routers, and a
    function is copied by reference where the kit (modules, connections) cannot be copied.
    """

    def factory(app: ASGIApp) -> ASGIApp:
        return IdempotencyMiddleware(app, kit)

    return factory


def _key_of(request: Request[Any, Any, Any]) -> str | None:
    values = request.headers.getall(HEADER, [])
    if not values:
        return None
    key = values[0]
    if len(values) > 1 or not _KEY_RE.fullmatch(key):
        raise InvalidInput(
            [
                Issue(
                    path=HEADER,
                    code="invalid_idempotency_key",
                    message="L'en-tête « Idempotency-Key » doit être unique et compter de 1 "
                    "à 255 caractères ASCII visibles (sans espace ni accent), par exemple "
                    "un UUID.",
                )
            ]
        )
    return key


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, kit: Kit) -> None:
        self.app = app
        self.kit = kit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if scope["type"] != ScopeType.HTTP or handler is None or not handler.opt.get(OPT_KEY):
            await self.app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope, receive)
        key = _key_of(request)
        if key is None:  # optional: without a key, the request runs as before
            await self.app(scope, receive, send)
            return
        kit = self.kit
        client = await provide_client(request, kit)
        body = await request.body()
        target = scope["path"]
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        print_ = fingerprint(request.method, target, body)
        keyscope = caller_scope(client.operator, client.actor)
        service = kit.idempotency
        claim = await anyio.to_thread.run_sync(
            service.claim, keyscope, key, client.operator, print_
        )
        if isinstance(claim, Replay):
            await _replay(claim.answer, send)
            return
        if isinstance(claim, Mismatch):
            raise HTTPException(
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
                detail="Cette clé « Idempotency-Key » a déjà servi pour une autre requête "
                "(autre corps ou autre adresse) : choisissez une nouvelle clé pour une "
                "nouvelle requête.",
            )
        if isinstance(claim, InProgress):
            raise HTTPException(
                status_code=HTTP_409_CONFLICT,
                detail="Une requête avec la même clé « Idempotency-Key » est encore en "
                f"cours : réessayez dans {claim.retry_after} seconde(s).",
                headers={"Retry-After": str(claim.retry_after)},
            )
        assert isinstance(claim, Claimed)
        await self._run(scope, receive, send, keyscope, key, claim.lease)

    async def _run(
        self, scope: Scope, receive: Receive, send: Send, keyscope: str, key: str, lease: str
    ) -> None:
        """Run the request, capturing its answer; store it, or release the key on 5xx."""
        service = self.kit.idempotency
        status = 0
        headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []
        finished = False

        async def capture(message: Message) -> None:
            nonlocal status, finished
            if message["type"] == "http.response.start":
                status = int(message["status"])
                for name, value in message.get("headers", ()):
                    if name.decode("latin-1").lower() in KEPT_HEADERS:
                        headers.append((name.decode("latin-1").lower(), value.decode("latin-1")))
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
                finished = not message.get("more_body", False)
            await send(message)

        stored = False
        try:
            await self.app(scope, receive, capture)
            if finished and 0 < status < 500:
                answer = StoredAnswer(status=status, headers=headers, body=b"".join(chunks))
                await anyio.to_thread.run_sync(service.complete, keyscope, key, lease, answer)
                stored = True
        finally:
            if not stored:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(service.release, keyscope, key, lease)


async def _replay(answer: StoredAnswer, send: Send) -> None:
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in answer.headers]
    headers.append((b"content-length", str(len(answer.body)).encode()))
    headers.append((REPLAYED_HEADER.lower().encode(), b"true"))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body, "more_body": False})
