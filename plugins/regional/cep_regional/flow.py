"""The regional operators' own flow: intake of people in work, and their session steps.

What sets this flow apart is the employment relationship. The employer learns nothing unless
the person agrees (``employer_informed`` defaults to false, domain rule 2); sessions take place
outside working time unless an agreement says otherwise; the entretien professionnel
(C. trav. L6315-1) is prepared with the person; and the two schemes only an employee can use
have steps of their own: the projet de transition professionnelle (PTP, CDI and CDD holders,
rules 16–18) and démission-reconversion (private CDI only, rule 19). Self-employed people get
none of the employer steps. Every threshold and date comes from ``data/parameters.toml``.

Funding arithmetic (PTP pay, CPF) belongs to the funding engine, not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from functools import cache
from typing import Annotated, Any

import msgspec

import cep_core
from cep_core import (
    Case,
    FormChannel,
    FundingParameters,
    IntakeForm,
    Issue,
    Level,
    OperatorContext,
    ParameterSet,
    StepCheck,
    StepDefinition,
    add_months,
    date_in_future,
    duplicate_choices,
    french_date,
    funding_parameters,
    hookimpl,
    intake_as,
    issue,
    validate_intake_with,
    validate_step_with,
)

PLUGIN_ID = "regional"
CORE_PROJECT = "level2.project"
CERTIFICATION_PATTERN = r"^(RNCP|RS)[0-9]{1,6}$"

# Bounded value types; optional fields wrap them (``Annotated[Title | None, Meta(title=...)]``)
# because msgspec puts length and range constraints on the value type, not on the union.
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Notes = Annotated[str, msgspec.Meta(max_length=1000)]
CertificationCode = Annotated[
    str, msgspec.Meta(max_length=12, pattern=CERTIFICATION_PATTERN, examples=["RNCP34828"])
]
Months = Annotated[int, msgspec.Meta(ge=0, le=720)]


@cache
def parameters() -> ParameterSet:
    # Loaded here rather than imported from `hooks`, which imports this module.
    return ParameterSet.from_package("cep_regional", "data/parameters.toml")


# -- closed choices ----------------------------------------------------------------------------


class LabelledChoice(cep_core.LabelledChoice):
    """This operator's closed choices; their French labels are in `LABELS`."""

    @classmethod
    def labels(cls) -> Mapping[str, str]:
        return LABELS[cls]


class Contract(LabelledChoice):
    CDI = "cdi"
    CDD = "cdd"
    TEMPORARY_AGENCY = "interim"
    APPRENTICESHIP = "apprenticeship"
    PROFESSIONALISATION = "professionalisation"
    AIDED = "aided_contract"
    SELF_EMPLOYED = "self_employed"
    OTHER = "other"


class EmployerSize(LabelledChoice):
    UNDER_11 = "under_11"
    FROM_11_TO_49 = "from_11_to_49"
    FROM_50_TO_299 = "from_50_to_299"
    FROM_300 = "from_300"


class TransitionPath(LabelledChoice):
    PTP = "ptp"
    RESIGNATION_RETRAINING = "demission_reconversion"
    SKILLS_ASSESSMENT = "bilan"
    VAE = "vae"
    TRAINING = "training"
    BUSINESS_CREATION = "business_creation"


class InformationScope(LabelledChoice):
    ATTENDANCE = "attendance"
    PROJECT = "project"
    LEAVE_REQUEST = "leave_request"
    SCHEDULE = "schedule"


class ReviewTopic(LabelledChoice):
    SKILLS = "skills"
    TRAINING_NEEDS = "training_needs"
    CAREER_WISHES = "career_wishes"
    CPF = "cpf"
    VAE = "vae"
    CEP = "cep"


class SeniorityExemption(LabelledChoice):
    NONE = "none"
    DISABILITY = "boeth"
    DISMISSED_AND_REHIRED = "rehired_after_dismissal"
    LONG_ABSENCE = "long_absence"


class ResignationProject(LabelledChoice):
    TRAINING = "training"
    BUSINESS = "business_creation"


LABELS: dict[type[LabelledChoice], dict[str, str]] = {
    Contract: {
        Contract.CDI: "Contrat à durée indéterminée (CDI)",
        Contract.CDD: "Contrat à durée déterminée (CDD)",
        Contract.TEMPORARY_AGENCY: "Intérim",
        Contract.APPRENTICESHIP: "Contrat d'apprentissage",
        Contract.PROFESSIONALISATION: "Contrat de professionnalisation",
        Contract.AIDED: "Contrat aidé (CAE, PEC)",
        Contract.SELF_EMPLOYED: "Travailleur(se) indépendant(e)",
        Contract.OTHER: "Autre situation",
    },
    EmployerSize: {
        EmployerSize.UNDER_11: "Moins de 11 salariés",
        EmployerSize.FROM_11_TO_49: "De 11 à 49 salariés",
        EmployerSize.FROM_50_TO_299: "De 50 à 299 salariés",
        EmployerSize.FROM_300: "300 salariés ou plus",
    },
    TransitionPath: {
        TransitionPath.PTP: "Projet de transition professionnelle (PTP)",
        TransitionPath.RESIGNATION_RETRAINING: "Démission pour reconversion",
        TransitionPath.SKILLS_ASSESSMENT: "Bilan de compétences",
        TransitionPath.VAE: "Validation des acquis de l'expérience (VAE)",
        TransitionPath.TRAINING: "Formation en dehors d'un congé",
        TransitionPath.BUSINESS_CREATION: "Création ou reprise d'entreprise",
    },
    InformationScope: {
        InformationScope.ATTENDANCE: "Le fait de suivre un CEP",
        InformationScope.PROJECT: "Le projet professionnel",
        InformationScope.LEAVE_REQUEST: "Une demande de congé de transition professionnelle",
        InformationScope.SCHEDULE: "Les dates de rendez-vous",
    },
    ReviewTopic: {
        ReviewTopic.SKILLS: "Compétences et qualifications mobilisées dans l'emploi",
        ReviewTopic.TRAINING_NEEDS: "Besoins de formation",
        ReviewTopic.CAREER_WISHES: "Souhaits d'évolution professionnelle",
        ReviewTopic.CPF: "Activation du CPF et abondements de l'employeur",
        ReviewTopic.VAE: "Validation des acquis de l'expérience",
        ReviewTopic.CEP: "Recours au conseil en évolution professionnelle",
    },
    SeniorityExemption: {
        SeniorityExemption.NONE: "Aucune : la condition d'ancienneté s'applique",
        SeniorityExemption.DISABILITY: "Bénéficiaire de l'obligation d'emploi (BOETH)",
        SeniorityExemption.DISMISSED_AND_REHIRED: (
            "Réembauche après un licenciement économique ou pour inaptitude, sans formation "
            "entre-temps"
        ),
        SeniorityExemption.LONG_ABSENCE: (
            "Absence pour maladie professionnelle, ou longue absence pour accident ou maladie, "
            "avant la demande"
        ),
    },
    ResignationProject: {
        ResignationProject.TRAINING: "Reconversion nécessitant une formation",
        ResignationProject.BUSINESS: "Création ou reprise d'entreprise",
    },
}

EMPLOYEE_CONTRACTS = frozenset(set(Contract) - {Contract.SELF_EMPLOYED})
PTP_CONTRACTS = frozenset({Contract.CDI, Contract.CDD})

# -- intake ------------------------------------------------------------------------------------

ContractField = Annotated[
    Contract,
    msgspec.Meta(
        title="Situation d'emploi",
        description="Le contrat de travail en cours, ou l'activité indépendante.",
    ),
]
EmployerSizeField = Annotated[
    EmployerSize | None,
    msgspec.Meta(
        title="Taille de l'entreprise",
        description="Nombre de salariés de l'employeur, si vous en avez un.",
    ),
]
EmployerInformedField = Annotated[
    bool,
    msgspec.Meta(
        title="Votre employeur est informé de votre démarche",
        description="Vous n'êtes pas tenu(e) d'en informer votre employeur ; rien ne lui est "
        "transmis sans votre accord.",
    ),
]
PathsField = Annotated[
    list[TransitionPath],
    msgspec.Meta(
        max_length=len(TransitionPath),
        title="Pistes envisagées",
        description="Les dispositifs auxquels vous pensez déjà, s'il y en a.",
    ),
]
LastReviewField = Annotated[
    date | None,
    msgspec.Meta(
        title="Date de votre dernier entretien professionnel",
        description="L'entretien avec l'employeur consacré à votre évolution professionnelle.",
    ),
]


class RegionalPublicIntake(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a person fills in alone: plain questions, nothing only a counsellor can judge."""

    contract: ContractField
    employer_size: EmployerSizeField = None
    employer_informed: EmployerInformedField = False
    paths_considered: PathsField = msgspec.field(default_factory=list)
    last_professional_review_on: LastReviewField = None


class RegionalIntake(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The counsellor's and the API's intake: the public questions plus the working context."""

    contract: ContractField
    employer_size: EmployerSizeField = None
    employer_informed: EmployerInformedField = False
    paths_considered: PathsField = msgspec.field(default_factory=list)
    last_professional_review_on: LastReviewField = None
    company_entry_on: Annotated[
        date | None,
        msgspec.Meta(
            title="Date d'entrée dans l'entreprise",
            description="Sert à vérifier l'ancienneté demandée pour un PTP.",
        ),
    ] = None
    job_title: Annotated[Title | None, msgspec.Meta(title="Intitulé du poste occupé")] = None
    sessions_in_working_time: Annotated[
        bool,
        msgspec.Meta(
            title="Rendez-vous sur le temps de travail",
            description="Par défaut, le CEP se déroule hors du temps de travail.",
        ),
    ] = False
    working_time_agreement: Annotated[
        bool,
        msgspec.Meta(
            title="Un accord de branche ou d'entreprise prévoit le CEP sur le temps de travail",
        ),
    ] = False


def intake_form(channel: FormChannel) -> IntakeForm:
    if channel is FormChannel.PUBLIC:
        return IntakeForm(
            operator=PLUGIN_ID,
            title="Votre situation professionnelle",
            input=RegionalPublicIntake,
            help="Ces réponses préparent votre premier rendez-vous. Votre employeur n'en est "
            "pas informé.",
        )
    return IntakeForm(
        operator=PLUGIN_ID,
        title="Accueil — situation d'emploi",
        input=RegionalIntake,
        help="Contrat, taille de l'entreprise et information de l'employeur (non par défaut) : "
        "ces réponses décident des étapes proposées (entretien professionnel, PTP, "
        "démission-reconversion).",
    )


def check_intake(today: date, answers: RegionalIntake) -> list[Issue]:
    issues: list[Issue] = []
    independent = answers.contract is Contract.SELF_EMPLOYED
    if independent and answers.employer_size is not None:
        issues.append(
            issue(
                "employer_size",
                "not_applicable",
                "Un(e) travailleur(se) indépendant(e) n'a pas d'employeur : laissez la taille de "
                "l'entreprise vide.",
            )
        )
    if independent and answers.last_professional_review_on is not None:
        issues.append(
            issue(
                "last_professional_review_on",
                "not_applicable",
                "L'entretien professionnel concerne les salariés : un(e) indépendant(e) n'en a "
                "pas.",
            )
        )
    for name in ("company_entry_on", "last_professional_review_on"):
        value = getattr(answers, name)
        if value is not None and value > today:
            issues.append(date_in_future(name, value))
    if (
        answers.company_entry_on is not None
        and answers.last_professional_review_on is not None
        and answers.last_professional_review_on < answers.company_entry_on
    ):
        issues.append(
            issue(
                "last_professional_review_on",
                "before_hiring",
                "Le dernier entretien professionnel ne peut pas précéder l'entrée dans "
                f"l'entreprise ({french_date(answers.company_entry_on)}).",
            )
        )
    if answers.sessions_in_working_time and not answers.working_time_agreement:
        issues.append(
            issue(
                "sessions_in_working_time",
                "agreement_required",
                "Le CEP se déroule hors du temps de travail, sauf accord de branche ou "
                "d'entreprise : indiquez cet accord ou prévoyez les rendez-vous hors du temps "
                "de travail.",
            )
        )
    issues += duplicate_choices("paths_considered", answers.paths_considered)
    if (
        TransitionPath.RESIGNATION_RETRAINING in answers.paths_considered
        and answers.contract is not Contract.CDI
    ):
        issues.append(
            issue(
                "paths_considered",
                "not_eligible",
                "La démission pour reconversion est réservée aux salariés en CDI de droit privé.",
            )
        )
    if TransitionPath.PTP in answers.paths_considered and independent:
        issues.append(
            issue(
                "paths_considered",
                "not_eligible",
                "Le projet de transition professionnelle est réservé aux salariés.",
            )
        )
    return issues


# -- steps -------------------------------------------------------------------------------------


class EmployerInformation(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Whether, and what, the employer may be told: nothing unless the person agrees."""

    employer_to_be_informed: Annotated[
        bool,
        msgspec.Meta(
            title="La personne souhaite que son employeur soit informé",
            description="Non par défaut : le CEP est une démarche personnelle.",
        ),
    ] = False
    consent_given_on: Annotated[
        date | None, msgspec.Meta(title="Date de l'accord de la personne")
    ] = None
    scope: Annotated[
        list[InformationScope],
        msgspec.Meta(
            max_length=len(InformationScope),
            title="Ce qui peut être communiqué à l'employeur",
            description="Uniquement ce que la personne a accepté.",
        ),
    ] = msgspec.field(default_factory=list)


class ProfessionalReviewPreparation(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Preparing the next entretien professionnel with the employer (C. trav. L6315-1)."""

    last_review_on: Annotated[
        date | None, msgspec.Meta(title="Date du dernier entretien professionnel")
    ] = None
    next_review_planned_on: Annotated[
        date | None,
        msgspec.Meta(
            title="Date prévue du prochain entretien",
            description="Si l'employeur l'a déjà fixée.",
        ),
    ] = None
    topics: Annotated[
        list[ReviewTopic],
        msgspec.Meta(
            max_length=len(ReviewTopic),
            title="Sujets que la personne veut aborder",
        ),
    ] = msgspec.field(default_factory=list)
    mention_cep: Annotated[
        bool,
        msgspec.Meta(
            title="Parler du CEP pendant l'entretien",
            description="La personne décide seule d'en parler ou non.",
        ),
    ] = False
    notes: Annotated[Notes | None, msgspec.Meta(title="Points à préparer")] = None


class TransitionProject(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A projet de transition professionnelle: certifying training, seniority and notice."""

    certification_code: Annotated[
        CertificationCode | None,
        msgspec.Meta(
            title="Code de la certification visée (RNCP ou RS)",
            description="Exemple : RNCP34828. Le PTP finance une formation certifiante.",
        ),
    ] = None
    certification_title: Annotated[
        Title | None, msgspec.Meta(title="Intitulé de la certification")
    ] = None
    training_start_on: Annotated[date, msgspec.Meta(title="Début prévu de la formation")]
    training_end_on: Annotated[date | None, msgspec.Meta(title="Fin prévue de la formation")] = None
    continuous_absence_months: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            le=60,
            title="Durée de l'absence continue du poste (mois)",
            description="0 pour une formation à temps partiel sans absence continue.",
        ),
    ] = 0
    part_time_training: Annotated[bool, msgspec.Meta(title="Formation à temps partiel")] = False
    positioning_done: Annotated[
        bool,
        msgspec.Meta(
            title="Positionnement préalable réalisé par l'organisme de formation",
            description="Il aboutit au parcours personnalisé et au devis.",
        ),
    ] = False
    leave_request_on: Annotated[
        date | None,
        msgspec.Meta(title="Date de la demande de congé à l'employeur (envoyée ou prévue)"),
    ] = None
    salaried_months_total: Annotated[
        int,
        msgspec.Meta(ge=0, le=720, title="Ancienneté salariée totale (mois)"),
    ] = 0
    months_in_company: Annotated[
        Months | None,
        msgspec.Meta(
            title="Ancienneté dans l'entreprise actuelle (mois)",
            description="Calculée depuis la date d'entrée si elle est connue.",
        ),
    ] = None
    salaried_months_last_5_years: Annotated[
        int,
        msgspec.Meta(ge=0, le=60, title="Mois salariés au cours des 5 dernières années (CDD)"),
    ] = 0
    cdd_months_last_12_months: Annotated[
        int,
        msgspec.Meta(ge=0, le=12, title="Mois en CDD au cours des 12 derniers mois (CDD)"),
    ] = 0
    cdd_end_on: Annotated[
        date | None, msgspec.Meta(title="Fin du CDD qui ouvre le droit (CDD)")
    ] = None
    seniority_exemption: Annotated[
        SeniorityExemption,
        msgspec.Meta(title="Dispense de la condition d'ancienneté"),
    ] = SeniorityExemption.NONE


class ResignationRetraining(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Démission-reconversion: the CEP's part of the file, to be done before resigning."""

    project_kind: Annotated[ResignationProject, msgspec.Meta(title="Nature du projet")]
    days_worked_last_60_months: Annotated[
        Annotated[int, msgspec.Meta(ge=0, le=1900)] | None,
        msgspec.Meta(title="Jours travaillés au cours des 60 derniers mois"),
    ] = None
    certification_code: Annotated[
        CertificationCode | None,
        msgspec.Meta(title="Code de la certification visée, s'il y en a une (RNCP ou RS)"),
    ] = None
    already_resigned: Annotated[bool, msgspec.Meta(title="La personne a déjà démissionné")] = False
    cep_part_signed_on: Annotated[
        date | None,
        msgspec.Meta(
            title="Date de signature de la partie CEP du dossier Transitions Pro",
            description="Remplie par l'opérateur du CEP et cosignée par la personne.",
        ),
    ] = None
    file_sent_to_transitions_pro: Annotated[
        bool, msgspec.Meta(title="Dossier déposé auprès de Transitions Pro")
    ] = False


def steps(today: date, level: Level, intake: RegionalIntake | None) -> list[StepDefinition]:
    """The regional steps of `level`, adapted to the intake (None: not known yet)."""
    contract = intake.contract if intake is not None else None
    employee = contract is not Contract.SELF_EMPLOYED
    paths = set(intake.paths_considered) if intake is not None else set()
    params = parameters()
    found: list[StepDefinition] = []
    if level is Level.ONE:
        if employee:
            found.append(
                StepDefinition(
                    id="regional.employer_information",
                    level=Level.ONE,
                    title="Information de l'employeur",
                    input=EmployerInformation,
                    help="Par défaut, l'employeur n'est pas informé. Ne cochez l'information "
                    "que si la personne le demande, avec la date de son accord et ce qui peut "
                    "être dit.",
                    order=60,
                    required=True,
                )
            )
        return found
    if employee:
        found.append(
            StepDefinition(
                id="regional.entretien_professionnel",
                level=Level.TWO,
                title="Préparation de l'entretien professionnel",
                input=ProfessionalReviewPreparation,
                help="L'entretien professionnel avec l'employeur est un point d'appui du "
                "projet : préparez les sujets que la personne veut y aborder.",
                order=50,
                required=False,
            )
        )
    if contract in PTP_CONTRACTS and funding_parameters().flag("ptp.available", today):
        found.append(
            StepDefinition(
                id="regional.ptp",
                level=Level.TWO,
                title="Projet de transition professionnelle (PTP)",
                input=TransitionProject,
                help="Formation certifiante (RNCP ou RS), conditions d'ancienneté et délai de "
                "la demande de congé à l'employeur. Le financement est calculé dans le plan "
                "de financement.",
                order=150,
                required=TransitionPath.PTP in paths,
                depends_on=(CORE_PROJECT,),
            )
        )
    if (
        contract is Contract.CDI
        and params.get_at("demission_reconversion.conditions", today) is not None
    ):
        found.append(
            StepDefinition(
                id="regional.demission_reconversion",
                level=Level.TWO,
                title="Démission pour reconversion",
                input=ResignationRetraining,
                help="Le CEP doit avoir lieu avant la démission : l'opérateur remplit et "
                "cosigne sa partie du dossier déposé auprès de Transitions Pro.",
                order=160,
                required=TransitionPath.RESIGNATION_RETRAINING in paths,
                depends_on=(CORE_PROJECT,),
            )
        )
    return found


def check_employer_information(
    today: date, case: Case, answers: EmployerInformation
) -> list[Issue]:
    issues: list[Issue] = []
    if answers.employer_to_be_informed:
        if answers.consent_given_on is None:
            issues.append(
                issue(
                    "consent_given_on",
                    "consent_required",
                    "L'employeur ne peut être informé qu'avec l'accord de la personne : "
                    "indiquez la date de cet accord.",
                )
            )
        if not answers.scope:
            issues.append(
                issue(
                    "scope",
                    "required",
                    "Précisez ce que la personne accepte de communiquer à son employeur.",
                )
            )
    elif answers.scope:
        issues.append(
            issue(
                "scope",
                "consent_required",
                "Rien n'est communiqué à l'employeur sans l'accord de la personne : videz cette "
                "liste ou indiquez que la personne souhaite l'informer.",
            )
        )
    if answers.consent_given_on is not None and answers.consent_given_on > today:
        issues.append(date_in_future("consent_given_on", answers.consent_given_on))
    return issues + duplicate_choices("scope", answers.scope)


def check_professional_review(
    today: date, case: Case, answers: ProfessionalReviewPreparation
) -> list[Issue]:
    issues: list[Issue] = []
    last, planned = answers.last_review_on, answers.next_review_planned_on
    if last is not None and last > today:
        issues.append(date_in_future("last_review_on", last))
    if last is not None and planned is not None:
        if planned <= last:
            issues.append(
                issue(
                    "next_review_planned_on",
                    "before_last_review",
                    f"Le prochain entretien doit être postérieur au dernier ({french_date(last)}).",
                )
            )
        else:
            # The periodicity in force when the next interview takes place applies to it.
            years = parameters().get_at("professional_review.interval_years", planned)
            if years is not None and planned > add_months(last, 12 * int(years)):
                issues.append(
                    issue(
                        "next_review_planned_on",
                        "review_overdue",
                        f"L'entretien professionnel a lieu au moins tous les {years} ans : "
                        f"après celui du {french_date(last)}, le suivant est dû au plus tard le "
                        f"{french_date(add_months(last, 12 * int(years)))}.",
                    )
                )
    return issues + duplicate_choices("topics", answers.topics)


def check_ptp(today: date, case: Case, answers: TransitionProject) -> list[Issue]:
    intake = intake_answers(case)
    contract = intake.contract if intake is not None else None
    rules = funding_parameters()
    if contract not in PTP_CONTRACTS or not rules.flag("ptp.available", today):
        return [
            issue(
                "",
                "not_eligible",
                "Le projet de transition professionnelle est ouvert aux salariés en CDI ou en "
                "CDD : l'accueil de ce dossier n'indique ni l'un ni l'autre.",
            )
        ]
    issues: list[Issue] = []
    if answers.certification_code is None:
        issues.append(
            issue(
                "certification_code",
                "certification_required",
                "Le PTP finance une formation certifiante : indiquez le code RNCP ou RS de la "
                "certification visée.",
            )
        )
    start = answers.training_start_on
    if answers.training_end_on is not None and answers.training_end_on < start:
        issues.append(
            issue(
                "training_end_on",
                "before_start",
                f"La fin de la formation ne peut pas précéder son début ({french_date(start)}).",
            )
        )
    issues += _check_ptp_seniority(today, case, intake, answers, rules)
    issues += _check_ptp_notice(today, answers, rules)
    if contract is Contract.CDD and answers.cdd_end_on is not None:
        window = rules.integer("ptp.cdd.start_within_months", today)
        latest = add_months(answers.cdd_end_on, window)
        if start > latest:
            issues.append(
                issue(
                    "training_start_on",
                    "too_late_after_cdd",
                    f"Après un CDD, la formation doit commencer dans les {window} mois qui "
                    f"suivent la fin du contrat, soit au plus tard le {french_date(latest)}.",
                )
            )
    return issues


def _check_ptp_seniority(
    today: date,
    case: Case,
    intake: RegionalIntake | None,
    answers: TransitionProject,
    rules: FundingParameters,
) -> list[Issue]:
    """The L6323-17-2 seniority test, field by field; thresholds are the core's PTP parameters
    (the same ones the funding engine's `ptp_eligibility` reads), never a copy."""
    rule = {
        "cdi_total_months": rules.integer("ptp.cdi.months_salaried", today),
        "cdi_company_months": rules.integer("ptp.cdi.months_company", today),
        "cdd_total_months": rules.integer("ptp.cdd.months_salaried", today),
        "cdd_window_months": rules.integer("ptp.cdd.window_months", today),
        "cdd_contract_months": rules.integer("ptp.cdd.months_cdd", today),
        "cdd_contract_window_months": rules.integer("ptp.cdd.cdd_window_months", today),
    }
    exemption = answers.seniority_exemption
    if exemption is SeniorityExemption.DISABILITY and not case.situation.disability_recognition:
        return [
            issue(
                "seniority_exemption",
                "inconsistent",
                "La dispense au titre de l'obligation d'emploi suppose une reconnaissance de "
                "handicap, que la situation du dossier n'indique pas.",
            )
        ]
    if exemption is SeniorityExemption.LONG_ABSENCE and not rules.flag(
        "ptp.absence_exemption", today
    ):
        return [
            issue(
                "seniority_exemption",
                "not_in_force",
                "La dispense liée à une longue absence pour accident ou maladie n'est pas en "
                "vigueur à cette date.",
            )
        ]
    if exemption is not SeniorityExemption.NONE:
        return []
    issues: list[Issue] = []
    if intake is not None and intake.contract is Contract.CDI:
        if answers.salaried_months_total < rule["cdi_total_months"]:
            issues.append(
                issue(
                    "salaried_months_total",
                    "seniority",
                    f"En CDI, le PTP demande au moins {rule['cdi_total_months']} mois "
                    "d'activité salariée, consécutifs ou non.",
                )
            )
        in_company = answers.months_in_company
        if in_company is None and intake.company_entry_on is not None:
            in_company = _months_between(intake.company_entry_on, today)
        if in_company is None:
            issues.append(
                issue(
                    "months_in_company",
                    "required",
                    "Indiquez l'ancienneté dans l'entreprise actuelle (ou la date d'entrée à "
                    "l'accueil) pour vérifier la condition d'ancienneté.",
                )
            )
        elif in_company < rule["cdi_company_months"]:
            issues.append(
                issue(
                    "months_in_company",
                    "seniority",
                    f"En CDI, le PTP demande au moins {rule['cdi_company_months']} mois dans "
                    "l'entreprise actuelle.",
                )
            )
        return issues
    if answers.salaried_months_last_5_years < rule["cdd_total_months"]:
        issues.append(
            issue(
                "salaried_months_last_5_years",
                "seniority",
                f"En CDD, le PTP demande au moins {rule['cdd_total_months']} mois d'activité "
                f"salariée au cours des {rule['cdd_window_months']} derniers mois.",
            )
        )
    if answers.cdd_months_last_12_months < rule["cdd_contract_months"]:
        issues.append(
            issue(
                "cdd_months_last_12_months",
                "seniority",
                f"En CDD, le PTP demande au moins {rule['cdd_contract_months']} mois de CDD au "
                f"cours des {rule['cdd_contract_window_months']} derniers mois.",
            )
        )
    return issues


def _check_ptp_notice(
    today: date, answers: TransitionProject, rules: FundingParameters
) -> list[Issue]:
    notice = {
        "long_absence_months": rules.integer("ptp.notice.long_absence_months", today),
        "long_absence_days": rules.integer("ptp.notice.long_days", today),
        "other_days": rules.integer("ptp.notice.short_days", today),
    }
    long_absence = (
        not answers.part_time_training
        and answers.continuous_absence_months >= notice["long_absence_months"]
    )
    days = int(notice["long_absence_days"] if long_absence else notice["other_days"])
    start = answers.training_start_on
    why = (
        f"pour une absence continue d'au moins {notice['long_absence_months']} mois"
        if long_absence
        else "pour une absence plus courte ou une formation à temps partiel"
    )
    sent = answers.leave_request_on
    if sent is not None:
        if start - sent < timedelta(days=days):
            return [
                issue(
                    "leave_request_on",
                    "notice_too_short",
                    f"La demande de congé doit parvenir à l'employeur au moins {days} jours "
                    f"avant le début de la formation {why}, soit au plus tard le "
                    f"{french_date(start - timedelta(days=days))}.",
                )
            ]
        return []
    if start - today < timedelta(days=days):
        return [
            issue(
                "training_start_on",
                "notice_too_short",
                f"La demande de congé doit parvenir à l'employeur au moins {days} jours avant "
                f"le début de la formation {why} : la formation ne peut pas commencer avant le "
                f"{french_date(today + timedelta(days=days))}.",
            )
        ]
    return []


def check_resignation(today: date, case: Case, answers: ResignationRetraining) -> list[Issue]:
    intake = intake_answers(case)
    params = parameters()
    conditions = params.get_at("demission_reconversion.conditions", today)
    if intake is None or intake.contract is not Contract.CDI or conditions is None:
        return [
            issue(
                "",
                "not_eligible",
                "La démission pour reconversion est réservée aux salariés en CDI de droit privé.",
            )
        ]
    issues: list[Issue] = []
    if answers.already_resigned:
        issues.append(
            issue(
                "already_resigned",
                "cep_after_resignation",
                "Le projet doit être construit avec un opérateur du CEP avant la démission : une "
                "démission déjà donnée ne permet plus ce dispositif.",
            )
        )
    worked = answers.days_worked_last_60_months
    if worked is not None and worked < conditions["min_days_worked"]:
        issues.append(
            issue(
                "days_worked_last_60_months",
                "seniority",
                f"Le dispositif demande au moins {conditions['min_days_worked']} jours travaillés "
                f"au cours des {conditions['window_months']} derniers mois.",
            )
        )
    signed = answers.cep_part_signed_on
    if signed is not None and signed > today:
        issues.append(date_in_future("cep_part_signed_on", signed))
    if answers.file_sent_to_transitions_pro and signed is None:
        issues.append(
            issue(
                "cep_part_signed_on",
                "required",
                "Le dossier ne peut être déposé auprès de Transitions Pro qu'avec la partie CEP "
                "remplie et cosignée : indiquez sa date de signature.",
            )
        )
    return issues


STEP_CHECKS: dict[str, StepCheck] = {
    "regional.employer_information": (EmployerInformation, check_employer_information),
    "regional.entretien_professionnel": (ProfessionalReviewPreparation, check_professional_review),
    "regional.ptp": (TransitionProject, check_ptp),
    "regional.demission_reconversion": (ResignationRetraining, check_resignation),
}


# -- hooks -------------------------------------------------------------------------------------


@hookimpl
def cep_intake_form(ctx: OperatorContext, channel: FormChannel) -> IntakeForm:
    return intake_form(channel)


@hookimpl
def cep_validate_intake(ctx: OperatorContext, data: Mapping[str, Any]) -> list[Issue]:
    return validate_intake_with(RegionalIntake, check_intake, ctx.today, data)


@hookimpl
def cep_session_steps(ctx: OperatorContext, level: Level, case: Case) -> list[StepDefinition]:
    return steps(ctx.today, level, intake_answers(case))


@hookimpl
def cep_validate_step(
    ctx: OperatorContext, case: Case, step_id: str, data: Mapping[str, Any]
) -> list[Issue]:
    return validate_step_with(STEP_CHECKS, ctx.today, case, step_id, data)


# -- helpers -----------------------------------------------------------------------------------


def intake_answers(case: Case) -> RegionalIntake | None:
    """The case's intake as this operator's full intake Struct, or None when absent.

    Public answers fit it too (the public form is a subset); funding and synthesis code of
    this plugin read the intake through here.
    """
    return intake_as(case, RegionalIntake)


def _months_between(start: date, end: date) -> int:
    """Whole calendar months from `start` to `end` (0 when `end` is earlier)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return max(months, 0)
