"""Alembic migrations, run programmatically by `Database.upgrade()` (no alembic.ini)."""
