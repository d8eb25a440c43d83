"""Default sections of the document de synthèse: the legal content of each level.

Level 1 (arrêté du 29 mars 2019; domain rule 6): the request, the clarified need, the
information given, the shared état des lieux, the decision to continue or not and the
referral if any. Level 2 (rule 8): the services received, the project, the strategy or
strategies, the action plan with the planned skills-development path, the funding plan
(funders, amounts, CPF participation, reste à charge) and the calendrier prévisionnel.

Only completed steps are shown (a draft is not what was agreed with the person); a missing
step shows "Non renseigné à ce jour" under its heading, so every legal heading is always
there. The case this hook receives has no confidential notes (the service strips them), and
nothing here reads them anyway. Operators add sections through the same hook; a section id
must be unique, and an operator restyles a core section by shipping a template of the same
name in its package.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from cep_core.commands import CommandRegistry
from cep_core.defaults.info import builtin_info
from cep_core.domain.case import REFERRAL_REASON_LABELS, Case, Level, ReferralReason
from cep_core.domain.context import OperatorContext
from cep_core.domain.funding import FundingPlan, FundingStatus, ParticipationPayer
from cep_core.domain.plugin_info import PluginInfo, PluginKind
from cep_core.domain.steps import (
    INFORMATION_KIND_LABELS,
    LEVEL_ONE_RECORD,
    LEVEL_TWO_ACTION_PLAN,
    LEVEL_TWO_PROJECT,
    PROJECT_OBJECTIVE_LABELS,
    SERVICE_KIND_LABELS,
    ActionPlan,
    CareerProject,
    Level1Record,
)
from cep_core.domain.synthesis import SynthesisSection
from cep_core.errors import PluginFailure
from cep_core.markers import hookimpl

if TYPE_CHECKING:
    from cep_core.kit import Kit

PLUGIN_ID = "core.synthesis"
SECTIONS = "synthesis/sections/"

FUNDING_STATUS_LABELS: dict[FundingStatus, str] = {
    FundingStatus.REQUESTED: "Demandé",
    FundingStatus.GRANTED: "Accordé",
    FundingStatus.TACITLY_GRANTED: "Accordé (acceptation tacite)",
    FundingStatus.REFUSED: "Refusé",
}
PARTICIPATION_PAYER_LABELS: dict[ParticipationPayer, str] = {
    ParticipationPayer.HOLDER: "à votre charge",
    ParticipationPayer.EMPLOYER: "prise en charge par votre employeur",
    ParticipationPayer.OPCO: "prise en charge par l'OPCO",
    ParticipationPayer.TRAINING_BODY: "prise en charge par l'organisme de formation",
    ParticipationPayer.NONE: "aucune participation due (exonération)",
}

S = TypeVar("S", bound=msgspec.Struct)


@hookimpl
def cep_plugin_info() -> PluginInfo:
    return builtin_info(
        PLUGIN_ID,
        PluginKind.CAPABILITY,
        "Contenu légal du document de synthèse",
        "Sections obligatoires des documents de synthèse des niveaux 1 et 2.",
        source="Arrêté du 29 mars 2019 fixant le cahier des charges du CEP",
    )


@hookimpl(trylast=True)
def cep_synthesis_sections(
    ctx: OperatorContext, case: Case, level: Level
) -> list[SynthesisSection]:
    return level_one_sections(case) if level is Level.ONE else level_two_sections(case)


def read_step(case: Case, step_id: str, model: type[S]) -> tuple[S | None, bool]:
    """The completed answers of a step, read with the core's Struct, and whether they were
    unreadable (stored, completed, but no longer valid: shown as such, never silently blank).

    An operator's replacing step subclasses the core Struct and may add fields: only the
    core's fields are read, so its extra fields never break (nor leak into) the legal part.
    """
    record = case.steps.get(step_id)
    if record is None or not record.completed:
        return None, False
    fields = set(model.__struct_fields__)
    try:
        return msgspec.convert({k: v for k, v in record.data.items() if k in fields}, model), False
    except msgspec.ValidationError:
        return None, True


def completed_step(case: Case, step_id: str, model: type[S]) -> S | None:
    return read_step(case, step_id, model)[0]


def _section(
    section_id: str, title: str, template: str, order: int, **context: Any
) -> SynthesisSection:
    return SynthesisSection(
        id=section_id, title=title, template=SECTIONS + template, order=order, context=context
    )


# -- level 1 ---------------------------------------------------------------------------------


def _referral(case: Case, record: Level1Record | None) -> dict[str, Any] | None:
    if record is not None and record.referral is not None:
        target, reason, note = (
            record.referral.operator,
            record.referral.reason,
            record.referral.note,
        )
    elif case.referral is not None:
        target, reason, note = (
            case.referral.target_operator,
            case.referral.reason,
            case.referral.note,
        )
    else:
        return None
    return {
        "operator": target,
        "reason": REFERRAL_REASON_LABELS.get(ReferralReason(reason), str(reason)),
        "note": note,
    }


def level_one_sections(case: Case) -> list[SynthesisSection]:
    record, unreadable = read_step(case, LEVEL_ONE_RECORD, Level1Record)
    information = (
        [INFORMATION_KIND_LABELS[kind] for kind in record.information_given] if record else []
    )
    return [
        _section("level1.request", "Votre demande et votre besoin", "level1_request.html", 100,
                 record=record, unreadable=unreadable),
        _section("level1.information", "Informations données", "level1_information.html",
                 200, items=information, unreadable=unreadable),
        _section("level1.review", "État des lieux partagé", "text.html", 300,
                 text=record.shared_review if record else None, unreadable=unreadable),
        _section("level1.decision", "Décision et suite donnée", "level1_decision.html", 400,
                 continues=record.continues if record else None,
                 referral=_referral(case, record), unreadable=unreadable),
    ]  # fmt: skip


# -- level 2 ---------------------------------------------------------------------------------


def _sessions_of(case: Case, level: Level) -> tuple[int, int]:
    sessions = [s for s in case.sessions if s.level == level]
    return len(sessions), sum(s.duration_minutes for s in sessions)


def _services_received(case: Case, plan: ActionPlan | None) -> dict[str, Any]:
    from cep_core.documents.formatting import format_minutes

    items = []
    level_one = completed_step(case, LEVEL_ONE_RECORD, Level1Record)
    count, _ = _sessions_of(case, Level.ONE)
    if level_one is not None or count:
        items.append(
            "Accueil individualisé (niveau 1)"
            + (f" : {count} entretien{'s' if count > 1 else ''}" if count else "")
        )
    count, minutes = _sessions_of(case, Level.TWO)
    items.append(
        "Accompagnement personnalisé (niveau 2)"
        + (
            f" : {count} entretien{'s' if count > 1 else ''}, {format_minutes(minutes)} au total"
            if count
            else ""
        )
    )
    if plan is not None:
        items.append("Appui à la construction de votre plan d'action")
    if case.funding_plan is not None:
        items.append("Ingénierie financière : recherche et mobilisation des financements")
    information = (
        [INFORMATION_KIND_LABELS[kind] for kind in level_one.information_given]
        if level_one is not None
        else []
    )
    return {"items": items, "information": information}


def _action_plan(plan: ActionPlan | None) -> dict[str, Any]:
    if plan is None:
        return {"plan": None, "services": [], "steps": []}
    services = [
        {
            "label": service.label,
            "kind": SERVICE_KIND_LABELS[service.kind],
            "provider": service.provider,
            "qualiopi": service.provider_qualiopi,
            "certification_code": service.certification_code,
            "start": service.start,
            "end": service.end,
        }
        for service in plan.services
    ]
    return {"plan": plan, "services": services, "steps": list(plan.personal_steps)}


def _funding(plan: FundingPlan | None) -> dict[str, Any]:
    if plan is None:
        return {"plan": None, "lines": [], "funded": 0, "participation_payer": ""}
    lines = [
        {
            "label": line.label,
            "amount": line.amount,
            "status": FUNDING_STATUS_LABELS.get(line.status, str(line.status)),
        }
        for line in plan.lines
    ]
    return {
        "plan": plan,
        "lines": lines,
        "funded": plan.funded,
        "participation_payer": PARTICIPATION_PAYER_LABELS[plan.participation.payer],
    }


def _calendar(plan: ActionPlan | None) -> list[dict[str, Any]]:
    if plan is None:
        return []
    entries: set[tuple[date, str]] = {(m.on, m.label) for m in plan.milestones}
    for service in plan.services:
        if service.start:
            entries.add((service.start, f"Début : {service.label}"))
        if service.end:
            entries.add((service.end, f"Fin : {service.label}"))
    for step in plan.personal_steps:
        if step.due:
            entries.add((step.due, f"Échéance : {_shorten(step.description)}"))
    return [{"on": on, "label": label} for on, label in sorted(entries)]


def _shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def level_two_sections(case: Case) -> list[SynthesisSection]:
    project, project_unreadable = read_step(case, LEVEL_TWO_PROJECT, CareerProject)
    plan, plan_unreadable = read_step(case, LEVEL_TWO_ACTION_PLAN, ActionPlan)
    strategies: Iterable[str] = project.strategies if project else ()
    return [
        _section("level2.services", "Prestations reçues", "level2_services.html", 100,
                 **_services_received(case, plan)),
        _section("level2.project", "Votre projet professionnel", "level2_project.html", 200,
                 project=project, unreadable=project_unreadable,
                 objective=PROJECT_OBJECTIVE_LABELS[project.objective] if project else None),
        _section("level2.strategies", "Stratégie(s) envisagée(s)", "level2_strategies.html",
                 300, strategies=list(strategies), unreadable=project_unreadable),
        _section("level2.action_plan", "Plan d'action et parcours de développement des "
                 "compétences", "level2_action_plan.html", 400, **_action_plan(plan),
                 unreadable=plan_unreadable),
        _section("level2.funding", "Plan de financement", "level2_funding.html", 500,
                 **_funding(case.funding_plan)),
        _section("level2.calendar", "Calendrier prévisionnel", "level2_calendar.html", 600,
                 entries=_calendar(plan), unreadable=plan_unreadable),
    ]  # fmt: skip


# -- command line ----------------------------------------------------------------------------

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


@hookimpl
def cep_register_commands(commands: CommandRegistry) -> None:
    commands.add(
        "synthesis",
        "produire les documents de synthèse",
        _synthesis_command,
        _configure_synthesis,
    )


def _configure_synthesis(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(
        dest="synthesis_command", metavar="ACTION", title="actions", parser_class=type(parser)
    )
    actions.required = True
    render = actions.add_parser(
        "render",
        help="produire le PDF d'un document de synthèse",
        description=(
            "Produit le document de synthèse d'un niveau d'un dossier et l'écrit dans un "
            "fichier PDF. Une nouvelle version n'est enregistrée que si le dossier a changé "
            "depuis la précédente ; la production est notée dans le journal du dossier."
        ),
    )
    render.add_argument("case_id", metavar="DOSSIER", help="identifiant du dossier")
    render.add_argument("--level", type=int, choices=(1, 2), required=True, help="niveau : 1 ou 2")
    render.add_argument(
        "-o", "--output", required=True, metavar="FICHIER", help="fichier PDF à écrire"
    )
    render.add_argument(
        "--operator",
        metavar="OPÉRATEUR",
        help="opérateur du dossier (défaut : cherché parmi les opérateurs installés)",
    )
    render.add_argument(
        "--actor",
        default="cli",
        metavar="ACTEUR",
        help="auteur inscrit dans le journal du dossier (défaut : %(default)s)",
    )


def _synthesis_command(args: argparse.Namespace, kit: Kit) -> int:
    import sys
    from pathlib import Path

    from cep_core.documents.errors import DocumentError
    from cep_core.errors import CaseNotFound, CepError, UnknownOperator
    from cep_core.services.syntheses import synthesis_service

    def err(message: str) -> None:
        print(f"cep synthesis : {message}", file=sys.stderr)

    kit.check()
    kit.database.upgrade()
    service = synthesis_service(kit)
    operators = [args.operator] if args.operator else [i.id for i in kit.hooks.operators()]
    try:
        for operator in operators:
            try:
                result = service.generate(operator, args.case_id, args.level, actor=args.actor)
            except CaseNotFound:
                continue
            _, pdf = service.download(operator, args.case_id, result.synthesis.id, actor=args.actor)
            break
        else:
            err(f"dossier introuvable : « {args.case_id} »")
            return EXIT_USAGE
    except UnknownOperator as exc:
        err(str(exc))
        return EXIT_USAGE
    except DocumentError as exc:
        err(str(exc))
        return EXIT_FAILURE
    except CepError as exc:
        err(str(exc))
        return EXIT_USAGE if not isinstance(exc, PluginFailure) else EXIT_FAILURE
    output = Path(args.output)
    try:
        output.write_bytes(pdf)
    except OSError as exc:
        err(f"écriture impossible de « {output} » ({exc.strerror})")
        return EXIT_FAILURE
    # SEC-12: a PDF written outside the web app is journaled too; the command line has no
    # signed-in account, hence the ``cli`` actor (the --actor text goes to the case journal).
    kit.audit.record(
        action="synthesis.generate",
        operator=operator,
        actor="cli",
        record_type="case",
        record_id=args.case_id,
    )
    synthesis = result.synthesis
    state = "nouvelle version" if result.created else "inchangée, version existante"
    print(
        f"Document de synthèse du niveau {int(synthesis.level)}, version {synthesis.version} "
        f"({state}) : {output} ({len(pdf) // 1024} Kio)."
    )
    return EXIT_OK
