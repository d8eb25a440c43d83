"""The marker plugins use to implement hooks: ``@hookimpl def cep_...``."""

import pluggy

hookimpl = pluggy.HookimplMarker("cep")
