"""The benchmarks' own PostgreSQL databases, made afresh for each run that seeds one."""

from urllib.parse import urlparse


def fresh_database(url: str) -> None:
    """Drop (closing any connection left to it) and create the database named by `url`, through the
    server's maintenance database; refuses the server's own databases."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name or name in ("postgres", "template0", "template1"):
        raise SystemExit(f"refusing to recreate database {name!r}")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
