"""Index for searching customers by any part of their name (`name_key`), on both databases.

A `name_key LIKE '%瑞丰%'` condition cannot use a B-tree index: on a million customers it
reads every name (0.3 s on SQLite, and the list's ORDER BY ... LIMIT can make it seconds).
Chinese search words are often two characters, too short for trigram indexes (pg_trgm,
FTS5 `trigram`), so both databases index the *bigrams* (pairs of adjacent characters) of
`name_key`; a search word of two or more characters selects the customers that have all its
bigrams, and the `name_key LIKE` condition, kept, checks the word is really there. Results
are exactly those of the LIKE alone.

- PostgreSQL: an immutable SQL function `crm_bigrams(text) -> text[]` and a GIN index on
  `crm_bigrams(name_key)`; queried with `crm_bigrams(name_key) @> ARRAY[...]`. It is an
  ordinary expression index: the database keeps it current on every write.
- SQLite: an FTS5 table `crm_customer_name_fts` (one row per customer, rowid = customer id,
  its bigrams separated by spaces, tokenizer unicode61) kept current by three triggers on
  `crm_customer` (insert, delete, update of name_key), which split the name with the helper
  table `crm_ngram_seq` (1..100). Queried with `id IN (SELECT rowid ... MATCH '"瑞丰" "丰精"')`.

A word found in very many names (a trade word such as 科技 or 精密机械: tens of thousands of a
million) is the opposite case: the index hands over every match, and the list's ORDER BY ...
LIMIT 50 must read and sort them all (about 1 s). `is_common` asks PostgreSQL's statistics
of `name_key` (1,000 histogram values, migration 0005) whether the word is in more than 5,000
names the searcher may see (all customers, or their units'); such a word is searched with the
plain LIKE, so the list walks its last-contact index and stops at the page's 50 rows.

SQLite drops a table's triggers when Django rebuilds the table (a later migration that
alters `crm_customer`), so `ensure_installed` runs after every `migrate` (post_migrate) and
puts back what is missing, re-filling the FTS table when its triggers had gone.
"""

from __future__ import annotations

import json

from django.db.models import F, Func, Q, TextField

FTS_TABLE = "crm_customer_name_fts"
TRIGGERS = ("crm_customer_name_ai", "crm_customer_name_ad", "crm_customer_name_au")


def bigrams(key: str) -> list[str]:
    """The distinct pairs of adjacent characters of `key`, in order of first appearance."""
    return list(dict.fromkeys(key[i : i + 2] for i in range(len(key) - 1)))


# Literal SQL (no interpolation): the bigrams of a name, as the triggers and the refill use them.
_NEW_GRAMS = (
    "(SELECT group_concat(substr(new.name_key, n, 2), ' ') FROM crm_ngram_seq "
    "WHERE n < length(new.name_key))"
)
_INSERT_NEW = (
    "INSERT INTO crm_customer_name_fts (rowid, grams) VALUES (new.id, "  # noqa: S608 (constant)
    + _NEW_GRAMS
    + ");"
)
_DELETE_OLD = "DELETE FROM crm_customer_name_fts WHERE rowid = old.id;"
SQLITE_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS crm_customer_name_ai AFTER INSERT ON crm_customer "
    "BEGIN " + _INSERT_NEW + " END",
    "CREATE TRIGGER IF NOT EXISTS crm_customer_name_ad AFTER DELETE ON crm_customer "
    "BEGIN " + _DELETE_OLD + " END",
    "CREATE TRIGGER IF NOT EXISTS crm_customer_name_au AFTER UPDATE OF id, name_key ON crm_customer "
    "WHEN old.name_key IS NOT new.name_key OR old.id != new.id "
    "BEGIN " + _DELETE_OLD + " " + _INSERT_NEW + " END",
]
SQLITE_REFILL = [
    "DELETE FROM crm_customer_name_fts",
    "INSERT INTO crm_customer_name_fts (rowid, grams) SELECT c.id, "
    "(SELECT group_concat(substr(c.name_key, n, 2), ' ') FROM crm_ngram_seq "
    "WHERE n < length(c.name_key)) FROM crm_customer AS c",
]
SQLITE_INSTALL = [
    "CREATE TABLE IF NOT EXISTS crm_ngram_seq (n INTEGER PRIMARY KEY)",
    "INSERT OR IGNORE INTO crm_ngram_seq (n) SELECT a.d * 10 + b.d + 1 FROM "
    "(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 "
    "UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 "
    "UNION ALL SELECT 9) AS a, "
    "(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 "
    "UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 "
    "UNION ALL SELECT 9) AS b",
    "CREATE VIRTUAL TABLE IF NOT EXISTS crm_customer_name_fts USING fts5(grams, "
    "tokenize = 'unicode61 remove_diacritics 0')",
    *SQLITE_TRIGGERS,
    *SQLITE_REFILL,
]
SQLITE_UNINSTALL = [
    "DROP TRIGGER IF EXISTS crm_customer_name_ai",
    "DROP TRIGGER IF EXISTS crm_customer_name_ad",
    "DROP TRIGGER IF EXISTS crm_customer_name_au",
    "DROP TABLE IF EXISTS crm_customer_name_fts",
    "DROP TABLE IF EXISTS crm_ngram_seq",
]
PG_INSTALL = [
    "CREATE OR REPLACE FUNCTION crm_bigrams(text) RETURNS text[] "
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS "
    "$$ SELECT coalesce(array_agg(DISTINCT substr($1, i, 2)), '{}'::text[]) "
    "FROM generate_series(1, length($1) - 1) AS i $$",
    "CREATE INDEX IF NOT EXISTS crm_cust_name_bigrams ON crm_customer "
    "USING gin (crm_bigrams(name_key))",
]
PG_UNINSTALL = [
    "DROP INDEX IF EXISTS crm_cust_name_bigrams",
    "DROP FUNCTION IF EXISTS crm_bigrams(text)",
]


def install(schema_editor) -> None:
    """Create the index (migration 0002 forwards)."""
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_INSTALL, "postgresql": PG_INSTALL}.get(vendor, []):
        schema_editor.execute(sql)


def uninstall(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_UNINSTALL, "postgresql": PG_UNINSTALL}.get(vendor, []):
        schema_editor.execute(sql)


def _sqlite_state(cursor) -> tuple[bool, set[str]]:
    cursor.execute(
        "SELECT name FROM sqlite_master WHERE name IN ('crm_customer', 'crm_customer_name_fts', "
        "'crm_customer_name_ai', 'crm_customer_name_ad', 'crm_customer_name_au')"
    )
    names = {name for (name,) in cursor.fetchall()}
    return FTS_TABLE in names and "crm_customer" in names, names & set(TRIGGERS)


def ensure_installed(*, using: str = "default", **kwargs) -> bool:
    """After `migrate`: put back SQLite's triggers (and re-fill the FTS table) if a table
    rebuild dropped them. Returns True when something was repaired."""
    from django.db import connections, transaction

    connection = connections[using]
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        installed, triggers = _sqlite_state(cursor)
        if not installed or len(triggers) == len(TRIGGERS):
            return False  # before migration 0002 (or after its reversal), or complete
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for sql in [*SQLITE_TRIGGERS, *SQLITE_REFILL]:
            cursor.execute(sql)
    return True


def _post_migrate(sender, *, using="default", **kwargs) -> None:
    if getattr(sender, "label", None) == "crm":
        ensure_installed(using=using)


def connect_signals() -> None:
    from django.db.models.signals import post_migrate

    post_migrate.connect(_post_migrate, dispatch_uid="crm.name_search.ensure_installed")


COMMON_MATCHES = 5000  # a word PostgreSQL expects in more visible names than this is "common"
STATISTICS_TARGET = 1000  # histogram values of crm_customer.name_key (migration 0005)
PG_STATISTICS = [
    f"ALTER TABLE crm_customer ALTER COLUMN name_key SET STATISTICS {STATISTICS_TARGET}",
    "ANALYZE crm_customer (name_key)",
]
PG_STATISTICS_DEFAULT = ["ALTER TABLE crm_customer ALTER COLUMN name_key SET STATISTICS -1"]


_WORD_SQL = "SELECT 1 FROM crm_customer WHERE name_key LIKE %s"


def _like_pattern(key: str) -> str:
    """`%key%` with LIKE's wildcards escaped, as Django's `contains` sends it."""
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _plan_rows(cursor, sql: str, params) -> float:
    cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
    plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return plan[0]["Plan"]["Plan Rows"]


def expected_matches(key: str, *, at_most: int, using: str = "default") -> float | None:
    """How many customers are expected to have `key` in their name, without reading rows:
    PostgreSQL's estimate from its statistics; on SQLite the FTS5 index's candidates (names
    with all the bigrams) counted up to `at_most`. None for one-character words."""
    from django.db import connections

    connection = connections[using]
    grams = bigrams(key)
    if not grams:
        return None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            return _plan_rows(cursor, _WORD_SQL, [_like_pattern(key)])
        if connection.vendor != "sqlite":
            return None
        cursor.execute(
            f"SELECT count(*) FROM (SELECT rowid FROM {FTS_TABLE} "  # noqa: S608 (constant)
            f"WHERE {FTS_TABLE} MATCH %s LIMIT %s)",
            [_fts_match(grams), at_most],
        )
        return cursor.fetchone()[0]


def more_rows_than(rows, limit: float, *, using: str = "default") -> bool:
    """The queryset `rows` has more than `limit` rows: PostgreSQL's estimate (EXPLAIN, no
    rows read); elsewhere counted up to limit + 1."""
    from django.core.exceptions import EmptyResultSet
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "postgresql":
        return rows.order_by()[: int(limit) + 1].count() > limit
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:  # e.g. `owner_id IN ()`: nobody
        return False
    with connection.cursor() as cursor:
        return _plan_rows(cursor, sql, params) > limit


def is_common(key: str, *, department_ids=None, rows=None, using: str = "default") -> bool:
    """PostgreSQL's estimate, from its statistics (no rows read), that more than
    COMMON_MATCHES customers have `key` in their name: all customers, those of
    `department_ids` (the searcher's scope) or the queryset `rows` (a scene's customers). Only then does walking the list's sort index
    find 50 matches and a capped count quickly; with fewer (a rare word, a small scope) the
    bigram index is the way. False for one-character words.

    On SQLite: the FTS5 index's candidates counted up to COMMON_MATCHES + 1, company-wide (a
    wide scope holds most customers; the FTS5 index hands over every candidate, 30,000 for a
    common trade word at 1M customers, 150-170 ms to join to the scope and sort, while the
    plain walk stops after 50 rows and its capped count reads at most the table once)."""
    from django.db import connections

    connection = connections[using]
    if len(key) < 2 or (department_ids is not None and not department_ids):
        return False
    if connection.vendor == "sqlite":
        found = expected_matches(key, at_most=COMMON_MATCHES + 1, using=using)
        return found is not None and found > COMMON_MATCHES
    if connection.vendor != "postgresql":
        return False
    if rows is not None:  # the customers of a scene (a queryset): their names with the word
        return more_rows_than(
            rows.filter(name_key__contains=key).order_by().values("pk"), COMMON_MATCHES - 1
        )
    sql = _WORD_SQL
    params: list = [_like_pattern(key)]
    if department_ids is not None:
        sql += " AND department_id = ANY(%s)"
        params.append(sorted(department_ids))
    with connection.cursor() as cursor:
        return _plan_rows(cursor, sql, params) >= COMMON_MATCHES


def _fts_match(grams: list[str]) -> str:
    """An FTS5 query for names with all these bigrams: '"瑞丰" "丰精"'."""
    return " ".join('"' + gram.replace('"', '""') + '"' for gram in grams)


class _Bigrams(Func):
    function = "crm_bigrams"


def name_condition(key: str, *, using: str = "default") -> Q:
    """`name_key` contains `key` (already normalised by matching.name_key), through the
    bigram index when the key has two characters or more."""
    from django.db import connections

    condition = Q(name_key__contains=key)
    grams = bigrams(key)
    if not grams:
        return condition
    vendor = connections[using].vendor
    if vendor == "postgresql":
        from django.contrib.postgres.fields import ArrayField
        from django.contrib.postgres.lookups import DataContains

        grams_of_name = _Bigrams(F("name_key"), output_field=ArrayField(TextField()))
        return Q(DataContains(grams_of_name, grams)) & condition
    if vendor == "sqlite":
        from django.db.models.expressions import RawSQL

        ids = RawSQL(  # noqa: S611 (constant SQL, the search words are a parameter)
            "SELECT rowid FROM crm_customer_name_fts WHERE crm_customer_name_fts MATCH %s",
            [_fts_match(grams)],
        )
        return Q(pk__in=ids) & condition
    return condition
