"""psql command lines for the host database or a compose service; the password goes by env."""

from __future__ import annotations

FLAGS = ["-X", "-A", "-t", "-q", "-F", "\t", "-v", "ON_ERROR_STOP=1"]


def host_query(host: str, port: int, user: str, database: str, sql: str) -> list[str]:
    """psql running `sql`; a change unless wrapped by `read` (for a SELECT)."""
    return ["psql", "-h", host, "-p", str(port), "-U", user, "-d", database, *FLAGS, "-c", sql]


def service_query(user: str, database: str, sql: str) -> list[str]:
    return ["psql", "-U", user, "-d", database, *FLAGS, "-c", sql]
