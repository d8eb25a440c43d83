"""`CepPlugin`: the kit's routes, as a Litestar `InitPlugin` a host app can mount (DESIGN §6).

`create_app` assembles its own app with this same plugin, so a portal that embeds the kit
gets exactly the routes, validation and error format of the standalone app.
"""

from __future__ import annotations

from litestar import Router
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.plugins import InitPlugin

from cep_core.kit import Kit
from cep_core.web.api import API_PREFIX, api_router
from cep_core.web.audit import audit_middleware
from cep_core.web.auth import (
    HOST_AUTHENTICATORS,
    HostAuthenticator,
    check_tokens,
    provide_client,
)
from cep_core.web.errors import exception_handlers
from cep_core.web.idempotency import idempotency_middleware
from cep_core.web.openapi import use_strict_struct_schemas
from cep_core.web.pages import pages_router
from cep_core.web.pages.rendering import Pages
from cep_core.web.security import security_headers_hook

# SEC-05: the API takes small JSON documents; Litestar's default is 10 MB.
MAX_BODY_SIZE = 1024 * 1024
PLUGIN_ROUTES_PREFIX = "/plugins/"


class CepPlugin(InitPlugin):
    """Mount the kit's API (``/api/v1``) and its plugins' routes into a Litestar app.

    The kit reaches handlers as the ``kit`` dependency of the kit's own router: nothing is
    global, and a host may mount several kits side by side under different apps. The kit's
    error format, body limit and security headers apply to the kit's routes only, unless
    ``app_wide`` (what `create_app` does) extends the error format and headers to every
    response of the app, including 404 and 405 for unknown paths.

    A host application that already knows its users passes ``authenticate``: a function of
    the request that returns the `ApiClient` (operator, actor, role) the host vouches for, or
    None to fall back to the kit's bearer tokens. ``prefix`` mounts the kit's API under a
    path of the host (``/cep`` → ``/cep/api/v1/...``); the server-rendered pages use absolute
    links, so they are only available at the root (``prefix=""``).

    Raises `PluginLoadError` at construction when the kit refused plugins: a deployment with
    a broken plugin does not start half-working.
    """

    def __init__(
        self,
        kit: Kit,
        *,
        app_wide: bool = False,
        pages: bool = True,
        prefix: str = "",
        authenticate: HostAuthenticator | None = None,
    ) -> None:
        kit.check()
        check_tokens(kit)
        prefix = prefix.rstrip("/")
        if prefix and not prefix.startswith("/"):
            raise ValueError("CepPlugin: prefix must start with '/'")
        if prefix and pages:
            raise ValueError("CepPlugin: the pages need the root path; pass pages=False")
        self.kit = kit
        self.app_wide = app_wide
        self.prefix = prefix
        self.authenticate = authenticate
        self.pages = Pages(kit) if pages else None

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        kit = self.kit

        # A closure, not a bound method: Litestar deep-copies routers when registering them,
        # and a function is copied by reference, so every handler sees this very kit.
        def provide_kit() -> Kit:
            return kit

        router = Router(
            path=self.prefix or "/",
            route_handlers=[api_router(), *kit.hooks.register_routes()],
            dependencies={
                "kit": Provide(provide_kit, sync_to_thread=False),
                "client": Provide(provide_client),
            },
            exception_handlers=exception_handlers(),
            request_max_body_size=MAX_BODY_SIZE,
            # SEC-12 outermost, so a replayed answer is journaled too; then REL-10's
            # Idempotency-Key on the routes marked ``opt={"idempotent": True}``.
            middleware=[audit_middleware(kit), idempotency_middleware(kit)],
        )
        app_config.route_handlers.append(router)
        if self.authenticate is not None:
            authenticators = app_config.state.get(HOST_AUTHENTICATORS) or {}
            authenticators[id(kit)] = self.authenticate
            app_config.state[HOST_AUTHENTICATORS] = authenticators
        if self.pages is not None:
            page_routes = pages_router(kit, self.pages)
            page_routes.dependencies["kit"] = Provide(provide_kit, sync_to_thread=False)
            app_config.route_handlers.append(page_routes)
            app_config.state["cep_pages"] = self.pages
        use_strict_struct_schemas(app_config)
        if self.app_wide:
            app_config.exception_handlers = {
                **app_config.exception_handlers,
                **exception_handlers(),
            }
            app_config.before_send.append(security_headers_hook())
        else:
            app_config.before_send.append(
                security_headers_hook(
                    prefixes=(self.prefix + API_PREFIX, self.prefix + PLUGIN_ROUTES_PREFIX)
                )
            )
        return app_config
