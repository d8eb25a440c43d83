"""Demo data: realistic, fictitious French beneficiaries and cases for every installed operator.

Each operator gets people from its own public (cadres for Apec, under-26s for the Missions
locales, people with an RQTH for Cap emploi, registered job seekers for France Travail,
private-sector employees and self-employed people for the regional operators). Content is
deterministic (one seeded generator per operator and rank) and seeding is idempotent: demo
cases are those whose "opened" journal line has the actor ``DEMO_ACTOR``, so a second run
only tops each operator up to `per_operator`. Everything goes through `CaseService.open_case`,
so demo data obeys the same rules and journal as real data.

Nothing here is a real person: e-mail addresses use the reserved ``.invalid`` domain and phone
numbers the range the ARCEP reserves for fiction (06 39 98 xx xx).
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Protocol

import msgspec

from cep_core.clock import Clock, system_clock, today_in_france
from cep_core.domain.case import Level
from cep_core.domain.situation import Situation, Status
from cep_core.plugins import Hooks
from cep_core.services.cases import CaseService, NewBeneficiary
from cep_core.services.orientation import OrientationService
from cep_core.storage.database import Database
from cep_core.storage.repositories import CaseEventRepository

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
) -> int:
    """Top every installed operator up to `per_operator` demo cases; return how many were made.

    Pass a `Kit` (``seed_demo(kit)``) or its parts (``seed_demo(database, hooks, clock)``).
    `progress`, when given, is called with (done, total) after each case.
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
        for rank in range(existing[operator], existing[operator] + missing[operator]):
            person, situation, level, counsellor = _demo_case(operator, rank, profiles, today)
            # An operator whose public the demo cannot guess still gets cases: forced, as a
            # counsellor would, and the journal says so.
            competent = {choice.id for choice in orientation.orient(situation).operators}
            cases.open_case(
                operator,
                person,
                situation,
                level=level,
                counsellor_id=counsellor,
                actor=DEMO_ACTOR,
                force=operator not in competent,
            )
            done += 1
            if progress is not None:
                progress(done, total)
    return done


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
    operator: str, rank: int, profiles: Sequence[Profile], today: date
) -> tuple[NewBeneficiary, Situation, Level | None, str | None]:
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
    level = rng.choice((None, Level.ONE, Level.ONE, Level.TWO))
    counsellor = rng.choice((None, "conseiller-demo-1", "conseiller-demo-2", "conseiller-demo-3"))
    return person, situation, level, counsellor


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
