"""The person's situation: the only input orientation needs.

`Situation` holds facts the person states (status and a few flags) and the reference date;
derived facts (age, "in work", "seeking a job") are properties so every plugin reads them the
same way instead of re-deriving them with its own edge cases.
"""

from __future__ import annotations

import enum
from datetime import date

import msgspec

from cep_core.domain.issues import Issue
from cep_core.domain.regions import region as find_region

MAX_AGE = 120
# The CEP was defined by loi n° 2014-288 of 5 March 2014; no operator rule exists before.
CEP_FIRST_DAY = date(2014, 3, 5)


class Status(enum.StrEnum):
    EMPLOYEE = "employee"
    PUBLIC_AGENT = "public_agent"
    SELF_EMPLOYED = "self_employed"
    JOBSEEKER = "jobseeker"
    APPRENTICE = "apprentice"
    STUDENT = "student"
    RETIRED = "retired"
    INACTIVE = "inactive"


STATUS_LABELS: dict[Status, str] = {
    Status.EMPLOYEE: "salarié(e) du secteur privé",
    Status.PUBLIC_AGENT: "agent(e) public(que)",
    Status.SELF_EMPLOYED: "travailleur(se) indépendant(e)",
    Status.JOBSEEKER: "demandeur(se) d'emploi",
    Status.APPRENTICE: "apprenti(e)",
    Status.STUDENT: "étudiant(e)",
    Status.RETIRED: "retraité(e)",
    Status.INACTIVE: "sans activité professionnelle",
}

# Statuses that are work in themselves; the others count as "in work" only with `working`.
WORKING_STATUSES = frozenset(
    {Status.EMPLOYEE, Status.PUBLIC_AGENT, Status.SELF_EMPLOYED, Status.APPRENTICE}
)


def age_on(birth_date: date, when: date) -> int:
    """Age in whole years on `when` (a person born on 29 February ages on 1 March)."""
    years = when.year - birth_date.year
    if (when.month, when.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


class Situation(msgspec.Struct, frozen=True, kw_only=True):
    """What a person says about themselves when looking for their CEP operator."""

    birth_date: date
    as_of: date
    status: Status
    cadre: bool = False
    registered_jobseeker: bool = False
    disability_recognition: bool = False
    working: bool = False
    seeking_job: bool = False
    region: str | None = None

    @property
    def age(self) -> int:
        return age_on(self.birth_date, self.as_of)

    @property
    def in_work(self) -> bool:
        """Holds a job or an activity: an employee, agent, self-employed person or apprentice,
        or anyone else who says they work (a working student or retiree)."""
        return self.status in WORKING_STATUSES or self.working

    @property
    def job_seeking(self) -> bool:
        return self.status == Status.JOBSEEKER or self.seeking_job or self.registered_jobseeker

    @property
    def is_public_agent(self) -> bool:
        return self.status == Status.PUBLIC_AGENT

    def problems(self) -> list[Issue]:
        """Facts that cannot be true together; empty when the situation is usable."""
        issues: list[Issue] = []
        if self.birth_date > self.as_of:
            issues.append(
                Issue(
                    path="birth_date",
                    code="after_reference_date",
                    message="La date de naissance ne peut pas être postérieure à la date de "
                    f"référence ({self.as_of.isoformat()}).",
                )
            )
        elif self.age > MAX_AGE:
            issues.append(
                Issue(
                    path="birth_date",
                    code="too_old",
                    message=f"La date de naissance donne un âge de plus de {MAX_AGE} ans : "
                    "vérifiez l'année saisie.",
                )
            )
        if self.as_of < CEP_FIRST_DAY:
            issues.append(
                Issue(
                    path="as_of",
                    code="before_cep",
                    message="La date de référence ne peut pas précéder la création du CEP "
                    "(loi du 5 mars 2014).",
                )
            )
        if self.region is not None and find_region(self.region) is None:
            issues.append(
                Issue(
                    path="region",
                    code="unknown_region",
                    message=f"Code de région INSEE inconnu : « {self.region} » "
                    "(exemples : 11 pour l'Île-de-France, 53 pour la Bretagne).",
                )
            )
        return issues
