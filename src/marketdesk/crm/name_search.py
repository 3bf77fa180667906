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

SQLite drops a table's triggers when Django rebuilds the table (a later migration that
alters `crm_customer`), so `ensure_installed` runs after every `migrate` (post_migrate) and
puts back what is missing, re-filling the FTS table when its triggers had gone.
"""

from __future__ import annotations

from django.db.models import F, Func, Q, TextField

FTS_TABLE = "crm_customer_name_fts"
SEQ_TABLE = "crm_ngram_seq"
TRIGGERS = ("crm_customer_name_ai", "crm_customer_name_ad", "crm_customer_name_au")
PG_FUNCTION = "crm_bigrams"
PG_INDEX = "crm_cust_name_bigrams"


def bigrams(key: str) -> list[str]:
    """The distinct pairs of adjacent characters of `key`, in order of first appearance."""
    return list(dict.fromkeys(key[i : i + 2] for i in range(len(key) - 1)))


def _grams_sql(column: str) -> str:
    return (
        f"(SELECT group_concat(substr({column}, n, 2), ' ') FROM {SEQ_TABLE} "
        f"WHERE n < length({column}))"
    )


def _sqlite_triggers() -> list[str]:
    insert = (
        f"INSERT INTO {FTS_TABLE} (rowid, grams) VALUES (new.id, {_grams_sql('new.name_key')});"
    )
    delete = f"DELETE FROM {FTS_TABLE} WHERE rowid = old.id;"
    return [
        f"CREATE TRIGGER IF NOT EXISTS {TRIGGERS[0]} AFTER INSERT ON crm_customer BEGIN {insert} END",
        f"CREATE TRIGGER IF NOT EXISTS {TRIGGERS[1]} AFTER DELETE ON crm_customer BEGIN {delete} END",
        f"CREATE TRIGGER IF NOT EXISTS {TRIGGERS[2]} AFTER UPDATE OF id, name_key ON crm_customer "
        f"WHEN old.name_key IS NOT new.name_key OR old.id != new.id BEGIN {delete} {insert} END",
    ]


SQLITE_REFILL = [
    f"DELETE FROM {FTS_TABLE}",
    f"INSERT INTO {FTS_TABLE} (rowid, grams) SELECT id, {_grams_sql('name_key')} FROM crm_customer",
]
SQLITE_INSTALL = [
    f"CREATE TABLE IF NOT EXISTS {SEQ_TABLE} (n INTEGER PRIMARY KEY)",
    f"INSERT OR IGNORE INTO {SEQ_TABLE} (n) VALUES " + ", ".join(f"({n})" for n in range(1, 101)),
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(grams, "
    "tokenize = 'unicode61 remove_diacritics 0')",
    *_sqlite_triggers(),
    *SQLITE_REFILL,
]
SQLITE_UNINSTALL = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS),
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
    f"DROP TABLE IF EXISTS {SEQ_TABLE}",
]
PG_INSTALL = [
    f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}(text) RETURNS text[] "
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS "
    "$$ SELECT coalesce(array_agg(DISTINCT substr($1, i, 2)), '{}'::text[]) "
    "FROM generate_series(1, length($1) - 1) AS i $$",
    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON crm_customer USING gin ({PG_FUNCTION}(name_key))",
]
PG_UNINSTALL = [f"DROP INDEX IF EXISTS {PG_INDEX}", f"DROP FUNCTION IF EXISTS {PG_FUNCTION}(text)"]


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
        "SELECT type, name FROM sqlite_master WHERE name IN (%s)"
        % ", ".join(["%s"] * (len(TRIGGERS) + 2)),
        [FTS_TABLE, "crm_customer", *TRIGGERS],
    )
    names = {name for _type, name in cursor.fetchall()}
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
        for sql in [*_sqlite_triggers(), *SQLITE_REFILL]:
            cursor.execute(sql)
    return True


def _post_migrate(sender, *, using="default", **kwargs) -> None:
    if getattr(sender, "label", None) == "crm":
        ensure_installed(using=using)


def connect_signals() -> None:
    from django.db.models.signals import post_migrate

    post_migrate.connect(_post_migrate, dispatch_uid="crm.name_search.ensure_installed")


class _Bigrams(Func):
    function = PG_FUNCTION


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

        match = " ".join('"%s"' % gram.replace('"', '""') for gram in grams)
        ids = RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [match])
        return Q(pk__in=ids) & condition
    return condition
