"""Alembic environment: runs on the connection `Database.upgrade()` hands over.

The upgrade runs inside the caller's transaction (``BEGIN IMMEDIATE`` on SQLite, and a
transaction-scoped advisory lock on PostgreSQL), so two processes starting at once migrate
one after the other, and a failed migration leaves nothing behind. SQLite gets batch mode
(``render_as_batch``) because it cannot ALTER most things in place.

Notes for migration authors:
- SQLite: foreign keys are ON and cannot be turned off inside a transaction, so checks are
  deferred to COMMIT instead (``defer_foreign_keys``), which lets batch mode copy tables;
- SQLite: a batch operation on ``case_events`` recreates the table and loses its append-only
  triggers: create them again in the same migration (see 0001);
- write each migration with explicit ``op`` calls, never from `tables.metadata`, so old
  migrations keep meaning what they meant.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from cep_core.storage.tables import metadata


def run_migrations(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "cep-kit migrations run through Database.upgrade() (or `cep db upgrade`), "
        "which provides the connection; there is no alembic.ini."
    )
if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations(connection)
