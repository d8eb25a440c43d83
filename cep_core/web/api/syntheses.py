"""``/api/v1/cases/{case_id}/syntheses``: produce, list and download documents de synthèse.

Thin on purpose: `SynthesisService` decides (content hash, versions, journal); this module
runs it off the event loop and says how long it took.

- ``POST`` starts the production in a worker thread (the PDF itself is rendered in a
  separate process) and waits a short moment: the synthesis is answered then (201 for a new
  version, 200 when the stored one was unchanged), else 202 with a status URL to poll;
- ``GET .../syntheses/jobs/{job_id}`` is that status: 202 while it runs, then 200 with the
  synthesis, or the error (422, 503...) in the one problem format;
- ``GET`` lists every stored version; ``GET .../{synthesis_id}/pdf`` returns the stored PDF
  — never rendered again — and writes ``synthesis_downloaded`` in the case journal.

Jobs live in memory, per app (``app.state``): a status URL is answered by the process that
started the job. A job is kept one hour after it ends.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Annotated, Any, Final

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, PathParameter
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_202_ACCEPTED,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from cep_core.documents.errors import (
    DocumentError,
    DocumentTooLarge,
    RenderFailed,
    RenderTimeout,
)
from cep_core.domain.case import Level
from cep_core.domain.synthesis import Synthesis
from cep_core.kit import Kit
from cep_core.services.syntheses import (
    GeneratedSynthesis,
    SynthesisNotAvailable,
    SynthesisNotFound,
    synthesis_service,
)
from cep_core.web.api.case_http import (
    BEARER_SECURITY,
    CASES_PATH,
    CaseId,
    require_client,
)
from cep_core.web.audit import audited
from cep_core.web.auth import ApiClient
from cep_core.web.errors import problem_response
from cep_core.web.idempotency import IDEMPOTENT_ROUTE
from cep_core.web.openapi import problem_responses

# How long POST waits for the PDF before answering 202 with a status URL.
SHORT_WAIT_SECONDS: Final = 2.0
JOB_RETENTION_SECONDS: Final = 3600
MAX_JOBS: Final = 1000
JOB_THREADS: Final = 8
STATE_KEY: Final = "cep_synthesis_jobs"

SynthesisId = Annotated[str, PathParameter(description="Identifiant de la version.")]
JobId = Annotated[str, PathParameter(description="Identifiant de la production en cours.")]


class SynthesisCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    level: Annotated[
        Level,
        msgspec.Meta(
            title="Niveau",
            description="1 (accueil individualisé) ou 2 (accompagnement personnalisé).",
        ),
    ]


class SynthesisOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    case_id: str
    level: int
    version: int
    content_hash: str
    created_at: datetime
    author: str | None
    size: int
    pdf_url: str

    @classmethod
    def from_domain(cls, synthesis: Synthesis) -> SynthesisOut:
        return cls(
            id=synthesis.id,
            case_id=synthesis.case_id,
            level=int(synthesis.level),
            version=synthesis.version,
            content_hash=synthesis.content_hash,
            created_at=synthesis.created_at,
            author=synthesis.author,
            size=synthesis.size,
            pdf_url=pdf_url(synthesis.case_id, synthesis.id),
        )


class SynthesisAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """``status``: ``created`` (new version), ``unchanged`` (stored one) or ``pending``."""

    status: str
    synthesis: SynthesisOut | None = None
    status_url: str | None = None


class SynthesisListOut(msgspec.Struct, frozen=True, kw_only=True):
    syntheses: tuple[SynthesisOut, ...]


def syntheses_url(case_id: str) -> str:
    from cep_core.web.api import API_PREFIX

    return f"{API_PREFIX}{CASES_PATH}/{case_id}/syntheses"


def pdf_url(case_id: str, synthesis_id: str) -> str:
    return f"{syntheses_url(case_id)}/{synthesis_id}/pdf"


@dataclasses.dataclass
class Job:
    id: str
    operator: str
    case_id: str
    future: Future[GeneratedSynthesis]
    finished_at: float | None = None


class SynthesisJobs:
    """Productions started by this app: a bounded thread pool and their futures."""

    def __init__(self, threads: int = JOB_THREADS) -> None:
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="cep-synthesis")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def submit(self, operator: str, case_id: str, work: Callable[[], GeneratedSynthesis]) -> Job:
        job = Job(
            id=uuid.uuid4().hex,
            operator=operator,
            case_id=case_id,
            future=self._executor.submit(work),
        )
        job.future.add_done_callback(lambda _: setattr(job, "finished_at", time.monotonic()))
        with self._lock:
            self._forget_old()
            self._jobs[job.id] = job
        return job

    def get(self, operator: str, case_id: str, job_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.operator != operator or job.case_id != case_id:
            return None
        return job

    def _forget_old(self) -> None:
        now = time.monotonic()
        for key, job in list(self._jobs.items()):
            if job.finished_at is not None and now - job.finished_at > JOB_RETENTION_SECONDS:
                del self._jobs[key]
        while len(self._jobs) >= MAX_JOBS:
            oldest = next(iter(self._jobs))
            del self._jobs[oldest]


def jobs_of(state: State) -> SynthesisJobs:
    """The app's job registry, created on first use."""
    jobs = state.get(STATE_KEY)
    if jobs is None:
        jobs = SynthesisJobs()
        state[STATE_KEY] = jobs
    assert isinstance(jobs, SynthesisJobs)
    return jobs


def _answer(result: GeneratedSynthesis) -> Response[SynthesisAnswer]:
    synthesis = SynthesisOut.from_domain(result.synthesis)
    return Response(
        SynthesisAnswer(status="created" if result.created else "unchanged", synthesis=synthesis),
        status_code=HTTP_201_CREATED if result.created else HTTP_200_OK,
        headers={"Location": synthesis.pdf_url} if result.created else {},
    )


def _pending(job: Job) -> Response[SynthesisAnswer]:
    url = f"{syntheses_url(job.case_id)}/jobs/{job.id}"
    return Response(
        SynthesisAnswer(status="pending", status_url=url),
        status_code=HTTP_202_ACCEPTED,
        headers={"Location": url, "Retry-After": "1"},
    )


# -- errors (this resource's own; the kit's others are handled app-wide) ---------------------


def _not_found(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return problem_response(HTTP_404_NOT_FOUND, str(exc))


def _not_available(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return problem_response(HTTP_409_CONFLICT, str(exc))


def _document_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """What the content caused (too large, too long to lay out): 422; the rest: 503."""
    if isinstance(exc, DocumentTooLarge | RenderTimeout | RenderFailed):
        return problem_response(HTTP_422_UNPROCESSABLE_ENTITY, str(exc))
    return problem_response(HTTP_503_SERVICE_UNAVAILABLE, str(exc), headers={"Retry-After": "5"})


DESCRIPTIONS: Final[dict[int, str]] = {
    400: "Requête invalide : corps non JSON, champ inconnu, niveau autre que 1 ou 2.",
    401: "Jeton absent, inconnu ou révoqué (``Authorization: Bearer <jeton>``).",
    404: "Dossier, version ou production introuvable pour l'opérateur du jeton (ceux d'un "
    "autre opérateur le sont aussi).",
    409: "Le dossier n'a pas atteint le niveau demandé.",
    413: "Corps de requête trop volumineux (1 Mo au plus).",
    422: "Le document n'a pas pu être produit à cause de son contenu : trop volumineux, ou "
    "mise en page plus longue que le temps limite. Le message dit quoi faire.",
    500: "Erreur interne, sans détail technique (elle est journalisée côté serveur).",
    503: "Production des documents momentanément indisponible (tous les moteurs occupés, "
    "moteur arrêté, modèle d'un opérateur inutilisable) ; réessayez (``Retry-After``).",
}


def _responses(*statuses: int) -> dict[int, ResponseSpec]:
    specs = problem_responses(*statuses)
    return {
        status: dataclasses.replace(spec, description=DESCRIPTIONS.get(status, spec.description))
        for status, spec in specs.items()
    }


CreateBody = Annotated[
    SynthesisCreate,
    Body(
        title="Document de synthèse à produire",
        description="Le niveau du document. Tout autre champ est refusé.",
        examples=[Example(summary="Synthèse du niveau 2", value={"level": 2})],
    ),
]


class SynthesisController(Controller):
    path = CASES_PATH + "/{case_id:str}/syntheses"
    tags = ["Documents de synthèse"]  # noqa: RUF012 (Litestar reads it as a class attribute)
    guards = [require_client]  # noqa: RUF012
    security = BEARER_SECURITY
    exception_handlers = {  # noqa: RUF012
        SynthesisNotFound: _not_found,
        SynthesisNotAvailable: _not_available,
        DocumentError: _document_error,
    }

    @audited("synthesis.generate", "case")
    @post(
        "/",
        status_code=HTTP_201_CREATED,
        operation_id="produireSynthese",
        **IDEMPOTENT_ROUTE,
        summary="Produire le document de synthèse d'un niveau",
        description=(
            "Produit le PDF du document de synthèse du niveau demandé (en-tête, contenu légal "
            "du niveau, sections de l'opérateur ; jamais les notes confidentielles). Si le "
            "dossier n'a pas changé depuis la dernière version de ce niveau, celle-ci est "
            "renvoyée telle quelle (200, ``unchanged``) ; sinon une nouvelle version est "
            "enregistrée (201, ``created``), les précédentes restent disponibles. Si la mise "
            f"en page dure plus de {SHORT_WAIT_SECONDS:g} s, la réponse est 202 avec "
            "l'adresse à interroger (``status_url``, ``Location``). Chaque production est "
            "inscrite au journal du dossier."
        ),
        response_description="La version produite, ou la production en cours.",
        responses={
            HTTP_200_OK: ResponseSpec(
                data_container=SynthesisAnswer, description="Dossier inchangé : version existante."
            ),
            HTTP_202_ACCEPTED: ResponseSpec(
                data_container=SynthesisAnswer, description="Production en cours."
            ),
            **_responses(400, 401, 404, 409, 413, 422, 500, 503),
        },
    )
    async def create(
        self,
        case_id: CaseId,
        data: CreateBody,
        request: Request[Any, Any, Any],
        client: NamedDependency[ApiClient],
        kit: NamedDependency[Kit],
    ) -> Response[SynthesisAnswer]:
        service = synthesis_service(kit)
        job = jobs_of(request.app.state).submit(
            client.operator,
            case_id,
            lambda: service.generate(client.operator, case_id, data.level, actor=client.actor),
        )
        try:
            result = await asyncio.wait_for(
                asyncio.shield(asyncio.wrap_future(job.future)), SHORT_WAIT_SECONDS
            )
        except TimeoutError:
            return _pending(job)
        return _answer(result)

    @audited("synthesis.read", "case")
    @get(
        "/jobs/{job_id:str}",
        operation_id="suivreProductionSynthese",
        summary="Suivre une production de document de synthèse",
        description=(
            "202 tant que la production dure ; puis 200 avec la version produite, ou l'erreur "
            "qui l'a empêchée (422, 503...)."
        ),
        response_description="La production terminée.",
        responses={
            HTTP_202_ACCEPTED: ResponseSpec(
                data_container=SynthesisAnswer, description="Production en cours."
            ),
            **_responses(401, 404, 409, 422, 500, 503),
        },
    )
    async def job(
        self,
        case_id: CaseId,
        job_id: JobId,
        request: Request[Any, Any, Any],
        client: NamedDependency[ApiClient],
    ) -> Response[SynthesisAnswer]:
        job = jobs_of(request.app.state).get(client.operator, case_id, job_id)
        if job is None:
            raise SynthesisNotFound(job_id)
        if not job.future.done():
            return _pending(job)
        answer = _answer(job.future.result())  # re-raises the job's error for the handlers
        answer.status_code = HTTP_200_OK
        return answer

    @audited("synthesis.list", "case")
    @get(
        "/",
        sync_to_thread=True,
        operation_id="listerSyntheses",
        summary="Lister les documents de synthèse d'un dossier",
        description=(
            "Toutes les versions enregistrées : niveau 1 d'abord, la plus récente d'abord dans "
            "chaque niveau, avec leur empreinte (``content_hash``), leur date, leur auteur et "
            "l'adresse de leur PDF."
        ),
        response_description="Les versions du dossier.",
        responses=_responses(401, 404, 500, 503),
    )
    def list_syntheses(
        self, case_id: CaseId, client: NamedDependency[ApiClient], kit: NamedDependency[Kit]
    ) -> SynthesisListOut:
        found = synthesis_service(kit).list_for_case(client.operator, case_id)
        return SynthesisListOut(syntheses=tuple(SynthesisOut.from_domain(s) for s in found))

    @audited("synthesis.download", "case")
    @get(
        "/{synthesis_id:str}/pdf",
        sync_to_thread=True,
        media_type="application/pdf",
        operation_id="telechargerSynthese",
        summary="Télécharger le PDF d'un document de synthèse",
        description=(
            "Le PDF enregistré de cette version (jamais refait), balisé et accessible "
            "(PDF/UA). Chaque téléchargement est inscrit au journal du dossier."
        ),
        response_description="Le PDF.",
        responses=_responses(401, 404, 500, 503),
    )
    def pdf(
        self,
        case_id: CaseId,
        synthesis_id: SynthesisId,
        client: NamedDependency[ApiClient],
        kit: NamedDependency[Kit],
    ) -> Response[bytes]:
        synthesis, pdf = synthesis_service(kit).download(
            client.operator, case_id, synthesis_id, actor=client.actor
        )
        name = f"synthese-niveau-{int(synthesis.level)}-v{synthesis.version}.pdf"
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
                "ETag": f'"{synthesis.content_hash}"',
            },
        )
