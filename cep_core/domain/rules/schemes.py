"""Other schemes: démission-reconversion, bilan de compétences, VAE, abondement correctif."""

from __future__ import annotations

from datetime import date

from cep_core.domain.funding import ContractKind, FundingSituation, Project, Verdict
from cep_core.domain.money import format_euros
from cep_core.domain.rules.params import FundingParameters
from cep_core.domain.situation import Status


def demission_reconversion(
    situation: FundingSituation, when: date, params: FundingParameters
) -> Verdict:
    """Preconditions of the resignation for a retraining project, the seniority flagged uncertain.

    The sources disagree on the seniority count (1,300 days worked in 60 months, or 5 years in
    the last 72 months): the verdict is always ``uncertain`` and says so.
    """
    label = "Démission pour reconversion"
    if not params.flag("demission.available", when):
        return Verdict(
            rule="demission_reconversion",
            label=label,
            eligible=False,
            reasons=(
                "La démission pour reconversion indemnisée existe depuis le 1er novembre 2019 "
                "(loi n° 2018-771).",
            ),
        )
    days = params.integer("demission.days_worked", when)
    window = params.integer("demission.window_months", when)
    registration = params.integer("demission.registration_months", when)
    doubt = (
        f"Condition d'ancienneté INCERTAINE : les sources parlent de {days} jours travaillés "
        f"sur les {window} derniers mois, ou de 5 ans d'activité sur les 72 derniers mois ; "
        "faites-la confirmer par Transitions Pro ou France Travail."
    )
    steps = (
        "Le conseil en évolution professionnelle est obligatoire AVANT la démission : le "
        "conseiller remplit et cosigne sa partie du dossier (arrêté du 23 octobre 2019) ; "
        "France Travail ne serait pas l'opérateur du CEP pour ce dispositif [à vérifier].",
        f"Après l'attestation du caractère réel et sérieux du projet par Transitions Pro, "
        f"inscrivez-vous à France Travail dans les {registration} mois.",
    )
    if situation.status != Status.EMPLOYEE or situation.contract != ContractKind.CDI:
        return Verdict(
            rule="demission_reconversion",
            label=label,
            eligible=False,
            reasons=(
                "La démission pour reconversion est ouverte aux salariés en CDI de droit privé "
                "(C. trav. L5422-1).",
            ),
            uncertain=False,
        )
    worked = situation.days_worked_last_60_months
    if worked is None:
        return Verdict(
            rule="demission_reconversion",
            label=label,
            eligible=None,
            reasons=(
                "Vous êtes en CDI de droit privé. Indiquez le nombre de jours travaillés sur les "
                f"{window} derniers mois pour vérifier l'ancienneté.",
                doubt,
                *steps,
            ),
            uncertain=True,
        )
    if worked >= days:
        verdict = (
            f"Vous êtes en CDI de droit privé avec {worked} jours travaillés sur {window} mois "
            f"(au moins {days}) : la condition d'ancienneté semble remplie."
        )
        eligible = True
    else:
        verdict = (
            f"Vous avez {worked} jours travaillés sur {window} mois : il en faut au moins {days}."
        )
        eligible = False
    return Verdict(
        rule="demission_reconversion",
        label=label,
        eligible=eligible,
        reasons=(verdict, doubt, *steps),
        uncertain=True,
    )


def bilan_verdict(project: Project, when: date, params: FundingParameters) -> Verdict:
    """The bilan lasts at most 24 hours in three phases; its results belong to the person."""
    limit = params.integer("bilan.max_hours", when)
    common = (
        "Trois phases obligatoires : préliminaire, investigation, conclusions (C. trav. "
        "R6313-4). Le bilan demande votre consentement ; ses résultats et sa synthèse vous "
        "appartiennent et ne sont transmis au conseiller CEP qu'à votre demande "
        "(C. trav. L6313-4).",
        "Le prestataire doit être extérieur à l'entreprise et certifié Qualiopi pour un "
        "financement public ou mutualisé (C. trav. L6316-1).",
    )
    if project.hours is not None and project.hours > limit:
        return Verdict(
            rule="bilan",
            label="Bilan de compétences",
            eligible=False,
            reasons=(
                f"Un bilan de compétences dure au plus {limit} heures (C. trav. R6313-4) : les "
                f"{project.hours - limit} heures en plus ne sont pas finançables par le CPF.",
                *common,
            ),
        )
    hours = f"{project.hours} heures" if project.hours is not None else "durée non indiquée"
    return Verdict(
        rule="bilan",
        label="Bilan de compétences",
        eligible=True,
        reasons=(f"Durée : {hours}, pour {limit} heures au plus (C. trav. R6313-4).", *common),
    )


def vae_verdict(
    project: Project, situation: FundingSituation, when: date, params: FundingParameters
) -> tuple[Verdict, tuple[str, ...]]:
    """VAE through France VAE since 2024; one application per certification and calendar year."""
    reasons: list[str] = []
    warnings: list[str] = []
    eligible = True
    if params.flag("vae.france_vae", when):
        reasons.append(
            "Depuis le 1er janvier 2024, la VAE passe par le service public France VAE "
            "(https://vae.gouv.fr/) : information, accompagnement, financement et suivi ; "
            "toute expérience en rapport direct avec la certification compte, sans durée "
            "minimale (décret n° 2023-1275)."
        )
    limit = params.integer("vae.yearly_applications_per_certification", when)
    if limit:
        if project.vae_applications_this_year >= limit:
            eligible = False
            reasons.append(
                f"Une seule demande par certification et par année civile (décret "
                f"n° 2023-1275) : vous en avez déjà déposé {project.vae_applications_this_year} "
                f"en {when.year} pour cette certification ; la prochaine sera possible en "
                f"{when.year + 1}."
            )
        else:
            reasons.append(
                "Une seule demande par certification et par année civile (décret "
                "n° 2023-1275) : celle-ci est la première de l'année."
            )
    if situation.is_salaried:
        notice = params.integer("vae.employer_notice_days", when)
        answer = params.integer("vae.employer_answer_days", when)
        reasons.append(
            f"Congé VAE : demandez-le à l'employeur au moins {notice} jours avant l'absence ; "
            f"il répond dans les {answer} jours (décret n° 2023-1275)."
        )
        if project.start_date is not None and (project.start_date - when).days < notice:
            warnings.append(
                f"Si la VAE a lieu sur le temps de travail, la demande de congé doit partir au "
                f"moins {notice} jours avant le début : le délai est trop court pour le "
                f"{project.start_date.strftime('%d/%m/%Y')}."
            )
    return (
        Verdict(
            rule="vae",
            label="Validation des acquis de l'expérience",
            eligible=eligible,
            reasons=tuple(reasons),
        ),
        tuple(warnings),
    )


def abondement_correctif(
    situation: FundingSituation, when: date, params: FundingParameters
) -> Verdict:
    """Flag the €3,000 the employer owes on the CPF (companies of 50+, L6315-1 and L6323-13).

    Due when, over 6 years, the entretiens professionnels were not all held OR no
    non-compulsory training was given. It is NOT an exemption from the participation.
    """
    label = "Abondement correctif de l'employeur"
    amount = params.cents("abondement_correctif.amount", when)
    minimum = params.integer("abondement_correctif.min_headcount", when)
    years = params.integer("abondement_correctif.period_years", when)
    not_exempting = (
        "Cet abondement n'exonère pas de la participation forfaitaire (interprétation "
        "rapportée par voltaire-avocats)."
    )
    if not situation.is_salaried:
        return Verdict(
            rule="abondement_correctif",
            label=label,
            eligible=False,
            reasons=("L'abondement correctif concerne les salariés (C. trav. L6323-13).",),
        )
    headcount = situation.employer_headcount
    if headcount is None:
        return Verdict(
            rule="abondement_correctif",
            label=label,
            eligible=None,
            reasons=(f"Indiquez l'effectif de l'entreprise (seuil : {minimum} salariés).",),
        )
    if headcount < minimum:
        return Verdict(
            rule="abondement_correctif",
            label=label,
            eligible=False,
            reasons=(
                f"Entreprise de {headcount} salariés, moins de {minimum} : pas d'abondement "
                "correctif (C. trav. L6315-1 II).",
            ),
        )
    reviews, training = situation.professional_reviews_held, situation.non_compulsory_training
    if reviews is False or training is False:
        missing = []
        if reviews is False:
            missing.append("les entretiens professionnels n'ont pas tous eu lieu")
        if training is False:
            missing.append("aucune formation non obligatoire n'a été suivie")
        return Verdict(
            rule="abondement_correctif",
            label=label,
            eligible=True,
            reasons=(
                f"Sur les {years} dernières années, " + " et ".join(missing) + f" : "
                f"l'employeur doit verser {format_euros(amount)} sur votre CPF "
                "(C. trav. L6315-1 II, L6323-13 et R6323-3) ; ce montant ne peut pas être réduit.",
                not_exempting,
            ),
            amount=amount,
        )
    if reviews is True and training is True:
        return Verdict(
            rule="abondement_correctif",
            label=label,
            eligible=False,
            reasons=(
                f"Entretiens professionnels tenus et formation non obligatoire suivie sur "
                f"{years} ans : pas d'abondement correctif (C. trav. L6315-1 II).",
            ),
        )
    return Verdict(
        rule="abondement_correctif",
        label=label,
        eligible=None,
        reasons=(
            f"Indiquez si, sur les {years} dernières années, tous les entretiens professionnels "
            "ont eu lieu et si vous avez suivi une formation non obligatoire.",
        ),
    )
