"""Matching demands to products by rules that are data: each active MatchingRule row names one
comparison below; a product matches a demand when every active rule holds. The comparisons are
ORM conditions on CreditProduct, so matching runs in the database for whole sets (an Exists
over products per demand row), never a Python loop over pairs.

- amount: the product's amount range holds the demand's amount;
- term:   the product's longest term is at least the demand's term;
- sector: the product targets the demand's sector (门类), or every sector;
- grade:  the enterprise's current general grade is the product's minimum or better (a product
          without a minimum admits enterprises not yet evaluated too)."""

from __future__ import annotations

from django.db.models import CharField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Concat

from pubcredit.scoring.models import ScoreResult

RULES = ("amount", "term", "sector", "grade")


def active_rules() -> list[str]:
    from pubcredit.financing.models import MatchingRule

    return [c for c in MatchingRule.objects.filter(active=True).values_list("code", flat=True)]


def annotate_grade(demands):
    """Demands with `grade_now`: the subject's current grade under its general scorecard."""
    current = ScoreResult.objects.filter(
        subject_id=OuterRef("subject_id"),
        current=True,
        scorecard__sector="",
        scorecard__active=True,
    ).order_by("scorecard__sort_order", "scorecard__code")
    return demands.annotate(grade_now=Subquery(current.values("grade")[:1]))


def product_condition(demand=None, grade: str | None = None, rules=None) -> Q:
    """The condition on CreditProduct for matching: against the outer demand row (inside an
    Exists over a queryset from annotate_grade) when `demand` is None, else against one demand
    and its `grade`."""
    rules = active_rules() if rules is None else rules

    def ref(name):
        if demand is None:
            return OuterRef(name)
        return Value(grade if name == "grade_now" else getattr(demand, name))

    cond = Q()
    if "amount" in rules:
        cond &= Q(amount_min__lte=ref("amount"), amount_max__gte=ref("amount"))
    if "term" in rules:
        cond &= Q(term_months__gte=ref("term_months"))
    if "sector" in rules:
        wanted = Concat(Value(","), ref("sector"), Value(","), output_field=CharField())
        cond &= Q(target_sectors="") | Q(target_sectors__contains=wanted)
    if "grade" in rules:
        if demand is not None and grade is None:
            cond &= Q(min_grade="")
        else:
            cond &= Q(min_grade="") | Q(min_grade__gte=ref("grade_now"))
    return cond
