"""The pytest plugin for plugin authors (entry point ``pytest11``: ``cep_core``).

Installing cep-core makes these fixtures available to every test suite; none is used unless
a test asks for it, and loading the plugin imports neither the web framework nor a database.

- ``cep_plugins``: the plugins `cep_kit` is built with; override it in your ``conftest.py``
  (default: none, only the core's default plugins).
- ``cep_settings``: settings for a throw-away deployment (data folder in ``tmp_path``, SQLite,
  entry points off); override it to change a setting.
- ``cep_clock``: the clock kits are built with (default: the system clock); override it with
  a function returning a fixed, timezone-aware ``datetime`` to travel in time.
- ``make_cep_kit(*plugins, settings=None, clock=None, defaults=True)``: a `Kit` with exactly
  these plugins and entry-point loading off, its database migrated; closed after the test.
  Refused plugins stay in ``kit.registry.refused``, so a test can check the refusal.
- ``cep_kit``: ``make_cep_kit(*cep_plugins)``, refusing to start if a plugin is refused.
- ``cep_app``: the Litestar app of ``cep_kit`` (``create_app``).
- ``cep_client``: an async HTTP client on ``cep_app`` (``litestar.testing.AsyncTestClient``),
  for tests marked ``@pytest.mark.anyio``.
- ``register_plugin(plugin, kit=None)``: registers a plugin into ``cep_kit`` (or `kit`) for
  one test and unregisters it afterwards; a refused plugin raises `PluginLoadError` with the
  reason, and leaves nothing behind.
- ``cep_operator``: the operator `signed_in_counsellor` works for (default: the first
  operator of `cep_kit`); override it to choose.
- ``signed_in_counsellor``: a counsellor account of `cep_operator` with a personal access
  token (``.headers`` for API calls) and an open browser session (``.cookies`` for pages).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from cep_core._version import __version__
from cep_core.clock import Clock, system_clock
from cep_core.errors import PluginLoadError
from cep_core.settings import Settings

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from cep_core.domain.accounts import StaffUser
    from cep_core.kit import Kit
    from cep_core.plugins import PluginRecord

MakeKit = Callable[..., "Kit"]
RegisterPlugin = Callable[..., "PluginRecord"]


def pytest_report_header() -> str:
    from cep_core import HOOK_API_VERSION

    return f"cep-kit {__version__} (API des hooks {HOOK_API_VERSION})"


@pytest.fixture
def cep_plugins() -> Sequence[object]:
    """The plugins `cep_kit` is built with (hooks modules or instances); override it."""
    return ()


@pytest.fixture
def cep_settings(tmp_path: Path) -> Settings:
    """A throw-away deployment: data and SQLite database under ``tmp_path``, no entry points."""
    return Settings(data_dir=tmp_path / "cep-data", load_entrypoints=False, hash_profile="fast")


@pytest.fixture
def cep_clock() -> Clock:
    """The clock of the kits built by these fixtures; override it to fix "now"."""
    return system_clock


@pytest.fixture
def make_cep_kit(cep_settings: Settings, cep_clock: Clock) -> Iterator[MakeKit]:
    """Build kits from exactly the given plugins; each is closed after the test."""
    from cep_core.kit import Kit

    kits: list[Kit] = []

    def make(
        *plugins: object,
        settings: Settings | None = None,
        clock: Callable[[], datetime] | None = None,
        defaults: bool = True,
    ) -> Kit:
        kit = Kit(
            plugins,
            settings=settings or cep_settings,
            load_entrypoints=False,
            defaults=defaults,
            clock=clock or cep_clock,
        )
        kits.append(kit)
        kit.database.upgrade()
        return kit

    yield make
    for kit in reversed(kits):
        kit.close()


@pytest.fixture
def cep_kit(make_cep_kit: MakeKit, cep_plugins: Sequence[object]) -> Kit:
    """A kit of `cep_plugins`; a refused plugin fails the test with the kit's French reason."""
    kit = make_cep_kit(*cep_plugins)
    kit.check()
    return kit


@pytest.fixture
def cep_app(cep_kit: Kit) -> Litestar:
    """The web app of `cep_kit`, as ``cep serve`` would serve it."""
    from cep_core.web import create_app

    return create_app(cep_kit)


@pytest.fixture
async def cep_client(cep_app: Litestar, anyio_backend: Any) -> AsyncIterator[AsyncTestClient[Any]]:
    """An async client on `cep_app` (its start-up and shutdown run around the test)."""
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app=cep_app) as client:
        yield client


@pytest.fixture
def register_plugin(request: pytest.FixtureRequest) -> Iterator[RegisterPlugin]:
    """Register plugins into a kit for one test; each is unregistered afterwards.

    Without `kit`, the plugin goes into ``cep_kit`` (built on first use).
    """
    added: list[tuple[Kit, str]] = []

    def register(
        plugin: object, kit: Kit | None = None, *, name: str | None = None
    ) -> PluginRecord:
        from cep_core.plugins import RefusedPlugin

        target: Kit = request.getfixturevalue("cep_kit") if kit is None else kit
        outcome = target.registry.register(plugin, name)
        if isinstance(outcome, RefusedPlugin):
            target.registry.refused.remove(outcome)
            raise PluginLoadError([(outcome.name, outcome.reason)])
        if outcome is None:
            raise PluginLoadError([(name or repr(plugin), "désactivé (CEP_DISABLED_PLUGINS)")])
        added.append((target, outcome.name))
        return outcome

    yield register
    for kit, name in reversed(added):
        if name in kit.registry.records:
            kit.registry.unregister(name)


class SignedInCounsellor:
    """A counsellor of one operator, signed in twice: a token for the API, a session for pages."""

    def __init__(self, user: StaffUser, token: str, session: str) -> None:
        self.user = user
        self.token = token
        self.session = session

    @property
    def operator(self) -> str:
        assert self.user.operator is not None
        return self.user.operator

    @property
    def headers(self) -> dict[str, str]:
        """``Authorization: Bearer`` for the JSON API."""
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def cookies(self) -> dict[str, str]:
        """The session cookie for the pages (send it over https: the cookie is ``Secure``)."""
        from cep_core.web.sessions import SESSION_COOKIE

        return {SESSION_COOKIE: self.session}


@pytest.fixture
def cep_operator(cep_kit: Kit) -> str:
    """The operator of `signed_in_counsellor`: the kit's first operator; override to choose."""
    operators = cep_kit.hooks.operators()
    if not operators:
        pytest.fail("signed_in_counsellor : aucun opérateur dans cep_plugins")
    return operators[0].id


@pytest.fixture
def signed_in_counsellor(cep_kit: Kit, cep_operator: str) -> SignedInCounsellor:
    """A counsellor account of `cep_operator`, with an API token and a page session."""
    from cep_core.domain.context import Role

    user = cep_kit.accounts.create_user(
        email=f"conseiller.{cep_operator}@test.invalid",
        display_name="Conseiller de test",
        role=Role.COUNSELLOR,
        operator=cep_operator,
        password="une phrase de passe pour les tests",  # noqa: S106 - a throw-away test account
    )
    token, _ = cep_kit.accounts.create_token(user, name="tests", valid_days=None)
    session, _ = cep_kit.accounts.open_session(user)
    return SignedInCounsellor(user, token, session)
