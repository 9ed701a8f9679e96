"""Current grades read with hand-written SQL, for the paths that read them many times a second or
for many subjects at once: credit checks (one probe inside the check's single read, and a batch
check's chunks).

`current_grades_sql(condition)` is the SELECT of the current results of every active scorecard of
the subjects matching `condition` (SQL on the results table `r`, e.g. "r.subject_id = s.id"), its
columns GRADE_COLUMNS: served by the partial unique index (subject, scorecard) WHERE current.
`grade_dicts(rows)` turns its rows (from a cursor, or from a JSON aggregate of them) into
{subject id: [grade]}, each grade a JSON-ready dict, the general scorecard (no sector, first by
sort order) first, then the sector scorecards. `current_grades_many(ids)` runs it for many subjects,
one query per GRADES_CHUNK.

What `services.grades_for` answers with `Grade` objects, for callers that serialise grades
anyway. A person's points are in the rows like any grade: the caller decides whether to show
them (never publicly) and logs the look (subjects.access.log_person_access).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from pubcredit.scoring.models import Scorecard, ScorecardVersion, ScoreResult

GRADES_CHUNK = 2000

GRADE_COLUMNS = (
    "subject_id",
    "card_code",
    "card_name",
    "card_public",
    "card_sector",
    "card_sector_name",
    "card_order",
    "card_version",
    "score",
    "grade",
    "points_grade",
    "as_of",
    "computed_at",
)


def current_grades_sql(subject_condition: str) -> tuple[str, list]:
    """The SELECT (GRADE_COLUMNS) of the current results under every active scorecard of the
    subjects matching `subject_condition` (SQL on `r`), and its parameters (none: the text is
    the same for every call, as prepared statements want)."""
    return _grades_text(subject_condition), []


@functools.lru_cache(maxsize=16)
def _grades_text(subject_condition: str) -> str:
    return (
        "SELECT r.subject_id AS subject_id, c.code AS card_code, c.name AS card_name, "
        "c.public AS card_public, c.sector AS card_sector, c.sector_name AS card_sector_name, "
        "c.sort_order AS card_order, v.version AS card_version, r.score AS score, "
        "r.grade AS grade, r.points_grade AS points_grade, r.as_of AS as_of, "
        "r.computed_at AS computed_at "
        f"FROM {ScoreResult._meta.db_table} r "
        f"JOIN {Scorecard._meta.db_table} c ON c.id = r.scorecard_id "
        f"JOIN {ScorecardVersion._meta.db_table} v ON v.id = r.version_id "
        f"WHERE {subject_condition} AND r.current AND c.active"
    )


def plain_number(value) -> int | float:
    """A score or points as JSON shows them: 76, not 76.00; 2.5 as 2.5."""
    value = Decimal(str(value))
    return int(value) if value == value.to_integral_value() else float(value)


def _day(value) -> str:
    return value if isinstance(value, str) else value.isoformat()


def _moment(value) -> str:
    if isinstance(value, str):  # from a JSON aggregate (PostgreSQL: with offset; SQLite: UTC)
        value = dt.datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return timezone.localtime(value).isoformat(timespec="seconds")


def grade_dicts(rows: Iterable) -> dict[int, list[dict]]:
    """{subject id: [grade]} from rows of `current_grades_sql`; each grade {"scorecard",
    "scorecard_name", "sector", "sector_name", "public", "version", "score", "grade",
    "points_grade", "as_of", "computed_at"} (dates ISO, the time in Asia/Shanghai), the
    general scorecard first, then the sector ones, each by sort order."""
    ordered = sorted(rows or (), key=lambda r: (r[0], bool(r[4]), r[6], r[1]))
    out: dict[int, list[dict]] = {}
    for sid, code, name, public, sector, sector_name, _order, version, *rest in ordered:
        score, grade, points_grade, as_of, computed_at = rest
        out.setdefault(sid, []).append(
            {
                "scorecard": code,
                "scorecard_name": name,
                "sector": sector or "",
                "sector_name": sector_name or "",
                "public": bool(public),
                "version": version,
                "score": plain_number(score),
                "grade": grade,
                "points_grade": points_grade,
                "as_of": _day(as_of),
                "computed_at": _moment(computed_at),
            }
        )
    return out


def current_grades_many(subject_ids: Iterable[int]) -> dict[int, list[dict]]:
    """`grade_dicts` of the current grades of these subjects: one query per GRADES_CHUNK
    subjects (a batch check asks for up to 100,000). Subjects never evaluated are absent."""
    ids = sorted({int(i) for i in subject_ids if i is not None})
    rows: list = []
    with connection.cursor() as cursor:
        for i in range(0, len(ids), GRADES_CHUNK):
            chunk = ids[i : i + GRADES_CHUNK]
            sql, params = current_grades_sql(f"r.subject_id IN ({', '.join(['%s'] * len(chunk))})")
            cursor.execute(sql, [*chunk, *params])
            rows += cursor.fetchall()
    return grade_dicts(rows)
