"""cep-kit from plain synchronous Python: no web server, no event loop, no HTTP.

A portal or a batch job embeds the core as a library: one `Kit` (the installed operator
plugins, a SQLite file), then its services — orientation, cases, funding, syntheses — called
like any Python function. This script orients a cadre, opens her case with the Apec, runs
level 1 to its record, simulates the funding of a training and writes the level-1 document
de synthèse as a PDF::

    python examples/embed_sync.py [DOSSIER]      # dans le dépôt : uv run python examples/...

It needs the Apec plugin (``cep-apec``) installed. The PDF is rendered in a separate worker
process, hence the ``if __name__ == "__main__"`` guard every multiprocessing program needs.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import msgspec

from cep_core import (
    FormChannel,
    Kit,
    Level,
    NewBeneficiary,
    NewSession,
    SessionChannel,
    Settings,
    SimulationQuery,
    Situation,
    Status,
    format_euros,
)

OPERATOR = "apec"
COUNSELLOR = "conseillere-1"

INTAKE = {
    "cadre_basis": "cadre_contract",
    "position_title": "Responsable du contrôle de gestion",
    "position_current": True,
    "request": "change_employer",
}
LEVEL_ONE: dict[str, dict[str, Any]] = {
    "apec.situation_review": {"urgency": "within_six_months", "mobility": "regional"},
    "level1.record": {
        "request": "Changer d'entreprise en gardant un poste de cadre financier.",
        "clarified_need": "Cibler les entreprises de taille intermédiaire de la région.",
        "information_given": ["cep_service", "job_market", "funding"],
        "shared_review": "Projet réaliste ; un certificat en pilotage de la performance aiderait.",
        "continues": True,
    },
}
TRAINING = {
    "training": {
        "cost_eur": 2400,
        "kind": "certification",
        "certification_code": "RNCP35512",
        "qualiopi": True,
        "title": "Pilotage de la performance",
    },
    "situation": {"status": "employee", "cpf_balance_eur": 1850},
}


def main(folder: Path) -> Path:
    """Run the whole journey on a kit stored in `folder`; returns the PDF written there."""
    kit = Kit(settings=Settings(data_dir=folder))
    try:
        kit.check()  # a refused plugin stops here, with its name and the reason
        kit.database.upgrade()
        today = kit.today()

        # 1. Orientation: who can serve this person, and why (in French).
        person = Situation(
            birth_date=date(1986, 4, 23),
            as_of=today,
            status=Status.EMPLOYEE,
            cadre=True,
            region="53",
        )
        orientation = kit.orientation.orient(person)
        print("Opérateurs compétents :", ", ".join(o.name for o in orientation.operators))

        # 2. A case with the Apec: intake, level 1, one session, the level's steps.
        cases = kit.cases
        assert cases.intake_form(OPERATOR, FormChannel.COUNSELLOR) is not None
        case = cases.open_case(
            OPERATOR,
            NewBeneficiary(first_name="Maëlle", last_name="Roussel"),
            person,
            intake=INTAKE,
            counsellor_id=COUNSELLOR,
            actor=COUNSELLOR,
        )
        version = cases.start_level_1(OPERATOR, case.id, expected_version=case.version).version
        session = NewSession(
            start=kit.clock(),
            channel=SessionChannel.IN_PERSON,
            duration_minutes=75,
            outside_working_time=True,
            notes="Notes confidentielles : jamais dans la synthèse.",
        )
        version = cases.record_session(
            OPERATOR, case.id, session, expected_version=version, actor=COUNSELLOR
        ).version
        for step_id, answers in LEVEL_ONE.items():
            version = cases.save_step(
                OPERATOR,
                case.id,
                step_id,
                answers,
                complete=True,
                expected_version=version,
                actor=COUNSELLOR,
            ).case.version
        progress = cases.progress(OPERATOR, case.id)
        assert progress is not None
        print(f"Dossier {case.id} : niveau 1 complété à {progress.percent} %")

        # 3. Funding: the simulator, as POST /api/v1/funding/simulate answers it.
        simulation = kit.funding.simulate(msgspec.convert(TRAINING, SimulationQuery), today)
        plan = simulation.plan
        for line in plan.lines:
            print(f"  {line.label} : {format_euros(line.amount)}")
        print(f"Reste à charge : {format_euros(plan.remaining)}")

        # 4. The level-1 document de synthèse, rendered once and stored with the case.
        generated = kit.syntheses.generate(OPERATOR, case.id, Level.ONE, actor=COUNSELLOR)
        _, pdf = kit.syntheses.download(OPERATOR, case.id, generated.synthesis.id, actor=COUNSELLOR)
        path = folder / "synthese-niveau-1.pdf"
        path.write_bytes(pdf)
        print(f"Document de synthèse : {path} ({len(pdf)} octets)")
        return path
    finally:
        kit.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory(prefix="cep-embed-") as scratch:
            main(Path(scratch))
