"""Scale-out on Citus (distributed PostgreSQL): the distribution plan of the schema and the one
conversion, `distribute`, that applies it to a migrated database on a Citus coordinator
(`pubcredit scaleout distribute`; docs/scale.md, "Distribution on Citus").

The plan: `subjects_subject` is hash-distributed by its id, and every table that carries a
subject and grows with subjects or records is distributed by its `subject_id`, co-located with
it (the same shard holds a subject and everything about it, so a subject's page and a credit
check are single-shard router queries). Django's bookkeeping tables (migrations, sessions, the
task queue, the cache, job leases, login attempts) stay local tables on the coordinator. Every
other table is a reference table (a copy on every node): the catalogue, departments, rules,
measures, list types, holidays, accounts, scorecards, and the record-side tables that do not
carry a subject yet (see docs/scale.md for that list).

Citus refuses what the single-node schema allows, so the conversion, in order and each step
idempotent (a second run finds nothing to do):

1. foreign keys are kept only between local tables; the others are dropped and the platform's
   services keep those references, as they already did for the large tables
   (`db_constraint=False`): Citus refuses to modify a reference table that another table
   references once the transaction has run a multi-shard query (`_keeps`);
2. every PRIMARY KEY and UNIQUE constraint or index of a distributed table that lacks the
   distribution column is rebuilt with it appended (same name). Uniqueness the domain needs
   beyond that stays enforced by the one writer of each table: `records.writing` locks the key
   space and classifies before it inserts, `intake.linking` registers subjects under the same
   lock;
3. reference tables are created, then `subjects_subject` is distributed and every table
   distributed by subject co-located with it; the key table (`KEY_TABLE`, identifier → subject
   id) is distributed by its key, alone, and backfilled from the register (INSERT … SELECT …
   ON CONFLICT DO NOTHING: the subjects registered before the distribution);
4. the database is set to allow repartition joins (`citus.enable_repartition_joins`), which the
   few staff-side queries joining two distributed tables on something other than the subject
   (a list entry and its record) need.

The plan is data (`DISTRIBUTED`, `LOCAL`); a table the plan does not name is a reference table,
so a new small table needs no change here, and a new large one must be added to `DISTRIBUTED`
(the scale suite, `make test-citus`, checks the plan covers the schema).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from pubcredit.subjects import keys as subject_keys

# The anchor of co-location: every table distributed by `subject_id` is co-located with it.
ANCHOR = "subjects_subject"

# The key table (subjects.keys): a subject's identifier → its id, distributed by the identifier
# in a co-location group of its own, so that a check's look-up by 统一社会信用代码 or blind index
# is a router query to one shard, and its primary key holds one subject per identifier.
KEY_TABLE = "subjects_subjectkey"

# table -> its distribution column.
DISTRIBUTED: dict[str, str] = {
    ANCHOR: "id",
    "subjects_formername": "subject_id",
    "records_record": "subject_id",
    "records_recordversion": "subject_id",
    "publicity_publicity": "subject_id",
    "publicity_publicityevent": "subject_id",
    "lists_listentry": "subject_id",
    "commitments_commitment": "subject_id",
    "measures_creditcheck": "id",
    "measures_subjectflags": "subject_id",
    "measures_checknotification": "subject_id",
    "scoring_scoreresult": "subject_id",
    "portal_searchentry": "subject_id",
    "accounts_accesslog": "subject_id",
    "repair_repairapplication": "subject_id",
    "repair_objection": "subject_id",
    "repair_trainingregistration": "subject_id",
    "reports_report": "subject_id",
    "sharing_sharingquery": "subject_id",
    "financing_authorisation": "subject_id",
    "financing_enterprisebinding": "subject_id",
    "financing_financingdemand": "subject_id",
    "financing_profileview": "subject_id",
    KEY_TABLE: "key",
}

# Tables that carry a subject but may not know it, so cannot be distributed by it (Citus refuses
# NULL in a distribution column): the check log (a check of an identifier the register does not
# hold has no subject) is distributed by its own id, alone; a signing request (its subject known
# once signed; few rows) is a reference table.
KEYED_ELSEWHERE: frozenset[str] = frozenset({"measures_creditcheck", "commitments_signingrequest"})

# Django's and the platform's bookkeeping, kept on the coordinator only.
LOCAL: frozenset[str] = frozenset(
    {
        "django_migrations",
        "django_session",
        "django_admin_log",
        "django_tasks_database_dbtaskresult",
        "pubcredit_cache",
        "core_joblease",
        "axes_accessattempt",
        "axes_accessattemptexpiration",
        "axes_accessfailurelog",
        "axes_accesslog",
    }
)

DISTRIBUTED_KIND = "distributed"
REFERENCE_KIND = "reference"
LOCAL_KIND = "local"


class NotCitus(Exception):
    """The database is not a Citus coordinator."""


@dataclass
class Report:
    """What `distribute` did (empty lists on a second run)."""

    citus_version: str = ""
    workers: list[str] = field(default_factory=list)
    dropped_foreign_keys: list[str] = field(default_factory=list)
    rebuilt_unique: list[str] = field(default_factory=list)
    reference_tables: list[str] = field(default_factory=list)
    distributed_tables: list[str] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)
    keys_written: int = 0  # key rows backfilled from the register

    @property
    def changed(self) -> bool:
        return bool(
            self.dropped_foreign_keys
            or self.rebuilt_unique
            or self.reference_tables
            or self.distributed_tables
            or self.settings
            or self.keys_written
        )

    def as_dict(self) -> dict:
        return {
            "citus_version": self.citus_version,
            "workers": self.workers,
            "dropped_foreign_keys": self.dropped_foreign_keys,
            "rebuilt_unique": self.rebuilt_unique,
            "reference_tables": self.reference_tables,
            "distributed_tables": self.distributed_tables,
            "settings": self.settings,
            "keys_written": self.keys_written,
            "changed": self.changed,
        }


def citus_version() -> str | None:
    """The Citus extension's version in this database, or None (not PostgreSQL, or no Citus)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'citus'")
        row = cursor.fetchone()
    return row[0] if row else None


def is_citus() -> bool:
    return citus_version() is not None


def _tables(cursor) -> list[str]:
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
        "AND NOT relation_is_a_known_shard(c.oid) ORDER BY 1"
    )
    return [row[0] for row in cursor.fetchall()]


def plan(tables: list[str]) -> dict[str, str]:
    """Each table's kind under the plan: distributed, local, else reference."""
    kinds = {}
    for table in tables:
        if table in DISTRIBUTED:
            kinds[table] = DISTRIBUTED_KIND
        elif table in LOCAL:
            kinds[table] = LOCAL_KIND
        else:
            kinds[table] = REFERENCE_KIND
    return kinds


def _keeps(source: str, target: str, kinds: dict[str, str]) -> bool:
    """Whether Citus keeps a foreign key from `source` to `target` under the plan."""
    pair = (kinds.get(source), kinds.get(target))
    # Only between local tables. A foreign key into a reference table (from a distributed table
    # or from another reference table) makes Citus refuse to modify that reference table in a
    # transaction that already ran a parallel (multi-shard) query ("cannot modify table … because
    # there was a parallel operation on a distributed table"): saving an account after a search
    # would fail. The large tables' keys were already db_constraint=False in the Django schema;
    # on Citus the services keep every reference, as they do for those.
    return pair == (LOCAL_KIND, LOCAL_KIND)


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _foreign_keys(cursor) -> list[tuple[str, str, str, str]]:
    cursor.execute(
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text, c.conname, "
        "pg_get_constraintdef(c.oid) FROM pg_constraint c WHERE c.contype = 'f' "
        "AND c.connamespace = current_schema()::regnamespace "
        "AND NOT relation_is_a_known_shard(c.conrelid) ORDER BY 1, 3"
    )
    return cursor.fetchall()


def _drop_foreign_keys(cursor, kinds, report, converting: bool) -> list[tuple[str, str, str]]:
    """Drops the foreign keys Citus cannot keep (reported). While tables are still to be
    converted, the ones it keeps are dropped too and returned, to be added back after: Citus
    turns a plain table that references a new reference table into a "Citus local" table, which
    can no longer be distributed."""
    restore = []
    for source, target, name, definition in _foreign_keys(cursor):
        keep = _keeps(source, target, kinds)
        if keep and not converting:
            continue
        cursor.execute(f"ALTER TABLE {_quote(source)} DROP CONSTRAINT {_quote(name)}")
        if keep:
            restore.append((source, name, definition))
        else:
            report.dropped_foreign_keys.append(f"{source}.{name} -> {target}")
    return restore


def _rebuild_unique(cursor, table, column, report):
    """Every PK/UNIQUE constraint and unique index of `table` lacking `column`, rebuilt with it."""
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, con.conname, con.contype,
               pg_get_indexdef(i.indexrelid), i.indkey::int2[]
        FROM pg_index i
        LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.contype IN ('p', 'u')
        WHERE i.indrelid = %s::regclass AND i.indisunique
        """,
        [table],
    )
    cursor_rows = cursor.fetchall()
    cursor.execute(
        "SELECT attnum FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s",
        [table, column],
    )
    attnum = cursor.fetchone()[0]
    for index, constraint, contype, definition, keys in cursor_rows:
        if attnum in keys:
            continue
        cursor.execute(
            "SELECT a.attname FROM unnest(%s::int2[]) WITH ORDINALITY k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = %s::regclass AND a.attnum = k.attnum ORDER BY n",
            [keys, table],
        )
        columns = [row[0] for row in cursor.fetchall()] + [column]
        listed = ", ".join(_quote(c) for c in columns)
        if constraint:
            kind = "PRIMARY KEY" if contype == "p" else "UNIQUE"
            cursor.execute(f"ALTER TABLE {_quote(table)} DROP CONSTRAINT {_quote(constraint)}")
            cursor.execute(
                f"ALTER TABLE {_quote(table)} ADD CONSTRAINT {_quote(constraint)} {kind} ({listed})"
            )
            report.rebuilt_unique.append(f"{table}.{constraint} ({', '.join(columns)})")
        else:
            # A unique index (partial, from a UniqueConstraint with a condition): same name, same
            # condition, the distribution column appended.
            head, _, rest = definition.partition(" USING btree (")
            _, _, condition = rest.partition(")")
            cursor.execute(f"DROP INDEX {index}")
            cursor.execute(f"{head} USING btree ({listed}){condition}")
            report.rebuilt_unique.append(f"{table}.{index} ({', '.join(columns)})")


def _current_kinds(cursor) -> dict[str, str]:
    cursor.execute("SELECT logicalrelid::regclass::text, partmethod FROM pg_dist_partition")
    return {table: method for table, method in cursor.fetchall()}


def distribute() -> Report:
    """Apply the plan to this database (a Citus coordinator, migrated). Idempotent."""
    version = citus_version()
    if version is None:
        raise NotCitus
    report = Report(citus_version=version)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nodename || ':' || nodeport FROM pg_dist_node "
            "WHERE noderole = 'primary' AND shouldhaveshards ORDER BY nodeid"
        )
        report.workers = [row[0] for row in cursor.fetchall()]
        tables = _tables(cursor)
        kinds = plan(tables)
        done = _current_kinds(cursor)
        converting = any(table not in done for table in kinds if kinds[table] != LOCAL_KIND)
        restore = _drop_foreign_keys(cursor, kinds, report, converting)
        for table, column in DISTRIBUTED.items():
            if table in kinds and table not in done:
                _rebuild_unique(cursor, table, column, report)
        for table, kind in kinds.items():
            if kind == REFERENCE_KIND and table not in done:
                cursor.execute("SELECT create_reference_table(%s)", [table])
                report.reference_tables.append(table)
        for table, column in DISTRIBUTED.items():
            if table in kinds and table not in done:
                # by subject: with the anchor; by anything else: a co-location group of its own
                colocate = ANCHOR if column == "subject_id" else "none"
                cursor.execute(
                    "SELECT create_distributed_table(%s, %s, colocate_with => %s)",
                    [table, column, colocate],
                )
                report.distributed_tables.append(f"{table} ({column})")
        # The key table, backfilled from the register (subjects registered before the
        # distribution, or before the key table existed): set-based, and nothing on a second run.
        report.keys_written = subject_keys.fill_from_register(cursor)
        for source, name, definition in restore:
            cursor.execute(
                f"ALTER TABLE {_quote(source)} ADD CONSTRAINT {_quote(name)} {definition}"
            )
        cursor.execute("SELECT current_database()")
        database = cursor.fetchone()[0]
        cursor.execute(
            "SELECT 1 FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase "
            "WHERE d.datname = %s AND 'citus.enable_repartition_joins=on' = ANY(s.setconfig)",
            [database],
        )
        if cursor.fetchone() is None:
            cursor.execute(
                f"ALTER DATABASE {_quote(database)} SET citus.enable_repartition_joins = on"
            )
            report.settings.append("citus.enable_repartition_joins = on")
        cursor.execute("SET citus.enable_repartition_joins = on")
    return report
