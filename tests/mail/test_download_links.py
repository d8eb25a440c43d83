"""Single-use download links, on SQLite and PostgreSQL: one use, expiry, unknown secrets,
tenant checks at creation, the grant's content, peeking, rollback and racing clicks."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from cep_core.kit import Kit
from cep_core.services.download_links import DownloadGrant, LinkState
from cep_core.services.syntheses import SynthesisNotFound
from cep_core.storage.ids import new_id
from cep_core.storage.tables import download_links

from .conftest import FakeClock, KitBuilder, store_synthesis

TTL = timedelta(days=7)


@pytest.fixture
def kit(make_kit: KitBuilder) -> Kit:
    return make_kit()


def new_link(kit: Kit, operator: str = "apec", ttl: timedelta = TTL) -> tuple[str, str, str]:
    case_id, synthesis_id = store_synthesis(kit, operator)
    with kit.database.write() as conn:
        secret = kit.download_links.create(
            conn, operator=operator, case_id=case_id, synthesis_id=synthesis_id, ttl=ttl
        )
    return secret, case_id, synthesis_id


def test_a_link_serves_once_and_says_what_it_grants(kit: Kit, clock: FakeClock) -> None:
    secret, case_id, synthesis_id = new_link(kit)
    assert len(secret) == 43  # 256 bits, URL-safe base64
    assert kit.download_links.consume(secret + "\n") is None  # exactly the secret, or nothing
    grant = kit.download_links.consume(secret)
    assert grant is not None
    with kit.database.read() as conn:
        link_id = conn.execute(select(download_links.c.id)).scalar_one()
    assert grant == DownloadGrant(
        link_id=link_id,
        operator="apec",
        case_id=case_id,
        synthesis_id=synthesis_id,
        expires_at=clock.now + TTL,
        used_at=clock.now,
    )
    assert kit.download_links.consume(secret) is None  # second use
    clock.advance(seconds=1)
    assert kit.download_links.consume(secret) is None


def test_the_secret_itself_is_never_stored(kit: Kit) -> None:
    secret, _, _ = new_link(kit)
    with kit.database.read() as conn:
        [row] = conn.execute(select(download_links))
    assert secret not in tuple(str(value) for value in row)
    assert row.digest == hashlib.sha256(secret.encode()).hexdigest()


def test_an_expired_link_serves_nothing(kit: Kit, clock: FakeClock) -> None:
    secret, _, _ = new_link(kit, ttl=timedelta(hours=48))
    clock.advance(hours=47, minutes=59)
    status = kit.download_links.peek(secret)
    assert status is not None and status.state is LinkState.VALID
    clock.advance(minutes=1)  # exactly at expiry: over
    status = kit.download_links.peek(secret)
    assert status is not None and status.state is LinkState.EXPIRED
    assert kit.download_links.consume(secret) is None


@pytest.mark.parametrize(
    "secret",
    ["", "x", "a" * 43, "A" * 42 + "!", "../" * 20, "é" * 43, "a" * 10_000, "a" * 43 + "\n"],
)
def test_unknown_or_malformed_secrets_give_nothing(kit: Kit, secret: str) -> None:
    new_link(kit)
    assert kit.download_links.consume(secret) is None
    assert kit.download_links.peek(secret) is None


def test_peek_does_not_spend_the_link(kit: Kit, clock: FakeClock) -> None:
    secret, case_id, synthesis_id = new_link(kit)
    for _ in range(3):  # a mail scanner fetching the page again and again
        status = kit.download_links.peek(secret)
        assert status is not None
        assert status.state is LinkState.VALID
        assert (status.operator, status.case_id, status.synthesis_id) == (
            "apec",
            case_id,
            synthesis_id,
        )
    assert kit.download_links.consume(secret) is not None
    status = kit.download_links.peek(secret)
    assert status is not None and status.state is LinkState.USED
    assert status.used_at == clock.now
    clock.advance(days=30)
    status = kit.download_links.peek(secret)
    assert status is not None and status.state is LinkState.USED  # used wins over expired


def test_a_link_to_another_operators_synthesis_cannot_be_made(kit: Kit) -> None:
    case_id, synthesis_id = store_synthesis(kit, "apec")
    other_case, _ = store_synthesis(kit, "apec")
    for operator, case, synthesis in (
        ("cap_emploi", case_id, synthesis_id),  # another operator: "not found"
        ("apec", other_case, synthesis_id),  # the synthesis of another case
        ("apec", case_id, new_id()),  # no such synthesis
        ("apec", case_id, "pas-un-identifiant"),
    ):
        with pytest.raises(SynthesisNotFound), kit.database.write() as conn:
            kit.download_links.create(
                conn, operator=operator, case_id=case, synthesis_id=synthesis, ttl=TTL
            )
    with kit.database.read() as conn:
        assert list(conn.execute(select(download_links))) == []


def test_grants_carry_their_own_operator(kit: Kit) -> None:
    """Consuming is by secret only: the web layer checks the grant's operator."""
    apec_secret, apec_case, _ = new_link(kit, "apec")
    cap_secret, cap_case, _ = new_link(kit, "cap_emploi")
    apec_grant = kit.download_links.consume(apec_secret)
    cap_grant = kit.download_links.consume(cap_secret)
    assert apec_grant is not None and cap_grant is not None
    assert (apec_grant.operator, apec_grant.case_id) == ("apec", apec_case)
    assert (cap_grant.operator, cap_grant.case_id) == ("cap_emploi", cap_case)


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(seconds=-1), timedelta(days=31)])
def test_lifetimes_are_bounded(kit: Kit, ttl: timedelta) -> None:
    case_id, synthesis_id = store_synthesis(kit, "apec")
    with pytest.raises(ValueError, match="30 jours"), kit.database.write() as conn:
        kit.download_links.create(
            conn, operator="apec", case_id=case_id, synthesis_id=synthesis_id, ttl=ttl
        )


def test_a_link_created_in_a_rolled_back_transaction_does_not_exist(kit: Kit) -> None:
    case_id, synthesis_id = store_synthesis(kit, "apec")

    class Boom(Exception):
        pass

    secrets: list[str] = []

    def change_that_fails() -> None:
        with kit.database.write() as conn:
            secrets.append(
                kit.download_links.create(
                    conn, operator="apec", case_id=case_id, synthesis_id=synthesis_id, ttl=TTL
                )
            )
            raise Boom

    with pytest.raises(Boom):
        change_that_fails()
    [secret] = secrets
    assert kit.download_links.peek(secret) is None
    assert kit.download_links.consume(secret) is None


def test_racing_clicks_get_one_grant(make_kit: KitBuilder) -> None:
    kits = [make_kit() for _ in range(4)]  # four engines, like four app workers
    secret, _, _ = new_link(kits[0])
    barrier = threading.Barrier(len(kits))
    grants: list[DownloadGrant | None] = []
    errors: list[BaseException] = []

    def click(kit: Kit) -> None:
        try:
            barrier.wait(timeout=10)
            grants.append(kit.download_links.consume(secret))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=click, args=(kit,)) for kit in kits]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(grants) == 4
    assert sum(grant is not None for grant in grants) == 1


def test_links_go_with_their_synthesis(kit: Kit) -> None:
    from cep_core.storage.tables import syntheses

    secret, _, synthesis_id = new_link(kit)
    with kit.database.write() as conn:
        conn.execute(syntheses.delete().where(syntheses.c.id == synthesis_id))
    assert kit.download_links.peek(secret) is None
