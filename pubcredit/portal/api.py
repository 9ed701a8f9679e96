"""The public read API (mounted at /api/v1/public): what the portal shows, as JSON.

No authentication; every endpoint is rate-limited per client address (portal.ratelimit; HTTP 429
with the API's error shape). Lists are paginated with `limit` (at most 50) and `offset`. Nothing
here exports personal data in bulk: natural persons are never found by name, only by an exact,
valid 身份证号 (POST /persons/lookup keeps the number out of URLs and logs), and are always shown
masked; records are shown only while the publicity rules make them public.
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from pubcredit.core.apitypes import ErrorOut, Id
from pubcredit.core.ratelimit import PublicRateThrottle
from pubcredit.portal import disclosure, joint, news, services
from pubcredit.portal.models import ArticleSection
from pubcredit.portal.search import RESULT_CAP
from pubcredit.publicity.public import RefExpired, public_subject, resolve_subject_ref
from pubcredit.reports import services as report_services
from pubcredit.reports import verification
from pubcredit.subjects.masking import redact_id_numbers

router = Router(tags=["公众查询"], auth=None, throttle=[PublicRateThrottle("api")])

MAX_LIMIT = 50


class Page(Schema):
    limit: int = Field(20, ge=1, le=MAX_LIMIT, description="每页条数(不超过 50)")
    offset: int = Field(0, ge=0, le=100_000, description="跳过的条数")


class PublicSubjectOut(Schema):
    ref: str = Field(description="主体在门户和接口中的地址;自然人为有时效的签名引用")
    kind: str
    kind_label: str
    name: str = Field(description="名称;自然人姓名脱敏(张*)")
    region: str
    region_name: str
    uscc: str | None = None
    legal_representative: str | None = None
    established_on: str | None = None
    former_names: list[str] | None = None
    id_type: str | None = None
    id_masked: str | None = Field(None, description="自然人证件号码,仅保留前 6 位和后 4 位")
    matched_former_name: str | None = None


class PublicSearchOut(Schema):
    query: str
    mode: str = Field(description="name / uscc / id / invalid")
    total: int
    more: bool = Field(
        description=f"匹配超过 {RESULT_CAP} 个时为 true(只计数和翻页前 {RESULT_CAP} 个)"
    )
    offset: int
    limit: int
    message: str
    items: list[PublicSubjectOut]


class SearchQuery(Page):
    q: str = Field(..., max_length=100, description="名称中任意连续 2 个字以上,或统一社会信用代码")
    district: str | None = Field(None, max_length=6, description="区县行政区划代码")
    kind: str | None = Field(None, description="org 法人及非法人组织 / ind 个体工商户")


class RecordsQuery(Page):
    tab: str = Field("penalties", description="licences / penalties / red / serious / commitments")


class PublicityQuery(Page):
    category: str = Field("CF", description="XK 行政许可 / CF 行政处罚")
    department: str | None = Field(None, max_length=32, description="部门编码")
    since: dt.date | None = Field(None, description="公示起始日期不早于(YYYY-MM-DD)")


class NewsQuery(Page):
    section: str | None = Field(None, description="news / policies / notices")


class SearchIn(Schema):
    q: str = Field(..., max_length=100, description="名称中任意连续 2 个字以上,或统一社会信用代码")
    district: str | None = Field(None, max_length=6, description="区县行政区划代码")
    kind: str | None = Field(None, description="org 法人及非法人组织 / ind 个体工商户")


class PersonLookupIn(Schema):
    id_number: str = Field(..., max_length=40, description="完整的 18 位居民身份证号码")


class PublicFieldOut(Schema):
    code: str
    label: str
    value: str


class RecordOut(Schema):
    id: int
    category: str
    category_name: str
    subject_name: str
    subject_kind: str
    subject_ref: str | None
    department: str
    decision_date: str | None
    publicity_start: str | None
    publicity_end: str | None
    fields: list[PublicFieldOut]


class RecordPageOut(Schema):
    total: int
    offset: int
    limit: int
    items: list[RecordOut]


class PublicListTypeOut(Schema):
    code: str
    name: str
    kind: str = Field(description="red(守信激励名单)或 black(严重失信主体名单)")
    kind_label: str
    authority: str
    legal_basis: str
    validity: str
    subject_kinds: str
    entries: int = Field(description="今日有效的名单条目数")


class ListTypesOut(Schema):
    items: list[PublicListTypeOut]


class ListEntriesOut(RecordPageOut):
    list_type: PublicListTypeOut


class MeasuresQuery(Schema):
    kind: str = Field("punishment", description="punishment(失信惩戒)或 reward(守信激励)")


class PublicMeasureOut(Schema):
    code: str
    name: str
    kind: str
    kind_label: str
    classification: str = Field(description="惩戒措施的基础清单分类,或激励措施的类别")
    content: str
    legal_basis: str
    departments: list[str]
    triggers: list[str] = Field(description="触发措施的名单和记录条件")
    matters: list[str]
    subject_kinds: str
    effective_from: str
    effective_to: str


class MeasuresOut(Schema):
    items: list[PublicMeasureOut]


class TabOut(Schema):
    slug: str
    label: str
    categories: list[str]
    count: int | None


class PublicGradeBandOut(Schema):
    grade: str
    name: str = Field(description="等级名称,例如 优秀")
    range: str = Field(description="得分范围,例如 90 分及以上")


class PublicGradeOut(Schema):
    scorecard: str = Field(description="评价编码,例如 SCORE_PUBLIC")
    scorecard_name: str = Field(description="评价名称,例如 公共信用综合评价")
    sector: str = Field(description="行业编码;综合评价为空")
    grade: str
    as_of: str = Field(description="评价基准日")
    bands: list[PublicGradeBandOut] = Field(description="该评价的等级划分,由高到低")


class SubjectPageOut(Schema):
    subject: PublicSubjectOut
    tabs: list[TabOut]
    grades: list[PublicGradeOut] = Field(
        description="向社会公开的信用评价的当前等级(综合评价在前);自然人为空,个人信用积分不公开"
    )


class ReportVerificationOut(Schema):
    number: str = Field(description="报告编号")
    kind: str = Field(description="standard 标准版 / no_violation 无违法违规记录证明版")
    kind_label: str
    title: str
    subject_kind: str
    subject_kind_label: str
    subject_name: str = Field(description="主体名称;自然人姓名脱敏(王**)")
    identifier: str = Field(description="统一社会信用代码;自然人为脱敏后的证件号码")
    issuer: str = Field(description="出具机构")
    issued_at: dt.datetime = Field(description="出具时间")
    data_as_of: dt.datetime = Field(description="信息截止时间")
    valid_until: dt.date = Field(description="有效期至(含当日)")
    period_from: dt.date | None = Field(None, description="无违法违规记录证明版的查询期间自")
    period_to: dt.date | None = Field(None, description="查询期间至")
    valid: bool = Field(description="今天是否在有效期内")
    status: str = Field(description="有效 / 已过期")
    pdf_sha256: str = Field(description="出具的 PDF 文件的 SHA-256(小写十六进制)")
    changed: bool = Field(description="出具后该主体的公共信用信息是否已发生变化")
    change_statement: str
    verify_url: str = Field(description="核验页面地址")


class ArticleOut(Schema):
    id: int
    section: str
    section_label: str
    title: str
    summary: str
    source: str
    published_at: dt.datetime


class ArticleDetailOut(ArticleOut):
    body: str


class ArticlePageOut(Schema):
    total: int
    offset: int
    limit: int
    items: list[ArticleOut]


def _invalid(code: str, message: str, details: list) -> Status:
    return Status(422, {"code": code, "message": message, "details": details})


def _search(q: str, district: str | None, kind: str | None, page: Page) -> dict:
    outcome = services.search_subjects(
        q, district=district, kind=kind, offset=page.offset, limit=page.limit
    )
    return outcome.as_dict()


@router.get("/search", response={200: PublicSearchOut, 422: ErrorOut}, summary="查询主体")
def search(request, query: Query[SearchQuery]):
    """按名称(任意连续 2 个字以上)或统一社会信用代码查询法人及非法人组织、个体工商户。
    自然人不能按姓名查询;凭完整身份证号查询请用 POST /persons/lookup。"""
    if services.is_person_query(query.q):
        return _invalid(
            "use_post",
            _("按身份证号码查询请使用 POST /api/v1/public/persons/lookup,避免号码出现在网址中。"),
            [],
        )
    return Status(200, _search(query.q, query.district, query.kind, query))


@router.post("/search", response=PublicSearchOut, summary="查询主体(POST)")
def search_post(request, body: SearchIn, page: Query[Page]):
    """与 GET /search 相同,查询条件放在请求体中。"""
    if services.is_person_query(body.q):
        return _person(body.q)
    return _search(body.q, body.district, body.kind, page)


def _person(id_number: str) -> dict:
    outcome = services.search_subjects(id_number, limit=1)
    return outcome.as_dict()


@router.post("/persons/lookup", response=PublicSearchOut, summary="凭身份证号码查询自然人")
def person_lookup(request, body: PersonLookupIn):
    """只返回该号码对应的自然人(姓名和证件号码脱敏);号码有误或不存在时 items 为空。"""
    return _person(body.id_number)


def _subject(ref: str):
    try:
        subject = resolve_subject_ref(ref)
    except RefExpired:
        raise Http404(ref) from None
    if subject is None:
        raise Http404(ref)
    return subject


@router.get("/subjects/{ref}", response={200: SubjectPageOut, 404: ErrorOut}, summary="主体信息")
def subject(request, ref: str):
    """主体基本信息、各栏目当前公示的信息条数和公开的信用等级。"""
    found = _subject(ref)
    counts = services.subject_tab_counts(found.pk)
    view = public_subject(found, former_names=services.subject_former_names(found))
    return {
        "subject": view.as_dict(),
        "tabs": [
            {
                "slug": t.slug,
                "label": str(t.label),
                "categories": list(t.categories),
                "count": counts.get(t.slug),
            }
            for t in services.TABS
        ],
        "grades": [g.as_dict() for g in services.public_grades(found)],
    }


@router.get(
    "/subjects/{ref}/records",
    response={200: RecordPageOut, 404: ErrorOut, 422: ErrorOut},
    summary="主体的公示信息",
)
def subject_records(request, ref: str, query: Query[RecordsQuery]):
    """某一栏目(licences 行政许可、penalties 行政处罚、red 红名单、serious 严重失信主体名单、
    commitments 信用承诺)中当前仍在公示期内的信息,最新的在前。"""
    found = _subject(ref)
    tab = query.tab
    chosen = services.TAB_BY_SLUG.get(tab)
    if chosen is None or not chosen.has_items:
        return _invalid(
            "invalid_tab",
            _("栏目无效:%(tab)s") % {"tab": tab},
            [t.slug for t in services.TABS if t.has_items],
        )
    result = services.subject_tab_records(found.pk, chosen, offset=query.offset, limit=query.limit)
    return _record_page(result)


def _record_page(result: disclosure.RecordPage) -> dict:
    return {
        "total": result.total,
        "offset": result.offset,
        "limit": result.limit,
        "items": [r.as_dict() for r in result.items],
    }


@router.get("/publicity", response={200: RecordPageOut, 422: ErrorOut}, summary="双公示信息")
def publicity(request, query: Query[PublicityQuery]):
    """行政许可(XK)或行政处罚(CF)当前公示的信息,按公示日期最新在前;可按部门编码和公示起始日期筛选。"""
    if query.category not in ("XK", "CF"):
        return _invalid("invalid_category", _("信息类别应为 XK(行政许可)或 CF(行政处罚)。"), [])
    result = disclosure.publicity_list(
        category=query.category,
        department=query.department,
        since=query.since,
        offset=query.offset,
        limit=query.limit,
    )
    return _record_page(result)


@router.get(
    "/publicity/{record_id}", response={200: RecordOut, 404: ErrorOut}, summary="一条公示信息"
)
def publicity_record(request, record_id: Id):
    found = disclosure.public_record_detail(record_id)
    if found is None:
        raise Http404(record_id)
    return found.as_dict()


@router.get("/lists", response=ListTypesOut, summary="红黑名单类型")
def list_types(request):
    """今日有效的守信激励名单(红名单)和严重失信主体名单(黑名单)类型,含认定部门、依据、
    有效期和今日有效的条目数。重点关注名单不对外公开。"""
    return {"items": [t.as_dict() for t in joint.public_list_types()]}


@router.get(
    "/lists/{code}/entries",
    response={200: ListEntriesOut, 404: ErrorOut},
    summary="一类名单的有效条目",
)
def list_entries(request, code: str, page: Query[Page]):
    """一类红名单或黑名单今日有效的条目,认定日期最新在前;自然人姓名脱敏且不提供主体地址。"""
    found = joint.list_type_entries(code, offset=page.offset, limit=page.limit)
    if found is None:
        raise Http404(code)
    list_type, entries = found
    return {**_record_page(entries), "list_type": list_type.as_dict()}


@router.get("/measures", response={200: MeasuresOut, 422: ErrorOut}, summary="奖惩措施清单")
def measures(request, query: Query[MeasuresQuery]):
    """现行的失信惩戒(punishment)或守信激励(reward)措施,含法律法规和政策依据、实施部门、
    触发名单和记录条件、适用事项。"""
    if query.kind not in joint.MEASURE_KINDS:
        return _invalid(
            "invalid_kind", _("措施类别应为 punishment(失信惩戒)或 reward(守信激励)。"), []
        )
    return {"items": [m.as_dict() for m in joint.public_measures(query.kind)]}


def _article(a, *, body: bool = False) -> dict:
    data = {
        "id": a.pk,
        "section": a.section,
        "section_label": str(ArticleSection(a.section).label),
        "title": redact_id_numbers(a.title),
        "summary": redact_id_numbers(a.summary),
        "source": redact_id_numbers(a.source),
        "published_at": a.published_at,
    }
    if body:
        data["body"] = redact_id_numbers(a.body)
    return data


@router.get("/news", response={200: ArticlePageOut, 422: ErrorOut}, summary="新闻列表")
def news_list(request, query: Query[NewsQuery]):
    """已发布的新闻,最新在前;section 为 news(信用动态)、policies(政策法规)或 notices(通知公告)。"""
    section = query.section
    if section and section not in ArticleSection.values:
        return _invalid(
            "invalid_section", _("栏目无效:%(s)s") % {"s": section}, list(ArticleSection.values)
        )
    items, total = news.published(section, offset=query.offset, limit=query.limit)
    return {
        "total": total,
        "offset": query.offset,
        "limit": query.limit,
        "items": [_article(a) for a in items],
    }


@router.get(
    "/news/{article_id}", response={200: ArticleDetailOut, 404: ErrorOut}, summary="新闻正文"
)
def news_detail(request, article_id: Id):
    found = news.published_article(article_id)
    if found is None:
        raise Http404(article_id)
    return _article(found, body=True)


@router.get(
    "/reports/{number}",
    response={200: ReportVerificationOut, 404: ErrorOut},
    summary="核验信用报告",
)
def report_verification(request, number: str):
    """报告编号对应的信用报告是否由本平台出具、是否在有效期内、PDF 文件的 SHA-256,以及出具后
    该主体的公共信用信息是否已发生变化(与核验页面 /verify/{number} 相同)。编号不存在:404。"""
    found = verification.lookup(number)
    if found is None:
        raise Http404(number)
    return found | {"verify_url": report_services.verify_url(found["number"])}
