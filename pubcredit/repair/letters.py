"""The letters the repair procedures issue (pubcredit.core.letters): the 信用修复决定书, the
信用修复告知书 served with a penalty decision (两书同达), the 异议处理结果告知书 and the
training certificate (结业证明), and the names and numbers they show."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.catalog.models import SubjectKind
from pubcredit.core import letters
from pubcredit.publicity.models import Publicity
from pubcredit.records.models import Record
from pubcredit.records.models import document_number as record_document_number
from pubcredit.repair.models import (
    Objection,
    ProcedureStatus,
    RepairApplication,
    TrainingRegistration,
)
from pubcredit.repair.procedures import day_or_today
from pubcredit.repair.rules import rule_on
from pubcredit.subjects.names import mask_person_name

S = ProcedureStatus


def decision_letter(app: RepairApplication) -> letters.Letter:
    record = app.record
    granted = app.status == S.GRANTED
    facts = [
        (_("申请主体"), public_subject_name(app)),
        (_("统一社会信用代码"), app.subject.uscc or ""),
        (_("所涉信息"), record.category.name if record.category_id else ""),
        (_("决定书文号"), document_number(record)),
        (_("认定部门"), app.department.name),
        (_("查询码"), app.query_code),
        (_("申请日期"), app.created_at.date().isoformat()),
    ]
    if granted:
        body = [
            _(
                "经审核,你(单位)已纠正失信行为、履行法定义务并作出信用承诺,符合《%(rule)s》规定的"
                "信用修复条件,决定对上述行政处罚信息予以信用修复。"
            )
            % {"rule": app.rule.title},
            _(
                "自本决定作出之日起,本平台及信用网站终止公示上述信息,停止共享,相关失信惩戒措施"
                "依法解除。"
            ),
            _(
                "你(单位)应当严格履行信用修复承诺;如违背承诺,本平台将撤销本决定,相关信息按最长"
                "公示期重新公示。"
            ),
        ]
    else:
        body = [
            _("经审核,你(单位)的申请不符合信用修复条件,决定不予信用修复。理由:%(r)s")
            % {"r": app.result_reason},
            _("如对本决定有异议,可自收到本决定之日起向本平台提出异议。"),
        ]
    return letters.Letter(
        title=_("信用修复决定书"),
        number=app.decision_number,
        issuer=letters.centre_name(),
        issued_on=app.decided_on,
        addressee=public_subject_name(app),
        facts=facts,
        paragraphs=body,
    )


def repair_notice(record: Record, today: dt.date | None = None) -> letters.Letter:
    """信用修复告知书 ("两书同达"): served with the penalty decision, it tells the subject how long
    the record will be shown, from when and how it can be repaired."""
    day = day_or_today(today)
    publicity = Publicity.objects.filter(pk=record.pk).first()
    name = record.subject_name
    if record.subject_kind == SubjectKind.PERSON:
        name = mask_person_name(name)
    rule = rule_on(day)
    repair_from = publicity.repair_from if publicity else None
    end = publicity.last_day if publicity else None
    facts = [
        (_("当事人"), name),
        (_("决定书文号"), document_number(record)),
        (_("作出决定的部门"), record.department.name),
        (_("决定日期"), record.decision_date.isoformat() if record.decision_date else ""),
        (_("严重程度"), publicity.get_tier_display() if publicity and publicity.tier else ""),
        (_("公示期限"), _("至 %(d)s") % {"d": end.isoformat()} if end else _("依规则确定")),
        (_("可申请修复日期"), repair_from.isoformat() if repair_from else _("无最短公示期要求")),
    ]
    paragraphs = [
        _(
            "根据《%(rule)s》,上述行政处罚信息将在信用网站公示。你(单位)纠正失信行为、履行法定"
            "义务并作出信用承诺后,可在最短公示期届满后申请信用修复。"
        )
        % {"rule": rule.title},
        _(
            "申请途径:登录本市信用网站“信用修复”栏目在线申请,或到政务服务大厅信用窗口办理。"
            "信用修复不收取任何费用。"
        ),
    ]
    if publicity and publicity.tier in (rule.training_tiers or []):
        paragraphs.append(_("该信息属于严重失信行为,申请修复前须参加信用修复专题培训。"))
    return letters.Letter(
        title=_("信用修复告知书"),
        number=_("修复告字〔%(y)s〕第%(n)s号") % {"y": day.year, "n": f"{record.pk:08d}"},
        issuer=record.department.name,
        issued_on=day,
        addressee=name,
        facts=facts,
        paragraphs=paragraphs,
    )


def document_number(record: Record) -> str:
    """The decision's document number (文书号): the record's first business-key field."""
    return record_document_number(record.business_key)


def public_subject_name(proc) -> str:
    subject = proc.subject
    return mask_person_name(subject.name) if subject.kind == SubjectKind.PERSON else subject.name


def reply_letter(obj: Objection) -> letters.Letter:
    """The 异议处理结果告知书 of a settled objection (numbered). For an objection to a grade it
    gives the grade before and after the recomputation, unless the grade is not public (a
    person's points): then it says where the person can learn it."""
    facts = [
        (_("异议事项"), obj.get_target_display()),
        (_("所涉记录"), document_number(obj.record)),
        (_("信息提供单位"), obj.department.name),
        (_("查询码"), obj.query_code),
        (_("处理结果"), obj.get_status_display()),
    ]
    paragraphs = [
        _("你(单位)提出的异议申请已办结。处理结果:%(s)s。") % {"s": obj.get_status_display()},
        _("理由:%(r)s") % {"r": obj.result_reason},
    ]
    if obj.score_result_id:
        before, after = public_grade(obj.score_result), public_grade(obj.result_after)
        facts.append((_("所涉信用评价"), obj.score_result.scorecard.name))
        if before is not None:
            facts.append((_("异议前等级"), before))
            facts.append((_("重新计算后等级"), after or _("暂无评价结果")))
        if obj.decided_on:
            paragraphs.append(
                _("异议办结时已重新计算信用评价等级。")
                if before is not None
                else _(
                    "异议办结时已重新计算个人信用积分。个人信用积分不公开,"
                    "请本人持有效身份证件到信用中心窗口查询。"
                )
            )
    return letters.Letter(
        title=_("异议处理结果告知书"),
        number=obj.reply_number,
        issuer=letters.centre_name(),
        issued_on=obj.decided_on,
        addressee=public_subject_name(obj),
        facts=facts,
        paragraphs=paragraphs,
    )


def public_grade(result) -> str | None:
    """A result as public pages and letters may show it ("B(76 分)"), or None when the grade is
    not public (a person's points, a scorecard not public) or there is no result."""
    if result is None or not result.scorecard.public or result.subject.is_person:
        return None
    score = result.score.normalize() if result.score == result.score.to_integral() else result.score
    return _("%(g)s(%(s)s 分)") % {"g": result.grade, "s": f"{score:f}"}


def certificate_letter(reg: TrainingRegistration) -> letters.Letter:
    subject = reg.subject
    return letters.Letter(
        title=_("信用修复专题培训结业证明"),
        number=reg.certificate_number or "",
        issuer=reg.session.organiser.name,
        issued_on=reg.session.starts_at.date(),
        facts=[
            (_("参训主体"), subject.name if subject.kind != "person" else reg.attendee_name),
            (_("统一社会信用代码"), subject.uscc or ""),
            (_("参训人"), reg.attendee_name),
            (_("培训名称"), reg.session.title),
            (_("培训时间"), f"{timezone.localtime(reg.session.starts_at):%Y-%m-%d %H:%M}"),
            (_("培训地点"), reg.session.place),
        ],
        paragraphs=[_("兹证明上述人员已参加信用修复专题培训并结业,可作为申请信用修复的材料。")],
    )
