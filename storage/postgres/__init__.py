"""The PostgreSQL backend (asyncpg): `open_storage("postgresql://…")` selects it."""
