"""Junk never makes the API fail: any body gets 200, 400 or 413, in the documented shapes."""

from __future__ import annotations

import json
from datetime import date
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from cep_core.web import create_app

URL = "/api/v1/orientation"
FIELDS = [
    "birth_date",
    "as_of",
    "status",
    "cadre",
    "registered_jobseeker",
    "disability_recognition",
    "working",
    "seeking_job",
    "region",
]
STATUSES = [
    "employee",
    "public_agent",
    "self_employed",
    "jobseeker",
    "apprentice",
    "student",
    "retired",
    "inactive",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
iso_dates = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat)
field_values = (
    json_values | iso_dates | st.sampled_from(STATUSES) | st.text(alphabet="0123456789", max_size=4)
)
# Objects built from the real field names reach deeper than random keys do, and some are
# valid, so the 200 path is fuzzed too.
plausible_bodies = st.fixed_dictionaries(
    {"birth_date": iso_dates, "status": st.sampled_from(STATUSES)},
    optional={name: field_values for name in FIELDS if name not in {"birth_date", "status"}},
)
bodies = json_values | plausible_bodies | st.dictionaries(st.sampled_from(FIELDS), field_values)


def check_shape(response: Any) -> None:
    assert response.status_code in {200, 400, 413}, response.text
    payload = response.json()
    if response.status_code == 200:
        assert set(payload) == {"eligible", "reasons", "operators", "redirect"}
    else:
        assert response.headers["content-type"] == "application/problem+json"
        assert set(payload) == {"status", "title", "detail", "errors"}
        assert payload["status"] == response.status_code
        if response.status_code == 400:
            assert payload["errors"]
            assert all(isinstance(e["path"], str) for e in payload["errors"])


def test_random_json_never_fails(make_kit: Any, fakes: SimpleNamespace) -> None:
    app = create_app(make_kit(*fakes.defaults()))
    seen: set[int] = set()

    with TestClient(app) as client:

        @settings(
            max_examples=300,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(body=bodies)
        def post_json(body: Any) -> None:
            response = client.post(URL, content=json.dumps(body).encode())
            check_shape(response)
            seen.add(response.status_code)

        post_json()

    assert {200, 400} <= seen


def test_random_bytes_never_fail(make_kit: Any, fakes: SimpleNamespace) -> None:
    app = create_app(make_kit(*fakes.defaults()))

    with TestClient(app) as client:

        @settings(max_examples=150, deadline=None)
        @given(content=st.binary(max_size=200))
        def post_bytes(content: bytes) -> None:
            check_shape(client.post(URL, content=content))

        post_bytes()
