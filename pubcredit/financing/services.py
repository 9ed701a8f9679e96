"""信易贷 services. Every write runs in one transaction with its audit row.

Who is who: an institution's staff are 金融机构用户 accounts (or keys) with an InstitutionMember
row; an enterprise is an 企业用户 account with an approved EnterpriseBinding to its subject.
The credit profile (the standard credit report's content plus the grade) is shown to an
institution only under a live authorisation naming it (or all institutions), and every look is
written to ProfileView in the same transaction as the read that returns it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Avg, Count, Exists, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.models import Role
from pubcredit.accounts.permissions import Principal
from pubcredit.financing import matching
from pubcredit.financing.models import (
    Authorisation,
    BindingStatus,
    CreditProduct,
    DataScope,
    DemandStatus,
    EnterpriseBinding,
    FinancialInstitution,
    FinancingDemand,
    InstitutionMember,
    Outcome,
    OutcomeKind,
    ProfileView,
)
from pubcredit.reports.content import compose
from pubcredit.scoring.services import current_grade
from pubcredit.subjects.models import Subject

SECTORS = tuple("ABCDEFGHIJKLMNOPQRST")  # GB/T 4754 门类


# ---- who acts for whom ----------------------------------------------------------------------


def institution_of(principal: Principal) -> FinancialInstitution:
    """The institution a 金融机构用户 acts for (PermissionDenied for anyone else)."""
    principal.require("financing.lend")
    if principal.user is not None:
        member = InstitutionMember.objects.filter(user=principal.user).select_related("institution")
    elif principal.api_key is not None:
        member = InstitutionMember.objects.filter(api_key=principal.api_key).select_related(
            "institution"
        )
    else:
        member = InstitutionMember.objects.none()
    row = member.first()
    if row is None or not row.institution.active:
        raise PermissionDenied(_("当前账号未关联有效的金融机构。"))
    return row.institution


def enterprise_of(principal: Principal) -> Subject:
    """The subject an 企业用户 account acts for (PermissionDenied until a binding is approved)."""
    principal.require("financing.apply")
    binding = (
        EnterpriseBinding.objects.filter(user=principal.user, status=BindingStatus.APPROVED)
        .select_related("subject")
        .first()
        if principal.user is not None
        else None
    )
    if binding is None:
        raise PermissionDenied(_("企业账号尚未通过绑定审核。"))
    return binding.subject


# ---- institutions, staff and products (centre) ---------------------------------------------


@transaction.atomic
def register_institution(
    principal: Principal, *, name: str, uscc: str, contact: str = ""
) -> FinancialInstitution:
    principal.require("financing.manage")
    inst = FinancialInstitution(name=name.strip(), uscc=uscc.strip().upper(), contact=contact)
    inst.full_clean()
    inst.save()
    record_event(principal, "financing.institution.create", inst, after=snapshot(inst))
    return inst


@transaction.atomic
def add_member(principal: Principal, institution: FinancialInstitution, *, user=None, api_key=None):
    principal.require("financing.manage")
    holder = user if user is not None else api_key
    if holder is None or holder.role != Role.BANK_USER:
        raise ValidationError(_("只有金融机构用户角色的账号或密钥可以关联金融机构。"))
    member = InstitutionMember.objects.create(institution=institution, user=user, api_key=api_key)
    record_event(principal, "financing.member.add", member, after=snapshot(member))
    return member


@transaction.atomic
def publish_product(principal: Principal, institution: FinancialInstitution, **fields):
    """A product of `institution`; the centre, or the institution's own staff, publishes it."""
    if not principal.can("financing.manage"):
        if institution_of(principal).pk != institution.pk:
            raise PermissionDenied(_("只能发布本机构的信贷产品。"))
    sectors = fields.pop("target_sectors", None) or []
    bad = [s for s in sectors if s not in SECTORS]
    if bad:
        raise ValidationError(_("未知的行业门类:%(s)s") % {"s": ",".join(bad)})
    product = CreditProduct(
        institution=institution,
        target_sectors=("," + ",".join(sorted(set(sectors))) + ",") if sectors else "",
        **fields,
    )
    product.full_clean()
    product.save()
    record_event(principal, "financing.product.publish", product, after=snapshot(product))
    return product


def public_products():
    return (
        CreditProduct.objects.filter(active=True, institution__active=True)
        .select_related("institution")
        .order_by("institution__name", "name", "pk")
    )


# ---- enterprise accounts --------------------------------------------------------------------


@transaction.atomic
def request_binding(principal: Principal, uscc: str) -> EnterpriseBinding:
    principal.require("financing.apply")
    uscc = (uscc or "").strip().upper()
    subject = Subject.objects.filter(uscc=uscc).first()
    if subject is None:
        raise ValidationError(_("主体库中没有统一社会信用代码为 %(u)s 的主体。") % {"u": uscc})
    if EnterpriseBinding.objects.filter(
        user=principal.user, status__in=[BindingStatus.PENDING, BindingStatus.APPROVED]
    ).exists():
        raise ValidationError(_("该账号已有待审核或已通过的绑定申请。"))
    binding = EnterpriseBinding.objects.create(user=principal.user, subject=subject)
    record_event(principal, "financing.binding.request", binding, after=snapshot(binding))
    return binding


@transaction.atomic
def decide_binding(
    principal: Principal, binding_id: int, *, approve: bool, note: str = ""
) -> EnterpriseBinding:
    principal.require("financing.manage")
    binding = EnterpriseBinding.objects.select_for_update().get(pk=binding_id)
    if binding.status != BindingStatus.PENDING:
        raise ValidationError(_("该申请已审核。"))
    before = snapshot(binding)
    binding.status = BindingStatus.APPROVED if approve else BindingStatus.REJECTED
    binding.note = note
    binding.decided_at = timezone.now()
    binding.approved_by = principal.user
    binding.save()
    record_event(
        principal, "financing.binding.decide", binding, before=before, after=snapshot(binding)
    )
    return binding


# ---- demands and matching -------------------------------------------------------------------


@transaction.atomic
def post_demand(
    principal: Principal, *, amount: Decimal, term_months: int, purpose: str, sector: str
) -> FinancingDemand:
    subject = enterprise_of(principal)
    if sector not in SECTORS:
        raise ValidationError(_("未知的行业门类:%(s)s") % {"s": sector})
    demand = FinancingDemand(
        subject=subject,
        amount=amount,
        term_months=term_months,
        purpose=purpose.strip(),
        sector=sector,
        posted_by=principal.user,
    )
    demand.full_clean()
    demand.save()
    record_event(principal, "financing.demand.post", demand, after=snapshot(demand))
    return demand


def own_demands(principal: Principal):
    return FinancingDemand.objects.filter(subject=enterprise_of(principal))


def matched_demands(principal: Principal):
    """The open demands matching at least one active product of the caller's institution."""
    inst = institution_of(principal)
    products = CreditProduct.objects.filter(institution=inst, active=True)
    return (
        matching.annotate_grade(FinancingDemand.objects.filter(status=DemandStatus.OPEN))
        .filter(Exists(products.filter(matching.product_condition())))
        .select_related("subject")
    )


def reachable_demands(principal: Principal):
    """The demands an institution may act on: those matched to it (open), and those it has
    already recorded an outcome on."""
    inst = institution_of(principal)
    return FinancingDemand.objects.filter(
        Q(pk__in=matched_demands(principal).values("pk"))
        | Q(pk__in=Outcome.objects.filter(institution=inst).values("demand_id"))
    )


def matched_products(demand: FinancingDemand):
    """The active products that match one demand."""
    grade = current_grade(demand.subject_id)
    return (
        CreditProduct.objects.filter(active=True, institution__active=True)
        .filter(matching.product_condition(demand, grade.grade if grade else None))
        .select_related("institution")
    )


# ---- authorisations and the profile ---------------------------------------------------------


@transaction.atomic
def grant_authorisation(
    principal: Principal,
    *,
    scopes: list[str],
    valid_until: dt.datetime,
    institution_ids: list[int] | None = None,
) -> Authorisation:
    """授权书 by the enterprise: `institution_ids` None (or empty) = every institution."""
    subject = enterprise_of(principal)
    scopes = sorted(set(scopes))
    if not scopes or any(s not in DataScope.values for s in scopes):
        raise ValidationError(_("请选择授权的数据范围。"))
    if valid_until <= timezone.now():
        raise ValidationError(_("有效期须晚于当前时间。"))
    ids = sorted(set(institution_ids or []))
    institutions = list(FinancialInstitution.objects.filter(pk__in=ids, active=True))
    if len(institutions) != len(ids):
        raise ValidationError(_("授权的金融机构不存在或已停用。"))
    auth = Authorisation.objects.create(
        subject=subject,
        scopes=scopes,
        all_institutions=not ids,
        valid_until=valid_until,
        granted_by=principal.user,
    )
    auth.institutions.set(institutions)
    record_event(
        principal,
        "financing.authorisation.grant",
        auth,
        after={**snapshot(auth), "institutions": ids},
    )
    return auth


@transaction.atomic
def revoke_authorisation(principal: Principal, authorisation_id: int) -> Authorisation:
    subject = enterprise_of(principal)
    auth = Authorisation.objects.select_for_update().get(pk=authorisation_id, subject=subject)
    if auth.revoked_at is not None:
        return auth
    before = snapshot(auth)
    auth.revoked_at = timezone.now()
    auth.save(update_fields=["revoked_at"])
    record_event(
        principal, "financing.authorisation.revoke", auth, before=before, after=snapshot(auth)
    )
    return auth


def own_authorisations(principal: Principal):
    return Authorisation.objects.filter(subject=enterprise_of(principal))


def live_authorisations(subject_id: int, institution: FinancialInstitution, now=None):
    now = now or timezone.now()
    return Authorisation.objects.filter(
        subject_id=subject_id, revoked_at__isnull=True, valid_until__gt=now
    ).filter(Q(all_institutions=True) | Q(institutions=institution))


# Report sections (reports.content) → the authorisation scope that covers them. The subject's
# basic identity is always shown; a section not listed here never is (least privilege when the
# report gains a section).
SECTION_SCOPES = {
    "basic": None,
    "licences": DataScope.RECORDS,
    "penalties": DataScope.RECORDS,
    "others": DataScope.RECORDS,
    "serious": DataScope.LISTS,
    "watch": DataScope.LISTS,
    "incentives": DataScope.LISTS,
    "commitments": DataScope.COMMITMENTS,
    "grades": DataScope.GRADE,
}


@transaction.atomic
def view_profile(principal: Principal, subject_id: int, *, demand_id: int | None = None) -> dict:
    """The credit profile of an enterprise for the caller's institution, under a live
    authorisation (PermissionDenied otherwise); the look is logged in this transaction."""
    inst = institution_of(principal)
    subject = Subject.objects.get(pk=subject_id)
    # Locked: a revocation committed before this read is seen (and one racing it waits).
    auth = (
        live_authorisations(subject.pk, inst)
        .select_for_update(of=("self",))
        .order_by("-valid_until", "-pk")
        .first()
    )
    if auth is None:
        raise PermissionDenied(_("该企业未向本机构授权或授权已失效,不能查看其信用档案。"))
    scopes = set(auth.scopes)
    content = compose(subject)
    content["sections"] = [
        s
        for s in content["sections"]
        if s.get("key") in SECTION_SCOPES and SECTION_SCOPES[s["key"]] in scopes | {None}
    ]
    grade = current_grade(subject) if DataScope.GRADE in scopes else None
    content["grade"] = (
        {"scorecard": grade.scorecard_name, "grade": grade.grade, "score": str(grade.score)}
        if grade
        else None
    )
    demand = None
    if demand_id is not None:
        demand = FinancingDemand.objects.filter(pk=demand_id, subject=subject).first()
    view = ProfileView.objects.create(
        institution=inst,
        viewer_label=principal.label[:150],
        subject=subject,
        authorisation=auth,
        demand=demand,
        scopes=sorted(scopes),
    )
    record_event(principal, "financing.profile.view", view, after=snapshot(view))
    return content


def views_of(principal: Principal):
    """Who looked at the caller's enterprise profile (the enterprise's own log)."""
    return ProfileView.objects.filter(subject=enterprise_of(principal)).select_related(
        "institution"
    )


# ---- outcomes and statistics ----------------------------------------------------------------


@transaction.atomic
def record_outcome(
    principal: Principal,
    demand_id: int,
    *,
    kind: str,
    product_id: int | None = None,
    amount: Decimal | None = None,
    rate: Decimal | None = None,
    granted_on: dt.date | None = None,
    reason: str = "",
) -> Outcome:
    inst = institution_of(principal)
    demand = (
        FinancingDemand.objects.select_for_update()
        .filter(pk__in=reachable_demands(principal).values("pk"), pk=demand_id)
        .first()
    )
    if demand is None:
        raise FinancingDemand.DoesNotExist(_("没有与本机构匹配的该融资需求。"))
    product = None
    if product_id is not None:
        product = CreditProduct.objects.get(pk=product_id, institution=inst)
    if kind not in OutcomeKind.values:
        raise ValidationError(_("未知的对接结果。"))
    outcome = Outcome(
        demand=demand,
        institution=inst,
        product=product,
        kind=kind,
        amount=amount if kind == OutcomeKind.GRANTED else None,
        rate=rate if kind == OutcomeKind.GRANTED else None,
        granted_on=granted_on if kind == OutcomeKind.GRANTED else None,
        reason=reason.strip() if kind == OutcomeKind.REJECTED else "",
        recorded_by=principal.label[:150],
    )
    if kind == OutcomeKind.GRANTED and not (amount and rate is not None and granted_on):
        raise ValidationError(_("放款须填写金额、利率和放款日期。"))
    if kind == OutcomeKind.REJECTED and not outcome.reason:
        raise ValidationError(_("拒绝须填写理由。"))
    outcome.full_clean()
    outcome.save()
    if kind == OutcomeKind.GRANTED and demand.status != DemandStatus.GRANTED:
        before = snapshot(demand)
        demand.status = DemandStatus.GRANTED
        demand.save(update_fields=["status"])
        record_event(
            principal, "financing.demand.granted", demand, before=before, after=snapshot(demand)
        )
    record_event(principal, "financing.outcome.record", outcome, after=snapshot(outcome))
    return outcome


def statistics(
    since: dt.date | None = None, until: dt.date | None = None, *, breakdowns: bool = True
) -> dict:
    """Demands, matched, granted, amounts, average rate: in total and (unless `breakdowns` is
    false: the dashboard's card) by institution, sector and district. Set-based (a handful of
    aggregate queries)."""
    demands = FinancingDemand.objects.all()
    if since:
        demands = demands.filter(posted_at__date__gte=since)
    if until:
        demands = demands.filter(posted_at__date__lte=until)
    products = CreditProduct.objects.filter(active=True, institution__active=True)
    graded = matching.annotate_grade(demands).annotate(
        matched=Exists(products.filter(matching.product_condition()))
    )
    grants = Outcome.objects.filter(kind=OutcomeKind.GRANTED, demand__in=demands.values("pk"))

    def grant_figures(qs):
        row = qs.aggregate(
            granted=Count("demand", distinct=True),
            loans=Count("pk"),
            amount=Sum("amount"),
            rate=Avg("rate"),
        )
        return {
            "granted": row["granted"],
            "loans": row["loans"],
            "amount": row["amount"] or Decimal("0"),
            "average_rate": _round(row["rate"]),
        }

    total = {
        "demands": demands.count(),
        "demand_amount": demands.aggregate(s=Sum("amount"))["s"] or Decimal("0"),
        "matched": graded.filter(matched=True).count(),
        **grant_figures(grants),
    }
    if not breakdowns:
        return {"total": total}

    def by(field_demand: str, field_grant: str) -> list[dict]:
        rows = {
            r["key"]: {"key": r["key"], "demands": r["n"], "matched": r["m"]}
            for r in graded.values(key=F(field_demand)).annotate(
                n=Count("pk"), m=Count("pk", filter=Q(matched=True))
            )
        }
        for g in grants.values(key=F(field_grant)).annotate(
            granted=Count("demand", distinct=True),
            loans=Count("pk"),
            amount=Sum("amount"),
            rate=Avg("rate"),
        ):
            row = rows.setdefault(g["key"], {"key": g["key"], "demands": 0, "matched": 0})
            row.update(
                granted=g["granted"],
                loans=g["loans"],
                amount=g["amount"] or Decimal("0"),
                average_rate=_round(g["rate"]),
            )
        for row in rows.values():
            row.setdefault("granted", 0)
            row.setdefault("loans", 0)
            row.setdefault("amount", Decimal("0"))
            row.setdefault("average_rate", None)
        return sorted(rows.values(), key=lambda r: str(r["key"]))

    by_institution = [
        {k: v for k, v in row.items() if k not in ("demands", "matched")}
        for row in by_grants(grants)
    ]
    return {
        "total": total,
        "by_institution": by_institution,
        "by_sector": by("sector", "demand__sector"),
        "by_district": by("subject__region", "demand__subject__region"),
    }


def by_grants(grants) -> list[dict]:
    rows = grants.values("institution__name").annotate(
        granted=Count("demand", distinct=True),
        loans=Count("pk"),
        amount=Sum("amount"),
        rate=Avg("rate"),
    )
    return [
        {
            "key": r["institution__name"],
            "granted": r["granted"],
            "loans": r["loans"],
            "amount": r["amount"] or Decimal("0"),
            "average_rate": _round(r["rate"]),
        }
        for r in rows.order_by("institution__name")
    ]


def _round(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"))
