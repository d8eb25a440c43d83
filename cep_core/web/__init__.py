"""The kit on the web (Litestar): `create_app` for a standalone app, `CepPlugin` to embed.

Only this package imports Litestar, so ``import cep_core`` stays light.
"""

from __future__ import annotations

from cep_core.web.app import create_app
from cep_core.web.plugin import CepPlugin

__all__ = ["CepPlugin", "create_app"]
