"""Whether the default database is a Citus coordinator (distributed PostgreSQL; docs/scale.md,
"Distribution on Citus"). Asked once per database and process: a query shape that Citus plans
differently (an identifier look-up split from the by-subject reads, so those are single-shard
router queries) is chosen by it."""

from __future__ import annotations

from django.db import connection, models

_known: dict[tuple, bool] = {}


def is_citus() -> bool:
    """True when the default database has the citus extension (False on SQLite, on PostgreSQL
    without it)."""
    if connection.vendor != "postgresql":
        return False
    settings = connection.settings_dict
    key = (settings["HOST"], settings["PORT"], settings["NAME"])
    if key not in _known:
        # On the driver's connection, not a Django cursor: a question about the server, not one
        # of the statements a request makes (tests that count a path's queries stay exact).
        connection.ensure_connection()
        row = connection.connection.execute(
            "SELECT 1 FROM pg_extension WHERE extname = 'citus'"
        ).fetchone()
        _known[key] = row is not None
    return _known[key]


class ShardMoveError(Exception):
    """A saved row's subject changed on Citus: the row would change shard, which Citus refuses
    for an UPDATE (docs/scale.md, "Distribution on Citus": the no-subject and relink design)."""


class ShardedBySubject(models.Model):
    """Base of the models whose table `pubcredit scaleout distribute` distributes by `subject_id`
    (ops.scaleout.DISTRIBUTED; the scale suite checks the two agree).

    Citus refuses an UPDATE that sets the distribution column, even to the value the row holds,
    and Django's `save()` of a loaded row sets every column. On Citus, `save()` of an existing
    row therefore leaves `subject_id` out of the UPDATE (every other loaded field, or the
    `update_fields` given, is written as usual), and refuses with `ShardMoveError` when the
    subject was changed since the row was loaded: nothing is silently dropped. Elsewhere (SQLite,
    PostgreSQL) `save()` is Django's, unchanged."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._state.adding or kwargs.get("force_insert") or args or not is_citus():
            super().save(*args, **kwargs)
        else:
            if self.subject_id != getattr(self, "_stored_subject_id", self.subject_id):
                raise ShardMoveError(
                    f"{self._meta.label} {self.pk}: the subject cannot change on Citus"
                )
            fields = kwargs.get("update_fields")
            if fields is None:
                deferred = self.get_deferred_fields()
                fields = [
                    f.attname
                    for f in self._meta.concrete_fields
                    if not f.primary_key and f.attname not in deferred
                ]
            kwargs["update_fields"] = [f for f in fields if f not in ("subject", "subject_id")]
            if kwargs["update_fields"]:
                super().save(*args, **kwargs)
        self._stored_subject_id = self.subject_id

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._stored_subject_id = instance.__dict__.get("subject_id")
        return instance
