"""The retention period on the manager's settings page: bounded, French, kept when saved."""

from __future__ import annotations

from pathlib import Path

from pages import csrf_from, make_staff, page_client, sign_in
from request_helpers import FakeClock, build_kit

from cep_core.web.app import create_app


def test_a_manager_sets_the_retention_period(tmp_path: Path) -> None:
    kit = build_kit(tmp_path, FakeClock())
    try:
        app = create_app(kit)
        with page_client(app) as manager:
            sign_in(manager, make_staff(kit, operator="apec", role="manager"))
            form = manager.get("/espace/parametres")
            assert "Durée de conservation des dossiers" in form.text
            assert "Vide : 24 mois" in form.text
            token = csrf_from(form.text)
            base = {"_csrf": token, "version": "0", "default_duration_minutes": "60"}
            wrong = manager.post("/espace/parametres", data={**base, "retention_months": "3"})
            assert wrong.status_code == 400
            assert "entre 6 et 120 mois" in wrong.text
            saved = manager.post(
                "/espace/parametres",
                data={**base, "retention_months": "36"},
                follow_redirects=False,
            )
            assert saved.status_code == 303
            assert 'value="36"' in manager.get("/espace/parametres").text
        assert kit.operator_settings.get("apec").retention_months == 36
        assert kit.retention.policy("apec").months == 36
        assert kit.retention.policy("regional").months == 24
    finally:
        kit.close()
