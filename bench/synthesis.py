"""Benchmark of the documents de synthèse (issue "Documents de synthèse", part E).

    uv run python bench/synthesis.py            # everything, about 2 minutes
    uv run python bench/synthesis.py --quick    # fewer iterations, for a smoke run
    uv run python bench/synthesis.py --only render,download

What it measures, on a typical level-2 synthesis (Apec's template, 3 pages: 4 sessions,
project, 2 strategies, 3 services, 3 personal steps, the funding plan the funding engine
builds for a 6 123,45 € training, 9 calendar entries):

1. ``render``: our render (a warm worker process: locked fetcher, PDF/UA-1 tagging, the
   message round trip) against bare WeasyPrint (``HTML(string=...).write_pdf()``, default
   options) on the SAME self-contained HTML (stylesheet inlined, logo as a data: URL, so
   bare WeasyPrint needs no fetcher); median of N rounds, each round rendering once with
   ours, once with bare WeasyPrint in this process, and once with bare WeasyPrint in a
   fresh process that does nothing else (the fairest baseline).
   Also the HTML build (hooks + Jinja + hash) and a full ``generate`` (build, render, store).
2. ``throughput``: documents per second through a pool of 1 and 2 workers, fed by 4 threads.
3. ``download``: a cached download through the service (read the stored PDF, one journal
   line, SQLite with ``synchronous=FULL``): p50 / p99.
4. ``api``: ``cep serve`` in a subprocess (uvicorn, default renderer pool); p50 / p99 of a
   cheap endpoint (``GET /api/v1/cases/{id}``) idle, then while 2 clients keep producing
   new syntheses (each on a fresh case, so each one is rendered); and the HTTP cached
   download (``GET .../pdf``).
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from cep_core.documents.assets import read_asset
from cep_core.documents.pool import RenderPool, RenderSettings
from cep_core.domain.case import (
    Beneficiary,
    Case,
    CaseStatus,
    Level,
    ReferralReason,
    SessionRecord,
    StepRecord,
)
from cep_core.domain.context import OperatorContext
from cep_core.domain.forms import SessionChannel
from cep_core.domain.funding import (
    ContractKind,
    FundingPlan,
    FundingSituation,
    Project,
    TrainingKind,
)
from cep_core.domain.situation import Situation, Status
from cep_core.domain.steps import (
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
from cep_core.domain.synthesis import RenderRequest
from cep_core.kit import Kit
from cep_core.settings import Settings, parse_api_tokens
from cep_core.storage.ids import new_id
from cep_core.storage.repositories import BeneficiaryRepository, CaseRepository

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

OPERATOR = "apec"
TOKEN = "b" * 40
NOW = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)


# -- a typical case ---------------------------------------------------------------------------


def _step(value: msgspec.Struct) -> StepRecord:
    return StepRecord(
        data=msgspec.to_builtins(value), completed=True, updated_at=NOW, completed_at=NOW
    )


def typical_case(case_id: str, beneficiary_id: str, funding: FundingPlan, variant: int = 0) -> Case:
    record = Level1Record(
        request="Je souhaite changer de métier et travailler dans le soin aux personnes âgées.",
        clarified_need="Valider un projet de reconversion vers le métier d'aide-soignante, "
        "compatible avec mes contraintes familiales et mon budget.",
        information_given=(
            InformationKind.CEP_SERVICE,
            InformationKind.JOB_MARKET,
            InformationKind.TRAINING,
            InformationKind.FUNDING,
        ),
        shared_review="Projet mûri depuis deux ans ; expérience bénévole en EHPAD ; besoin "
        "d'un financement pour une formation longue.",
        continues=True,
        referral=Level1Referral(operator="regional", reason=ReferralReason.PERSON_REQUEST),
    )
    project = CareerProject(
        objective=ProjectObjective.RETRAINING,
        description=(
            "Devenir aide-soignante en EHPAD dans la métropole de Lyon, après une formation "
            "au diplôme d'État suivie en parcours complet. La personne travaille aujourd'hui "
            "comme assistante administrative et souhaite un métier au contact des personnes "
            f"âgées. (Version {variant}.)"
        ),
        strategies=(
            "Obtenir le diplôme d'État d'aide-soignant par la formation continue.",
            "Travailler d'abord comme agente de service hospitalier pour confirmer le projet.",
        ),
        target_job="Aide-soignante",
        rome_code="J1501",
    )
    plan = ActionPlan(
        services=(
            PlannedService(
                kind=ServiceKind.SKILLS_ASSESSMENT,
                label="Bilan de compétences",
                provider="Cabinet Orientation Plus",
                provider_qualiopi=True,
                start=date(2026, 4, 6),
                end=date(2026, 5, 29),
            ),
            PlannedService(
                kind=ServiceKind.TRAINING,
                label="Diplôme d'État d'aide-soignant",
                provider="IFAS Lumière",
                provider_qualiopi=True,
                certification_code="RNCP35830",
                start=date(2026, 9, 7),
                end=date(2027, 6, 30),
            ),
            PlannedService(
                kind=ServiceKind.OTHER,
                label="Atelier de préparation aux épreuves de sélection",
                provider="Centre social du quartier",
                provider_qualiopi=False,
            ),
        ),
        personal_steps=(
            PersonalStep(
                description="Faire un stage d'observation de deux semaines en EHPAD.",
                support="Atelier de préparation aux candidatures",
                due=date(2026, 5, 15),
            ),
            PersonalStep(
                description="Constituer le dossier de demande de projet de transition.",
                support="Relecture par la conseillère",
                due=date(2026, 4, 30),
            ),
            PersonalStep(description="Informer son employeur du projet de congé."),
        ),
        milestones=(
            Milestone(on=date(2026, 4, 30), label="Dépôt du dossier de financement"),
            Milestone(on=date(2026, 6, 15), label="Épreuves de sélection de l'IFAS"),
            Milestone(on=date(2026, 7, 10), label="Réponse de Transitions Pro"),
        ),
    )
    sessions = tuple(
        SessionRecord(
            id=new_id(),
            start=NOW - timedelta(days=30 - 7 * index),
            channel=(SessionChannel.IN_PERSON, SessionChannel.VIDEO, SessionChannel.PHONE)[
                index % 3
            ],
            duration_minutes=(60, 90, 45, 60)[index],
            counsellor_id="c.martin",
            outside_working_time=True,
            notes="Notes confidentielles du conseiller.",
            level=Level.ONE if index == 0 else Level.TWO,
            recorded_at=NOW,
        )
        for index in range(4)
    )
    return Case(
        id=case_id,
        operator=OPERATOR,
        beneficiary_id=beneficiary_id,
        status=CaseStatus.LEVEL_TWO,
        level=Level.TWO,
        situation=Situation(
            birth_date=date(1985, 5, 17), as_of=date(2026, 3, 4), status=Status.EMPLOYEE, cadre=True
        ),
        counsellor_id="c.martin",
        created_at=NOW - timedelta(days=40),
        updated_at=NOW,
        steps={
            "level1.record": _step(record),
            "level2.project": _step(project),
            "level2.action_plan": _step(plan),
        },
        sessions=sessions,
        funding_plan=funding,
    )


def funding_plan(kit: Kit) -> FundingPlan:
    """The plan the funding engine builds for the case's training (CPF, employer, PTP...)."""
    project = Project(
        kind=TrainingKind.CERTIFICATION,
        price=612_345,
        title="Diplôme d'État d'aide-soignant",
        hours=1_470,
        start_date=date(2026, 9, 7),
        end_date=date(2027, 6, 30),
        certification_code="RNCP35830",
        provider_qualiopi=True,
    )
    situation = FundingSituation(
        status=Status.EMPLOYEE,
        cpf_balance=310_000,
        employer_topup=28_022,
        contract=ContractKind.CDI,
        months_salaried_total=160,
        months_current_employer=70,
        months_salaried_last_60=60,
        reference_monthly_salary=215_000,
    )
    ctx = OperatorContext(operator=OPERATOR, today=NOW.date())
    plan, _problems = kit.funding.plan_for_case(
        ctx, project, situation, purchase_date=date(2026, 4, 30)
    )
    return plan


def store_cases(kit: Kit, count: int) -> list[str]:
    funding = funding_plan(kit)
    ids = []
    with kit.database.write() as connection:
        people = BeneficiaryRepository(connection, OPERATOR)
        cases = CaseRepository(connection, OPERATOR)
        for index in range(count):
            person = Beneficiary(
                id=new_id(),
                operator=OPERATOR,
                first_name="Élodie",
                last_name=f"Lefèvre-Œuvray {index}",
                created_at=NOW,
            )
            people.add(person)
            case = typical_case(new_id(), person.id, funding, variant=index)
            cases.add(case)
            ids.append(case.id)
    return ids


# -- measuring --------------------------------------------------------------------------------


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def timed(function: Callable[[], Any]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def self_contained(request: RenderRequest) -> str:
    """The same HTML with its stylesheet inlined and its images as data: URLs."""
    html = request.html
    for url, target in request.assets.items():
        package, _, path = target.partition(":")
        body, media_type = read_asset(package, path)
        if media_type == "text/css":
            html = html.replace(
                f'<link rel="stylesheet" href="{url}">', f"<style>{body.decode()}</style>"
            )
        else:
            data = f"data:{media_type};base64,{base64.b64encode(body).decode()}"
            html = html.replace(url, data)
    assert "cep-asset://" not in html
    return html


def pdf_pages(pdf: bytes) -> int | None:
    if shutil.which("pdfinfo") is None:
        return None
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=False).stdout
    found = re.search(rb"^Pages:\s+(\d+)", info, re.M)
    return int(found.group(1)) if found else None


BARE_SCRIPT = """
import sys, time
import weasyprint
html = open(sys.argv[1], encoding="utf-8").read()
for _ in range(3):
    weasyprint.HTML(string=html).write_pdf()
print("ready", flush=True)
for _ in sys.stdin:
    started = time.perf_counter()
    weasyprint.HTML(string=html).write_pdf()
    print(time.perf_counter() - started, flush=True)
"""


class BareProcess:
    """Bare WeasyPrint in a fresh process that does nothing else; renders on request."""

    def __init__(self, html: str, folder: Path) -> None:
        page = folder / "bare.html"
        page.write_text(html, encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-c", BARE_SCRIPT, str(page)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None and self.process.stdin is not None
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        assert self.stdout.readline().strip() == "ready"

    def render(self) -> float:
        self.stdin.write("go\n")
        self.stdin.flush()
        return float(self.stdout.readline())

    def close(self) -> None:
        self.stdin.close()
        self.process.wait(30)


def bench_render(kit: Kit, case_ids: list[str], rounds: int) -> dict[str, Any]:
    import weasyprint  # type: ignore[import-untyped]

    from cep_core.services.syntheses import synthesis_service

    service = synthesis_service(kit)
    build_times = [timed(lambda: service.build(OPERATOR, case_ids[0], 2)) for _ in range(rounds)]
    built = service.build(OPERATOR, case_ids[0], 2)
    html = self_contained(built.request)
    request = RenderRequest(html=html, title=built.request.title)
    with RenderPool(RenderSettings(workers=1)) as pool:
        pool.start(wait=True)
        for _ in range(3):  # warm both sides
            pdf = pool.render(request)
            weasyprint.HTML(string=html).write_pdf()
        pages = pdf_pages(pdf)
        ours, bare, separate, as_produced = [], [], [], []
        with tempfile.TemporaryDirectory() as folder:
            alone = BareProcess(html, Path(folder))
            try:
                for _ in range(rounds):
                    ours.append(timed(lambda: pool.render(request)))
                    bare.append(timed(lambda: weasyprint.HTML(string=html).write_pdf()))
                    separate.append(alone.render())
                    as_produced.append(timed(lambda: pool.render(built.request)))
            finally:
                alone.close()
    generate = []
    for case_id in case_ids[1 : 1 + min(rounds, 10)]:
        generate.append(
            timed(functools.partial(service.generate, OPERATOR, case_id, 2, actor="bench"))
        )
    ratio = statistics.median(ours) / statistics.median(bare)
    return {
        "html_kib": round(len(html.encode()) / 1024, 1),
        "pdf_kib": round(len(pdf) / 1024, 1),
        "pages": pages,
        "build_ms_median": ms(statistics.median(build_times)),
        "ours_ms_median": ms(statistics.median(ours)),
        "ours_ms_p90": ms(common.percentile(ours, 90)),
        "bare_ms_median": ms(statistics.median(bare)),
        "bare_ms_p90": ms(common.percentile(bare, 90)),
        "ratio_ours_over_bare": round(ratio, 3),
        "bare_own_process_ms_median": ms(statistics.median(separate)),
        "ratio_ours_over_bare_own_process": round(
            statistics.median(ours) / statistics.median(separate), 3
        ),
        "ours_as_produced_ms_median": ms(statistics.median(as_produced)),
        "generate_ms_median": ms(statistics.median(generate)) if generate else None,
        "rounds": rounds,
    }


def bench_throughput(kit: Kit, case_id: str, documents: int) -> dict[str, Any]:
    from cep_core.services.syntheses import synthesis_service

    request = synthesis_service(kit).build(OPERATOR, case_id, 2).request
    found: dict[str, Any] = {"documents": documents}
    for workers in (1, 2):
        with RenderPool(RenderSettings(workers=workers)) as pool:
            pool.start(wait=True)
            for _ in range(workers):
                pool.render(request)
            started = time.perf_counter()
            with ThreadPoolExecutor(4) as executor:
                list(executor.map(lambda _: pool.render(request), range(documents)))
            elapsed = time.perf_counter() - started
        found[f"docs_per_second_{workers}_worker{'s' if workers > 1 else ''}"] = round(
            documents / elapsed, 2
        )
    return found


def bench_download(kit: Kit, case_id: str, rounds: int) -> dict[str, Any]:
    from cep_core.services.syntheses import synthesis_service

    service = synthesis_service(kit)
    synthesis = service.generate(OPERATOR, case_id, 2, actor="bench").synthesis
    for _ in range(10):
        service.download(OPERATOR, case_id, synthesis.id, actor="bench")
    times = [
        timed(lambda: service.download(OPERATOR, case_id, synthesis.id, actor="bench"))
        for _ in range(rounds)
    ]
    return {
        "rounds": rounds,
        "p50_ms": ms(common.percentile(times, 50)),
        "p99_ms": ms(common.percentile(times, 99)),
        "max_ms": ms(max(times)),
    }


def bench_api(data_dir: Path, url: str, case_ids: list[str], seconds: float) -> dict[str, Any]:
    import httpx

    port = common.free_port()
    env = {
        **os.environ,
        "CEP_DATA_DIR": str(data_dir),
        "CEP_DATABASE_URL": url,
        "CEP_API_TOKENS": f"{OPERATOR}:bench:{TOKEN}",
        "CEP_PLUGINS": "apec",
    }
    cep = shutil.which("cep") or sys.argv[0]
    log_path = data_dir / "server.log"
    log = log_path.open("wb")
    server = subprocess.Popen(
        [cep, "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    cheap = f"/api/v1/cases/{case_ids[0]}"
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            for _ in range(200):
                try:
                    if client.get(cheap).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise RuntimeError("the server did not start")
            # Warm the render workers, and keep one synthesis for the download measure.
            first = client.post(f"{cheap}/syntheses", json={"level": 2}).json()
            while first["status"] == "pending":
                time.sleep(0.2)
                first = client.get(first["status_url"]).json()
            pdf_url = first["synthesis"]["pdf_url"]

            def sample(duration: float) -> list[float]:
                found = []
                end = time.monotonic() + duration
                while time.monotonic() < end:
                    started = time.perf_counter()
                    answer = client.get(cheap)
                    found.append(time.perf_counter() - started)
                    assert answer.status_code == 200
                    time.sleep(0.005)
                return found

            for _ in range(50):
                client.get(cheap)
            idle = sample(seconds)

            downloads = []
            for _ in range(300):
                started = time.perf_counter()
                answer = client.get(pdf_url)
                downloads.append(time.perf_counter() - started)
                assert answer.status_code == 200
            # Load: 2 clients, each producing a new synthesis (a fresh case) after the other.
            stop = threading.Event()
            produced: list[float] = []
            queue = iter(case_ids[1:])
            lock = threading.Lock()

            def producer() -> None:
                with httpx.Client(base_url=base, headers=headers, timeout=120) as own:
                    while not stop.is_set():
                        with lock:
                            case_id = next(queue, None)
                        if case_id is None:
                            return
                        started = time.perf_counter()
                        body = own.post(f"/api/v1/cases/{case_id}/syntheses", json={"level": 2})
                        answer = body.json()
                        while answer.get("status") == "pending":
                            time.sleep(0.1)
                            answer = own.get(answer["status_url"]).json()
                        assert answer.get("status") == "created", answer
                        produced.append(time.perf_counter() - started)

            producers = [threading.Thread(target=producer) for _ in range(2)]
            for thread in producers:
                thread.start()
            time.sleep(1.0)
            loaded = sample(seconds)
            rendered_during = len(produced)
            stop.set()
            for thread in producers:
                thread.join(120)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
        server_log = log_path.read_text(errors="replace")
        shutil.copy(log_path, Path(tempfile.gettempdir()) / "cep-bench-server.log")
    return {
        "seconds_per_phase": seconds,
        "idle_requests": len(idle),
        "idle_p50_ms": ms(common.percentile(idle, 50)),
        "idle_p99_ms": ms(common.percentile(idle, 99)),
        "loaded_requests": len(loaded),
        "loaded_p50_ms": ms(common.percentile(loaded, 50)),
        "loaded_p99_ms": ms(common.percentile(loaded, 99)),
        "p99_ratio_loaded_over_idle": round(
            common.percentile(loaded, 99) / common.percentile(idle, 99), 2
        ),
        "syntheses_produced_while_loaded": rendered_during,
        "production_ms_median": ms(statistics.median(produced)) if produced else None,
        "http_download_p50_ms": ms(common.percentile(downloads, 50)),
        "http_download_p99_ms": ms(common.percentile(downloads, 99)),
        "server_log_lines": len(server_log.splitlines()),
    }


def machine() -> dict[str, Any]:
    import weasyprint

    subset = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", "libharfbuzz-subset0"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return {
        **common.host(),
        "weasyprint": weasyprint.__version__,
        "libharfbuzz_subset0": subset or "absent",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    parser.add_argument("--only", default="render,throughput,download,api")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    only = set(args.only.split(","))
    rounds = 8 if args.quick else 30
    results: dict[str, Any] = {"machine": machine()}
    with tempfile.TemporaryDirectory(prefix="cep-bench-") as folder:
        data_dir = Path(folder)
        url = f"sqlite:///{data_dir / 'bench.sqlite3'}"
        kit = Kit(
            settings=Settings(
                data_dir=data_dir,
                database_url=url,
                plugins=("apec",),
                api_tokens=parse_api_tokens(f"{OPERATOR}:bench:{TOKEN}", "bench"),
            ),
            load_entrypoints=True,
            clock=lambda: NOW,
        )
        kit.check()
        kit.database.upgrade()
        case_ids = store_cases(kit, 400)
        try:
            if "render" in only:
                results["render"] = bench_render(kit, case_ids[:20], rounds)
            if "throughput" in only:
                results["throughput"] = bench_throughput(kit, case_ids[0], 12 if args.quick else 40)
            if "download" in only:
                results["download"] = bench_download(kit, case_ids[20], 60 if args.quick else 300)
        finally:
            kit.close()
        if "api" in only:
            results["api"] = bench_api(data_dir, url, case_ids[30:], 5 if args.quick else 20)
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return 0
    for section, values in results.items():
        print(f"## {section}")
        for key, value in values.items():
            print(f"  {key}: {value}")
    print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
