"""REL-08: the app refuses to start on a PostgreSQL that may lose acknowledged writes.

On a cluster of its own (`DurabilityCluster`: the tests' shared server has ``fsync=off`` on
its command line, which nothing can override), each setting is switched with ``ALTER
SYSTEM`` and a reload, then ``cep serve`` and `create_app` are tried:

- ``fsync=off`` or ``full_page_writes=off``: refused, exit code 1, a French message that
  names the setting, nothing migrated;
- ``synchronous_commit=off``: the app starts and says, once, why it should not be so;
- ``CEP_ALLOW_NON_DURABLE_DATABASE=1`` (how the other tests serve on the shared server):
  starts and still says what is wrong; refused in production.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from cep_core.errors import DatabaseNotDurable
from cep_core.kit import Kit
from cep_core.settings import MailBackend, MailSettings, Profile, Settings, SettingsError
from cep_core.storage.database import Database
from cep_core.web.app import create_app

from .servers import AppServer, ClusterUnavailable, DurabilityCluster, make_token

pytestmark = pytest.mark.postgres

REFUSED = "Démarrage refusé : la base de données n'est pas configurée de façon durable."
DURABLE = {"fsync": "on", "full_page_writes": "on", "synchronous_commit": "on"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[DurabilityCluster]:
    try:
        own = DurabilityCluster()
        own.start()
    except (ClusterUnavailable, OSError) as exc:
        if os.environ.get("CEP_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"CEP_REQUIRE_POSTGRES=1 but no PostgreSQL cluster: {exc}", pytrace=False)
        pytest.skip(f"no PostgreSQL cluster could be started here ({exc})")
    try:
        yield own
    finally:
        own.stop()


def _server(cluster: DurabilityCluster, tmp_path: Path, **env: str) -> AppServer:
    server = AppServer(
        data_dir=tmp_path / "data",
        database_url=cluster.url,
        secret_key=make_token("secret"),
    )
    server.env.pop("CEP_ALLOW_NON_DURABLE_DATABASE", None)  # only when a test says so
    server.env.update(env)
    return server


def _tables(url: str) -> list[str]:
    database = Database(url)
    try:
        return inspect(database.engine).get_table_names()
    finally:
        database.dispose()


@pytest.mark.parametrize("setting", ["fsync", "full_page_writes"])
def test_serve_refuses_a_server_that_may_corrupt_or_lose_writes(
    cluster: DurabilityCluster, tmp_path: Path, setting: str
) -> None:
    cluster.configure(**{**DURABLE, setting: "off"})
    code, output = _server(cluster, tmp_path).run_to_exit()
    assert code == 1, output
    assert REFUSED in output
    assert f"PostgreSQL tourne avec {setting}=off" in output
    assert f"Remettez {setting}=on avant de démarrer le kit" in output
    assert "Traceback" not in output
    assert _tables(cluster.url) == [], "a database the app refuses must not be migrated"
    kit = Kit(settings=Settings(data_dir=tmp_path / "kit", database_url=cluster.url))
    try:
        with pytest.raises(DatabaseNotDurable, match=f"(?s)Démarrage refusé.*{setting}=off"):
            create_app(kit)
    finally:
        kit.close()


def test_synchronous_commit_off_is_served_with_a_warning(
    cluster: DurabilityCluster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cluster.configure(**{**DURABLE, "synchronous_commit": "off"})
    kit = Kit(settings=Settings(data_dir=tmp_path, database_url=cluster.url))
    try:
        create_app(kit)  # builds
        create_app(kit)  # and says it once per database, however often it checks
    finally:
        kit.close()
    warnings = [r.getMessage() for r in caplog.records if "synchronous_commit" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("ATTENTION : PostgreSQL tourne avec synchronous_commit=off")


def test_a_durable_server_passes_without_a_word(
    cluster: DurabilityCluster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cluster.configure(**DURABLE)
    kit = Kit(settings=Settings(data_dir=tmp_path, database_url=cluster.url))
    try:
        assert kit.database.check_durability() == []
        create_app(kit)
    finally:
        kit.close()
    assert not [r for r in caplog.records if "PostgreSQL tourne avec" in r.getMessage()]


def test_the_test_only_override_is_explicit_and_refused_in_production(
    cluster: DurabilityCluster, tmp_path: Path
) -> None:
    cluster.configure(**{**DURABLE, "fsync": "off", "synchronous_commit": "off"})
    server = _server(cluster, tmp_path, CEP_ALLOW_NON_DURABLE_DATABASE="1")
    try:
        server.start()  # the other server tests run like this on the fsync=off test cluster
    finally:
        server.stop()
    output = server.log_text()
    assert "ERREUR : PostgreSQL tourne avec fsync=off" in output
    assert "toléré : CEP_ALLOW_NON_DURABLE_DATABASE=1, réservé aux tests" in output
    # cep serve's warnings: on its output, once (create_app checks again, silently).
    assert output.count("ATTENTION : PostgreSQL tourne avec synchronous_commit=off") == 1
    assert "Démarrage refusé" not in output
    production = Settings(
        data_dir=tmp_path / "prod",
        database_url=cluster.url,
        profile=Profile.PRODUCTION,
        secret_key=make_token("production-secret"),
        public_url="https://cep.example",
        mail=MailSettings(backend=MailBackend.SMTP),
        allow_non_durable_database=True,
    )
    with pytest.raises(SettingsError, match="CEP_ALLOW_NON_DURABLE_DATABASE est interdit"):
        create_app(settings=production)
    assert Settings.from_env(
        {"CEP_DATA_DIR": str(tmp_path), "CEP_ALLOW_NON_DURABLE_DATABASE": "1"}
    ).allow_non_durable_database
    assert not Settings.from_env({"CEP_DATA_DIR": str(tmp_path)}).allow_non_durable_database
