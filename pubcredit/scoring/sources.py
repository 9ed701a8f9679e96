"""What a contribution's source is, in words: a result stores each contribution's source as
"record:ID", "entry:ID", "commitment:ID" or "subject:ID" (engine.py); an explanation shows
it as the fact a reader recognises (the record's category, department, date and key; the list
and its 认定 document; the commitment's type and date; the subject's registration). One query
per kind of source, whatever the number of lines.

A label names only facts of the evaluated subject itself, so it carries no other person's
data; free text (a commitment's reason) is not shown."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.utils.translation import gettext as _

from pubcredit.commitments.models import Commitment
from pubcredit.lists.models import ListEntry
from pubcredit.records.models import Record, document_number


def _date(value) -> str:
    return value.isoformat() if value else "—"


def _records(ids) -> dict[str, str]:
    rows = Record.objects.filter(pk__in=ids).values_list(
        "pk", "category__name", "department__name", "decision_date", "business_key"
    )
    return {
        f"record:{pk}": _("%(category)s · %(department)s · %(date)s · 文书号 %(key)s")
        % {"category": cat, "department": dept, "date": _date(day), "key": document_number(key)}
        for pk, cat, dept, day, key in rows
    }


def _entries(ids) -> dict[str, str]:
    rows = ListEntry.objects.filter(pk__in=ids).values_list(
        "pk", "list_type__name", "decided_on", "document_number"
    )
    return {
        f"entry:{pk}": _("%(list)s · 认定日期 %(date)s%(doc)s")
        % {"list": name, "date": _date(day), "doc": f" · {doc}" if doc else ""}
        for pk, name, day, doc in rows
    }


def _commitments(ids) -> dict[str, str]:
    labels = dict(Commitment._meta.get_field("commitment_type").choices)
    rows = Commitment.objects.filter(pk__in=ids).values_list(
        "pk", "code", "commitment_type", "made_on"
    )
    return {
        f"commitment:{pk}": _("信用承诺 %(code)s · %(type)s · 作出日期 %(date)s")
        % {"code": code, "type": labels.get(kind, kind), "date": _date(day)}
        for pk, code, kind, day in rows
    }


_READERS = {"record": _records, "entry": _entries, "commitment": _commitments}


def source_labels(sources: Iterable[str]) -> dict[str, str]:
    """Source → its label, for the sources given ("cap"/"bounds" and unknown ones are left
    out: the caller shows the indicator's own name)."""
    wanted: dict[str, list[int]] = defaultdict(list)
    out: dict[str, str] = {}
    for source in set(sources):
        kind, _sep, pk = (source or "").partition(":")
        if kind == "subject":
            out[source] = _("主体登记信息")
        elif kind in _READERS and pk.isdigit():
            wanted[kind].append(int(pk))
    for kind, ids in wanted.items():
        out.update(_READERS[kind](ids))
    return out
