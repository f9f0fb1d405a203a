"""What a rollback's restore feeds psql, in order: one transaction from BEGIN to COMMIT.

The big parts (the proven dump, the window dump, the grown tables' new rows) are files on the
deploy host and stay there; the small parts written here go beside them. In between:

- first the transaction's id, printed, so that whoever looks later can ask PostgreSQL whether
  it committed (`txid_status`), whatever became of psql or of the connection;
- then every object of schema `public` is dropped, the schema itself kept with its owner and
  grants: after `pg_upgrade` it belongs to `postgres`, and the database's role can empty it but
  neither drop nor recreate it;
- the maintenance records active now, and the COMMIT, come last: input cut short at any point
  commits nothing, and users never meet a database that lacks them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from atmo_release.data import window_rows
from atmo_release.data.fingerprint import quote

TRANSACTION_PREFIX = "atmo-release restore transaction "

# Every object of schema public the dump creates again, dropped as its owner; names are read
# before the first drop, so what a CASCADE took already is skipped by IF EXISTS. Sequences of
# serial and identity columns, partitions, and what an extension owns go with their owners.
EMPTY_PUBLIC_SQL = """DO $atmo$
DECLARE
    statements text[];
    statement text;
BEGIN
    PERFORM pg_catalog.set_config('search_path', '', true);
    SELECT coalesce(array_agg(drop_statement), '{}') INTO statements FROM (
        SELECT format('DROP %s IF EXISTS %I.%I CASCADE', CASE c.relkind WHEN 'v' THEN 'VIEW'
            WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
            WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, n.nspname, c.relname)
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          AND NOT c.relispartition
          AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                          WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                            AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))
        UNION ALL
        SELECT format('DROP ROUTINE IF EXISTS %s CASCADE', p.oid::pg_catalog.regprocedure)
        FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public'
          AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                          WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                            AND d.objid = p.oid AND d.deptype = 'e')
        UNION ALL
        SELECT format('DROP %s IF EXISTS %s CASCADE',
                      CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
                      t.oid::pg_catalog.regtype)
        FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND (t.typtype IN ('e', 'd', 'r')
              OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_catalog.pg_class c
                                       WHERE c.oid = t.typrelid) = 'c'))
          AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                          WHERE d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
                            AND d.objid = t.oid AND d.deptype IN ('e', 'i', 'a'))
    ) AS objects(drop_statement);
    FOREACH statement IN ARRAY statements LOOP
        EXECUTE statement;
    END LOOP;
END
$atmo$;
"""


@dataclass(frozen=True)
class Part:
    """One input of the restore: a file already on the host (`path`), or a small text to write
    beside the dump under the name `name`."""

    name: str = ""
    text: str = ""
    path: str = ""


def head() -> str:
    return f"BEGIN;\nSELECT '{TRANSACTION_PREFIX}' || txid_current();\n{EMPTY_PUBLIC_SQL}"


def dollar_quoted(text: str) -> str:
    tag = "atmo"
    while f"${tag}$" in text:
        tag += "x"
    return f"${tag}${text}${tag}$"


def carry_over_sql(active: Mapping[str, Sequence[str]]) -> str:
    """The active maintenance records (each row as JSON) inserted again, and each table's id
    sequence past them."""
    lines = []
    for table, rows in active.items():
        name = f"public.{quote(table)}"
        lines += [
            f"INSERT INTO {name} SELECT * FROM pg_catalog.json_populate_record("
            f"NULL::{name}, {dollar_quoted(row)}::json);"
            for row in rows
        ]
        lines.append(
            f"SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence('{name}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {name}));"
        )
    return "".join(f"{line}\n" for line in lines)


def parts(
    dump: str, window: Mapping[str, Any] | None, active: Mapping[str, Sequence[str]]
) -> list[Part]:
    """The restore's inputs in order: the proven dump, then the rows written after it (all rows
    of the rewritten tables, the new rows of the grown ones), then the carried-over records."""
    return [
        Part("head.sql", head()),
        Part(path=dump),
        *window_parts(window),
        Part("tail.sql", carry_over_sql(active) + "COMMIT;\n"),
    ]


def window_parts(window: Mapping[str, Any] | None) -> list[Part]:
    """The rows written after the proven dump, as the restore loads them over it: all rows of
    the rewritten tables, the new rows of the grown ones with their id sequences."""
    window = window or {}
    found = []
    tables = list(window.get("tables") or [])
    if tables:
        replace = "".join(f"{sql};\n" for sql in window_rows.replace_rows_sql(tables))
        found += [Part("replace.sql", replace), Part(path=str(window["path"]))]
    for table, rows in (window.get("grown") or {}).items():
        found += [
            Part(f"grown-{table}.sql", f"COPY public.{quote(table)} FROM stdin;\n"),
            Part(path=str(rows["path"])),
            Part(
                f"grown-{table}-end.sql",
                "\\.\n" + window_rows.sequence_sql(table, rows.get("sequence")),
            ),
        ]
    return found


def inline(parts: Sequence[Part], where: Callable[[str], str]) -> list[str]:
    """`parts` as `restore.fed_parts` inputs: a file by where the command sees it (`where`),
    a small text as itself."""
    return [f"f:{where(part.path)}" if part.path else f"t:{part.text}" for part in parts]


def transaction_id(line: str) -> int | None:
    """The id the head printed, from its log line."""
    text = line.strip()
    if not text.startswith(TRANSACTION_PREFIX):
        return None
    digits = text[len(TRANSACTION_PREFIX) :].strip()
    return int(digits) if digits.isdigit() else None
