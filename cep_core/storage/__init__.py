"""Storage: SQLAlchemy Core tables, tenant-scoped repositories and Alembic migrations.

SQLite (a file, WAL, ``synchronous=FULL``) by default, PostgreSQL through psycopg 3 when
``CEP_DATABASE_URL`` says so; the same code and the same tests run on both. Importing this
package imports SQLAlchemy, so `cep_core` itself only imports it where storage is used.
"""
