"""Several instances of the app on one PostgreSQL: what one knows, the other knows too.

Two ``cep serve`` processes share a database and a secret key, as two instances behind a
load balancer would. Checked across them: staff sessions (signed in on one, used and signed
out on the other), the sign-in limit of 10 attempts a minute per account, optimistic
concurrency (an ETag read on one, a stale write on the other: 412) and ``Idempotency-Key``
(the same key on both: one case).
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pages import csrf_from

from cep_core.kit import Kit
from cep_core.settings import Settings

from .crash_harness import CASES, SESSION, SITUATION
from .servers import AppServer, api_client, make_token, running

pytestmark = pytest.mark.postgres

PASSWORD = "une phrase de passe solide"
_COOKIE = re.compile(r"^\s*([^=;\s]+)=([^;]*)")


class Cluster:
    def __init__(self, servers: list[AppServer], kit: Kit, token: str) -> None:
        self.a, self.b = servers
        self.kit = kit
        self.token = token

    def staff(self, key: str) -> str:
        email = f"{key}.{uuid.uuid4().hex[:8]}@apec.example.fr"
        self.kit.accounts.create_user(
            email=email, display_name="Claire Martin", role="counsellor", operator="apec",
            password=PASSWORD,  # type: ignore[arg-type]
        )  # fmt: skip
        return email


@pytest.fixture(scope="module")
def cluster(postgres_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two instances for the whole module (each test uses its own accounts and cases)."""
    database_url = postgres_server.clean_database()  # tests/conftest.py's PostgresServer
    tmp_path = tmp_path_factory.mktemp("instances")
    secret, token = make_token("secret"), make_token("instances")
    servers = [
        AppServer(
            data_dir=tmp_path / f"instance-{i}",
            database_url=database_url,
            secret_key=secret,
            api_tokens={"instances": token},
            name=f"instance-{i}",
            # Sign-in attempts come from varied addresses (a trusted proxy says which), so
            # only the per-account limit is at stake.
            extra_env={"CEP_TRUSTED_PROXIES": "127.0.0.1"},
        )
        for i in range(2)
    ]
    with running(servers):
        kit = Kit(
            settings=Settings(
                data_dir=tmp_path / "kit", database_url=database_url, hash_profile="fast"
            )
        )
        try:
            yield Cluster(servers, kit, token)
        finally:
            kit.close()


# -- pages over plain HTTP: cookies by hand (httpx keeps Secure cookies for HTTPS only) --------


def cookies_of(response: httpx.Response) -> dict[str, str]:
    found: dict[str, str] = {}
    for header in response.headers.get_list("set-cookie"):
        match = _COOKIE.match(header)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items() if v)}


def page(server: AppServer, path: str, cookies: dict[str, str]) -> httpx.Response:
    return httpx.get(
        server.base_url + path, headers={"Accept": "text/html", **cookie_header(cookies)}
    )


def post_form(
    server: AppServer,
    path: str,
    cookies: dict[str, str],
    data: dict[str, str],
    forwarded_for: str | None = None,
) -> httpx.Response:
    headers = {"Accept": "text/html", **cookie_header(cookies)}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    return httpx.post(server.base_url + path, data=data, headers=headers)


def sign_in(
    server: AppServer, email: str, password: str, forwarded_for: str | None = None
) -> tuple[httpx.Response, dict[str, str]]:
    form = page(server, "/connexion", {})
    assert form.status_code == 200, form.text
    cookies = cookies_of(form)
    answer = post_form(
        server,
        "/connexion",
        cookies,
        {"email": email, "password": password, "_csrf": csrf_from(form.text)},
        forwarded_for,
    )
    return answer, {**cookies, **cookies_of(answer)}


def signed_in(response: httpx.Response) -> bool:
    location = response.headers.get("location", "")
    return response.status_code == 200 or (
        response.status_code in (302, 303) and not location.startswith("/connexion")
    )


def test_a_session_opened_on_one_instance_holds_and_ends_on_the_other(cluster: Cluster) -> None:
    email = cluster.staff("session")
    answer, cookies = sign_in(cluster.a, email, PASSWORD)
    assert answer.status_code == 303, answer.text
    assert "__Host-cep-session" in cookies
    on_b = page(cluster.b, "/espace", cookies)
    assert signed_in(on_b), (on_b.status_code, on_b.headers.get("location"))
    if on_b.status_code != 200:  # the role's home page
        on_b = page(cluster.b, on_b.headers["location"], cookies)
        assert on_b.status_code == 200
    assert signed_in(page(cluster.a, "/espace", cookies))
    # Sign out on B, with the CSRF token of a page B showed: A refuses the cookie at once.
    out = post_form(cluster.b, "/deconnexion", cookies, {"_csrf": csrf_from(on_b.text)})
    assert out.status_code == 303, out.text
    assert out.headers["location"].startswith("/connexion")
    for server in (cluster.a, cluster.b):
        refused = page(server, "/espace", cookies)
        assert refused.status_code == 303, refused.status_code
        assert refused.headers["location"].startswith("/connexion"), refused.headers


def test_the_sign_in_limit_per_account_is_shared_by_the_instances(cluster: Cluster) -> None:
    # A fixed one-minute window: ten failures and the refusal must fall in the same minute.
    for attempt in range(3):
        email = cluster.staff(f"limit{attempt}")
        minute = int(time.time() // 60)
        statuses = []
        for number in range(10):
            server = cluster.a if number % 2 == 0 else cluster.b
            answer, _ = sign_in(server, email, "pas le bon mot de passe", f"203.0.113.{number}")
            statuses.append(answer.status_code)
        eleventh = [
            sign_in(server, email, PASSWORD, f"198.51.100.{i}")[0]
            for i, server in enumerate((cluster.a, cluster.b))
        ]
        if int(time.time() // 60) != minute:
            continue  # the window turned during the attempts: start again on a new account
        assert statuses == [401] * 10, statuses
        for answer in eleventh:  # even with the right password, on either instance
            assert answer.status_code == 429, answer.status_code
            assert "Trop de tentatives" in answer.text or "tentatives" in answer.text
        return
    pytest.fail("the minute turned during each of three attempts")


def test_a_stale_etag_from_one_instance_is_refused_by_the_other(cluster: Cluster) -> None:
    with api_client(cluster.a, cluster.token) as a, api_client(cluster.b, cluster.token) as b:
        body = {"beneficiary": {"first_name": "Inès", "last_name": "Deux"}, "situation": SITUATION}
        created = a.post(CASES, json=body)
        assert created.status_code == 201, created.text
        case_id = created.json()["id"]
        read_on_a = a.get(f"{CASES}/{case_id}")
        etag = read_on_a.headers["etag"]
        written_on_a = a.post(
            f"{CASES}/{case_id}/sessions", json={**SESSION, "notes": "sur A"},
            headers={"If-Match": etag},
        )  # fmt: skip
        assert written_on_a.status_code == 201, written_on_a.text
        stale_on_b = b.post(
            f"{CASES}/{case_id}/sessions", json={**SESSION, "notes": "sur B, périmé"},
            headers={"If-Match": etag},
        )  # fmt: skip
        assert stale_on_b.status_code == 412, stale_on_b.text
        assert stale_on_b.headers["etag"] == written_on_a.headers["etag"]
        assert stale_on_b.headers["content-type"] == "application/problem+json"
        fresh_on_b = b.post(
            f"{CASES}/{case_id}/sessions", json={**SESSION, "notes": "sur B"},
            headers={"If-Match": stale_on_b.headers["etag"]},
        )  # fmt: skip
        assert fresh_on_b.status_code == 201, fresh_on_b.text
        notes = [s["notes"] for s in a.get(f"{CASES}/{case_id}").json()["sessions"]]
        assert notes == ["sur A", "sur B"]


def _together(
    clients: list[httpx.Client], body: dict[str, Any], headers: dict[str, str]
) -> list[httpx.Response]:
    """The same creating request sent by every client at the same moment."""
    answers: list[httpx.Response] = []
    gate = threading.Barrier(len(clients))

    def send(client: httpx.Client) -> None:
        gate.wait()
        answers.append(client.post(CASES, json=body, headers=headers))

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def _count_named(client: httpx.Client, name: str) -> int:
    found = client.post(f"{CASES}/search", json={"name": name, "limit": 10})
    assert found.status_code == 200, found.text
    return len(found.json()["items"])


def test_one_idempotency_key_opens_one_case_whichever_instance_answers(cluster: Cluster) -> None:
    with api_client(cluster.a, cluster.token) as a, api_client(cluster.b, cluster.token) as b:
        # One after the other: B replays A's answer.
        name = "Idem" + uuid.uuid4().hex[:10].translate(str.maketrans("0123456789", "ghijklmnop"))
        body = {"beneficiary": {"first_name": "Yann", "last_name": name}, "situation": SITUATION}
        key = {"Idempotency-Key": str(uuid.uuid4())}
        first = a.post(CASES, json=body, headers=key)
        assert first.status_code == 201, first.text
        again = b.post(CASES, json=body, headers=key)
        assert again.status_code == 201, again.text
        assert again.headers.get("idempotent-replayed") == "true"
        assert again.json()["id"] == first.json()["id"]
        assert _count_named(a, name) == 1
        # At the same moment, on both: still one case (the loser waits its turn: 409, retry).
        for _ in range(5):
            name = "Idem" + uuid.uuid4().hex[:10].translate(
                str.maketrans("0123456789", "ghijklmnop")
            )
            body["beneficiary"] = {"first_name": "Yann", "last_name": name}
            key = {"Idempotency-Key": str(uuid.uuid4())}
            answers = _together([a, b], body, key)
            assert sorted(r.status_code for r in answers) in ([201, 201], [201, 409]), [
                (r.status_code, r.text[:200]) for r in answers
            ]
            ids = {r.json()["id"] for r in answers if r.status_code == 201}
            assert len(ids) == 1
            # The loser retries as told (Retry-After; the first answer may reach its client a
            # moment before the key is marked done): it gets the winner's case.
            retried = b.post(CASES, json=body, headers=key)
            deadline = time.monotonic() + 15
            while retried.status_code == 409 and time.monotonic() < deadline:
                time.sleep(0.2)
                retried = b.post(CASES, json=body, headers=key)
            assert retried.status_code == 201, retried.text
            assert retried.json()["id"] in ids
            assert _count_named(b, name) == 1
