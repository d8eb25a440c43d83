"""Accounts, sessions, tokens and sign-in throttling on SQLite and PostgreSQL (SEC-06/07/15)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cep_core.domain.accounts import password_problems
from cep_core.domain.context import Role
from cep_core.kit import Kit
from cep_core.services.accounts import SIGN_IN_LIMIT, AccountError, SignInRefused, digest
from cep_core.settings import Settings

PASSWORD = "une phrase de passe solide"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def kit(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[Kit]:
    kit = Kit(
        settings=Settings(data_dir=tmp_path, database_url=database_url, hash_profile="fast"),
        load_entrypoints=True,
        clock=clock,
    )
    kit.database.upgrade()
    yield kit
    kit.close()


def counsellor(kit: Kit, email: str = "claire@apec.example", operator: str = "apec"):  # type: ignore[no-untyped-def]
    return kit.accounts.create_user(
        email=email,
        display_name="Claire Martin",
        role=Role.COUNSELLOR,
        operator=operator,
        password=PASSWORD,
    )


def test_password_rules_follow_cnil_without_composition_rules() -> None:
    assert password_problems("courte") != []
    assert password_problems("a" * 129) != []
    assert password_problems("qwerty123456") != []  # too common, though long enough
    assert password_problems("AZERTYUIOP123") != []  # the check ignores case
    assert password_problems("aaaaaaaaaaaaaaa") != []  # too few distinct characters
    assert password_problems("claire.martin@apec.example", email="claire.martin@apec.example")
    assert password_problems("le chat dort sur le radiateur") == []  # no digit, no symbol: fine
    assert password_problems("é" * 3 + "mot de passe long") == []


def test_accounts_are_created_with_argon2_and_unique_email(kit: Kit) -> None:
    user = counsellor(kit)
    with kit.database.read() as conn:
        stored = conn.exec_driver_sql(
            "SELECT password_hash FROM staff_users WHERE id = ?"
            if kit.database.dialect == "sqlite"
            else "SELECT password_hash FROM staff_users WHERE id = %s",
            (user.id,),
        ).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    with pytest.raises(AccountError, match="existe déjà"):
        counsellor(kit, email=" Claire@APEC.example ")
    with pytest.raises(AccountError, match="opérateur"):
        kit.accounts.create_user(
            email="x@y.fr", display_name="X", role=Role.COUNSELLOR, operator=None, password=PASSWORD
        )
    with pytest.raises(AccountError, match="12 caractères"):
        kit.accounts.create_user(
            email="x@y.fr", display_name="X", role=Role.MANAGER, operator="apec", password="court"
        )
    admin = kit.accounts.create_user(
        email="admin@x.fr",
        display_name="Admin",
        role=Role.ADMIN,
        operator="apec",
        password=PASSWORD,
    )
    assert admin.operator is None  # admins belong to no operator


def test_authenticate_says_the_same_for_unknown_account_and_wrong_password(kit: Kit) -> None:
    user = counsellor(kit)
    assert (
        kit.accounts.authenticate("CLAIRE@apec.example", PASSWORD, client_ip="10.0.0.1").id
        == user.id
    )
    with pytest.raises(SignInRefused) as wrong:
        kit.accounts.authenticate(user.email, "mauvais mot de passe", client_ip="10.0.0.1")
    with pytest.raises(SignInRefused) as unknown:
        kit.accounts.authenticate("personne@apec.example", PASSWORD, client_ip="10.0.0.1")
    assert str(wrong.value) == str(unknown.value)
    kit.accounts.set_active(user.id, False)
    with pytest.raises(SignInRefused):
        kit.accounts.authenticate(user.email, PASSWORD, client_ip="10.0.0.1")


def test_sign_in_is_throttled_per_account_and_per_address(kit: Kit, clock: Clock) -> None:
    user = counsellor(kit)
    for attempt in range(SIGN_IN_LIMIT):
        with pytest.raises(SignInRefused) as refused:
            kit.accounts.authenticate(user.email, "faux", client_ip=f"10.0.0.{attempt}")
        assert refused.value.throttle is None
    # The account is now locked for the window, whatever the address and even with the
    # right password; the answer says when to retry.
    with pytest.raises(SignInRefused) as locked:
        kit.accounts.authenticate(user.email, PASSWORD, client_ip="10.9.9.9")
    assert locked.value.throttle is not None
    assert 1 <= locked.value.throttle.reset_after <= 60
    assert locked.value.throttle.headers()["Retry-After"]
    clock.advance(seconds=61)
    assert kit.accounts.authenticate(user.email, PASSWORD, client_ip="10.9.9.9").id == user.id

    # Per address: one address trying many accounts is stopped too.
    for number in range(SIGN_IN_LIMIT):
        with pytest.raises(SignInRefused):
            kit.accounts.authenticate(f"u{number}@x.fr", "faux", client_ip="192.0.2.7")
    with pytest.raises(SignInRefused) as by_address:
        kit.accounts.authenticate(user.email, PASSWORD, client_ip="192.0.2.7")
    assert by_address.value.throttle is not None


def test_throttle_counts_are_shared_and_exact_under_concurrency(kit: Kit) -> None:
    results: list[bool] = []
    lock = threading.Lock()

    def hit() -> None:
        decision = kit.limiter.hit("concurrent", limit=10, window=60)
        with lock:
            results.append(decision.allowed)

    threads = [threading.Thread(target=hit) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 10
    assert results.count(False) == 6


def test_sessions_end_on_idle_timeout_absolute_lifetime_and_sign_out(
    kit: Kit, clock: Clock
) -> None:
    user = counsellor(kit)
    secret, session = kit.accounts.open_session(user)
    assert len(secret) >= 43  # 256 bits, URL-safe
    assert session.id == digest(secret)  # only the digest is stored
    assert kit.accounts.resolve_session(secret) is not None

    # Activity keeps it alive up to the absolute lifetime (10 h by default).
    for _ in range(19):
        clock.advance(minutes=29)
        assert kit.accounts.resolve_session(secret) is not None, clock.now
    clock.advance(minutes=29)  # 20 × 29 min = 9 h 40 min
    assert kit.accounts.resolve_session(secret) is not None
    clock.advance(minutes=21)  # past 10 h
    assert kit.accounts.resolve_session(secret) is None

    other, _ = kit.accounts.open_session(user)
    clock.advance(minutes=31)  # idle
    assert kit.accounts.resolve_session(other) is None

    third, _ = kit.accounts.open_session(user)
    kit.accounts.end_session(third)
    assert kit.accounts.resolve_session(third) is None
    assert kit.accounts.resolve_session("forged-" + third) is None


def test_disabling_or_new_password_ends_every_session(kit: Kit) -> None:
    user = counsellor(kit)
    first, _ = kit.accounts.open_session(user)
    second, _ = kit.accounts.open_session(user)
    assert first != second  # a new id at every sign-in
    kit.accounts.set_active(user.id, False)
    assert kit.accounts.resolve_session(first) is None
    assert kit.accounts.resolve_session(second) is None
    kit.accounts.set_active(user.id, True)
    third, _ = kit.accounts.open_session(user)
    kit.accounts.set_password(user.id, "une autre phrase de passe")
    assert kit.accounts.resolve_session(third) is None


def test_tokens_resolve_until_revoked_or_expired_and_stay_in_their_operator(
    kit: Kit, clock: Clock
) -> None:
    user = counsellor(kit)
    other = counsellor(kit, email="marc@mission.example", operator="mission_locale")
    secret, token = kit.accounts.create_token(user, name="Export", valid_days=30)
    assert secret.startswith("cep_") and token.hint == secret[-4:]
    with kit.database.read() as conn:
        rows = conn.exec_driver_sql("SELECT digest FROM access_tokens").scalars().all()
    assert secret not in rows and digest(secret) in rows
    resolved = kit.accounts.resolve_token(secret)
    assert resolved is not None and resolved[0].id == user.id
    # Another operator's manager cannot see or revoke it.
    assert kit.accounts.get_token(token.id, operator=other.operator) is None
    assert kit.accounts.revoke_token(token.id, operator=other.operator) is None
    assert kit.accounts.resolve_token(secret) is not None
    clock.advance(days=31)
    assert kit.accounts.resolve_token(secret) is None
    clock.advance(days=-31)
    kit.accounts.revoke_token(token.id, operator="apec")
    assert kit.accounts.resolve_token(secret) is None
    second, _ = kit.accounts.create_token(user, name="Autre", valid_days=None)
    kit.accounts.set_active(user.id, False)
    assert kit.accounts.resolve_token(second) is None
    with pytest.raises(AccountError):
        kit.accounts.create_token(user, name="", valid_days=30)


def test_a_revocation_elsewhere_applies_within_the_token_cache_delay(
    kit: Kit, clock: Clock
) -> None:
    """Another instance (or the CLI) revokes: this process keeps the resolved token at most
    `TOKEN_CACHE_SECONDS`; a revocation or a disabled account in this process applies at once."""
    from cep_core.services.accounts import TOKEN_CACHE_SECONDS, AccountService

    user = counsellor(kit)
    secret, token = kit.accounts.create_token(user, name="Robot", valid_days=30)
    assert kit.accounts.known_token(secret) is None  # never resolved: the database is asked
    assert kit.accounts.resolve_token(secret) is not None
    found = kit.accounts.known_token(secret)
    assert found is not None and found[0].id == user.id  # now without I/O
    elsewhere = AccountService(kit.database, kit.settings, limiter=kit.limiter, clock=clock)
    elsewhere.revoke_token(token.id, operator="apec")
    assert elsewhere.resolve_token(secret) is None
    clock.advance(seconds=TOKEN_CACHE_SECONDS - 1)
    assert kit.accounts.resolve_token(secret) is not None  # the documented lag
    clock.advance(seconds=1)
    assert kit.accounts.known_token(secret) is None
    assert kit.accounts.resolve_token(secret) is None
    # In this process: at once.
    second, _ = kit.accounts.create_token(user, name="Autre", valid_days=30)
    assert kit.accounts.resolve_token(second) is not None
    kit.accounts.set_active(user.id, False)
    assert kit.accounts.known_token(second) is None
    assert kit.accounts.resolve_token(second) is None


def test_last_use_is_written_later_and_at_most_once_a_minute(kit: Kit, clock: Clock) -> None:
    user = counsellor(kit)
    secret, token = kit.accounts.create_token(user, name="Robot", valid_days=30)

    def stored() -> datetime | None:
        found = kit.accounts.get_token(token.id, operator="apec")
        assert found is not None
        return found.last_used_at

    kit.accounts.resolve_token(secret)
    assert stored() is None  # the request did not wait for a commit
    kit.accounts.close()  # what the kit does on shutdown (and a timer within a second)
    assert stored() == clock.now
    first = clock.now
    clock.advance(seconds=30)
    kit.accounts.resolve_token(secret)
    kit.accounts.close()
    assert stored() == first
    clock.advance(seconds=31)
    kit.accounts.resolve_token(secret)
    kit.accounts.close()
    assert stored() == clock.now


def test_demo_accounts_are_idempotent_and_get_demo_cases(tmp_path: Path) -> None:
    from cep_core.services.demo import DEMO_PASSWORD, seed_demo, seed_demo_accounts

    kit = Kit(settings=Settings(data_dir=tmp_path, hash_profile="fast"), load_entrypoints=True)
    kit.database.upgrade()
    created = seed_demo_accounts(kit)
    assert len(created) == 1 + 2 * len(kit.hooks.operators())
    assert seed_demo_accounts(kit) == []
    counsellor = kit.accounts.find_user("conseiller.apec@demo.cep-kit.fr")
    assert counsellor is not None and counsellor.operator == "apec"
    assert kit.accounts.authenticate(counsellor.email, DEMO_PASSWORD, client_ip="127.0.0.1")
    seed_demo(kit, per_operator=4, counsellors={"apec": [counsellor.id]})
    page = kit.cases.list_cases("apec", limit=50)
    assigned = {case.counsellor_id for case in page.items}
    assert assigned <= {counsellor.id, None} and counsellor.id in assigned
    kit.close()
