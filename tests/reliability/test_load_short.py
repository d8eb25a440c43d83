"""The short form of the load test (REL-05): ``bench/load.py`` for 10 s on SQLite.

10 counsellors, each with its token and cases, read and write through ``cep serve`` (locust,
80 % reads / 20 % writes with ``If-Match``). Asserted: no error at all (no 5xx, no 412 from
a lost ETag, no 429, no transport error) and that both kinds of request were really made.
Timings are not asserted here (the machine running the tests is shared); the full run,
``uv run --group bench python bench/load.py``, checks the p95 thresholds.

About 25 s: seeding, server start-up and locust's own start-up come on top of the 10 s.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ten_counsellors_for_ten_seconds_make_no_error() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "load.py"),
            "--backend",
            "sqlite",
            "--users",
            "10",
            "--seconds",
            "10",
            "--no-docs",
            "--errors-only",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(done.stdout)["backends"]["sqlite"]
    assert result["errors"] == 0, result["error_samples"]
    assert result["breaches"] == []
    # Both kinds of request happened, in about the intended mix (20 % writes, plus the
    # reads that come before a case's first write).
    assert result["read"]["requests"] >= 30
    assert result["write"]["requests"] >= 5
    assert 0.05 <= result["write_share"] <= 0.4
