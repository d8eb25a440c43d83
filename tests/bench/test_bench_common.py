"""The helpers every benchmark script relies on (``bench/common.py``): how a script's section
of ``docs/benchmarks.md`` is rewritten in place, the options they share, how a run is quoted,
the percentile. The benchmarks themselves are too long for the tests; these are not."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _common() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cep_bench_common", ROOT / "bench" / "common.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


common = _common()

DOCS = """# Benchmarks

Intro.

## Start-up (`bench/startup.py`)

old start-up text

## Load (`bench/load.py`)

load text
"""


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "benchmarks.md"
    path.write_text(DOCS, encoding="utf-8")
    monkeypatch.setattr(common, "DOCS", path)
    return path


def test_a_section_is_replaced_in_place_and_the_others_are_kept(docs: Path) -> None:
    common.write_section("startup.py", "## Start-up (`bench/startup.py`)\n\nnew\n\nlines\n")
    assert docs.read_text(encoding="utf-8") == DOCS.replace("old start-up text\n", "new\n\nlines\n")


def test_the_last_section_is_replaced_up_to_the_end(docs: Path) -> None:
    common.write_section("load.py", "## Load (`bench/load.py`)\n\nnew load\n")
    assert docs.read_text(encoding="utf-8") == DOCS.replace("load text\n", "new load\n")


def test_a_new_section_is_appended_after_a_blank_line(docs: Path) -> None:
    common.write_section("memory.py", "## Memory (`bench/memory.py`)\n\nfigures\n")
    assert docs.read_text(encoding="utf-8") == DOCS + (
        "\n## Memory (`bench/memory.py`)\n\nfigures\n"
    )


@pytest.mark.parametrize(
    "markdown",
    [
        "# Start-up (`bench/startup.py`)\n",  # not a level-2 heading
        "## Start-up\n\n(`bench/startup.py`)\n",  # the script named below the heading
        "## Load (`bench/load.py`)\n",  # another script's heading
    ],
)
def test_a_section_without_its_heading_is_refused_and_nothing_written(
    docs: Path, markdown: str
) -> None:
    with pytest.raises(ValueError, match=r"bench/startup\.py"):
        common.write_section("startup.py", markdown)
    assert docs.read_text(encoding="utf-8") == DOCS


def test_the_shared_options_and_how_a_run_is_quoted() -> None:
    parser = common.arguments("Title.\n\nDetails.", quick="fewer runs")
    parser.add_argument("--users", type=int, default=5)
    assert parser.description == "Title."
    args = parser.parse_args(["--quick", "--json", "--users", "3"])
    assert (args.quick, args.no_docs, args.json, args.users) == (True, False, True, 3)
    defaults = parser.parse_args([])
    assert (defaults.quick, defaults.no_docs, defaults.json) == (False, False, False)
    assert common.command_line("load.py", ["--quick", "--no-docs"]) == (
        "bench/load.py --quick --no-docs"
    )
    assert common.command_line("load.py", []) == "bench/load.py"


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert common.percentile(values, 50) == 50.0
    assert common.percentile(values, 99) == 99.0
    assert common.percentile(values, 100) == 100.0
    assert common.percentile(values, 0) == 1.0
    assert common.percentile([7.0], 99) == 7.0
    assert common.percentile([3.0, 1.0, 2.0], 50) == 2.0  # unsorted input
    # Every rank of 1..100 is its own value (no half rounded to even, no float drift).
    assert [common.percentile(values, p) for p in range(1, 101)] == values
    assert common.percentile([float(v) for v in range(1, 21)], 95) == 19.0
