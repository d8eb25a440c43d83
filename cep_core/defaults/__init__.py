"""Built-in behaviour, written as ordinary plugins (``trylast``) so any plugin can override it."""

from __future__ import annotations

from cep_core.defaults import funding, orientation, renderer, reporting, steps, synthesis

DEFAULT_PLUGINS = (orientation, steps, funding, synthesis, renderer, reporting)
