"""Edges the main tests leave out: a month boundary in Paris time, and the dashboard's and
the agencies' refusals of bad input (each one French, nothing recorded)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pages import csrf_from, make_staff, page_client, sign_in, submit
from sqlalchemy import func, select, update

from cep_core import NewBeneficiary, Situation, Status
from cep_core.cli import main
from cep_core.services.indicators import Period, Scope
from cep_core.storage.tables import cases, report_exports
from cep_core.web.app import create_app

PERIOD = "?du=2026-03-01&au=2026-04-30"
MANAGER_EMAIL = "responsable@apec.example.fr"


def manager(world):
    return make_staff(world.kit, role="manager", email=MANAGER_EMAIL, name="Inès Garnier")


def entries_by_month(world, period: Period, **scope: str) -> dict[str, float | None]:
    (result,) = world.kit.indicators.compute(
        Scope(operator="apec", **scope), period, only=["entries_by_month"]
    )
    return {point.key: point.value for point in result.points} | {"base": result.base}


def test_months_are_cut_at_paris_midnight_and_empty_ones_stay(world) -> None:
    # 31 March 22:30 UTC is 1 April 00:30 in Paris (summer time): an April entry.
    world.move("2026-03-31", 22)
    world.now[0] = world.now[0].replace(minute=30)
    world.kit.cases.open_case(
        "apec",
        NewBeneficiary(first_name="Lina", last_name="Moreau"),
        Situation(
            birth_date=date(1990, 1, 2),
            as_of=date(2026, 3, 31),
            status=Status.EMPLOYEE,
            cadre=True,
        ),
        counsellor_id=world.counsellors["c2"].id,
    )
    world.move("2026-05-31", 12)
    spring = Period(start=date(2026, 3, 1), end=date(2026, 5, 31))
    assert entries_by_month(world, spring) == {
        "2026-03": 4,
        "2026-04": 2,
        "2026-05": 0,
        "base": 6,
    }
    # A period starting and ending mid-month counts only its own days.
    middle = Period(start=date(2026, 3, 3), end=date(2026, 4, 1))
    assert entries_by_month(world, middle) == {"2026-03": 3, "2026-04": 1, "base": 4}
    counsellor = world.counsellors["c2"].id
    assert entries_by_month(world, spring, counsellor=counsellor) == {
        "2026-03": 2,
        "2026-04": 1,
        "2026-05": 0,
        "base": 3,
    }


def test_the_dashboard_refuses_a_bad_period_in_french(world) -> None:
    boss = manager(world)
    with page_client(create_app(world.kit)) as client:
        sign_in(client, boss)
        backwards = client.get("/espace/activite?du=2026-04-30&au=2026-03-01")
        assert backwards.status_code == 400
        assert "La date de début doit précéder la date de fin." in backwards.text
        too_long = client.get("/espace/activite?du=2020-01-01&au=2026-04-30")
        assert too_long.status_code == 400
        assert "La période ne peut pas dépasser trois ans." in too_long.text
        # Malformed values never reach the page.
        for query in ("du=hier", "agence=x", "conseiller=Claire"):
            assert client.get(f"/espace/activite?{query}").status_code == 400, query
        # An impossible day, an agency rank or a counsellor that do not exist: no filter.
        whole = client.get("/espace/activite" + PERIOD).text
        assert "mars 2026 : 4 ; avr. 2026 : 1." in whole
        for extra in ("&agence=9", "&conseiller=" + "0" * 32):
            page = client.get("/espace/activite" + PERIOD + extra)
            assert page.status_code == 200
            assert "mars 2026 : 4 ; avr. 2026 : 1." in page.text
        impossible = client.get("/espace/activite?du=2026-02-30&au=2026-04-30")
        assert impossible.status_code == 200


def test_a_bad_export_form_exports_nothing(world) -> None:
    boss = manager(world)
    with page_client(create_app(world.kit)) as client:
        sign_in(client, boss)
        for data in (
            {"du": "2026-04-30", "au": "2026-03-01", "type": "paths", "format": "csv"},
            {"du": "2026-03-01", "au": "2026-04-30", "type": "names", "format": "csv"},
            {"du": "2026-03-01", "au": "2026-04-30", "type": "paths", "format": "xlsx"},
            {"du": "", "au": "2026-04-30", "type": "paths", "format": "csv"},
        ):
            response = submit(
                client,
                "/espace/activite" + PERIOD,
                "/espace/activite/export",
                data=data,
                follow_redirects=False,
            )
            assert response.status_code == 303, data
            assert response.headers["location"].endswith("/espace/activite?export=invalide")
    with world.kit.database.read() as conn:
        assert conn.execute(select(func.count()).select_from(report_exports)).scalar_one() == 0


def test_an_agency_name_too_long_is_refused_and_kept_out(world) -> None:
    boss = manager(world)
    c2 = world.counsellors["c2"]
    with page_client(create_app(world.kit)) as client:
        sign_in(client, boss)
        page = client.get("/espace/activite/agences")
        refused = client.post(
            "/espace/activite/agences",
            data={"_csrf": csrf_from(page.text), f"agence-{c2.id}": "N" * 81},
            follow_redirects=False,
        )
        assert refused.status_code == 400
        assert "Hugo Petit : 80 caractères au plus." in refused.text
    assert world.kit.indicators.agencies("apec")[c2.id] == "Nantes"


def test_cep_report_without_operator_writes_one_file_per_operator(
    cli_env, tmp_path: Path, capsys
) -> None:
    target = tmp_path / "activite.csv"
    code = main(
        ["report", "--from", "2026-03-01", "--to", "2026-04-30", "--format", "csv",
         "--output", str(target)]
    )  # fmt: skip
    assert code == 0
    assert not target.exists()
    written = sorted(path.name for path in tmp_path.glob("activite-*.csv"))
    assert written == ["activite-apec.csv", "activite-regional.csv"]
    err = capsys.readouterr().err
    for name in written:
        assert f"écrites dans {tmp_path / name}." in err
        header = (tmp_path / name).read_text(encoding="utf-8").splitlines()[0]
        assert header == "month,age_band,level,channel,entries"
    with cli_env.kit.database.read() as conn:
        operators = conn.execute(select(report_exports.c.operator)).scalars().all()
    assert sorted(operators) == ["apec", "regional"]


def test_cases_nobody_holds_or_held_without_an_account(world) -> None:
    # D is given back to nobody; B is held by an id with no account (imported data).
    with world.kit.database.write() as conn:
        for key, holder in (("D", None), ("B", "f" * 32)):
            conn.execute(
                update(cases).where(cases.c.id == world.cases[key]).values(counsellor_id=holder)
            )
    (result,) = world.kit.indicators.compute(
        Scope(operator="apec"),
        Period(start=date(2026, 3, 1), end=date(2026, 4, 30)),
        only=["entries_by_counsellor"],
    )
    assert [(p.label, p.value) for p in result.points] == [
        ("Claire Martin", 3),
        ("Conseiller sans compte", 1),
        ("Sans conseiller attribué", 1),
    ]
    assert result.base == 5
