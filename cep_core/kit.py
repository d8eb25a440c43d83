"""`Kit`: one configured instance of cep-kit (plugins, settings, storage, services).

Tests and portals build as many kits as they like, each with its own plugin manager; the CLI
and the web app build one from the environment. Nothing is shared between kits.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING

from cep_core.clock import Clock, system_clock, today_in_france
from cep_core.defaults import DEFAULT_PLUGINS
from cep_core.errors import PluginLoadError
from cep_core.plugins import Hooks, PluginRegistry
from cep_core.services.orientation import OrientationService
from cep_core.settings import Settings

if TYPE_CHECKING:
    from datetime import date

    from cep_core.services.cases import CaseService
    from cep_core.services.funding import FundingService
    from cep_core.services.syntheses import SynthesisService
    from cep_core.storage.database import Database


class Kit:
    """Plugins, settings and services for one deployment (or one test).

    ``plugins`` are registered first (modules or instances), then, unless
    ``load_entrypoints=False``, the installed plugins of the ``cep`` entry-point group,
    filtered by ``CEP_PLUGINS`` / ``CEP_DISABLED_PLUGINS``. Refused plugins are kept in
    ``kit.registry.refused``; `check()` raises when there are any.
    """

    def __init__(
        self,
        plugins: Iterable[object] = (),
        *,
        settings: Settings | None = None,
        load_entrypoints: bool | None = None,
        defaults: bool = True,
        clock: Clock = system_clock,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self.clock = clock
        self.registry = PluginRegistry(trace=self.settings.trace_hooks)
        self.registry.block(self.settings.disabled_plugins, "CEP_DISABLED_PLUGINS")
        if defaults:
            for default in DEFAULT_PLUGINS:
                self.registry.register(default, builtin=True)
        for plugin in plugins:
            self.registry.register(plugin)
        if self.settings.load_entrypoints if load_entrypoints is None else load_entrypoints:
            self.registry.load_entrypoints(allow=self.settings.plugins)
        self.registry.check_pending()
        self.hooks = Hooks(self.registry)
        self.orientation = OrientationService(self.hooks)
        self.hooks.startup(self)

    def today(self) -> date:
        return today_in_france(self.clock)

    def check(self) -> None:
        """Raise `PluginLoadError` naming every refused plugin (start-up refuses to go on)."""
        if self.registry.refused:
            raise PluginLoadError([(r.name, r.reason) for r in self.registry.refused])

    @cached_property
    def funding(self) -> FundingService:
        from cep_core.services.funding import FundingService

        return FundingService(self.hooks)

    @cached_property
    def syntheses(self) -> SynthesisService:
        from cep_core.services.syntheses import SynthesisService

        return SynthesisService(self.database, self.hooks, self.registry, clock=self.clock)

    @cached_property
    def database(self) -> Database:
        from cep_core.storage.database import Database

        return Database(self.settings.effective_database_url)

    @cached_property
    def cases(self) -> CaseService:
        from cep_core.services.cases import CaseService

        return CaseService(self.database, self.hooks, clock=self.clock, funding=self.funding)

    def close(self) -> None:
        if "database" in self.__dict__:
            self.database.dispose()
