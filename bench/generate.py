"""Generate a base of N fictitious cases, to measure lists and search at scale.

    uv run python bench/generate.py --size 1000000 --database-url sqlite:////tmp/cep-1m.db
    uv run python bench/generate.py --size 100000 --database-url postgresql+psycopg://...

Also a library (`generate`), used by ``bench/scale.py`` and ``tests/storage/test_scale_plans.py``.

Rows are written straight into the tables (executemany on SQLite, COPY on PostgreSQL, large
transactions), bypassing the services — the services would take hours for a million cases —
but they are exactly what the repositories write: the documents are real `Case` and
`Beneficiary` Structs encoded by msgspec, cloned from templates made by the demo seeding
(``seed_demo``: every installed operator, every stage — opened, level 1, level 2 with a
funding plan, paused, closed, referred), with new ids, names, counsellors and dates;
``search_name`` (on the person, its case and its word rows, as `index_name` keeps them)
and ``beneficiary_words`` are computed by the same functions as the repository's. Journal
lines (``case_events``) are not generated: lists and search do not read them.

The spread follows reality (``/work/shared/domain.md``): France Travail holds most cases
(60 %), the regional operators 20 %, Apec 8 %, the Missions locales 8 %, Cap emploi 4 %;
each operator has as many counsellors as needed for ~250 active cases each (hundreds at
France Travail for a million cases); cases are created over three years, and the older a
case, the likelier it is closed or referred; names are drawn from frequent French first and
last names (Zipf-like: "Martin", the commonest, about 0.7 % of people) for one person in
ten, as in France, and a long tail of ~5 000 rarer made-up names for the others, so name
search meets both common and rare names.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import select

from cep_core.domain.case import Beneficiary, Case, CaseStatus, beneficiary_search_key
from cep_core.kit import Kit
from cep_core.services.demo import seed_demo
from cep_core.settings import Settings
from cep_core.storage.database import Database
from cep_core.storage.ids import new_id
from cep_core.storage.repositories import name_words
from cep_core.storage.tables import SEARCH_NAME_LENGTH, cases

OPERATOR_WEIGHTS = {
    "pole_emploi": 60,
    "regional": 20,
    "apec": 8,
    "mission_locale": 8,
    "cap_emploi": 4,
}
ACTIVE_PER_COUNSELLOR = 250
YEARS = 3
BATCH = 20_000

# Frequent French surnames, most frequent first (INSEE birth registers); weights are Zipf-like.
LAST_NAMES = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Lefèvre", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier",
    "Chevalier", "François", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clément",
    "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson", "Marchand",
    "Duval", "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier",
    "Brun", "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier",
    "Arnaud", "Martinez", "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin",
    "Vidal", "Caron", "Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas",
    "Lacroix", "Olivier", "Philippe", "Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc",
    "Payet", "Rolland", "Leclercq", "Guillaume", "Lecomte", "Nguyen", "Benali", "Le Gall",
    "Diallo", "N'Diaye", "Da Silva", "Ferreira", "Haddad", "Traoré", "Le Goff", "Kerjean",
)  # fmt: skip
FIRST_NAMES = (
    "Marie", "Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Julie", "Emma", "Nadia",
    "Sophie", "Aïcha", "Élodie", "Nathalie", "Isabelle", "Sandrine", "Céline", "Laura",
    "Pauline", "Anaïs", "Mélanie", "Aurélie", "Émilie", "Clara", "Lucie", "Fatima", "Yasmine",
    "Océane", "Margaux", "Hélène", "Thomas", "Lucas", "Hugo", "Nicolas", "Karim", "Julien",
    "Mathieu", "Antoine", "Mehdi", "Yann", "Baptiste", "Olivier", "Pierre", "Samuel",
    "Jean-Pierre", "Jean", "Philippe", "Christophe", "Stéphane", "Sébastien", "Frédéric",
    "Alexandre", "Maxime", "Kevin", "Romain", "Quentin", "Florian", "Jérémy", "Mamadou",
    "Youssef", "Théo", "Enzo", "Louis", "Gabriel", "Arthur", "Raphaël", "Noé", "Adam",
    "Anne-Sophie", "Marie-Claire", "Zoé", "Chantal", "Bruno", "Didier", "Éric", "François",
)  # fmt: skip
# The long tail (most people): rarer names made of syllables ("Valmorin", "Kerlaville",
# "Tréno-Mondoret"...), about 5 000 of them; "Valmorin"-like two-part names are the commonest.
_HEADS = ("Ker", "Val", "Mor", "Bel", "Lan", "Ros", "Gar", "Ver", "Cha", "Ber", "Dela",
          "Mon", "Pla", "Tré", "Sau", "Vil", "Hau", "Bou", "Lor", "Mal", "Cor", "Fer", "Pen",
          "Gui")  # fmt: skip
_MIDDLES = ("", "de", "mo", "ri", "la", "ve", "no", "sa", "ta", "lu")
_MIDDLE_WEIGHTS = (30, 8, 8, 8, 8, 8, 8, 8, 7, 7)
_TAILS = ("doret", "morin", "ville", "court", "mont", "ard", "eau", "ier", "enne", "ac",
          "aud", "elle", "ot", "oux", "in", "y", "as", "et", "an", "oy", "ez")  # fmt: skip
FREQUENT_SHARE = 0.10  # people whose last name is one of LAST_NAMES (~10 % in France)

# Status by age of the case (days since it was opened): (upper bound, {status: weight}).
STATUS_BY_AGE: tuple[tuple[int, dict[CaseStatus, int]], ...] = (
    (45, {CaseStatus.OPENED: 35, CaseStatus.LEVEL_ONE: 50, CaseStatus.LEVEL_TWO: 15}),
    (
        365,
        {
            CaseStatus.LEVEL_ONE: 20,
            CaseStatus.LEVEL_TWO: 35,
            CaseStatus.PAUSED: 10,
            CaseStatus.CLOSED: 25,
            CaseStatus.REFERRED: 10,
        },
    ),
    (10_000, {CaseStatus.CLOSED: 84, CaseStatus.REFERRED: 10, CaseStatus.PAUSED: 6}),
)
_encoder = msgspec.json.Encoder()
_case_decoder = msgspec.json.Decoder(Case)

Progress = Callable[[str], None]


@dataclass
class GeneratedBase:
    """What a benchmark needs to know about a generated base."""

    size: int
    seconds: float
    per_operator: dict[str, int]
    counsellors: dict[str, list[str]]
    # For each operator, the counsellor holding the most cases (a busy one, for "my cases").
    busiest: dict[str, str] = field(default_factory=dict)


def weighted(items: Sequence[str], exponent: float = 1.0) -> tuple[list[str], list[float]]:
    """Zipf-like cumulative weights for a list ordered from most to least frequent."""
    cumulative = list(
        itertools.accumulate(1 / (rank + 1) ** exponent for rank in range(len(items)))
    )
    return list(items), cumulative


class NameDrawer:
    """Realistic French names, deterministic for a seed."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.last, self.last_weights = weighted(LAST_NAMES, 0.6)
        self.first, self.first_weights = weighted(FIRST_NAMES, 0.7)
        self.middle_weights = list(itertools.accumulate(_MIDDLE_WEIGHTS))

    def _rare(self) -> str:
        rng = self.rng
        middle = rng.choices(_MIDDLES, cum_weights=self.middle_weights)[0]
        return rng.choice(_HEADS) + middle + rng.choice(_TAILS)

    def draw(self) -> tuple[str, str]:
        rng = self.rng
        first = rng.choices(self.first, cum_weights=self.first_weights)[0]
        if rng.random() < FREQUENT_SHARE:
            last = rng.choices(self.last, cum_weights=self.last_weights)[0]
        else:
            last = self._rare()
            if rng.random() < 0.1:  # composed: "Valmorin-Kerdoret"
                last = f"{last}-{self._rare()}"
        return first, last


@functools.lru_cache(maxsize=200_000)
def _search(first: str, last: str) -> tuple[str, tuple[str, ...]]:
    key = beneficiary_search_key(first, last)[:SEARCH_NAME_LENGTH]
    return key, tuple(name_words(key))


@functools.lru_cache(maxsize=200_000)
def _ascii(text: str) -> str:
    return beneficiary_search_key(text, "").replace(" ", "")


def make_templates(progress: Progress) -> dict[str, dict[CaseStatus, list[Case]]]:
    """Real case documents for every installed operator and status, made by the demo."""
    # In memory when the system offers it (/dev/shm): the demo commits some 300 times, and
    # a throw-away base needs no fsync.
    shm = Path("/dev/shm")
    scratch = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="cep-templates-", dir=scratch) as folder:
        kit = Kit(settings=Settings(data_dir=Path(folder)))
        try:
            kit.database.upgrade()
            made = seed_demo(kit, per_operator=8)
            progress(f"modèles : {made} dossiers de démonstration créés")
            with kit.database.read() as connection:
                docs = connection.execute(select(cases.c.doc)).scalars().all()
        finally:
            kit.close()
    templates: dict[str, dict[CaseStatus, list[Case]]] = {}
    for doc in docs:
        case = _case_decoder.decode(doc)
        templates.setdefault(case.operator, {}).setdefault(case.status, []).append(case)
    return templates


def _status_for(age_days: int, rng: random.Random) -> CaseStatus:
    for bound, weights in STATUS_BY_AGE:
        if age_days < bound:
            return rng.choices(list(weights), weights=list(weights.values()))[0]
    raise AssertionError("unreachable")


def _counsellor_pools(size: int, rng: random.Random) -> dict[str, list[str]]:
    """Enough counsellors per operator for ~`ACTIVE_PER_COUNSELLOR` active cases each."""
    total = sum(OPERATOR_WEIGHTS.values())
    # About 28 % of the cases are active with `STATUS_BY_AGE` over three years.
    pools: dict[str, list[str]] = {}
    base_ms = int(datetime(2023, 1, 2, tzinfo=UTC).timestamp() * 1000)
    for operator, weight in OPERATOR_WEIGHTS.items():
        active = size * weight / total * 0.28
        count = max(1, round(active / ACTIVE_PER_COUNSELLOR))
        pools[operator] = [new_id(base_ms + rng.randrange(10**9)) for _ in range(count)]
    return pools


def _rows(
    size: int,
    seed: int,
    now: datetime,
    templates: dict[str, dict[CaseStatus, list[Case]]],
    pools: dict[str, list[str]],
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Batches of (beneficiaries, cases, words) rows, oldest cases first."""
    rng = random.Random(seed)
    names = NameDrawer(rng)
    operators = [op for op in OPERATOR_WEIGHTS if op in templates]
    if not operators:
        raise RuntimeError("aucun opérateur installé : installez les plugins de l'espace uv")
    op_weights = list(itertools.accumulate(OPERATOR_WEIGHTS[op] for op in operators))
    span = YEARS * 365 * 86_400
    offsets = sorted(rng.random() * span for _ in range(size))
    start = now - timedelta(seconds=span)
    people: list[tuple[Any, ...]] = []
    rows: list[tuple[Any, ...]] = []
    words: list[tuple[Any, ...]] = []
    for n, offset in enumerate(offsets):
        created = start + timedelta(seconds=offset)
        age = (now - created).days
        operator = rng.choices(operators, cum_weights=op_weights)[0]
        status = _status_for(age, rng)
        by_status = templates[operator]
        template = rng.choice(by_status.get(status) or [c for cs in by_status.values() for c in cs])
        # Touched some time after opening: soon for recent cases, up to months for old ones.
        touched = min(now, created + timedelta(seconds=rng.random() * min(age + 1, 240) * 86_400))
        created_ms = int(created.timestamp() * 1000)
        case_id = new_id(created_ms)
        person_id = new_id(created_ms)
        first, last = names.draw()
        search_name, person_words = _search(first, last)
        person = Beneficiary(
            id=person_id,
            operator=operator,
            first_name=first,
            last_name=last,
            email=f"{_ascii(first)}.{_ascii(last)}.{n}@exemple.invalid",
            phone=f"06 39 98 {n // 100 % 100:02d} {n % 100:02d}",
            created_at=created,
        )
        counsellor = rng.choice(pools[operator])
        case = msgspec.structs.replace(
            template,
            id=case_id,
            beneficiary_id=person_id,
            status=status,
            counsellor_id=counsellor,
            created_at=created,
            updated_at=touched,
            version=1,
        )
        people.append(
            (person_id, operator, _encoder.encode(person).decode(), created, created, search_name)
        )
        rows.append(
            (
                case_id,
                operator,
                person_id,
                status.value,
                None if case.level is None else int(case.level),
                counsellor,
                created,
                touched,
                1,
                _encoder.encode(case).decode(),
                search_name,
            )
        )
        words.extend((operator, word, person_id, search_name) for word in person_words)
        if len(rows) >= BATCH:
            yield people, rows, words
            people, rows, words = [], [], []
    if rows:
        yield people, rows, words


_PEOPLE_COLUMNS = "id, operator, doc, created_at, updated_at, search_name"
_CASE_COLUMNS = (
    "id, operator, beneficiary_id, status, level, counsellor_id, created_at, updated_at, "
    "version, doc, search_name"
)
_WORD_COLUMNS = "operator, word, beneficiary_id, search_name"


def _sqlite_time(value: datetime) -> str:
    """SQLAlchemy's SQLite DateTime text form, in UTC (what `UtcDateTime` stores)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _load_sqlite(
    path: str, batches: Iterator[tuple[list[Any], list[Any], list[Any]]], progress: Progress
) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode=WAL", "synchronous=OFF", "cache_size=-1000000",
                       "foreign_keys=OFF", "temp_store=MEMORY"):  # fmt: skip
            connection.execute(f"PRAGMA {pragma}")
        done = 0
        for people, rows, words in batches:
            connection.execute("BEGIN")
            connection.executemany(
                f"INSERT INTO beneficiaries ({_PEOPLE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                [(*p[:3], _sqlite_time(p[3]), _sqlite_time(p[4]), p[5]) for p in people],
            )
            connection.executemany(
                f"INSERT INTO cases ({_CASE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(*r[:6], _sqlite_time(r[6]), _sqlite_time(r[7]), *r[8:]) for r in rows],
            )
            connection.executemany(
                f"INSERT INTO beneficiary_words ({_WORD_COLUMNS}) VALUES (?, ?, ?, ?)", words
            )
            connection.execute("COMMIT")
            done += len(rows)
            progress(f"  {done:>9} dossiers écrits")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def _load_postgresql(
    database: Database,
    batches: Iterator[tuple[list[Any], list[Any], list[Any]]],
    progress: Progress,
) -> None:
    raw = database.engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        driver.autocommit = True
        with driver.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            try:  # no foreign-key triggers for the load (rows are consistent by construction)
                cursor.execute("SET session_replication_role = replica")
            except Exception:
                driver.rollback()
        done = 0
        for people, rows, words in batches:
            with driver.transaction(), driver.cursor() as cursor:
                for table, columns, data in (
                    ("beneficiaries", _PEOPLE_COLUMNS, people),
                    ("cases", _CASE_COLUMNS, rows),
                    ("beneficiary_words", _WORD_COLUMNS, words),
                ):
                    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for row in data:
                            copy.write_row(row)
            done += len(rows)
            progress(f"  {done:>9} dossiers écrits")
        with driver.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
            progress("  VACUUM ANALYZE…")
            for table in ("beneficiaries", "cases", "beneficiary_words"):
                cursor.execute(f"VACUUM ANALYZE {table}")
    finally:
        raw.close()


def generate(
    database_url: str,
    size: int,
    *,
    seed: int = 20261129,
    now: datetime | None = None,
    progress: Progress = print,
    templates: dict[str, dict[CaseStatus, list[Case]]] | None = None,
) -> GeneratedBase:
    """Fill an EMPTY base (migrated here if needed) with `size` cases; return what was made."""
    began = time.perf_counter()
    now = now or datetime.now(UTC)
    database = Database(database_url)
    try:
        database.upgrade()
        with database.read() as connection:
            if connection.execute(select(cases.c.id).limit(1)).first() is not None:
                raise RuntimeError("la base contient déjà des dossiers : donnez une base vide")
        templates = templates or make_templates(progress)
        rng = random.Random(seed)
        pools = _counsellor_pools(size, rng)
        counts: dict[str, int] = dict.fromkeys(pools, 0)
        held: dict[str, int] = {}

        def counted(
            batches: Iterator[tuple[list[Any], list[Any], list[Any]]],
        ) -> Iterator[tuple[list[Any], list[Any], list[Any]]]:
            for batch in batches:
                for row in batch[1]:
                    counts[row[1]] += 1
                    held[row[5]] = held.get(row[5], 0) + 1
                yield batch

        batches = counted(_rows(size, seed, now, templates, pools))
        progress(f"génération de {size} dossiers ({database.dialect})…")
        if database.dialect == "sqlite":
            _load_sqlite(database.url.database or "", batches, progress)
        else:
            _load_postgresql(database, batches, progress)
    finally:
        database.dispose()
    busiest = {
        operator: max(pool, key=lambda c: held.get(c, 0)) for operator, pool in pools.items()
    }
    seconds = time.perf_counter() - began
    progress(f"{size} dossiers en {seconds:.0f} s")
    return GeneratedBase(
        size=size, seconds=seconds, per_operator=counts, counsellors=pools, busiest=busiest
    )


def last_names_by_frequency() -> list[str]:
    """The frequent last names, commonest first (for benchmark queries)."""
    return list(LAST_NAMES)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Génère une base de dossiers fictifs.")
    parser.add_argument("--size", type=int, default=10_000, help="nombre de dossiers")
    parser.add_argument("--database-url", required=True, help="base VIDE (créée si besoin)")
    parser.add_argument("--seed", type=int, default=20261129)
    args = parser.parse_args(argv)
    base = generate(args.database_url, args.size, seed=args.seed)
    for operator, count in base.per_operator.items():
        print(
            f"{operator:>15} : {count:>8} dossiers, {len(base.counsellors[operator])} conseillers"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
