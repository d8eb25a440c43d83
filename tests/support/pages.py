"""Helpers for page tests: a kit with real plugins and fast hashing, staff, signed-in clients.

Browsers only send ``Secure`` cookies over HTTPS, and so does httpx: page clients use an
``https://`` base URL. Every POST must carry the CSRF token of the page it came from:
`csrf_from(html)` reads it, `submit(...)` does both steps.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from cep_core import Kit
from cep_core.domain.accounts import StaffUser
from cep_core.settings import Settings

BASE_URL = "https://testserver.local"
PASSWORD = "une phrase de passe solide"
HTML = {"accept": "text/html"}
_CSRF = re.compile(r'name="_csrf" value="([0-9a-f]+)"')


def page_kit(tmp_path: Path, database_url: str | None = None, **settings: Any) -> Kit:
    """A kit with the installed plugins, a migrated database and cheap password hashing."""
    # The test PostgreSQL runs with fsync=off (tests/conftest.py): create_app refuses it
    # without this test-only override (REL-08); SQLite is checked for real.
    options: dict[str, Any] = {
        "hash_profile": "fast",
        "allow_non_durable_database": (database_url or "").startswith("postgresql"),
        **settings,
    }
    kit = Kit(settings=Settings(data_dir=tmp_path, database_url=database_url, **options))
    kit.database.upgrade()
    return kit


def make_staff(
    kit: Kit,
    *,
    operator: str | None = "apec",
    role: str = "counsellor",
    email: str | None = None,
    name: str = "Claire Martin",
) -> StaffUser:
    email = (
        email
        or f"{role}.{operator or 'plateforme'}.{len(kit.accounts.list_users(None))}@example.fr"
    )
    return kit.accounts.create_user(
        email=email,
        display_name=name,
        role=role,
        operator=operator,
        password=PASSWORD,  # type: ignore[arg-type]
    )


def page_client(app: Litestar) -> TestClient[Litestar]:
    client = TestClient(app, base_url=BASE_URL)
    client.headers.update(HTML)
    return client


def csrf_from(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def submit(
    client: TestClient[Litestar],
    page: str,
    action: str | None = None,
    data: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """GET `page`, then POST its form to `action` (default: the same path) with its token."""
    token = csrf_from(client.get(page).text)
    return client.post(action or page, data={**(data or {}), "_csrf": token}, **kwargs)


def sign_in(client: TestClient[Litestar], user: StaffUser, password: str = PASSWORD) -> None:
    response = submit(
        client,
        "/connexion",
        data={"email": user.email, "password": password},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
