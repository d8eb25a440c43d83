"""Case lists and name search against the size of the base (issue #8, points 2 and 4).

    uv run --group bench python bench/scale.py                                # --quick: 10k, 100k
    uv run --group bench python bench/scale.py --sizes 10000,100000,1000000   # the full run

For each database (SQLite, PostgreSQL) and each size, a fresh base is generated
(`bench/generate.py`: realistic spread over five operators, three years, French names) in
``--workdir`` (a temp folder by default, never the user's data folder; PostgreSQL is a
throw-away cluster there unless ``--postgres-url`` names a server whose role may create
databases). Then, for France Travail (60 % of the cases), each query is timed
``--rounds`` times, through the service (``kit.cases.list_cases``) and through HTTP
(``cep serve``, the JSON API, one request at a time): p50 and p95.

Queries: a busy counsellor's cases ("mes dossiers"), with a status filter; the manager's
operator-wide list, with a status filter; a page deep in the list (keyset cursor); the
name search (POST ``/api/v1/cases/search``) for the commonest last name, a first and last
name, a rare name, a three-letter prefix, and a name among one counsellor's cases.

At the largest size the plan of every statement of every query is printed and recorded
(SQLite ``EXPLAIN QUERY PLAN``, PostgreSQL ``EXPLAIN (ANALYZE, BUFFERS)``). Targets: p50
under 20 ms at 1M cases on both databases, and the 10k figure within 2x of the 1M one.
Results: the section of ``docs/benchmarks.md``, ``docs/img/scale-latency.png`` and
``scale-results.json`` in the work folder.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import generate

from cep_core.domain.case import CaseStatus
from cep_core.kit import Kit
from cep_core.services.keyset import encode_keyset
from cep_core.settings import Settings, parse_api_tokens
from cep_core.storage.database import Database
from cep_core.storage.tables import cases

OPERATOR = "pole_emploi"
SECRET = "scale-bench-" + "x" * 40
API = "/api/v1/cases"
TARGET_MS = 20.0
FLATNESS = 2.0


@dataclass(frozen=True)
class Query:
    """One measured query: service keyword arguments and the matching HTTP request."""

    key: str
    label: str
    service: dict[str, Any]
    method: str = "GET"
    params: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None


def queries(counsellor: str, deep_cursor: str) -> list[Query]:
    return [
        Query("mine", "mes dossiers (conseiller)", {"counsellor_id": counsellor},
              params={"counsellor_id": counsellor}),
        Query("mine_status", "mes dossiers, statut niveau 2",
              {"counsellor_id": counsellor, "status": CaseStatus.LEVEL_TWO},
              params={"counsellor_id": counsellor, "status": "level_2"}),
        Query("all", "tous les dossiers (responsable)", {}),
        Query("all_status", "tous, statut en pause", {"status": CaseStatus.PAUSED},
              params={"status": "paused"}),
        Query("deep_page", "page profonde (curseur)", {"cursor": deep_cursor},
              params={"cursor": deep_cursor}),
        Query("name_common", "recherche « martin »", {"name": "martin"}, "POST",
              body={"name": "martin"}),
        Query("name_full", "recherche « camille dubois »", {"name": "camille dubois"}, "POST",
              body={"name": "camille dubois"}),
        Query("name_rare", "recherche « valmorin »", {"name": "valmorin"}, "POST",
              body={"name": "valmorin"}),
        Query("name_prefix", "recherche « ber » (préfixe)", {"name": "ber"}, "POST",
              body={"name": "ber"}),
        Query("mine_name", "recherche « martin » dans mes dossiers",
              {"name": "martin", "counsellor_id": counsellor}, "POST",
              body={"name": "martin", "counsellor_id": counsellor}),
        # The two worst cases at 1M (see EDGE_NOTE): just over and just under the threshold.
        Query("name_edge_walk", "recherche « laurent » (pire parcours)", {"name": "laurent"},
              "POST", body={"name": "laurent"}),
        Query("name_edge_people", "recherche « simon » (pire tri)", {"name": "simon"},
              "POST", body={"name": "simon"}),
    ]  # fmt: skip


EDGE_NOTE = (
    "à 1 M, « laurent » est porté par 1 031 personnes de France Travail, juste au-dessus de "
    "`WORD_CANDIDATES_MAX` (1 000) : la recherche parcourt l'index de la liste, environ "
    "30 000 entrées pour une page de 50 ; « simon », porté par 957 personnes, juste en "
    "dessous : on lit les dossiers de ces 957 personnes (une descente d'index chacune) et "
    "on les trie. Ces deux coûts bornent toute recherche d'un seul mot, quelle que soit "
    "la fréquence du nom ; à plusieurs mots, ce sont les personnes portant tous les mots "
    "qui comptent (« camille dubois » : 1 161 Dubois lus dans l'index des mots, dont une "
    "soixantaine de Camille)."
)


# -- plans -----------------------------------------------------------------------------------


@contextlib.contextmanager
def captured_statements(database: Database) -> Iterator[list[tuple[str, Any]]]:
    """Every SELECT the engine runs inside the block, as (driver SQL, driver parameters)."""
    found: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            found.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", grab)
    try:
        yield found
    finally:
        event.remove(database.engine, "before_cursor_execute", grab)


_LONG_LIST = re.compile(r"(?:(?:\?|%\(\w+\)s|%s), ){3,}(?:\?|%\(\w+\)s|%s)")
_LONG_ARRAY = re.compile(r"'\{[0-9a-f,]{60,}\}'")


def _short(line: str) -> str:
    """A plan line with its 50-id lists abridged (they say nothing about the plan)."""
    return _LONG_ARRAY.sub("'{…}'", _LONG_LIST.sub("…", line))


def explain(database: Database, statements: list[tuple[str, Any]]) -> list[str]:
    """The plan of each statement (after the statement itself), as the database prints it."""
    out: list[str] = []
    analyse = "EXPLAIN (ANALYZE, BUFFERS) " if database.dialect == "postgresql" else ""
    with database.engine.connect() as connection:
        for statement, parameters in statements:
            out.append(_short("-- " + " ".join(statement.split())))
            if analyse:
                rows = connection.exec_driver_sql(analyse + statement, parameters).all()
                out += [_short(row[0]) for row in rows]
            else:
                rows = connection.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, parameters
                ).all()
                out += [row[3] for row in rows]
            connection.rollback()
    return out


def plan_problems(dialect: str, plan: list[str]) -> list[str]:
    """Lines of a plan that read a whole table (sorts are bounded: a rare name's candidates,
    one counsellor's cases; the EXPLAIN text shows them)."""
    lines = [line for line in plan if not line.startswith("-- ")]
    if dialect == "sqlite":
        fine = ("anon_", "CONSTANT ROW", "candidates")
        return [
            line
            for line in lines
            if line.startswith("SCAN ") and not any(ok in line for ok in fine)
        ]
    return [line for line in lines if "Seq Scan on cases" in line or "Seq Scan on benef" in line]


# -- measuring -------------------------------------------------------------------------------


def timed(call: Callable[[], Any], rounds: int, cpu: list[float] | None = None) -> list[float]:
    """Wall-clock milliseconds of each call; `cpu`, when given, gets this process's CPU
    milliseconds of each (what a busy shared machine does not inflate)."""
    for _ in range(3):
        call()
    samples = []
    for _ in range(rounds):
        began, began_cpu = time.perf_counter(), time.process_time()
        call()
        samples.append((time.perf_counter() - began) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - began_cpu) * 1000)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50": round(common.percentile(samples, 50), 2),
        "p95": round(common.percentile(samples, 95), 2),
    }


def deep_cursor(database: Database, size: int) -> str:
    """A cursor halfway down the operator's list: keyset pages cost the same there."""
    with database.read() as connection:
        row = connection.execute(
            select(cases.c.updated_at, cases.c.id)
            .where(cases.c.operator == OPERATOR)
            .order_by(cases.c.updated_at.desc(), cases.c.id.desc())
            .offset(int(size * generate.OPERATOR_WEIGHTS[OPERATOR] / 100 / 2))
            .limit(1)
        ).one()
    return encode_keyset(row.updated_at, row.id)


def vacuum(url: str) -> None:
    """VACUUM ANALYZE the searched tables, as autovacuum does on a live base: index-only
    scans (the name search's walk) read the table wherever the visibility map is not set,
    and a freshly loaded base may not have it everywhere."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for table in ("beneficiaries", "cases", "beneficiary_words"):
                connection.execute(text(f"VACUUM ANALYZE {table}"))
    finally:
        engine.dispose()


def existing_base(url: str, size: int) -> generate.GeneratedBase | None:
    """What `generate` said about a base made by an earlier run (``--reuse``), if any."""
    database = Database(url)
    try:
        database.upgrade()
        with database.read() as connection:
            per_operator = dict(
                connection.execute(
                    select(cases.c.operator, func.count()).group_by(cases.c.operator)
                ).all()
            )
            if sum(per_operator.values()) != size:
                return None
            held = connection.execute(
                select(cases.c.operator, cases.c.counsellor_id, func.count()).group_by(
                    cases.c.operator, cases.c.counsellor_id
                )
            ).all()
    finally:
        database.dispose()
    pools: dict[str, list[str]] = {}
    busiest: dict[str, tuple[int, str]] = {}
    for operator, counsellor, count in held:
        pools.setdefault(operator, []).append(counsellor)
        busiest[operator] = max(busiest.get(operator, (0, "")), (count, counsellor))
    return generate.GeneratedBase(
        size=size,
        seconds=0.0,
        per_operator=per_operator,
        counsellors=pools,
        busiest={op: best[1] for op, best in busiest.items()},
    )


def measure_base(
    dialect: str,
    url: str,
    size: int,
    folder: Path,
    rounds: int,
    with_plans: bool,
    http: bool,
    progress: Callable[[str], None],
    reuse: bool = False,
) -> dict[str, Any]:
    base = existing_base(url, size) if reuse else None
    if base is None:
        base = generate.generate(url, size, progress=progress)
    else:
        progress(f"base existante réutilisée ({size} dossiers)")
    if dialect == "postgresql":
        vacuum(url)
    counsellor = base.busiest[OPERATOR]
    result: dict[str, Any] = {
        "dialect": dialect,
        "size": size,
        "generation_s": round(base.seconds, 1),
        "per_operator": base.per_operator,
        "counsellors": {op: len(pool) for op, pool in base.counsellors.items()},
        "queries": {},
        "plans": {},
    }
    kit = Kit(
        settings=Settings(
            data_dir=folder / f"kit-{dialect}-{size}",
            database_url=url,
            api_tokens=parse_api_tokens(f"{OPERATOR}:bench:{SECRET}", "bench"),
        )
    )
    try:
        measured = queries(counsellor, deep_cursor(kit.database, size))
        for query in measured:
            page = kit.cases.list_cases(OPERATOR, **query.service)
            cpu: list[float] = []
            samples = timed(
                lambda q=query: kit.cases.list_cases(OPERATOR, **q.service), rounds, cpu
            )
            result["queries"][query.key] = {
                "label": query.label,
                "rows": len(page.items),
                "service": summary(samples),
                "service_cpu": summary(cpu),
            }
            p50 = result["queries"][query.key]["service"]["p50"]
            progress(f"  {query.label:<45} service p50 {p50:.1f} ms")
            if with_plans:
                with captured_statements(kit.database) as statements:
                    kit.cases.list_cases(OPERATOR, **query.service)
                result["plans"][query.key] = explain(kit.database, statements)
    finally:
        kit.close()
    if http:
        data_dir = folder / f"serve-{dialect}-{size}"
        data_dir.mkdir(parents=True, exist_ok=True)
        server = common.cep_server(
            data_dir, url, CEP_PLUGINS=",".join(generate.OPERATOR_WEIGHTS),
            CEP_API_TOKENS=f"{OPERATOR}:bench:{SECRET}",
        )  # fmt: skip
        with (
            server,
            httpx.Client(
                base_url=server.base, headers={"Authorization": f"Bearer {SECRET}"}, timeout=30
            ) as client,
        ):
            server.wait_ready("/api/v1/cases", headers={"Authorization": f"Bearer {SECRET}"})
            for query in measured:

                def call(q: Query = query) -> None:
                    answer = (
                        client.post(f"{API}/search", json=q.body)
                        if q.method == "POST"
                        else client.get(f"{API}/", params=q.params)
                    )
                    if answer.status_code != 200:
                        raise RuntimeError(f"{q.key}: {answer.status_code} {answer.text[:300]}")

                result["queries"][query.key]["http"] = summary(timed(call, rounds))
    return result


# -- report ----------------------------------------------------------------------------------


def plot(results: list[dict[str, Any]]) -> str:
    """p50 against base size: HTTP wall clock (top), service CPU time (bottom)."""
    figure = common.new_figure(11, 8)
    dialects = sorted({r["dialect"] for r in results}, key=["sqlite", "postgresql"].index)
    rows = (("http", "p50 HTTP, horloge (ms)"), ("service_cpu", "p50 service, temps CPU (ms)"))
    for row, (where, ylabel) in enumerate(rows):
        for column, dialect in enumerate(dialects):
            axis = figure.add_subplot(2, len(dialects), row * len(dialects) + column + 1)
            runs = sorted((r for r in results if r["dialect"] == dialect), key=lambda r: r["size"])
            for key, first in runs[0]["queries"].items():
                if where not in first:
                    continue
                axis.plot(
                    [r["size"] for r in runs],
                    [r["queries"][key][where]["p50"] for r in runs],
                    marker="o",
                    label=first["label"],
                )
            axis.axhline(TARGET_MS, color="red", linestyle="--", linewidth=1, label="objectif")
            axis.set_xscale("log")
            axis.set_xlabel("dossiers dans la base")
            axis.set_ylabel(ylabel)
            axis.set_title("SQLite" if dialect == "sqlite" else "PostgreSQL")
            axis.set_ylim(bottom=0)
            axis.grid(True, alpha=0.3)
            if row == 0 and column == len(dialects) - 1:
                axis.legend(fontsize=6, loc="upper left")
    return common.save_plot(figure, "scale-latency")


def verdicts(
    results: list[dict[str, Any]], where_list: tuple[str, ...] = ("service", "http")
) -> list[str]:
    lines = []
    for dialect in ("sqlite", "postgresql"):
        runs = {r["size"]: r for r in results if r["dialect"] == dialect}
        if not runs:
            continue
        small, large = runs[min(runs)], runs[max(runs)]
        for key, figures in large["queries"].items():
            for where in where_list:
                if where not in figures:
                    continue
                p50 = figures[where]["p50"]
                ratio = p50 / max(small["queries"][key][where]["p50"], 0.01)
                if p50 >= TARGET_MS or ratio > FLATNESS:
                    lines.append(
                        f"{dialect} « {large['queries'][key]['label']} » ({where}) : p50 "
                        f"{p50:.1f} ms à {large['size']}, {ratio:.1f} fois le chiffre à "
                        f"{small['size']}"
                    )
    return lines


def markdown(
    results: list[dict[str, Any]], info: dict[str, Any], image: str, command: str, note: str = ""
) -> str:
    sizes = sorted({r["size"] for r in results})
    parts = [
        "## Listes et recherche à grande échelle (`bench/scale.py`)",
        "",
        f"**Commande :** `{command}` (la version courte, `--quick`, mesure 10 000 et "
        "100 000 dossiers). **Date :** "
        + info["date"]
        + ". **Machine :** "
        + common.machine_line(info),
        "",
        "Base générée par `bench/generate.py` (60 % France Travail, 20 % régional, 8 % Apec, "
        "8 % Missions locales, 4 % Cap emploi ; ~250 dossiers actifs par conseiller ; trois "
        "ans de dossiers ; noms français fréquents et rares). Requêtes de France Travail, "
        "en millisecondes : p50 du service (`kit.cases.list_cases`, horloge, et entre "
        "parenthèses le temps CPU du processus, que la charge de la machine partagée ne "
        "gonfle pas) / p50 HTTP (`cep serve`, API JSON, une requête à la fois), puis les p95. "
        "Objectif : p50 < 20 ms à 1 M de dossiers, et à 10 000 dossiers au plus 2 fois moins "
        "qu'à 1 M (plat)." + (f" {note}" if note else ""),
        "",
    ]
    for dialect in ("sqlite", "postgresql"):
        runs = {r["size"]: r for r in results if r["dialect"] == dialect}
        if not runs:
            continue
        parts += [f"### {'SQLite' if dialect == 'sqlite' else 'PostgreSQL'}", ""]
        keys = list(runs[sizes[0]]["queries"]) if sizes[0] in runs else []
        header = ["requête"] + [f"{common.fmt(s, 0)} dossiers" for s in sorted(runs)]
        rows = []
        for key in keys:
            row: list[object] = [runs[min(runs)]["queries"][key]["label"]]
            for size in sorted(runs):
                figures = runs[size]["queries"][key]
                http = figures.get("http")
                cpu = figures.get("service_cpu")
                row.append(
                    f"{figures['service']['p50']:.1f} "
                    + (f"(CPU {cpu['p50']:.1f}) " if cpu else "")
                    + "/ "
                    + (f"{http['p50']:.1f}" if http else "—")
                    + f" — p95 {figures['service']['p95']:.1f} / "
                    + (f"{http['p95']:.1f}" if http else "—")
                )
            rows.append(row)
        parts += [common.table(header, rows), ""]
        gen = ", ".join(
            f"{common.fmt(s, 0)} en {runs[s]['generation_s']:.0f} s"
            for s in sorted(runs)
            if runs[s]["generation_s"]
        )
        held = ", ".join(
            f"{common.fmt(runs[s]['per_operator'][OPERATOR], 0)} dossiers et "
            f"{runs[s]['counsellors'][OPERATOR]} conseillers"
            for s in sorted(runs)
        )
        parts += [
            f"France Travail : {held}."
            + (f" Génération (charge de la machine comprise) : {gen}." if gen else ""),
            "",
        ]
    parts += [f"![Latence des listes et de la recherche selon la taille de la base]({image})", ""]
    parts += [DESIGN, ""]
    problems = verdicts(results)
    cpu_problems = verdicts(results, ("service_cpu",))
    parts += [
        "**Écarts à l'objectif (horloge) :** "
        + ("; ".join(problems) if problems else "aucun.")
        + "",
        "",
        "**Écarts à l'objectif (temps CPU du service) :** "
        + ("; ".join(cpu_problems) if cpu_problems else "aucun.")
        + "",
        "",
        "Pour lire le critère « plat » des recherches : à 10 000 dossiers, un nom rare ne "
        "renvoie que quelques dossiers (0 à 10, colonne `rows` de `scale-results.json`) et "
        "la page ne coûte presque rien à décoder ; à 1 M, la même recherche remplit une page "
        "de 50 (décoder 50 documents, souvent plus anciens et plus gros que ceux du haut de la "
        "liste, et leurs 50 personnes coûte déjà quelques millisecondes). Les deux "
        "dernières lignes sont les pires cas de la recherche à 1 M : " + EDGE_NOTE,
        "",
    ]
    largest = max(sizes)
    for dialect in ("sqlite", "postgresql"):
        run = next((r for r in results if r["dialect"] == dialect and r["size"] == largest), None)
        if run is None or not run["plans"]:
            continue
        name = "EXPLAIN QUERY PLAN" if dialect == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS)"
        parts += [
            f"<details><summary>{name}, {'SQLite' if dialect == 'sqlite' else 'PostgreSQL'}, "
            f"{common.fmt(largest, 0)} dossiers</summary>",
            "",
            "```",
        ]
        for key, plan in run["plans"].items():
            parts += [f"### {run['queries'][key]['label']}", *plan, ""]
        parts += ["```", "", "</details>", ""]
    return "\n".join(parts)


DESIGN = """\
**Ce qui garde les listes plates** (migrations 0011 et 0012, `storage/repositories.py`) :

- chaque liste lit d'abord les identifiants de sa page dans un index seul (`LIMIT`, curseur
  par valeur de ligne `(updated_at, id) < (…)`, donc une page profonde coûte comme la
  première), puis les seuls dossiers de la page ; rien n'est compté (pas de `COUNT(*)`) ;
- index : `(operator, updated_at, id, search_name)` pour la liste de l'opérateur,
  `(operator, status, …)`, `(operator, counsellor_id, updated_at, id, search_name)` et
  `(operator, counsellor_id, status, …)` pour « mes dossiers » filtrés par statut ;
  `(operator, beneficiary_id, updated_at, id)` trie les dossiers de quelques personnes.

**Ce qui garde la recherche par nom plate** (migration 0012) : le nom normalisé de la
personne (`search_name`) est recopié sur ses dossiers (`cases.search_name`, dernière
colonne des deux index de liste) et sur chaque ligne de `beneficiary_words` (un mot du nom
par ligne, index `(operator, word, beneficiary_id, search_name)`). Les copies sont tenues à
jour dans la transaction qui change le nom (`BeneficiaryRepository.index_name` : ouverture
du dossier, rectification RGPD, anonymisation, effacement — une personne anonymisée ou
effacée n'a plus de copie et n'est plus trouvée). Une recherche :

1. s'il y a plusieurs mots, compte pour chacun les entrées d'index de
   `beneficiary_words` qui commencent ainsi (au plus 2 000 lues chacun, puis, si aucun
   n'est sous 2 000, au plus `WORD_SCAN_MAX` = 20 000) et garde le plus rare ;
2. compte dans la plage de ce mot (au plus 20 000 entrées, de l'index seul), en vérifiant
   les autres mots sur la copie du nom, les personnes qui ont **tous** les mots ;
3. s'il y en a moins de `WORD_CANDIDATES_MAX` = 1 000, la requête de la page relit cette
   plage et ne lit que leurs dossiers (une descente d'index par personne, 1 000 au plus),
   triés entre eux (seul un compte revient à Python, pas la liste des personnes) ;
4. sinon le nom est courant (au moins 1 000 personnes de l'opérateur le portent) : on
   parcourt l'index de la liste du plus récent au plus ancien en vérifiant la copie du
   nom **dans l'index**, sans lire ni dossier ni personne ; une page de 50 est pleine
   après environ 50 × (dossiers de l'opérateur) / 1 000 entrées au pire, 30 000 pour les
   600 000 dossiers de France Travail à 1 M (quelques millisecondes : une entrée d'index
   coûte 20 à 40 fois moins qu'une descente d'index, mesuré sur les deux bases).

Le pire cas est donc borné par 1 000 descentes d'index (un nom porté par un peu moins de
1 000 personnes) ou par un parcours d'environ 50 × N / 1 000 entrées d'index (un peu plus
de 1 000 personnes), N étant le nombre de dossiers de l'opérateur : le seuil équilibre les
deux à 1 M ; au-delà de quelques millions de dossiers par opérateur, il faudrait le
relever. La recherche dans « mes dossiers » parcourt l'index du conseiller (quelques
centaines à quelques milliers de dossiers), nom compris. Sur PostgreSQL, le test du nom
s'écrit `strpos(' ' || search_name, ' mot') > 0` plutôt que `LIKE '% mot%'` : le
planificateur croit qu'un `LIKE` à longue partie fixe ne trouve presque rien et
préférerait trier tout l'opérateur plutôt que parcourir l'index. Ni trigrammes PostgreSQL
ni FTS5 SQLite : les mêmes tables et le même sens sur les deux bases.

**Sens de la recherche pour les utilisateurs** : chaque mot saisi doit être le **début
d'un mot** du prénom ou du nom, sans accents, majuscules ni ponctuation (« mar » trouve
Martin, Marie et Marchand ; « gall » trouve Le Gall ; « nguyen » trouve N'Guyen ;
« elodie lef » trouve Élodie Lefèvre) ; un morceau pris au milieu d'un mot ne trouve rien
(« tin » ne trouve pas Martin). Avant, tout morceau du nom suffisait (`LIKE '%tin%'`), ce
qu'aucun index ne sert : à un million de dossiers, chaque recherche relisait toutes les
personnes de l'opérateur.

**Limite connue** : quand **chaque** mot saisi commence les mots de plus de 20 000
personnes de l'opérateur (des prénoms très courants, des préfixes de deux lettres : « ma
le ») et que ces mots vont rarement ensemble, la recherche parcourt la liste jusqu'à
remplir la page, au pire toute la liste de l'opérateur ; saisir un mot entier du nom
suffit à l'éviter. Un filtre de statut combiné à un nom courant (sans conseiller) lit
aussi les dossiers un à un : l'index de statut ne porte pas le nom."""


# -- main ------------------------------------------------------------------------------------


def _database_urls(
    dialects: list[str], size: int, folder: Path, postgres: str | None, reuse: bool
) -> Iterator[tuple[str, str]]:
    for dialect in dialects:
        if dialect == "sqlite":
            path = folder / f"scale-{size}.db"
            if not reuse:
                for leftover in folder.glob(f"scale-{size}.db*"):
                    leftover.unlink()
            yield dialect, f"sqlite:///{path}"
        else:
            assert postgres is not None
            admin = make_url(postgres)
            name = f"cep_scale_{size}"
            engine = create_engine(admin, isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                exists = connection.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                ).first()
                if exists and not reuse:
                    connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                if not exists or not reuse:
                    connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
            engine.dispose()
            yield dialect, admin.set(database=name).render_as_string(hide_password=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", help="tailles séparées par des virgules (10000,100000,1000000)")
    parser.add_argument("--quick", action="store_true", help="10 000 et 100 000 (par défaut)")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", help="serveur existant (rôle autorisé à CREATE DATABASE)")
    parser.add_argument("--workdir", type=Path, help="dossier des bases générées (temporaire)")
    parser.add_argument("--rounds", type=int, default=40, help="mesures par requête")
    parser.add_argument("--no-http", action="store_true", help="le service seulement")
    parser.add_argument("--no-docs", action="store_true", help="ne pas écrire benchmarks.md")
    parser.add_argument("--keep", action="store_true", help="garder les bases générées")
    parser.add_argument(
        "--reuse", action="store_true", help="réutiliser les bases de --workdir (ou --postgres-url)"
    )
    parser.add_argument(
        "--from-results", type=Path, help="réécrire la section et le graphique depuis ce JSON"
    )
    args = parser.parse_args(argv)
    if args.from_results:
        saved = json.loads(args.from_results.read_text())
        return report(
            saved["results"],
            saved["machine"],
            saved.get("command", ""),
            True,
            saved.get("note", ""),
        )
    sizes = [int(s) for s in (args.sizes or "10000,100000").split(",")]
    dialects = [d.strip() for d in args.databases.split(",") if d.strip()]
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="cep-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    info = common.machine()
    command = "uv run --group bench python bench/scale.py " + " ".join(
        a for a in (argv if argv is not None else sys.argv[1:])
    )
    results: list[dict[str, Any]] = []
    print(f"dossier de travail : {folder}")
    with contextlib.ExitStack() as stack:
        postgres = args.postgres_url
        if "postgresql" in dialects and postgres is None:
            postgres = stack.enter_context(common.postgres_cluster(folder))
            postgres = make_url(postgres).set(database="postgres").render_as_string(False)
        for size in sizes:
            for dialect, url in _database_urls(dialects, size, folder, postgres, args.reuse):
                print(f"== {dialect}, {size} dossiers ==")
                results.append(
                    measure_base(
                        dialect, url, size, folder, args.rounds,
                        with_plans=size == max(sizes), http=not args.no_http, progress=print,
                        reuse=args.reuse,
                    )
                )  # fmt: skip
                (folder / "scale-results.json").write_text(
                    json.dumps(
                        {"machine": info, "command": command.strip(), "results": results},
                        indent=1,
                        default=str,
                    )
                )
                if dialect == "sqlite" and not (args.keep or args.reuse) and size != max(sizes):
                    for leftover in folder.glob(f"scale-{size}.db*"):
                        leftover.unlink()
    if not args.keep and args.workdir is None:
        shutil.rmtree(folder, ignore_errors=True)
    return report(results, info, command.strip(), not args.no_docs)


def report(
    results: list[dict[str, Any]], info: dict[str, Any], command: str, docs: bool, note: str = ""
) -> int:
    """Print the plans and the verdict; write the docs section and the plot if asked."""
    for run in results:
        for key, plan in run["plans"].items():
            print(f"-- {run['dialect']} {run['size']} {key}")
            print("\n".join(plan))
            bad = plan_problems(run["dialect"], plan)
            if bad:
                print("!! lecture complète ou tri :", bad)
    problems = verdicts(results)
    print("écarts à l'objectif :", "; ".join(problems) if problems else "aucun")
    if docs:
        image = plot(results)
        common.write_section("scale.py", markdown(results, info, image, command, note))
        print(f"docs/benchmarks.md et docs/{image} écrits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
