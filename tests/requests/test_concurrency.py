"""Two counsellors accepting the same request at the same instant: exactly one case."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from request_helpers import submit

from cep_core.domain.requests import DeclineInput, DeclineReason, RequestStatus
from cep_core.kit import Kit
from cep_core.services.requests import AcceptedRequest, RequestConflict


def race(kit: Kit, request_id: str, actors: list[str]) -> list[Any]:
    """Every actor accepts at once (a barrier releases the threads together)."""
    barrier = threading.Barrier(len(actors))
    results: list[Any] = [None] * len(actors)

    def accept(index: int, actor: str) -> None:
        barrier.wait()
        try:
            results[index] = kit.requests.accept("apec", request_id, actor=actor)
        except Exception as exc:
            results[index] = exc

    threads = [
        threading.Thread(target=accept, args=(index, actor)) for index, actor in enumerate(actors)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.parametrize("counsellors", [2, 4])
def test_concurrent_acceptances_open_exactly_one_case(db_kit: Kit, counsellors: int) -> None:
    for round_ in range(3):
        request = submit(db_kit, email=f"personne{round_}@exemple.fr")
        results = race(db_kit, request.id, [f"c-{n}" for n in range(counsellors)])

        won = [result for result in results if isinstance(result, AcceptedRequest)]
        lost = [result for result in results if isinstance(result, RequestConflict)]
        assert len(won) == 1, results
        assert len(lost) == counsellors - 1, results
        stored = db_kit.requests.get("apec", request.id)
        assert stored.status is RequestStatus.ACCEPTED
        assert stored.case_id == won[0].case.id
    cases = db_kit.cases.list_cases("apec", limit=200).items
    assert len(cases) == 3


def together(*calls: Callable[[], Any]) -> list[Any]:
    """Run `calls` in threads released at once; each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_a_decline_racing_an_acceptance_leaves_one_decision(db_kit: Kit) -> None:
    for round_ in range(3):
        request = submit(db_kit, email=f"course{round_}@exemple.fr")
        accepted, declined = together(
            partial(db_kit.requests.accept, "apec", request.id, actor="c-1"),
            partial(
                db_kit.requests.decline,
                "apec",
                request.id,
                DeclineInput(reason=DeclineReason.DUPLICATE),
                actor="c-2",
            ),
        )
        won_accept = isinstance(accepted, AcceptedRequest)
        won_decline = not isinstance(declined, Exception)
        assert won_accept != won_decline, (accepted, declined)  # exactly one decision won
        assert isinstance(accepted if won_decline else declined, RequestConflict)
        stored = db_kit.requests.get("apec", request.id)
        assert stored.status is (RequestStatus.ACCEPTED if won_accept else RequestStatus.DECLINED)
        assert (stored.case_id is not None) == won_accept
