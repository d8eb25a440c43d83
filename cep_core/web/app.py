"""`create_app`: the standalone web app of one kit.

Nothing is global: the kit lives in ``app.state.kit`` and reaches handlers as a dependency.
``debug`` comes from the argument only — Litestar would otherwise read ``LITESTAR_DEBUG`` from
the environment and answer errors with tracebacks (SEC-13).
"""

from __future__ import annotations

import logging

from litestar import Litestar
from litestar.datastructures import State

from cep_core.kit import Kit
from cep_core.settings import Settings, SettingsError
from cep_core.web.auth import staff_or_token_guard
from cep_core.web.openapi import openapi_config
from cep_core.web.plugin import MAX_BODY_SIZE, CepPlugin

log = logging.getLogger("cep_core.web")


def create_app(
    kit: Kit | None = None, *, settings: Settings | None = None, debug: bool = False
) -> Litestar:
    """Build the ASGI app for `kit`, or for a kit built from `settings` (default: environment).

    Refuses to build (`PluginLoadError`, naming each plugin) when the kit refused plugins, and
    (`SettingsError`) a production profile with a debug flag, a missing or weak secret, or
    development-only mail and hashing (SEC-13, SEC-24), and (`DatabaseNotDurable`) a database
    that may lose acknowledged writes, such as PostgreSQL with ``fsync=off`` (REL-08). The
    OpenAPI document follows ``CEP_OPENAPI``: served, absent, or for signed-in staff and token
    holders (SEC-14).
    A kit built here is closed when the app shuts down; a kit passed in stays the caller's.
    """
    if kit is not None and settings is not None:
        raise TypeError("create_app: pass a kit or settings, not both")
    owned = kit is None
    kit = Kit(settings=settings) if kit is None else kit
    try:
        kit.check()
        debug = debug or kit.settings.debug
        problems = kit.settings.startup_problems()
        if debug and kit.settings.production and not problems:
            problems = ["le mode débogage est interdit avec CEP_PROFILE=production"]
        if problems:
            raise SettingsError("configuration refusée : " + " ; ".join(problems))
        # REL-08: a database that may lose acknowledged writes is refused (DatabaseNotDurable).
        kit.database.ensure_durable(allow_non_durable=kit.settings.allow_non_durable_database)
        mode = kit.settings.openapi_mode
        app = Litestar(
            plugins=[CepPlugin(kit, app_wide=True)],
            openapi_config=None
            if mode == "off"
            else openapi_config(guards=[staff_or_token_guard] if mode == "staff" else ()),
            state=State({"kit": kit}),
            on_shutdown=[kit.close] if owned else [],
            request_max_body_size=MAX_BODY_SIZE,
            debug=debug,
            pdb_on_exception=False,
            # Litestar's default logging config reconfigures the root logger at start-up; the
            # kit logs through the standard `logging` module and leaves that to the process.
            logging_config=None,
        )
    except BaseException:
        if owned:
            kit.close()
        raise
    if debug:
        log.warning("cep-kit web app built with debug=True: errors will show tracebacks")
    return app
