"""Template filters for public pages."""

from django import template
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from pubcredit.subjects.masking import redact_id_numbers

register = template.Library()


@register.filter
def redact_ids(value):
    """Mask anything that looks like a valid 18-digit 身份证号 (first 6 + last 4): a safety net
    for text typed by people (news written by staff), applied before escaping."""
    return redact_id_numbers("" if value is None else str(value))


# The two hottest loops of the portal (a page of search results, a page of records with all
# their fields) are rendered here with format_html rather than with nested template tags:
# several times faster, same markup, every value escaped.


@register.simple_tag
def search_results(hits):
    """The <li> items of a page of search results (portal.services.SearchHit)."""
    l_uscc, l_region, l_former = _("统一社会信用代码"), _("所在地"), _("曾用名")
    l_operator, l_legal = _("经营者"), _("法定代表人")
    items = []
    for hit in hits:
        s = hit.subject
        facts = []
        if s.is_person:
            facts.append(_fact(s.id_type, format_html("<code>{}</code>", s.id_masked)))
        else:
            facts.append(_fact(l_uscc, format_html("<code>{}</code>", s.uscc or "—")))
            if s.legal_representative:
                label = l_operator if s.kind == "ind" else l_legal
                facts.append(_fact(label, s.legal_representative))
        if s.region_name:
            facts.append(_fact(l_region, s.region_name))
        if hit.matched_former_name:
            facts.append(_fact(l_former, hit.matched_former_name))
        items.append(
            format_html(
                '<li class="result"><h2 class="result-name"><a href="{}">{}</a> '
                '<span class="badge">{}</span></h2><dl class="result-facts">{}</dl></li>',
                reverse("portal:subject", args=[s.ref]),
                s.name,
                s.kind_label,
                mark_safe("".join(facts)),
            )
        )
    return mark_safe("\n".join(items))


def _fact(label, value) -> str:
    return format_html("<div><dt>{}</dt><dd>{}</dd></div>", label, value)


# Categories whose records get the 在线申请修复 / 异议申诉 links (penalties: 信用修复 applies to
# 行政处罚 information only; list entries and commitments are rendered as records too, with
# ids that are not record ids, so the links go nowhere else).
REPAIRABLE_CATEGORIES = frozenset({"CF"})


def _repair_actions(record, today) -> str:
    """The 信用中国-style buttons of a penalty: 在线申请修复 (grey, with the date it opens, until
    the minimum publicity period is over) and 异议申诉. Needs no query: the publicity row
    carries `repair_from`."""
    if record.category not in REPAIRABLE_CATEGORIES:
        return ""
    day = today.isoformat() if hasattr(today, "isoformat") else str(today or "")
    if not record.repair_from or (day and record.repair_from <= day):
        apply = format_html(
            '<a class="button button-small repair-link" href="{}">{}</a>',
            reverse("portal:repair:apply", args=[record.id]),
            _("在线申请修复"),
        )
    else:
        apply = format_html(
            '<span class="button button-small repair-link disabled" aria-disabled="true">{}</span>'
            '<span class="record-note">{}</span>',
            _("在线申请修复"),
            _("自 %(d)s 起可申请") % {"d": record.repair_from},
        )
    objection = format_html(
        '<a class="button button-small button-secondary objection-link" href="{}">{}</a>',
        reverse("portal:repair:objection", args=[record.id]),
        _("异议申诉"),
    )
    return format_html('<div class="record-actions">{}{}</div>', apply, objection)


@register.simple_tag
def repair_actions(record, today=None):
    """A penalty's 在线申请修复 / 异议申诉 links on their own (the record page)."""

    return _repair_actions(record, today or timezone.localdate())


@register.simple_tag
def record_block(record, show_subject=False, actions=False, today=None):
    """One public record (publicity.public.PublicRecord): summary line and every field; with
    `actions`, a penalty's repair and objection links (as of `today`)."""
    head = []
    if getattr(record, "publicity_state", "") == "objection":
        head.append(format_html('<span class="flag flag-objection">{}</span>', _("异议处理中")))
    if getattr(record, "source_label", ""):
        head.append(format_html('<span class="flag flag-source">{}</span>', record.source_label))
    if show_subject:
        if record.subject_ref:
            name = format_html(
                '<a href="{}">{}</a>',
                reverse("portal:subject", args=[record.subject_ref]),
                record.subject_name,
            )
        else:
            name = record.subject_name
        head.append(format_html('<span class="record-subject">{}</span>', name))
    for f in record.summary:
        head.append(
            format_html(
                '<span class="record-summary-item"><span class="record-label">{}</span> {}</span>',
                f.label,
                f.value,
            )
        )
    if record.publicity_start:
        head.append(
            format_html(
                '<span class="record-window">{} {} {} {}</span>',
                _("公示期"),
                record.publicity_start,
                _("至"),
                record.publicity_end or _("长期"),
            )
        )
    fields = [
        format_html("<dt>{}</dt><dd>{}</dd>", f.label, linebreaksbr(f.value, autoescape=True))
        for f in record.fields
    ]
    if record.department:
        fields.append(format_html("<dt>{}</dt><dd>{}</dd>", _("报送部门"), record.department))
    return format_html(
        '<article class="record" id="record-{}"><header class="record-head">{}</header>{}'
        '<details><summary>{}</summary><dl class="record-fields">{}</dl></details></article>',
        record.id,
        mark_safe("".join(head)),
        _repair_actions(record, today) if actions else "",
        _("查看详情"),
        mark_safe("".join(fields)),
    )
