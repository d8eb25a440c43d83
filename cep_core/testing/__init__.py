"""Testing tools for plugin authors: the conformance suite and a pytest plugin.

- `check_operator_plugin` checks an operator plugin the way the kit uses it (see
  `cep_core.testing.conformance`); every bundled plugin runs it in its tests.
- `minimal_answers` / `core_answers` fill any form without knowing it.
- The pytest plugin `cep_core.testing.plugin` (entry point ``pytest11``) gives fixtures: a
  `Kit` and an app with chosen plugins, an async client, `register_plugin`. See
  docs/plugins.md.

Importing this package imports neither pytest nor the web framework.
"""

from __future__ import annotations

from cep_core.testing.answers import NoMinimalAnswer, core_answers, minimal_answers
from cep_core.testing.conformance import (
    CHECKS,
    CheckResult,
    ConformanceError,
    ConformanceReport,
    check_operator_plugin,
    describe,
    funding_situation,
    sample_projects,
    situation_grid,
)

__all__ = [
    "CHECKS",
    "CheckResult",
    "ConformanceError",
    "ConformanceReport",
    "NoMinimalAnswer",
    "check_operator_plugin",
    "core_answers",
    "describe",
    "funding_situation",
    "minimal_answers",
    "sample_projects",
    "situation_grid",
]
