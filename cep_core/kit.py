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

    from cep_core.services.accounts import AccountService
    from cep_core.services.audit import AuditJournal
    from cep_core.services.cases import CaseService
    from cep_core.services.download_links import DownloadLinkService
    from cep_core.services.funding import FundingService
    from cep_core.services.gdpr import GdprService
    from cep_core.services.idempotency import IdempotencyService
    from cep_core.services.indicators import IndicatorService
    from cep_core.services.notifications import NotificationService
    from cep_core.services.operator_settings import OperatorSettingsService
    from cep_core.services.pseudonymisation import Pseudonymiser
    from cep_core.services.ratelimit import RateLimiter
    from cep_core.services.reports import ReportService
    from cep_core.services.requests import RequestService
    from cep_core.services.retention import RetentionService
    from cep_core.services.surveys import SurveyService
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
    def notifications(self) -> NotificationService:
        from cep_core.services.notifications import NotificationService

        return NotificationService(self.database, settings=self.settings, clock=self.clock)

    @cached_property
    def requests(self) -> RequestService:
        from cep_core.services.requests import RequestService

        return RequestService(
            self.database,
            self.hooks,
            settings=self.settings,
            clock=self.clock,
            cases=self.cases,
            notifications=self.notifications,
        )

    @cached_property
    def operator_settings(self) -> OperatorSettingsService:
        from cep_core.services.operator_settings import OperatorSettingsService

        return OperatorSettingsService(self.database, self.hooks, clock=self.clock)

    @cached_property
    def download_links(self) -> DownloadLinkService:
        from cep_core.services.download_links import DownloadLinkService

        return DownloadLinkService(self.database, clock=self.clock)

    @cached_property
    def database(self) -> Database:
        from cep_core.storage.database import Database

        return Database(self.settings.effective_database_url)

    @cached_property
    def cases(self) -> CaseService:
        from cep_core.services.cases import CaseService

        return CaseService(self.database, self.hooks, clock=self.clock, funding=self.funding)

    @cached_property
    def audit(self) -> AuditJournal:
        """The audit journal (SEC-12): every access to a beneficiary's data, every sign-in."""
        from cep_core.services.audit import AuditJournal

        return AuditJournal(
            self.database,
            clock=self.clock,
            retention_months=self.settings.audit_retention_months,
        )

    @cached_property
    def idempotency(self) -> IdempotencyService:
        """Idempotency keys of the API's creating requests (REL-10), shared by instances."""
        from cep_core.services.idempotency import IdempotencyService

        return IdempotencyService(self.database, clock=self.clock)

    @cached_property
    def gdpr(self) -> GdprService:
        """Data-subject rights for one person: export, rectification, erasure (SEC-18)."""
        from cep_core.services.gdpr import GdprService

        return GdprService(self.database, self.hooks, clock=self.clock)

    @cached_property
    def retention(self) -> RetentionService:
        """The retention jobs ``cep purge`` runs (SEC-19, SEC-21)."""
        from cep_core.services.retention import RetentionService

        return RetentionService(self)

    @cached_property
    def limiter(self) -> RateLimiter:
        from cep_core.services.ratelimit import RateLimiter

        return RateLimiter(self.database, clock=self.clock)

    @cached_property
    def accounts(self) -> AccountService:
        from cep_core.services.accounts import AccountService

        return AccountService(self.database, self.settings, limiter=self.limiter, clock=self.clock)

    @cached_property
    def secret_key(self) -> bytes:
        """The key of CSRF tokens and keyed hashes (SEC-24).

        In development, when none is configured, a random key is created once in the data
        folder (readable by its owner only), so sessions survive a restart; production
        refuses to start without one (`Settings.startup_problems`).
        """
        if self.settings.secret_key:
            return self.settings.secret_key.encode()
        return self._key_file("secret_key")

    @cached_property
    def indicators(self) -> IndicatorService:
        from cep_core.services.indicators import IndicatorService

        return IndicatorService(self.database, self.hooks, clock=self.clock)

    @cached_property
    def surveys(self) -> SurveyService:
        from cep_core.services.surveys import SurveyService

        return SurveyService(self.database, self.hooks, settings=self.settings, clock=self.clock)

    @cached_property
    def reports(self) -> ReportService:
        """Pseudonymised statistical exports (SEC-20), recorded and audited."""
        from cep_core.services.reports import ReportService

        return ReportService(
            self.database,
            pseudonymiser=lambda: self.pseudonymiser,
            audit=lambda: self.audit,
            clock=self.clock,
        )

    @cached_property
    def pseudonymiser(self) -> Pseudonymiser:
        """Keyed hashes for statistical exports (SEC-20).

        The key is ``CEP_PSEUDONYMISATION_KEY`` (or ``…_FILE``), else a random key created
        once in the data folder: never the CSRF key, and never written into an export.
        """
        from cep_core.services.pseudonymisation import Pseudonymiser

        key = self.settings.pseudonymisation_key
        return Pseudonymiser(key.encode() if key else self._key_file("pseudonymisation_key"))

    def _key_file(self, name: str) -> bytes:
        import os
        import secrets

        path = self.settings.data_dir / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:  # O_EXCL: two processes starting together keep the first key
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(secrets.token_urlsafe(48))
        return path.read_text(encoding="utf-8").strip().encode()

    def close(self) -> None:
        if "audit" in self.__dict__:
            self.audit.close()
        if "accounts" in self.__dict__:
            self.accounts.close()
        if "limiter" in self.__dict__:
            self.limiter.close()
        if "database" in self.__dict__:
            self.database.dispose()
