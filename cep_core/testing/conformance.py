"""`check_operator_plugin`: what the kit expects of every operator plugin, checked as it uses it.

Start-up already refuses a plugin that does not import, lacks its identity, asks for another
core or implements an unknown hook. What start-up cannot see needs situations and a case:
does the plugin answer for its own public only, are its forms and steps bounded, do its
templates resolve, does its synthesis render, are its funding options usable, does it stay
on the core's public surface? The suite checks exactly that, on a kit of its own (the
plugin, the core's default plugins, no entry points, a throw-away SQLite database), and
reports every problem at once, in French. It renders one PDF (level 2, about 0.3 s).

A plugin calls it from its own tests::

    from cep_core.testing import check_operator_plugin
    from cep_mon_operateur import hooks

    def test_conformance() -> None:
        check_operator_plugin(hooks)

Answers a form's types cannot give (a string with a pattern, a rule of the operator's own)
are passed as ``answers={"intake": {...}, "<step id>": {...}}``; they are merged over the
smallest valid answers (`minimal_answers`) and, for the core's steps, over `core_answers`.
"""

from __future__ import annotations

import ast
import re
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import util as import_util
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from msgspec import inspect as mi
from packaging.specifiers import InvalidSpecifier, SpecifierSet

import cep_core
from cep_core import HookDeprecationWarning
from cep_core.clock import PARIS, system_clock, today_in_france
from cep_core.domain.case import Case, Level
from cep_core.domain.context import OperatorContext, Role
from cep_core.domain.forms import FormChannel, IntakeForm, StepDefinition, unbounded_fields
from cep_core.domain.funding import (
    ContractKind,
    FundingOption,
    FundingSituation,
    Project,
    TrainingKind,
)
from cep_core.domain.orientation import assess_eligibility
from cep_core.domain.plugin_info import PluginInfo
from cep_core.domain.situation import STATUS_LABELS, WORKING_STATUSES, Situation, Status
from cep_core.domain.steps import CORE_STEPS
from cep_core.errors import CepError, PluginFailure
from cep_core.settings import Settings
from cep_core.testing.answers import NoMinimalAnswer, core_answers, minimal_answers

if TYPE_CHECKING:
    from cep_core.kit import Kit
    from cep_core.services.cases import CaseService

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
LOWER_BOUNDS = frozenset({">=", ">", "~=", "==", "==="})
UPPER_BOUNDS = frozenset({"<", "<=", "~=", "==", "==="})
MAX_REASON_LENGTH = 1000
SHOWN_PER_CHECK = 8
ACTOR = "conseiller-conformite"
# The titles of the checks, in the order they run (the report's keys).
CHECKS: dict[str, str] = {
    "metadata": "identité et plage de versions du noyau",
    "imports": "seule la surface publique de cep_core est importée",
    "competence": "compétence pour son seul public",
    "intake": "formulaire d'accueil",
    "steps": "étapes bornées, références résolues",
    "synthesis": "document de synthèse rendu en PDF",
    "funding": "options de financement bien formées",
}

# What decides the bundled operators' competence, combined with every status, a few ages and
# regions: the grid every plugin is asked about.
FLAG_SETS: tuple[tuple[str, ...], ...] = (
    (),
    ("cadre",),
    ("registered_jobseeker",),
    ("disability_recognition",),
    ("working",),
    ("seeking_job",),
    ("cadre", "seeking_job"),
    ("disability_recognition", "seeking_job"),
    ("disability_recognition", "working"),
    ("registered_jobseeker", "disability_recognition"),
    ("cadre", "registered_jobseeker"),
)
AGES = (18, 24, 35, 58)
REGIONS: tuple[str | None, ...] = (None, "11", "53", "84", "93", "04")


class CheckResult(msgspec.Struct, frozen=True, kw_only=True):
    """One check of the suite: its key (see `CHECKS`), its French title and what failed."""

    name: str
    title: str
    problems: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.problems


class ConformanceReport(msgspec.Struct, frozen=True, kw_only=True):
    """What the suite found; `pdf` is the level-2 synthesis it rendered (empty if it could not).

    `deprecations` are the `HookDeprecationWarning` messages the plugin raised when it
    registered (they are warnings, not failures: the hook still works until it is removed).
    """

    plugin: str
    checks: tuple[CheckResult, ...]
    pdf: bytes = b""
    situation: Situation | None = None
    deprecations: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def check(self, name: str) -> CheckResult:
        return next(check for check in self.checks if check.name == name)


class ConformanceError(AssertionError):
    """The plugin fails the suite; the message lists every problem, check by check."""

    def __init__(self, report: ConformanceReport) -> None:
        self.report = report
        failed = [check for check in report.checks if not check.passed]
        count = sum(len(check.problems) for check in failed)
        lines = [
            f"Le plugin « {report.plugin} » ne passe pas la vérification de conformité "
            f"({count} problème{'s' if count > 1 else ''}) :"
        ]
        for check in failed:
            lines.append(f"[{check.name}] {check.title} :")
            lines.extend(f"  - {problem}" for problem in check.problems)
        super().__init__("\n".join(lines))


def check_operator_plugin(
    plugin: object,
    *,
    answers: Mapping[str, Mapping[str, Any]] | None = None,
    situation: Situation | None = None,
    as_of: date | None = None,
) -> ConformanceReport:
    """Check an operator plugin (its hooks module, or an instance) and return the report.

    Raises `ConformanceError` listing every problem when a check fails. ``as_of`` (default:
    today in France) is the date every situation, dated parameter and step is read at;
    ``situation`` is the person the sample case is opened for (default: the first situation
    of the grid the plugin is competent for); ``answers`` completes the intake
    (``"intake"``) and steps (by id) where the smallest typed answers are not enough.
    """
    when = as_of or (situation.as_of if situation is not None else today_in_france(system_clock))
    given = {key: dict(value) for key, value in (answers or {}).items()}
    with tempfile.TemporaryDirectory(prefix="cep-conformance-") as folder:
        run = _Run.start(plugin, when, given, Path(folder))
        try:
            report = run.check_all(situation)
        finally:
            run.close()
    if not report.passed:
        raise ConformanceError(report)
    return report


# -- the run ------------------------------------------------------------------------------------


@dataclass
class _Run:
    """One conformance run: the plugin's kits, its identity, and what the checks found."""

    plugin: object
    as_of: date
    answers: dict[str, dict[str, Any]]
    kit: Kit
    alone: Kit  # the plugin without the core's defaults: what it answers by itself
    deprecations: tuple[str, ...]
    results: list[CheckResult] = field(default_factory=list)
    info: PluginInfo | None = None
    pdf: bytes = b""
    case_situation: Situation | None = None

    @classmethod
    def start(
        cls, plugin: object, as_of: date, answers: dict[str, dict[str, Any]], folder: Path
    ) -> _Run:
        from cep_core.kit import Kit

        moment = datetime.combine(as_of, time(10, 0), tzinfo=PARIS)  # the kits' "now"
        settings = Settings(data_dir=folder, load_entrypoints=False)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", HookDeprecationWarning)
            kit = Kit([plugin], settings=settings, load_entrypoints=False, clock=lambda: moment)
        for warning in caught:  # shown by the caller's test run as usual
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
        alone = Kit(
            [plugin],
            settings=settings,
            load_entrypoints=False,
            defaults=False,
            clock=lambda: moment,
        )
        deprecations = tuple(
            str(w.message) for w in caught if issubclass(w.category, HookDeprecationWarning)
        )
        return cls(plugin, as_of, answers, kit, alone, deprecations)

    def close(self) -> None:
        self.kit.close()
        self.alone.close()

    @property
    def operator(self) -> str:
        assert self.info is not None
        return self.info.id

    @property
    def package(self) -> str:
        from cep_core.services.syntheses import plugin_package

        return plugin_package(self.plugin)

    def ctx(self) -> OperatorContext:
        return OperatorContext(
            operator=self.operator, today=self.as_of, actor=ACTOR, role=Role.COUNSELLOR
        )

    def record(self, name: str, problems: Sequence[str]) -> None:
        shown = list(problems[:SHOWN_PER_CHECK])
        if len(problems) > SHOWN_PER_CHECK:
            shown.append(f"… et {len(problems) - SHOWN_PER_CHECK} autre(s) du même genre")
        self.results.append(CheckResult(name=name, title=CHECKS[name], problems=tuple(shown)))

    def report(self) -> ConformanceReport:
        plugin = self.info.id if self.info is not None else _name_of(self.plugin)
        return ConformanceReport(
            plugin=plugin,
            checks=tuple(self.results),
            pdf=self.pdf,
            situation=self.case_situation,
            deprecations=self.deprecations,
        )

    def check_all(self, situation: Situation | None) -> ConformanceReport:
        metadata = self.check_metadata()
        self.record("metadata", metadata)
        if metadata:  # nothing else can be asked of a plugin the kit refuses
            return self.report()
        self.record("imports", self.check_imports())
        competent, problems = self.check_competence()
        self.record("competence", problems)
        chosen = situation or (competent[0] if competent else None)
        self.case_situation = chosen
        self.record("intake", self.check_intake())
        self.kit.database.upgrade()
        self.record("steps", self.check_steps(self.kit.cases, chosen))
        self.record("synthesis", self.check_synthesis(self.kit.cases, chosen))
        self.record("funding", self.check_funding(competent))
        return self.report()

    # -- metadata ----------------------------------------------------------------------------

    def check_metadata(self) -> list[str]:
        refused = [r.reason for r in self.kit.registry.refused]
        if refused:
            return [f"le noyau refuse le plugin : {reason}" for reason in refused]
        operators = self.alone.registry.operators()
        if len(operators) != 1:
            kinds = sorted({str(r.info.kind) for r in self.alone.registry.records.values()})
            return [
                "cep_plugin_info doit déclarer un opérateur (kind=PluginKind.OPERATOR) ; "
                f"déclaré : {', '.join(kinds) or 'rien'}"
            ]
        info = self.info = operators[0].info
        problems: list[str] = []
        if not IDENTIFIER.match(info.id):
            problems.append(
                f"identifiant « {info.id} » invalide : minuscules, chiffres et _, 2 à 40 "
                "caractères, commençant par une lettre"
            )
        if not info.labels:
            problems.append("aucun libellé daté (labels)")
        for label in info.labels:
            if not label.value.strip() or not label.source.strip():
                problems.append(f"libellé du {label.valid_from} sans valeur ou sans source")
        starts = [label.valid_from for label in info.labels]
        if starts != sorted(starts):
            problems.append("libellés datés dans le désordre (du plus ancien au plus récent)")
        if info.labels and info.labels[0].valid_from > self.as_of:
            problems.append(f"aucun libellé en vigueur au {self.as_of.isoformat()}")
        if not info.description.strip():
            problems.append("description vide : dites en une phrase qui l'opérateur accompagne")
        if info.contact is None or not (info.contact.url or info.contact.phone):
            problems.append("contact sans site ni téléphone : la personne doit pouvoir le joindre")
        problems += _core_range_problems(info.core_range)
        if info.theme is not None:
            for name in ("primary_color", "accent_color"):
                value = getattr(info.theme, name)
                if not HEX_COLOR.match(value):
                    problems.append(f"theme.{name} « {value} » : couleur #rrggbb attendue")
        return problems

    # -- imports -----------------------------------------------------------------------------

    def check_imports(self) -> list[str]:
        spec = import_util.find_spec(self.package)
        files: list[Path] = []
        if spec is not None and spec.submodule_search_locations:
            for location in spec.submodule_search_locations:
                root = Path(location)
                files += [
                    path
                    for path in sorted(root.rglob("*.py"))
                    if "tests" not in path.relative_to(root).parts
                ]
        elif spec is not None and spec.origin and spec.origin.endswith(".py"):
            files = [Path(spec.origin)]
        if not files:
            return [f"sources du paquet « {self.package} » introuvables : rien à vérifier"]
        return [problem for path in files for problem in _internal_imports(path)]

    # -- competence --------------------------------------------------------------------------

    def check_competence(self) -> tuple[list[Situation], list[str]]:
        problems: list[str] = []
        competent: list[Situation] = []
        tried = situation_grid(self.as_of)
        for situation in tried:
            answers, failures = self.kit.hooks.assess_competences(situation)
            if failures:
                problems.append(f"{describe(situation)} : {_cause(failures[0])}")
                continue
            mine = [a for a in answers if a.operator == self.operator]
            if len(mine) != 1:
                problems.append(
                    f"{describe(situation)} : aucune réponse (un opérateur répond toujours, "
                    "compétent ou non, avec sa raison)"
                )
                continue
            answer = mine[0]
            if not answer.name.strip() or not answer.reason.strip():
                problems.append(f"{describe(situation)} : nom ou raison vide")
            elif len(answer.reason) > MAX_REASON_LENGTH:
                problems.append(f"{describe(situation)} : raison de plus de 1000 caractères")
            if answer.covers_redirect is not None and not IDENTIFIER.match(answer.covers_redirect):
                problems.append(f"covers_redirect « {answer.covers_redirect} » invalide")
            if answer.competent:
                competent.append(situation)
        if not competent:
            problems.append(
                f"compétent pour aucune des {len(tried)} situations essayées : son public "
                "doit y figurer (statuts, âges, régions, cadre, handicap, recherche d'emploi)"
            )
        elif len(competent) == len(tried):
            problems.append(
                "compétent pour toutes les situations essayées : un opérateur ne répond "
                "« compétent » que pour son propre public"
            )
        for situation in competent[:20]:
            orientation = self.kit.orientation.orient(situation)
            if not any(choice.id == self.operator for choice in orientation.operators):
                problems.append(
                    f"{describe(situation)} : compétent, mais l'orientation ne le propose pas"
                )
        return competent, problems

    # -- intake ------------------------------------------------------------------------------

    def check_intake(self) -> list[str]:
        problems: list[str] = []
        for channel in FormChannel:
            ctx = msgspec.structs.replace(self.ctx(), role=_role(channel))
            try:
                form = self.kit.hooks.intake_form(ctx, channel)
            except PluginFailure as failure:
                problems.append(f"canal « {channel} » : {_cause(failure)}")
                continue
            if form is None:
                if channel is FormChannel.COUNSELLOR:
                    problems.append(
                        "aucun formulaire d'accueil pour le conseiller (cep_intake_form)"
                    )
                continue
            problems += [f"canal « {channel} » : {p}" for p in _form_problems(form, self.operator)]
            answers, trouble = self.intake_answers(form)
            if trouble:
                problems.append(f"canal « {channel} » : {trouble}")
                continue
            problems += [
                f"canal « {channel} » : réponses {issue.path or '(formulaire)'} refusées : "
                f"{issue.message}"
                for issue in self.intake_issues(ctx, form, answers)
            ]
        return problems

    def intake_answers(self, form: IntakeForm) -> tuple[dict[str, Any], str | None]:
        try:
            base = minimal_answers(form.input, self.as_of)
        except NoMinimalAnswer as exc:
            if exc.path.split(".")[0] not in self.answers.get("intake", {}):
                return {}, f"{exc} avec answers={{'intake': {{...}}}}"
            base = {}
        fields = {f.encode_name for f in msgspec.structs.fields(form.input)}
        given = {k: v for k, v in self.answers.get("intake", {}).items() if k in fields}
        return {**base, **given}, None

    def intake_issues(
        self, ctx: OperatorContext, form: IntakeForm, answers: dict[str, Any]
    ) -> list[Any]:
        from cep_core.services.cases import decode_input

        value, issues = decode_input(form.input, answers)
        if value is None:
            return issues
        try:
            return self.kit.hooks.validate_intake(ctx, answers)
        except PluginFailure as failure:
            return [_AsIssue(path="", message=_cause(failure))]

    # -- the sample case ---------------------------------------------------------------------

    def check_steps(self, cases: CaseService, situation: Situation | None) -> list[str]:
        from cep_core.services.cases import NewBeneficiary

        if situation is None:
            return ["aucune situation pour laquelle l'opérateur est compétent : rien à vérifier"]
        problems: list[str] = []
        try:
            blank = cases.open_case(
                self.operator,
                NewBeneficiary(first_name="Dominique", last_name="Sansaccueil"),
                situation,
                actor=ACTOR,
            )
        except (CepError, ValueError) as exc:
            return [f"ouverture d'un dossier sans accueil impossible : {_error(exc)}"]
        for level in Level:
            try:
                flow = cases.step_definitions(self.operator, blank.id, level)
            except PluginFailure as failure:
                problems.append(f"niveau {int(level)}, sans accueil : {_cause(failure)}")
            else:
                problems += _flow_problems(flow, level)
            try:
                own = self.alone.hooks.session_steps(self.ctx(), level, blank)
            except PluginFailure as failure:
                problems.append(f"niveau {int(level)} : {_cause(failure)}")
                continue
            for step in own:
                problems += _step_problems(step, self.operator)
                try:
                    self.kit.hooks.validate_step(self.ctx(), blank, step.id, {})
                except PluginFailure as failure:
                    problems.append(
                        f"étape « {step.id} » : cep_validate_step lève une exception sur des "
                        f"réponses vides ({_cause(failure)})"
                    )
        return problems

    def check_synthesis(self, cases: CaseService, situation: Situation | None) -> list[str]:
        if situation is None:
            return ["aucune situation pour laquelle l'opérateur est compétent : rien à rendre"]
        try:
            case = self.run_case(cases, situation)
        except _Stuck as stuck:
            return [str(stuck)]
        problems: list[str] = []
        for level in Level:
            flow = cases.step_definitions(self.operator, case.id, level)
            problems += [f"avec accueil : {p}" for p in _flow_problems(flow, level)]
            try:
                sections = self.alone.hooks.synthesis_sections(self.ctx(), case, level)
                template = self.alone.hooks.synthesis_template(self.ctx(), level)
                self.kit.syntheses.build(self.operator, case.id, level, actor=ACTOR)
            except (CepError, ValueError) as exc:
                problems.append(f"synthèse du niveau {int(level)} : {_error(exc)}")
                continue
            for section in sections:
                if not section.id.startswith(f"{self.operator}."):
                    problems.append(
                        f"section « {section.id} » : identifiant hors de l'espace "
                        f"« {self.operator}. »"
                    )
            if template is not None and template.package != self.package:
                problems.append(
                    f"modèle de page « {template.name} » pris dans le paquet « "
                    f"{template.package} » : un opérateur utilise ses propres modèles"
                )
        if problems:
            return problems
        try:
            generated = self.kit.syntheses.generate(self.operator, case.id, Level.TWO, actor=ACTOR)
            _, pdf = self.kit.syntheses.download(
                self.operator, case.id, generated.synthesis.id, actor=ACTOR
            )
        except (CepError, ValueError) as exc:
            return [f"rendu PDF du niveau 2 : {_error(exc)}"]
        if not pdf.startswith(b"%PDF-"):
            return ["le rendu du niveau 2 n'est pas un PDF"]
        self.pdf = pdf
        return []

    def run_case(self, cases: CaseService, situation: Situation) -> Case:
        """A case opened with intake, taken through level 1 and level 2 with a session each."""
        from cep_core.domain.forms import SessionChannel
        from cep_core.services.cases import NewBeneficiary, NewSession

        stage = "ouverture du dossier avec accueil"
        try:
            form = cases.intake_form(self.operator, FormChannel.COUNSELLOR, actor=ACTOR)
            intake = self.intake_answers(form)[0] if form is not None else None
            case = cases.open_case(
                self.operator,
                NewBeneficiary(first_name="Camille", last_name="Exemple"),
                situation,
                intake=intake,
                counsellor_id=ACTOR,
                actor=ACTOR,
            )
            version = case.version
            for level in Level:
                stage = f"niveau {int(level)}"
                start = cases.start_level_1 if level is Level.ONE else cases.start_level_2
                version = start(self.operator, case.id, expected_version=version).version
                session = NewSession(
                    start=datetime.combine(self.as_of, time(9, 0), tzinfo=PARIS),
                    channel=SessionChannel.IN_PERSON,
                    duration_minutes=60,
                    outside_working_time=situation.status in WORKING_STATUSES,
                    notes="Notes confidentielles du conseiller.",
                )
                version = cases.record_session(
                    self.operator, case.id, session, expected_version=version, actor=ACTOR
                ).version
                version = self.complete_level(cases, case.id, version)
        except (CepError, ValueError) as exc:
            raise _Stuck(f"{stage} : {_error(exc)}") from exc
        return cases.get_case(self.operator, case.id)

    def complete_level(self, cases: CaseService, case_id: str, version: int) -> int:
        pending = [s for s in cases.step_definitions(self.operator, case_id) if s.required]
        samples = core_answers(self.as_of)
        while pending:
            case = cases.get_case(self.operator, case_id)
            ready = [s for s in pending if all(case.step_completed(d) for d in s.depends_on)]
            if not ready:
                waiting = ", ".join(s.id for s in pending)
                raise _Stuck(f"étapes jamais prêtes (dépendances circulaires ?) : {waiting}")
            step = ready[0]
            fields = {f.encode_name for f in msgspec.structs.fields(step.input)}
            given = self.answers.get(step.id, {})
            try:
                base = minimal_answers(step.input, self.as_of)
            except NoMinimalAnswer as exc:
                if exc.path.split(".")[0] not in given:
                    raise _Stuck(
                        f"étape « {step.id} » : {exc} avec answers={{'{step.id}': {{...}}}}"
                    ) from exc
                base = {}
            sample = {k: v for k, v in samples.get(step.id, {}).items() if k in fields}
            data = {**base, **sample, **given}
            try:
                saved = cases.save_step(
                    self.operator,
                    case_id,
                    step.id,
                    data,
                    complete=True,
                    expected_version=version,
                    actor=ACTOR,
                )
            except (CepError, ValueError) as exc:
                raise _Stuck(
                    f"étape « {step.id} » refusée avec les réponses {data} : {_error(exc)} ; "
                    f"complétez-les avec answers={{'{step.id}': {{...}}}}"
                ) from exc
            version = saved.case.version
            pending.remove(step)
        return version

    # -- funding -----------------------------------------------------------------------------

    def check_funding(self, competent: Sequence[Situation]) -> list[str]:
        problems: list[str] = []
        seen: set[Status] = set()
        people = []
        for situation in competent:
            if situation.status not in seen:
                seen.add(situation.status)
                people.append(situation)
        for situation in people[:4]:
            facts = funding_situation(situation)
            for project in sample_projects(self.as_of):
                where = f"{describe(situation)}, {project.kind}"
                try:
                    options = self.alone.hooks.funding_options(self.ctx(), project, facts)
                except PluginFailure as failure:
                    problems.append(f"{where} : {_cause(failure)}")
                    continue
                funders = [str(o.funder) for o in options if isinstance(o, FundingOption)]
                if len(funders) != len(set(funders)):
                    problems.append(f"{where} : un même financeur proposé deux fois")
                for option in options:
                    problems += [f"{where} : {p}" for p in _option_problems(option, self.operator)]
                try:
                    plan, _ = self.kit.funding.plan_for_case(
                        self.ctx(), project, facts, purchase_date=self.as_of
                    )
                except (CepError, ValueError) as exc:
                    problems.append(f"{where} : plan de financement impossible ({_error(exc)})")
                    continue
                if sum(line.amount for line in plan.lines) + plan.remaining != plan.total_cost:
                    problems.append(f"{where} : le plan ne tombe pas juste (lignes + reste)")
                if plan.remaining < 0:
                    problems.append(f"{where} : reste à charge négatif")
        return problems


# -- the grid -----------------------------------------------------------------------------------


def situation_grid(as_of: date) -> list[Situation]:
    """The eligible situations every operator is asked about (statuses, flags, ages, regions)."""
    found = []
    for status in Status:
        for flags in FLAG_SETS:
            for age in AGES:
                for code in REGIONS:
                    situation = Situation(
                        birth_date=_born(as_of, age),
                        as_of=as_of,
                        status=status,
                        region=code,
                        **dict.fromkeys(flags, True),
                    )
                    if not situation.problems() and assess_eligibility(situation).eligible:
                        found.append(situation)
    return found


def describe(situation: Situation) -> str:
    """A short French description of a situation, for messages."""
    parts = [STATUS_LABELS[situation.status], f"{situation.age} ans"]
    parts.append(f"région {situation.region}" if situation.region else "sans région")
    flags = {
        "cadre": "cadre",
        "registered_jobseeker": "inscrit(e) à France Travail",
        "disability_recognition": "reconnaissance de handicap",
        "working": "en activité",
        "seeking_job": "en recherche d'emploi",
    }
    parts += [label for name, label in flags.items() if getattr(situation, name)]
    return ", ".join(parts)


def funding_situation(situation: Situation) -> FundingSituation:
    """Career facts for funding that fit `situation` (ten years of work, a 1,000 € balance)."""
    salaried = situation.status in (Status.EMPLOYEE, Status.APPRENTICE)
    return FundingSituation(
        status=situation.status,
        disability_recognition=situation.disability_recognition,
        registered_jobseeker=situation.registered_jobseeker,
        region=situation.region,
        cpf_balance=100_000,
        contract=ContractKind.CDI if salaried else None,
        months_salaried_total=120 if salaried else 0,
        months_current_employer=60 if salaried else 0,
        months_salaried_last_60=60 if salaried else 0,
    )


def sample_projects(as_of: date) -> tuple[Project, ...]:
    """A certification, a bilan de compétences and a VAE, starting in two months."""
    start = as_of + timedelta(days=60)
    return (
        Project(
            kind=TrainingKind.CERTIFICATION,
            price=150_000,
            title="Titre professionnel",
            hours=300,
            certification_code="RNCP34828",
            provider_qualiopi=True,
            start_date=start,
            end_date=start + timedelta(days=180),
        ),
        Project(
            kind=TrainingKind.BILAN,
            price=160_000,
            title="Bilan de compétences",
            hours=24,
            provider_qualiopi=True,
            start_date=start,
            end_date=start + timedelta(days=60),
        ),
        Project(
            kind=TrainingKind.VAE,
            price=120_000,
            title="Validation des acquis de l'expérience",
            provider_qualiopi=True,
            start_date=start,
            end_date=start + timedelta(days=240),
        ),
    )


# -- helpers ------------------------------------------------------------------------------------


class _Stuck(Exception):
    """The sample case could not go on; the message says where and why, in French."""


class _AsIssue(msgspec.Struct, frozen=True, kw_only=True):
    path: str
    message: str


def _born(as_of: date, age: int) -> date:
    """A birth date giving `age` on `as_of` (29 February becomes the 28th)."""
    day = min(as_of.day, 28)
    return date(as_of.year - age, as_of.month, day) - timedelta(days=1)


def _name_of(plugin: object) -> str:
    return getattr(plugin, "__name__", type(plugin).__name__)


def _role(channel: FormChannel) -> Role:
    return Role.BENEFICIARY if channel is FormChannel.PUBLIC else Role.COUNSELLOR


def _cause(failure: PluginFailure) -> str:
    cause = failure.cause
    return cause if isinstance(cause, str) else f"{type(cause).__name__} : {cause}"


def _error(exc: BaseException) -> str:
    if isinstance(exc, PluginFailure):
        return _cause(exc)
    issues = getattr(exc, "issues", None)
    if issues:
        return " ; ".join(f"{i.path or '(réponses)'} : {i.message}" for i in issues)
    return f"{type(exc).__name__} : {exc}"


def _core_range_problems(core_range: str) -> list[str]:
    try:
        specifiers = SpecifierSet(core_range)
    except InvalidSpecifier:
        return [f"plage de versions du noyau invalide : « {core_range} »"]
    operators = {spec.operator for spec in specifiers}
    problems = []
    if not operators & LOWER_BOUNDS:
        problems.append(
            f"plage du noyau « {core_range} » sans borne basse : dites la version la plus "
            "ancienne essayée (par ex. >=0.1)"
        )
    if not operators & UPPER_BOUNDS:
        problems.append(
            f"plage du noyau « {core_range} » sans borne haute : une version majeure de l'API "
            "des hooks peut casser le plugin (par ex. <0.2)"
        )
    return problems


def _form_problems(form: IntakeForm, operator: str) -> list[str]:
    problems = []
    if form.operator != operator:
        problems.append(f"formulaire déclaré pour l'opérateur « {form.operator} »")
    if not form.title.strip():
        problems.append("formulaire sans titre")
    problems += _input_problems(form.input)
    return problems


def _step_problems(step: StepDefinition, operator: str) -> list[str]:
    problems = []
    if not step.id.startswith(f"{operator}."):
        problems.append(f"étape « {step.id} » : identifiant hors de l'espace « {operator}. »")
    if not step.title.strip():
        problems.append(f"étape « {step.id} » sans titre")
    problems += [f"étape « {step.id} » : {p}" for p in _input_problems(step.input)]
    return problems


def _flow_problems(flow: Sequence[StepDefinition], level: Level) -> list[str]:
    known = {step.id for step in flow}
    missing = [core.id for core in CORE_STEPS.values() if core.level is level]
    problems = [
        f"niveau {int(level)} : l'étape légale « {core_id} » a disparu du parcours"
        for core_id in missing
        if core_id not in known
    ]
    for step in flow:
        problems += [
            f"niveau {int(level)} : l'étape « {step.id} » dépend de « {dep} », absente du niveau"
            for dep in step.depends_on
            if dep not in known
        ]
    return problems


def _input_problems(model: Any) -> list[str]:
    """What the case service refuses in an input Struct, plus fields without a French label."""
    if not (isinstance(model, type) and issubclass(model, msgspec.Struct)):
        return ["le modèle de saisie doit être un msgspec.Struct"]
    problems = []
    if not model.__struct_config__.forbid_unknown_fields:
        problems.append("le modèle de saisie doit refuser les champs inconnus")
    unbounded = unbounded_fields(model)
    if unbounded:
        problems.append("champs sans borne : " + ", ".join(unbounded))
    untitled = _untitled_fields(model)
    if untitled:
        problems.append("champs sans libellé français (Meta(title=...)) : " + ", ".join(untitled))
    return problems


def _untitled_fields(model: type[msgspec.Struct]) -> list[str]:
    info = mi.type_info(model)
    assert isinstance(info, mi.StructType)
    return [f.encode_name for f in info.fields if not _has_title(f.type)]


def _has_title(info: Any) -> bool:
    if isinstance(info, mi.Metadata):
        schema = info.extra_json_schema or {}
        return bool(schema.get("title")) or _has_title(info.type)
    if isinstance(info, mi.UnionType):
        return any(_has_title(member) for member in info.types)
    return False


def _option_problems(option: Any, operator: str) -> list[str]:
    if not isinstance(option, FundingOption):
        return [f"{type(option).__name__} renvoyé au lieu d'un FundingOption"]
    problems = []
    name = f"option « {option.funder} »"
    if not IDENTIFIER.match(str(option.funder)):
        problems.append(f"{name} : identifiant de financeur invalide (minuscules, chiffres, _)")
    if option.operator != operator:
        problems.append(f"{name} : operator={option.operator!r} au lieu de « {operator} »")
    if not option.label.strip() or not option.rule.strip():
        problems.append(f"{name} : libellé ou règle (avec sa source) vide")
    for amount_name in ("amount", "min_amount", "max_amount"):
        amount = getattr(option, amount_name)
        if amount is not None and amount < 0:
            problems.append(f"{name} : {amount_name} négatif")
    low, high = option.min_amount, option.max_amount
    if low is not None and high is not None and low > high:
        problems.append(f"{name} : min_amount supérieur à max_amount")
    if option.amount is not None and high is not None and option.amount > high:
        problems.append(f"{name} : amount supérieur à max_amount")
    if not option.covers:
        problems.append(f"{name} : covers vide (quels coûts l'option peut-elle payer ?)")
    texts = (*option.conditions, *option.documents, *option.notes)
    if any(not text.strip() for text in texts):
        problems.append(f"{name} : condition, pièce ou remarque vide")
    try:
        decoded = msgspec.json.decode(msgspec.json.encode(option), type=FundingOption)
    except (msgspec.DecodeError, TypeError) as exc:
        problems.append(f"{name} : ne se relit pas en JSON ({exc})")
    else:
        if decoded != option:
            problems.append(f"{name} : ne se relit pas à l'identique en JSON")
    return problems


def _internal_imports(path: Path) -> list[str]:
    """Imports of ``cep_core`` internals in one source file (the public surface is `__all__`)."""
    public = set(cep_core.__all__)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        where = f"{path.name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            found += [
                f"{where} : import {alias.name} (interne au noyau)"
                for alias in node.names
                if alias.name.startswith("cep_core.")
            ]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.startswith("cep_core."):
                found.append(f"{where} : from {node.module} import … (interne au noyau)")
            elif node.module == "cep_core":
                found += [
                    f"{where} : cep_core.{alias.name} ne fait pas partie de la surface publique"
                    for alias in node.names
                    if alias.name not in public
                ]
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "cep_core"
            and node.attr not in public
        ):
            found.append(
                f"{where} : cep_core.{node.attr} ne fait pas partie de la surface publique"
            )
    return found
