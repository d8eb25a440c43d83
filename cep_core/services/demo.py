"""Demo data: realistic, fictitious French beneficiaries and cases for every installed operator.

Each operator gets people from its own public (cadres for Apec, under-26s for the Missions
locales, people with an RQTH for Cap emploi, registered job seekers for France Travail,
private-sector employees and self-employed people for the regional operators), and cases
spread over the stages a counsellor's list really shows (`STAGES`, cycled by rank): just
opened; at level 1 with sessions and a completed level-1 record; at level 2 with a project,
an action plan and, for some, a funding plan; paused; closed; referred to another operator.
Content is deterministic (one seeded generator per operator and rank) and seeding is
idempotent: demo cases are those whose "opened" journal line has the actor ``DEMO_ACTOR``, so
a second run only tops each operator up to `per_operator`. Everything goes through
`CaseService` (open, sessions, steps, transitions, funding plan), so demo data obeys the same
rules and journal as real data; the journal's times are the kit's clock, the sessions' dates
lie in the weeks before it.

The core knows nothing of an operator's own steps and intake form: it fills them only
generically, from their input Struct (`example_answers`: required fields, first choices,
lower bounds, a neutral text), and keeps what the operator's rules accept. A form it cannot
fill that way (a patterned code, a rule the neutral answers break) is skipped; a level-2 case
whose operator steps stay empty is then closed with the reason "other" rather than
"completed".

Nothing here is a real person: e-mail addresses use the reserved ``.invalid`` domain, phone
numbers the range the ARCEP reserves for fiction (06 39 98 xx xx), providers are invented
and certification codes only illustrate the format. No free text says anything about health.
"""

from __future__ import annotations

import enum
import functools
import random
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from cep_core.clock import PARIS, Clock, system_clock, today_in_france
from cep_core.domain.case import (
    SALARIED_STATUSES,
    Case,
    CloseReason,
    Level,
    ReferralReason,
)
from cep_core.domain.forms import FormChannel, SessionChannel
from cep_core.domain.issues import InvalidInput
from cep_core.domain.situation import Situation, Status
from cep_core.domain.steps import (
    CORE_STEPS,
    LEVEL_ONE_RECORD,
    LEVEL_TWO_ACTION_PLAN,
    LEVEL_TWO_PROJECT,
    ActionPlan,
    CareerProject,
    InformationKind,
    Level1Record,
    Level1Referral,
    Milestone,
    PersonalStep,
    PlannedService,
    ProjectObjective,
    ServiceKind,
)
from cep_core.errors import CepError
from cep_core.plugins import Hooks
from cep_core.services.cases import (
    CaseFundingFacts,
    CaseService,
    CaseTraining,
    FundingPlanRequest,
    NewBeneficiary,
    NewSession,
)
from cep_core.services.orientation import OrientationService
from cep_core.storage.database import Database
from cep_core.storage.repositories import CaseEventRepository

if TYPE_CHECKING:
    from cep_core.domain.accounts import StaffUser
    from cep_core.kit import Kit

DEMO_ACTOR = "demo"
Progress = Callable[[int, int], None]

FIRST_NAMES = (
    "Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Julie", "Emma", "Nadia", "Sophie",
    "Aïcha", "Élodie", "Thomas", "Lucas", "Hugo", "Nicolas", "Karim", "Julien", "Mathieu",
    "Antoine", "Mehdi", "Yann", "Baptiste", "Olivier", "Pierre", "Samuel",
)  # fmt: skip
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "Fournier", "Morel", "Girard",
    "Bonnet", "Lambert", "Nguyen", "Benali", "Le Gall", "Mercier", "Faure", "Rousseau",
)  # fmt: skip
# Metropolitan and overseas regions (INSEE codes), weighted towards the most populated.
REGIONS = ("11", "11", "84", "84", "93", "32", "76", "75", "44", "52", "53", "28", "24", "27",
           "94", "04", "01", "02")  # fmt: skip


class Profile(msgspec.Struct, frozen=True, kw_only=True):
    """A kind of person an operator serves: status, flags and an age range."""

    status: Status
    ages: tuple[int, int]
    cadre: bool = False
    registered_jobseeker: bool = False
    disability_recognition: bool = False
    working: bool = False
    seeking_job: bool = False


PUBLICS: dict[str, tuple[Profile, ...]] = {
    "apec": (
        Profile(status=Status.EMPLOYEE, ages=(28, 60), cadre=True),
        Profile(status=Status.JOBSEEKER, ages=(30, 58), cadre=True, registered_jobseeker=True),
    ),
    "mission_locale": (
        Profile(status=Status.JOBSEEKER, ages=(17, 25), seeking_job=True),
        Profile(status=Status.STUDENT, ages=(18, 25), seeking_job=True),
        Profile(status=Status.INACTIVE, ages=(16, 25), seeking_job=True),
    ),
    "cap_emploi": (
        Profile(
            status=Status.JOBSEEKER,
            ages=(26, 60),
            disability_recognition=True,
            registered_jobseeker=True,
        ),
        Profile(status=Status.EMPLOYEE, ages=(30, 60), disability_recognition=True),
    ),
    "pole_emploi": (Profile(status=Status.JOBSEEKER, ages=(26, 62), registered_jobseeker=True),),
    "regional": (
        Profile(status=Status.EMPLOYEE, ages=(26, 62)),
        Profile(status=Status.SELF_EMPLOYED, ages=(28, 62)),
    ),
}
# Tried in order for an operator the kit does not know: the first its plugin says it serves.
FALLBACK_PROFILES: tuple[Profile, ...] = (
    *PUBLICS["regional"],
    *PUBLICS["pole_emploi"],
    *PUBLICS["apec"],
    *PUBLICS["mission_locale"],
    *PUBLICS["cap_emploi"],
    Profile(status=Status.PUBLIC_AGENT, ages=(30, 60)),
)


COUNSELLORS = ("conseiller-demo-1", "conseiller-demo-2", "conseiller-demo-3")
NEUTRAL_TEXT = "Réponse de démonstration"
SESSION_NOTES = (
    "Personne ponctuelle et motivée ; lui envoyer la liste des organismes évoqués.",
    "Bon échange ; prévoir un point sur le calendrier au prochain entretien.",
    "Documents apportés : CV et relevé des droits CPF.",
    "La personne souhaite avancer rapidement ; relancer dans quinze jours.",
)


class Stage(enum.StrEnum):
    """Where a demo case is in its journey."""

    OPENED = "opened"
    LEVEL_1 = "level_1"  # sessions and a completed level-1 record, level 2 not started
    LEVEL_2 = "level_2"  # project and action plan completed
    FUNDED = "funded"  # level 2, with a funding plan attached
    PAUSED = "paused"  # paused at level 2, the action plan not written yet
    COMPLETED = "completed"  # closed at the end of level 2
    CLOSED = "closed"  # closed at level 1 (unreachable, moved away, gave up)
    REFERRED = "referred"  # referred to another operator from level 1


# Cycled by rank: the first eight cases of an operator show every stage.
STAGES: tuple[Stage, ...] = (
    Stage.FUNDED, Stage.LEVEL_1, Stage.OPENED, Stage.LEVEL_2, Stage.PAUSED, Stage.COMPLETED,
    Stage.REFERRED, Stage.CLOSED, Stage.LEVEL_1, Stage.FUNDED, Stage.OPENED, Stage.LEVEL_2,
)  # fmt: skip


class DemoService(msgspec.Struct, frozen=True, kw_only=True):
    kind: ServiceKind
    label: str
    provider: str | None = None
    qualiopi: bool | None = None
    certification: str | None = None
    weeks: int = 8
    cost_eur: int = 0  # teaching cost, for the funding plan
    hours: int = 0


class DemoProject(msgspec.Struct, frozen=True, kw_only=True):
    """A plausible career project, from the first request to the action plan."""

    publics: frozenset[str]  # "cadre", "young", "other"
    objective: ProjectObjective
    target_job: str
    rome_code: str
    request: str
    need: str
    review: str
    description: str
    strategies: tuple[str, ...]
    services: tuple[DemoService, ...]
    steps: tuple[tuple[str, str | None], ...]


PROJECTS: tuple[DemoProject, ...] = (
    DemoProject(
        publics=frozenset({"other", "young"}),
        objective=ProjectObjective.RETRAINING,
        target_job="Aide-soignant",
        rome_code="J1501",
        request="Je souhaite changer de métier pour travailler auprès des personnes âgées.",
        need="Valider un projet de reconversion vers le métier d'aide-soignant et choisir la "
        "formation adaptée.",
        review="Expérience solide de la relation client ; projet réfléchi depuis plusieurs "
        "mois, à confronter au terrain avant l'entrée en formation.",
        description="Devenir aide-soignant en établissement d'hébergement pour personnes âgées, "
        "près du domicile.",
        strategies=(
            "Préparer l'entrée en formation au diplôme d'État d'aide-soignant.",
            "Découvrir le métier par une immersion en établissement.",
        ),
        services=(
            DemoService(
                kind=ServiceKind.TRAINING,
                label="Diplôme d'État d'aide-soignant",
                provider="Institut de formation Les Tilleuls",
                qualiopi=True,
                certification="RNCP35830",
                weeks=44,
                cost_eur=6200,
                hours=1540,
            ),
        ),
        steps=(
            (
                "Réaliser une période de mise en situation en milieu professionnel.",
                "Aide à la recherche d'une structure d'accueil",
            ),
            (
                "Préparer le dossier de sélection de l'institut de formation.",
                "Relecture du dossier et de la lettre de motivation",
            ),
        ),
    ),
    DemoProject(
        publics=frozenset({"other", "cadre"}),
        objective=ProjectObjective.CERTIFICATION,
        target_job="Comptable",
        rome_code="M1203",
        request="J'aimerais faire reconnaître mon expérience en comptabilité par un diplôme.",
        need="Obtenir une certification correspondant à dix ans de pratique de la comptabilité "
        "générale.",
        review="Expérience continue en cabinet puis en entreprise ; pas de diplôme dans le "
        "domaine. La VAE paraît la voie la plus directe.",
        description="Obtenir le BTS Comptabilité et gestion par la validation des acquis de "
        "l'expérience.",
        strategies=(
            "Engager une démarche de VAE accompagnée.",
            "Compléter les compétences en fiscalité par une formation courte si nécessaire.",
        ),
        services=(
            DemoService(
                kind=ServiceKind.VAE,
                label="Accompagnement à la VAE du BTS Comptabilité et gestion",
                provider="Cabinet Parcours & Acquis",
                qualiopi=True,
                certification="RNCP38372",
                weeks=24,
                cost_eur=1800,
                hours=24,
            ),
        ),
        steps=(
            ("Rassembler les justificatifs d'activité des dix dernières années.", None),
            ("Rédiger le livret de recevabilité.", "Atelier d'écriture du livret"),
        ),
    ),
    DemoProject(
        publics=frozenset({"cadre"}),
        objective=ProjectObjective.CAREER_DEVELOPMENT,
        target_job="Directeur de site de production",
        rome_code="H2502",
        request="Je voudrais savoir si je peux prendre la direction d'un site.",
        need="Évaluer les compétences acquises en management et préparer une évolution vers la "
        "direction d'un site industriel.",
        review="Douze ans d'encadrement d'équipes de production ; souhait d'évoluer sans "
        "changer de région.",
        description="Évoluer vers la direction d'un site de production agroalimentaire.",
        strategies=(
            "Faire le point sur les compétences par un bilan.",
            "Se former au pilotage économique d'un site.",
            "Activer le réseau professionnel régional.",
        ),
        services=(
            DemoService(
                kind=ServiceKind.TRAINING,
                label="Certificat de pilotage économique d'une unité de production",
                provider="Institut Cadres & Stratégies",
                qualiopi=True,
                certification="RS5633",
                weeks=12,
                cost_eur=3900,
                hours=105,
            ),
            DemoService(
                kind=ServiceKind.SKILLS_ASSESSMENT,
                label="Bilan de compétences orienté management",
                provider="Cabinet Trajectoires",
                qualiopi=True,
                weeks=8,
                cost_eur=1900,
                hours=24,
            ),
        ),
        steps=(
            ("Rencontrer deux directeurs de site du réseau.", None),
            (
                "Mettre à jour le CV et le profil professionnel en ligne.",
                "Atelier de valorisation du parcours",
            ),
        ),
    ),
    DemoProject(
        publics=frozenset({"cadre", "other"}),
        objective=ProjectObjective.MOBILITY,
        target_job="Contrôleur de gestion",
        rome_code="M1204",
        request="Je souhaite quitter mon entreprise et exercer le même métier ailleurs.",
        need="Préparer une mobilité externe dans le contrôle de gestion, dans le secteur "
        "industriel.",
        review="Compétences techniques solides ; besoin de cibler les entreprises et de "
        "préparer les entretiens.",
        description="Rejoindre un groupe industriel comme contrôleur de gestion.",
        strategies=(
            "Cibler une vingtaine d'entreprises du secteur.",
            "Se former aux outils de pilotage récents.",
        ),
        services=(
            DemoService(
                kind=ServiceKind.TRAINING,
                label="Pilotage de la performance et outils décisionnels",
                provider="Académie Finance Horizon",
                qualiopi=True,
                certification="RS6012",
                weeks=6,
                cost_eur=2400,
                hours=70,
            ),
            DemoService(
                kind=ServiceKind.OTHER, label="Atelier de préparation aux entretiens de recrutement"
            ),
        ),
        steps=(
            ("Dresser la liste des entreprises cibles.", "Méthode de ciblage"),
            ("Solliciter trois entretiens réseau.", None),
        ),
    ),
    DemoProject(
        publics=frozenset({"other"}),
        objective=ProjectObjective.BUSINESS,
        target_job="Boulanger",
        rome_code="D1102",
        request="J'ai envie d'ouvrir ma propre boulangerie.",
        need="Vérifier la faisabilité d'un projet de reprise de boulangerie et acquérir la "
        "qualification nécessaire.",
        review="Projet de longue date, premières recherches de fonds à reprendre ; "
        "qualification à obtenir avant l'installation.",
        description="Reprendre une boulangerie artisanale en zone rurale d'ici deux ans.",
        strategies=(
            "Obtenir le CAP Boulanger.",
            "Construire le prévisionnel avec une structure d'accompagnement à la création.",
        ),
        services=(
            DemoService(
                kind=ServiceKind.TRAINING,
                label="CAP Boulanger",
                provider="Campus des Métiers du Val",
                qualiopi=True,
                certification="RNCP37860",
                weeks=30,
                cost_eur=5400,
                hours=800,
            ),
            DemoService(
                kind=ServiceKind.BUSINESS_SUPPORT,
                label="Accompagnement à la reprise d'entreprise",
                provider="Couveuse Initiatives du Val",
                qualiopi=True,
                weeks=20,
                cost_eur=900,
                hours=30,
            ),
        ),
        steps=(
            ("Rencontrer la chambre de métiers et de l'artisanat.", None),
            ("Visiter trois fonds de commerce à reprendre.", "Grille d'analyse d'un fonds"),
        ),
    ),
    DemoProject(
        publics=frozenset({"young"}),
        objective=ProjectObjective.INSERTION,
        target_job="Employé de commerce",
        rome_code="D1507",
        request="Je cherche un premier emploi stable.",
        need="Trouver un emploi dans la grande distribution et obtenir une première qualification.",
        review="Expériences courtes en intérim ; bon contact, envie d'un cadre stable.",
        description="Devenir employé commercial en magasin, en contrat de professionnalisation.",
        strategies=(
            "Obtenir le titre professionnel par l'alternance.",
            "Valoriser les expériences d'intérim dans le CV.",
        ),
        services=(
            DemoService(
                kind=ServiceKind.TRAINING,
                label="Titre professionnel Employé commercial",
                provider="Centre de formation Horizon Commerce",
                qualiopi=True,
                certification="RNCP37099",
                weeks=26,
                cost_eur=3800,
                hours=420,
            ),
        ),
        steps=(
            ("Refaire le CV et la lettre de motivation.", "Atelier CV"),
            ("Postuler à dix offres en alternance.", None),
        ),
    ),
    DemoProject(
        publics=frozenset({"young", "other"}),
        objective=ProjectObjective.INSERTION,
        target_job="Cuisinier",
        rome_code="G1602",
        request="Je voudrais travailler en cuisine.",
        need="Accéder à un emploi en restauration et obtenir le CAP Cuisine.",
        review="Stage apprécié en restauration collective ; motivation confirmée par "
        "l'employeur du stage.",
        description="Devenir commis de cuisine puis cuisinier en restauration traditionnelle.",
        strategies=("Préparer le CAP Cuisine en apprentissage.",),
        services=(
            DemoService(
                kind=ServiceKind.TRAINING,
                label="CAP Cuisine",
                provider="CFA des Métiers de Bouche du Val",
                qualiopi=True,
                certification="RNCP37859",
                weeks=40,
                cost_eur=4600,
                hours=600,
            ),
        ),
        steps=(
            (
                "Trouver un employeur pour l'apprentissage.",
                "Mise en relation avec des restaurateurs",
            ),
        ),
    ),
    DemoProject(
        publics=frozenset({"young"}),
        objective=ProjectObjective.SKILLS_DEVELOPMENT,
        target_job="Préparateur de commandes",
        rome_code="N1103",
        request="Je veux trouver du travail rapidement, dans la logistique.",
        need="Consolider les savoirs de base et accéder à un emploi en entrepôt.",
        review="Déjà une mission en entrepôt ; souhaite une certification reconnue par les "
        "employeurs.",
        description="Travailler comme préparateur de commandes dans un entrepôt logistique.",
        strategies=(
            "Valider le socle de compétences professionnelles.",
            "Obtenir l'autorisation de conduite des chariots.",
        ),
        services=(
            DemoService(
                kind=ServiceKind.TRAINING,
                label="Certificat CléA",
                provider="Organisme Compétences Plus",
                qualiopi=True,
                certification="RS5080",
                weeks=10,
                cost_eur=1500,
                hours=120,
            ),
        ),
        steps=(("S'inscrire aux jobs dating des entreprises de la zone logistique.", None),),
    ),
    DemoProject(
        publics=frozenset({"other", "cadre"}),
        objective=ProjectObjective.SKILLS_DEVELOPMENT,
        target_job="Administrateur systèmes et réseaux",
        rome_code="M1801",
        request="Je voudrais évoluer dans l'informatique.",
        need="Passer du support utilisateur à l'administration des systèmes et réseaux.",
        review="Cinq ans de support informatique ; l'employeur est favorable à une évolution "
        "après formation.",
        description="Devenir administrateur systèmes et réseaux dans l'entreprise actuelle.",
        strategies=(
            "Suivre une formation certifiante à temps partiel.",
            "Négocier l'évolution de poste lors de l'entretien professionnel.",
        ),
        services=(
            DemoService(
                kind=ServiceKind.TRAINING,
                label="Titre professionnel Administrateur d'infrastructures sécurisées",
                provider="Institut Numérique Horizon",
                qualiopi=True,
                certification="RNCP37680",
                weeks=36,
                cost_eur=7500,
                hours=700,
            ),
        ),
        steps=(
            (
                "Préparer l'entretien professionnel avec le responsable.",
                "Trame de préparation de l'entretien",
            ),
        ),
    ),
    DemoProject(
        publics=frozenset({"other", "young"}),
        objective=ProjectObjective.RETRAINING,
        target_job="Électricien du bâtiment",
        rome_code="F1602",
        request="Je veux un métier plus concret, dans le bâtiment.",
        need="Confirmer l'intérêt pour l'électricité du bâtiment et trouver une formation "
        "qualifiante.",
        review="Bricoleur confirmé, goût du travail manuel ; aucune qualification dans le "
        "bâtiment à ce jour.",
        description="Devenir électricien d'équipement du bâtiment dans une entreprise artisanale.",
        strategies=(
            "Découvrir le métier par une immersion en entreprise.",
            "Préparer le titre professionnel correspondant.",
        ),
        services=(
            DemoService(
                kind=ServiceKind.TRAINING,
                label="Titre professionnel Électricien d'équipement du bâtiment",
                provider="Centre BTP Formation du Val",
                qualiopi=True,
                certification="RNCP38877",
                weeks=28,
                cost_eur=6800,
                hours=735,
            ),
        ),
        steps=(
            (
                "Effectuer une immersion de deux semaines chez un artisan électricien.",
                "Convention d'immersion",
            ),
        ),
    ),
    DemoProject(
        publics=frozenset({"cadre"}),
        objective=ProjectObjective.RETRAINING,
        target_job="Formateur d'adultes",
        rome_code="K2111",
        request="Après vingt ans en entreprise, j'ai envie de transmettre.",
        need="Construire une reconversion vers la formation professionnelle des adultes.",
        review="Expérience reconnue de tutorat et d'animation d'équipes ; projet à sécuriser "
        "financièrement.",
        description="Devenir formateur indépendant en management et organisation.",
        strategies=(
            "Obtenir le titre professionnel de formateur.",
            "Tester l'activité par quelques interventions ponctuelles.",
        ),
        services=(
            DemoService(
                kind=ServiceKind.TRAINING,
                label="Titre professionnel Formateur professionnel d'adultes",
                provider="Atelier Pédagogie Active",
                qualiopi=True,
                certification="RNCP37275",
                weeks=24,
                cost_eur=5200,
                hours=560,
            ),
        ),
        steps=(("Proposer deux interventions à des organismes de formation.", None),),
    ),
)


class DemoTarget(Protocol):
    """What seeding needs; a `Kit` is one."""

    @property
    def database(self) -> Database: ...

    @property
    def hooks(self) -> Hooks: ...

    @property
    def clock(self) -> Clock: ...


def seed_demo(
    target: DemoTarget | Database,
    hooks: Hooks | None = None,
    clock: Clock | None = None,
    *,
    per_operator: int = 12,
    progress: Progress | None = None,
    counsellors: Mapping[str, Sequence[str]] | None = None,
) -> int:
    """Top every installed operator up to `per_operator` demo cases; return how many were made.

    Pass a `Kit` (``seed_demo(kit)``) or its parts (``seed_demo(database, hooks, clock)``).
    `progress`, when given, is called with (done, total) after each case. `counsellors` gives,
    per operator, the staff ids cases are assigned to (default: fictitious counsellors), so
    the demo accounts find "their" cases.
    """
    if isinstance(target, Database):
        if hooks is None:
            raise TypeError("seed_demo(database, hooks, clock): hooks are required")
        database, clock = target, clock or system_clock
    else:
        database, hooks, clock = target.database, target.hooks, target.clock
    if per_operator < 0:
        raise ValueError("per_operator must be positive")
    cases = CaseService(database, hooks, clock=clock)
    today = today_in_france(clock)
    operators = [info.id for info in hooks.operators()]
    with database.read() as connection:
        existing = {
            op: CaseEventRepository(connection, op).count(kind="opened", actor=DEMO_ACTOR)
            for op in operators
        }
    missing = {op: max(0, per_operator - existing[op]) for op in operators}
    total = sum(missing.values())
    done = 0
    orientation = OrientationService(hooks)
    for operator in operators:
        profiles = _profiles_for(operator, hooks, today)
        journey = _Journey(cases, operator, operators, today)
        for rank in range(existing[operator], existing[operator] + missing[operator]):
            person, situation, counsellor, rng = _demo_case(
                operator, rank, profiles, today, (counsellors or {}).get(operator) or COUNSELLORS
            )
            # An operator whose public the demo cannot guess still gets cases: forced, as a
            # counsellor would, and the journal says so.
            competent = [choice.id for choice in orientation.orient(situation).operators]
            case = cases.open_case(
                operator,
                person,
                situation,
                counsellor_id=counsellor,
                actor=DEMO_ACTOR,
                force=operator not in competent,
            )
            journey.run(case, STAGES[rank % len(STAGES)], rng, competent)
            done += 1
            if progress is not None:
                progress(done, total)
    return done


class _Journey:
    """Takes one operator's freshly opened demo cases to their stage, through the service."""

    def __init__(
        self, cases: CaseService, operator: str, operators: Sequence[str], today: date
    ) -> None:
        self.cases = cases
        self.operator = operator
        self.others = [op for op in operators if op != operator]
        self.today = today
        self.intake = self._intake_answers()

    def _intake_answers(self) -> dict[str, Any] | None:
        """The operator's counsellor intake, filled generically, or None (no form or not
        fillable); tried once per operator and seeding run."""
        form = self.cases.intake_form(self.operator, FormChannel.COUNSELLOR, actor=DEMO_ACTOR)
        if form is None:
            return None
        return example_answers(form.input, self.today)

    def run(self, case: Case, stage: Stage, rng: random.Random, competent: list[str]) -> None:
        if self.intake is not None:
            submitted = self._try(
                lambda c: self.cases.submit_intake(
                    self.operator,
                    c.id,
                    FormChannel.COUNSELLOR,
                    self.intake or {},
                    expected_version=c.version,
                    actor=DEMO_ACTOR,
                ),
                case,
            )
            if submitted is case:  # the operator's rules refuse generic answers: stop trying
                self.intake = None
            case = submitted
        if stage is Stage.OPENED:
            return
        project = _project_for(case.situation, rng)
        counsellor = case.counsellor_id or rng.choice(COUNSELLORS)
        # The journey began some weeks ago: a first session, then one every week or three.
        weeks = {Stage.LEVEL_1: 3, Stage.CLOSED: 8, Stage.REFERRED: 4}.get(stage, 14)
        day = self.today - timedelta(days=rng.randint(weeks * 7 - 6, weeks * 7 + 6))
        case = self.cases.start_level_1(
            self.operator, case.id, expected_version=case.version, actor=DEMO_ACTOR
        )
        case, day = self._session(case, day, counsellor, rng)
        if stage is Stage.LEVEL_1 and rng.random() < 0.5:
            case, day = self._session(case, day, counsellor, rng)
        target = self._referral_target(competent, rng)
        if stage is Stage.REFERRED and target is None:
            stage = Stage.CLOSED  # a single operator installed: nowhere to refer to
        record = self._level1_record(case, project, stage, target, rng)
        case = self._save(case, LEVEL_ONE_RECORD, _plain(record))
        if stage is Stage.LEVEL_1:
            return
        if stage is Stage.REFERRED and target is not None:
            self.cases.refer(
                self.operator,
                case.id,
                target,
                ReferralReason.BETTER_SUITED,
                note="Rendez-vous proposé par téléphone avec l'opérateur désigné.",
                expected_version=case.version,
                actor=DEMO_ACTOR,
            )
            return
        if stage is Stage.CLOSED:
            reason = rng.choice(
                (CloseReason.UNREACHABLE, CloseReason.MOVED_AWAY, CloseReason.ABANDONED)
            )
            notes = {
                CloseReason.UNREACHABLE: "Trois relances par téléphone et par courriel, sans "
                "réponse.",
                CloseReason.MOVED_AWAY: "La personne s'installe dans une autre région ; "
                "coordonnées de l'opérateur local transmises.",
                CloseReason.ABANDONED: "La personne a retrouvé un emploi et ne souhaite pas "
                "poursuivre pour le moment.",
            }
            self.cases.close(
                self.operator,
                case.id,
                reason,
                note=notes[reason],
                expected_version=case.version,
                actor=DEMO_ACTOR,
            )
            return
        case = self.cases.start_level_2(
            self.operator, case.id, expected_version=case.version, actor=DEMO_ACTOR
        )
        for _ in range(rng.randint(1, 3) if stage is not Stage.PAUSED else 1):
            case, day = self._session(case, day, counsellor, rng)
        case = self._save(case, LEVEL_TWO_PROJECT, _career_project(project))
        if stage is Stage.PAUSED:
            self.cases.pause(
                self.operator, case.id, expected_version=case.version, actor=DEMO_ACTOR
            )
            return
        case = self._save(case, LEVEL_TWO_ACTION_PLAN, self._action_plan(project, rng))
        if stage in (Stage.FUNDED, Stage.COMPLETED):
            case = self._attach_funding(case, project, rng)
        if stage is Stage.COMPLETED:
            self._complete(case)

    # -- steps -----------------------------------------------------------------------------

    def _session(
        self, case: Case, day: date, counsellor: str, rng: random.Random
    ) -> tuple[Case, date]:
        while day.weekday() >= 5:  # counsellors see people on weekdays
            day += timedelta(days=1)
        day = min(day, self.today - timedelta(days=1))
        hour = rng.choice((9, 10, 11, 14, 15, 16, 17))
        minute = rng.choice((0, 30))
        start = datetime.combine(day, time(hour, minute), tzinfo=PARIS).astimezone(UTC)
        channel = rng.choice(
            (
                SessionChannel.IN_PERSON,
                SessionChannel.IN_PERSON,
                SessionChannel.PHONE,
                SessionChannel.VIDEO,
            )
        )
        salaried = case.situation.status in SALARIED_STATUSES
        session = NewSession(
            start=start,
            channel=channel,
            duration_minutes=rng.choice((45, 60, 60, 75, 90)),
            counsellor_id=counsellor,
            # Employees see their counsellor after hours, unless an agreement says otherwise.
            outside_working_time=(hour >= 17 or rng.random() < 0.7) if salaried else None,
            notes=rng.choice(SESSION_NOTES) if rng.random() < 0.5 else None,
        )
        case = self.cases.record_session(
            self.operator, case.id, session, expected_version=case.version, actor=DEMO_ACTOR
        )
        return case, day + timedelta(days=rng.randint(7, 21))

    def _save(self, case: Case, step_id: str, data: dict[str, Any]) -> Case:
        saved = self.cases.save_step(
            self.operator,
            case.id,
            step_id,
            data,
            complete=True,
            expected_version=case.version,
            actor=DEMO_ACTOR,
        )
        return saved.case

    def _referral_target(self, competent: list[str], rng: random.Random) -> str | None:
        better = [op for op in competent if op != self.operator and op in self.others]
        if better:
            return better[0]
        return rng.choice(self.others) if self.others else None

    def _level1_record(
        self,
        case: Case,
        project: DemoProject,
        stage: Stage,
        target: str | None,
        rng: random.Random,
    ) -> Level1Record:
        kinds = [InformationKind.JOB_MARKET, InformationKind.TRAINING, InformationKind.SCHEMES]
        kinds += [InformationKind.FUNDING, InformationKind.ACTORS]
        given = [InformationKind.CEP_SERVICE, *rng.sample(kinds, rng.randint(1, 3))]
        if case.situation.disability_recognition:
            given.append(InformationKind.COMPENSATION)
        referral = None
        if stage is Stage.REFERRED and target is not None:
            referral = Level1Referral(
                operator=target,
                reason=ReferralReason.BETTER_SUITED,
                note="L'opérateur désigné est le mieux placé pour accompagner ce projet.",
            )
        return Level1Record(
            request=project.request,
            clarified_need=project.need,
            information_given=tuple(k for k in InformationKind if k in given),
            shared_review=project.review,
            continues=stage is not Stage.CLOSED,
            referral=referral,
        )

    def _action_plan(self, project: DemoProject, rng: random.Random) -> dict[str, Any]:
        first = self.today + timedelta(days=rng.randint(30, 120))
        services = []
        start = first
        for service in project.services:
            end = start + timedelta(weeks=service.weeks)
            services.append(
                PlannedService(
                    kind=service.kind,
                    label=service.label,
                    provider=service.provider,
                    provider_qualiopi=service.qualiopi,
                    certification_code=service.certification,
                    start=start if service.weeks else None,
                    end=end if service.weeks else None,
                )
            )
            if service.weeks:  # one service after the other
                start = end + timedelta(weeks=1)
        steps = [
            PersonalStep(
                description=text,
                support=support,
                due=self.today + timedelta(days=rng.randint(10, 25) * (index + 1)),
            )
            for index, (text, support) in enumerate(project.steps)
        ]
        # The synthesis' calendar adds the services' and steps' own dates to these.
        milestones = [
            Milestone(
                on=self.today + timedelta(days=rng.randint(10, 25)),
                label="Dépôt du dossier de financement",
            ),
            Milestone(
                on=max(start, first + timedelta(weeks=2)),
                label="Bilan du parcours avec le conseiller ou la conseillère",
            ),
        ]
        plan = ActionPlan(
            services=tuple(services), personal_steps=tuple(steps), milestones=tuple(milestones)
        )
        return _plain(plan)

    def _attach_funding(self, case: Case, project: DemoProject, rng: random.Random) -> Case:
        """Price the first service that costs something; an operator's rules that refuse the
        plan leave the case without one (its funders decide, not the demo)."""
        index = next((i for i, s in enumerate(project.services) if s.cost_eur), None)
        if index is None:
            return case
        service = project.services[index]
        request = FundingPlanRequest(
            training=CaseTraining(service=index, cost_eur=service.cost_eur, hours=service.hours),
            situation=CaseFundingFacts(cpf_balance_eur=rng.randrange(600, 4200, 50)),
        )
        return self._try(
            lambda c: self.cases.attach_funding_plan(
                self.operator, c.id, request, expected_version=c.version, actor=DEMO_ACTOR
            ),
            case,
        )

    def _complete(self, case: Case) -> None:
        """Fill the operator's own required steps generically, then close: "completed" if
        every required step is done, else "other" (what the operator asks stays to do)."""
        for step in self.cases.step_definitions(self.operator, case.id, Level.TWO):
            if step.id in CORE_STEPS or not step.required or case.step_completed(step.id):
                continue
            answers = example_answers(step.input, self.today)
            if answers is not None:
                case = self._try(functools.partial(self._save, step_id=step.id, data=answers), case)
        progress = self.cases.progress(self.operator, case.id, Level.TWO)
        done = progress is not None and not progress.missing
        self.cases.close(
            self.operator,
            case.id,
            CloseReason.COMPLETED if done else CloseReason.OTHER,
            note=None
            if done
            else "Accompagnement terminé ; les étapes propres à l'opérateur "
            "n'ont pas été renseignées dans cette démonstration.",
            expected_version=case.version,
            actor=DEMO_ACTOR,
        )

    @staticmethod
    def _try(write: Callable[[Case], Case], case: Case) -> Case:
        """A write the operator's own rules may refuse (generic answers, its funders): the
        case stays as it was."""
        try:
            return write(case)
        except (CepError, InvalidInput):
            return case


def _project_for(situation: Situation, rng: random.Random) -> DemoProject:
    public = "cadre" if situation.cadre else "young" if situation.age < 26 else "other"
    return rng.choice([p for p in PROJECTS if public in p.publics])


def _career_project(project: DemoProject) -> dict[str, Any]:
    value = CareerProject(
        objective=project.objective,
        description=project.description,
        strategies=project.strategies,
        target_job=project.target_job,
        rome_code=project.rome_code,
    )
    return _plain(value)


def _plain(value: msgspec.Struct) -> dict[str, Any]:
    plain: dict[str, Any] = msgspec.to_builtins(value)
    return plain


# -- generic answers ---------------------------------------------------------------------------


class _NoExample(Exception):
    """The type has no value the demo can make up (a patterned code, an unknown type)."""


def example_answers(model: type[msgspec.Struct], today: date) -> dict[str, Any] | None:
    """The smallest plausible answers to an input Struct, or None when it cannot be filled.

    Required fields only (defaults stay), optional ones empty, first choices, lower bounds,
    today for dates, a neutral text for strings; a patterned string makes it unfillable.
    """
    try:
        value = _example(msgspec.inspect.type_info(model), today)
    except _NoExample:
        return None
    return value if isinstance(value, dict) else None


def _example(info: msgspec.inspect.Type, today: date) -> Any:
    mi = msgspec.inspect
    if isinstance(info, mi.Metadata):
        return _example(info.type, today)
    if isinstance(info, mi.StructType):
        return {f.encode_name: _example(f.type, today) for f in info.fields if f.required}
    if isinstance(info, mi.UnionType):
        if any(isinstance(t, mi.NoneType) for t in info.types):
            return None
        return _example(info.types[0], today)
    if isinstance(info, mi.EnumType):
        return next(iter(info.cls)).value
    if isinstance(info, mi.LiteralType):
        return info.values[0]
    if isinstance(info, mi.BoolType):
        return False
    if isinstance(info, mi.IntType | mi.FloatType):
        low = info.ge if info.ge is not None else (info.gt + 1 if info.gt is not None else 0)
        high = info.le if info.le is not None else (info.lt - 1 if info.lt is not None else 1)
        return max(low, min(1, high))
    if isinstance(info, mi.StrType):
        if info.pattern is not None:
            raise _NoExample
        text = NEUTRAL_TEXT.ljust(info.min_length or 0, ".")
        return text[: info.max_length] if info.max_length is not None else text
    if isinstance(info, mi.DateType):
        return today.isoformat()
    if isinstance(info, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
        return [_example(info.item_type, today) for _ in range(info.min_length or 0)]
    if isinstance(info, mi.TupleType):
        return [_example(item, today) for item in info.item_types]
    raise _NoExample


# -- people ------------------------------------------------------------------------------------


def _profiles_for(operator: str, hooks: Hooks, today: date) -> Sequence[Profile]:
    known = PUBLICS.get(operator)
    if known is not None:
        return known
    for profile in FALLBACK_PROFILES:
        situation = _situation(profile, random.Random(f"{operator}:probe"), today)  # noqa: S311
        competences, _ = hooks.assess_competences(situation)
        if any(c.operator == operator and c.competent for c in competences):
            return (profile,)
    return (Profile(status=Status.EMPLOYEE, ages=(26, 62)),)


def _demo_case(
    operator: str,
    rank: int,
    profiles: Sequence[Profile],
    today: date,
    counsellors: Sequence[str] = COUNSELLORS,
) -> tuple[NewBeneficiary, Situation, str | None, random.Random]:
    # Not for security: a seeded generator makes the demo reproducible.
    rng = random.Random(f"cep-demo:{operator}:{rank}")  # noqa: S311
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    person = NewBeneficiary(
        first_name=first,
        last_name=last,
        email=f"{_ascii(first)}.{_ascii(last)}.{rank + 1}@demo.cep-kit.invalid",
        phone=f"06 39 98 {rng.randrange(100):02d} {rng.randrange(100):02d}",
    )
    situation = _situation(profiles[rank % len(profiles)], rng, today)
    counsellor = rng.choice((None, *counsellors))
    return person, situation, counsellor, rng


def _situation(profile: Profile, rng: random.Random, today: date) -> Situation:
    age = rng.randint(*profile.ages)
    return Situation(
        birth_date=_birth_date(today, age, rng.randrange(1, 360)),
        as_of=today,
        status=profile.status,
        cadre=profile.cadre,
        registered_jobseeker=profile.registered_jobseeker,
        disability_recognition=profile.disability_recognition,
        working=profile.working,
        seeking_job=profile.seeking_job,
        region=rng.choice(REGIONS),
    )


def _birth_date(today: date, age: int, days_before_birthday: int) -> date:
    """Someone exactly `age` years old today (turned `age` some days ago)."""
    try:
        birthday = today.replace(year=today.year - age)
    except ValueError:  # 29 February, in a year that has none
        birthday = date(today.year - age, 2, 28)
    return birthday - timedelta(days=days_before_birthday)


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


DEMO_PASSWORD = "démonstration du kit CEP"  # noqa: S105 - printed on purpose, demo data only
DEMO_DOMAIN = "demo.cep-kit.fr"


def seed_demo_accounts(kit: Kit) -> list[StaffUser]:
    """A counsellor and a manager per installed operator, and a platform admin (idempotent).

    Only for demonstrations: they share one published password. `cep serve --demo` refuses
    to run in the production profile.
    """
    from cep_core.domain.context import Role

    wanted: list[tuple[str, str, Role, str | None]] = [
        (f"admin@{DEMO_DOMAIN}", "Administration (démo)", Role.ADMIN, None)
    ]
    for info in kit.hooks.operators():
        label = info.label(kit.today())
        wanted.append(
            (
                f"conseiller.{info.id}@{DEMO_DOMAIN}",
                f"Conseiller {label} (démo)",
                Role.COUNSELLOR,
                info.id,
            )
        )
        wanted.append(
            (
                f"responsable.{info.id}@{DEMO_DOMAIN}",
                f"Responsable {label} (démo)",
                Role.MANAGER,
                info.id,
            )
        )
    created: list[StaffUser] = []
    for email, name, role, operator in wanted:
        if kit.accounts.find_user(email) is None:
            created.append(
                kit.accounts.create_user(
                    email=email,
                    display_name=name,
                    role=role,
                    operator=operator,
                    password=DEMO_PASSWORD,
                )
            )
    return created
