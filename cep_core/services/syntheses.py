"""Syntheses use case: produce, store, list and hand out a case's documents de synthèse.

`generate` builds the HTML from the case (header, the sections of ``cep_synthesis_sections``,
the page of ``cep_synthesis_template``), hashes it, and renders a PDF only when the hash
differs from the latest stored version of that level: regenerating an unchanged case returns
the stored version (``created=False``), and a changed case gets version n + 1, the older ones
kept. `download` reads the stored PDF, never renders. Both write a line in the case journal
(``synthesis_generated`` / ``synthesis_downloaded``, the reason being the level code, never
content), in the same transaction, and plugins hear of it after commit.

The case is always read WITHOUT the counsellors' confidential notes: the hooks and the
templates never see them. Rendering goes through ``cep_render_pdf`` (by default WeasyPrint in
worker processes, see `cep_core.documents.pool`); it blocks the calling thread, so web
handlers call these methods from a worker thread (or `generate_async`), never on the loop.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import ModuleType
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy.exc import IntegrityError

from cep_core.clock import Clock, today_in_france
from cep_core.documents.errors import DocumentError, NoRenderer
from cep_core.documents.synthesis import (
    BuiltSynthesis,
    SynthesisBuilder,
    TemplateProblem,
    branding_for,
    synthesis_header,
)
from cep_core.domain.case import Beneficiary, Case, CaseEvent, Level
from cep_core.domain.context import OperatorContext, Role
from cep_core.domain.synthesis import Synthesis
from cep_core.errors import CaseNotFound, CepError, PluginFailure
from cep_core.plugins import Hooks, PluginRegistry
from cep_core.storage.database import Database
from cep_core.storage.ids import is_id
from cep_core.storage.repositories import (
    BeneficiaryRepository,
    CaseEventRepository,
    CaseRepository,
)
from cep_core.storage.syntheses import SynthesisRepository
from cep_core.storage.tables import ACTOR_LENGTH

if TYPE_CHECKING:
    from cep_core.kit import Kit

GENERATED = "synthesis_generated"
DOWNLOADED = "synthesis_downloaded"
WRITE_ATTEMPTS = 3

# Names shown for a referral to an operator this deployment does not install.
KNOWN_OPERATOR_NAMES = {
    "apec": "Apec",
    "pole_emploi": "France Travail",
    "mission_locale": "Mission locale",
    "cap_emploi": "Cap emploi",
    "regional": "Opérateur régional du CEP",
}


class SynthesisNotFound(CepError):
    """No such synthesis for this case and operator (another operator's is "not found")."""

    def __init__(self, synthesis_id: str) -> None:
        self.synthesis_id = synthesis_id
        super().__init__("Document de synthèse introuvable.")


class SynthesisNotAvailable(CepError):
    """The case has not reached the level asked for."""

    def __init__(self, level: Level) -> None:
        self.level = level
        super().__init__(
            f"Le dossier n'a pas atteint le niveau {int(level)} : son document de synthèse de "
            "ce niveau ne peut pas encore être produit."
        )


class GeneratedSynthesis(msgspec.Struct, frozen=True, kw_only=True):
    """The synthesis asked for; ``created`` is False when an unchanged version was reused."""

    synthesis: Synthesis
    created: bool


def synthesis_service(kit: Kit) -> SynthesisService:
    """`kit`'s service (its database, hooks, plugins and clock): `Kit.syntheses`, built once per
    kit so its compiled templates are reused, and gone with the kit."""
    return kit.syntheses


def plugin_package(plugin: object) -> str:
    """The top-level package a plugin object comes from (where its templates live)."""
    module = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__
    return module.split(".", 1)[0]


def level_of(value: Level | int) -> Level:
    try:
        return Level(value)
    except ValueError:
        raise ValueError("Niveau inconnu : 1 ou 2 attendu.") from None


class SynthesisService:
    def __init__(
        self,
        database: Database,
        hooks: Hooks,
        registry: PluginRegistry,
        *,
        clock: Clock,
        builder: SynthesisBuilder | None = None,
    ) -> None:
        self._database = database
        self._hooks = hooks
        self._registry = registry
        self._clock = clock
        self._builder = builder or SynthesisBuilder()

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC)

    def _context(self, operator: str, actor: str | None) -> OperatorContext:
        return OperatorContext(
            operator=operator,
            today=today_in_france(self._clock),
            actor=actor,
            role=Role.SYSTEM if actor is None else Role.COUNSELLOR,
        )

    # -- building --------------------------------------------------------------------------

    def _load(self, operator: str, case_id: str) -> tuple[Case, Beneficiary | None]:
        self._hooks.operator(operator)  # UnknownOperator
        if not is_id(case_id):
            raise CaseNotFound(case_id)
        with self._database.read() as connection:
            case = CaseRepository(connection, operator).get(case_id)
            if case is None:
                raise CaseNotFound(case_id)
            person = BeneficiaryRepository(connection, operator).get(case.beneficiary_id)
        return case.without_confidential_notes(), person

    def build(
        self, operator: str, case_id: str, level: Level | int, *, actor: str | None = None
    ) -> BuiltSynthesis:
        """The synthesis' HTML, render request and content hash; nothing rendered or stored."""
        level = level_of(level)
        case, person = self._load(operator, case_id)
        if case.level is None or case.level < level:
            raise SynthesisNotAvailable(level)
        ctx = self._context(operator, actor)
        sections = self._hooks.synthesis_sections(ctx, case, level)
        seen: set[str] = set()
        for section in sections:
            if section.id in seen:
                raise TemplateProblem(section.template, f"section « {section.id} » en double")
            seen.add(section.id)
        template = self._hooks.synthesis_template(ctx, level)
        record = self._registry.operator(operator)
        branding = branding_for(record.info, ctx.today, plugin_package(record.plugin))
        names = dict(KNOWN_OPERATOR_NAMES)
        names.update({r.info.id: r.info.label(ctx.today) for r in self._registry.operators()})
        return self._builder.build(
            synthesis_header(case, person, level), branding, sections, template, names
        )

    def _render(self, built: BuiltSynthesis) -> bytes:
        try:
            pdf = self._hooks.render_pdf(built.request)
        except PluginFailure as failure:
            if isinstance(failure.cause, DocumentError):
                raise failure.cause from failure
            raise
        if pdf is None:
            raise NoRenderer()
        return pdf

    # -- use cases -------------------------------------------------------------------------

    def generate(
        self, operator: str, case_id: str, level: Level | int, *, actor: str | None = None
    ) -> GeneratedSynthesis:
        """The case's synthesis of `level`: the stored one if unchanged, else a new version.

        Raises `CaseNotFound`, `SynthesisNotAvailable`, `UnknownOperator`, `PluginFailure`, or
        a `DocumentError` (time limit, too large, renderer failure) with a French message.
        """
        level = level_of(level)
        author = _actor(actor)
        built = self.build(operator, case_id, level, actor=author)
        with self._database.read() as connection:
            latest = SynthesisRepository(connection, operator).latest(case_id, level)
        if latest is not None and latest.content_hash == built.content_hash:
            return GeneratedSynthesis(synthesis=latest, created=False)
        pdf = self._render(built)
        ctx = self._context(operator, author)
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self._database.write() as connection:
                    repository = SynthesisRepository(connection, operator)
                    if not repository.lock_case(case_id):
                        raise CaseNotFound(case_id)
                    latest = repository.latest(case_id, level)
                    if latest is not None and latest.content_hash == built.content_hash:
                        return GeneratedSynthesis(synthesis=latest, created=False)
                    stored = repository.add(
                        case_id=case_id,
                        level=level,
                        content_hash=built.content_hash,
                        created_at=self._now(),
                        author=author,
                        pdf=pdf,
                    )
                    event = CaseEventRepository(connection, operator).append(
                        case_id=case_id,
                        at=stored.created_at,
                        kind=GENERATED,
                        actor=author,
                        reason=f"level_{int(level)}",
                    )
                break
            except IntegrityError:
                # Another writer took this version (or journal line) first: look again.
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
        self._hooks.case_event(ctx, event)
        return GeneratedSynthesis(synthesis=stored, created=True)

    async def generate_async(
        self, operator: str, case_id: str, level: Level | int, *, actor: str | None = None
    ) -> GeneratedSynthesis:
        """`generate` from async code: it runs in a worker thread, off the event loop."""
        import functools

        import anyio.to_thread

        call = functools.partial(self.generate, operator, case_id, level, actor=actor)
        return await anyio.to_thread.run_sync(call)

    def list_for_case(self, operator: str, case_id: str) -> list[Synthesis]:
        """Every stored version of the case's syntheses (level 1 first, newest first)."""
        self._hooks.operator(operator)
        if not is_id(case_id):
            raise CaseNotFound(case_id)
        with self._database.read() as connection:
            if CaseRepository(connection, operator).get(case_id) is None:
                raise CaseNotFound(case_id)
            return SynthesisRepository(connection, operator).for_case(case_id)

    def get(self, operator: str, case_id: str, synthesis_id: str) -> Synthesis:
        self._hooks.operator(operator)
        if not (is_id(case_id) and is_id(synthesis_id)):
            raise SynthesisNotFound(synthesis_id)
        with self._database.read() as connection:
            found = SynthesisRepository(connection, operator).get(case_id, synthesis_id)
        if found is None:
            raise SynthesisNotFound(synthesis_id)
        return found

    def download(
        self, operator: str, case_id: str, synthesis_id: str, *, actor: str | None = None
    ) -> tuple[Synthesis, bytes]:
        """The stored PDF (never rendered again), and a journal line saying who took it."""
        self._hooks.operator(operator)
        if not (is_id(case_id) and is_id(synthesis_id)):
            raise SynthesisNotFound(synthesis_id)
        author = _actor(actor)
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self._database.write() as connection:
                    found = SynthesisRepository(connection, operator).pdf(case_id, synthesis_id)
                    if found is None:
                        raise SynthesisNotFound(synthesis_id)
                    synthesis, pdf = found
                    event: CaseEvent = CaseEventRepository(connection, operator).append(
                        case_id=case_id,
                        at=self._now(),
                        kind=DOWNLOADED,
                        actor=author,
                        reason=f"level_{int(synthesis.level)}",
                    )
                break
            except IntegrityError:
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
        self._hooks.case_event(self._context(operator, author), event)
        return synthesis, pdf


def _actor(actor: str | None) -> str | None:
    if actor is not None and not 1 <= len(actor) <= ACTOR_LENGTH:
        raise ValueError(f"actor must be 1 to {ACTOR_LENGTH} characters")
    return actor
