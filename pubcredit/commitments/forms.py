"""Forms of the commitments pages: online signing (portal) and the fulfilment assessment
(console). They only collect and shape input; the services validate and write."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from pubcredit.accounts.services import PURPOSE_MIN_LENGTH
from pubcredit.catalog.models import Department, SubjectKind
from pubcredit.commitments.models import ASSESSED, CommitmentType, Performance, PublicityType
from pubcredit.commitments.signing import (
    ONLINE_TYPES,
    REASON_MAX,
    SIGNER_MAX,
    STANDARD_LIABILITY,
    TEXT_MAX,
)
from pubcredit.core.forms import phone_field
from pubcredit.measures.models import Matter


class NoEchoInput(forms.TextInput):
    """A text input that never writes the submitted value back into the page: a 身份证号
    entered in a form that comes back with errors is typed again rather than echoed into
    the HTML (and any cache or log of it)."""

    def format_value(self, value):
        return None


def _departments():
    return Department.objects.filter(active=True).order_by("level", "code")


def _matters():
    return Matter.objects.filter(active=True).order_by("sort_order", "code")


class SignForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("承诺人类别"),
        choices=SubjectKind.choices,
        initial=SubjectKind.ORG,
        widget=forms.RadioSelect,
    )
    name = forms.CharField(
        label=_("承诺人名称(自然人填写姓名)"),
        max_length=200,
        error_messages={"required": _("请填写承诺人名称或姓名。")},
    )
    uscc = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=24,
        required=False,
        help_text=_("法人及非法人组织、个体工商户填写 18 位统一社会信用代码。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=24,
        required=False,
        help_text=_("自然人填写 18 位居民身份证号码;号码只加密保存,公示时脱敏。"),
        widget=NoEchoInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    commitment_type = forms.ChoiceField(
        label=_("承诺类型"),
        choices=[(t.value, t.label) for t in ONLINE_TYPES],
        help_text=_("申请信用修复时作出的信用修复型承诺,请在信用修复申请中签署。"),
    )
    matter = forms.ModelChoiceField(
        label=_("替代的审批事项"),
        queryset=None,
        required=False,
        to_field_name="code",
        empty_label=_("(审批替代型承诺必选)"),
    )
    department = forms.ModelChoiceField(
        label=_("承诺受理单位"),
        queryset=None,
        to_field_name="code",
        empty_label=_("请选择承诺受理单位"),
        error_messages={"required": _("请选择承诺受理单位。")},
    )
    reason = forms.CharField(
        label=_("承诺事由"),
        max_length=REASON_MAX,
        help_text=_("例如:申请办理某项行政许可、参加某项政府采购活动。"),
        error_messages={"required": _("请填写承诺事由。")},
    )
    content = forms.CharField(
        label=_("承诺内容"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("请填写承诺内容。")},
    )
    liability = forms.CharField(
        label=_("违诺责任"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("请填写违诺责任。")},
    )
    valid_to = forms.DateField(
        label=_("承诺有效期至"),
        required=False,
        help_text=_("不填表示长期有效。格式:YYYY-MM-DD。"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    publicity_type = forms.ChoiceField(
        label=_("公开类型"), choices=PublicityType.choices, initial=PublicityType.PUBLIC
    )
    signer_name = forms.CharField(
        label=_("签署人姓名"),
        max_length=SIGNER_MAX,
        help_text=_("签署人姓名和联系电话仅供承诺受理单位联系核实,不予公开。"),
        error_messages={"required": _("请填写签署人姓名。")},
    )
    signer_contact = phone_field(_("签署人联系电话"), _("请填写签署人联系电话。"))
    agree = forms.BooleanField(
        label=_(
            "本人已阅读并理解上述承诺内容和违诺责任,承诺所填信息真实、准确,自愿签署本信用承诺书。"
        ),
        error_messages={"required": _("请确认已阅读并自愿签署。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = _departments()
        self.fields["matter"].queryset = _matters()
        if not self.is_bound:
            self.initial.setdefault("liability", str(STANDARD_LIABILITY))

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == SubjectKind.PERSON:
            if not (data.get("id_number") or "").strip():
                self.add_error("id_number", _("自然人请填写身份证号码。"))
        elif kind and not (data.get("uscc") or "").strip():
            self.add_error("uscc", _("法人及非法人组织、个体工商户请填写统一社会信用代码。"))
        if data.get("commitment_type") == CommitmentType.APPROVAL and not data.get("matter"):
            self.add_error("matter", _("审批替代型承诺须选择所替代的审批事项。"))
        return data


class AssessForm(forms.Form):
    performance = forms.ChoiceField(
        label=_("承诺履行状态"), choices=[(p.value, p.label) for p in ASSESSED]
    )
    unfulfilled_content = forms.CharField(
        label=_("未履行的承诺内容"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("履行状态不是“全部履行”时必填。"),
    )
    liability_enforced = forms.CharField(
        label=_("违诺责任追究内容"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "履行状态不是“全部履行”时必填。违诺将列入违背信用承诺重点关注对象名单;"
            "信用修复型承诺违诺的,原失信信息恢复公示。"
        ),
    )
    reason = forms.CharField(
        label=_("认定说明"),
        max_length=REASON_MAX,
        error_messages={"required": _("请填写认定说明。")},
    )

    def __init__(self, *args, allowed=(), **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Performance.choices)
        self.fields["performance"].choices = [(p, labels[p]) for p in allowed]


class PurposeForm(forms.Form):
    """查询事由 before a signer's full name and telephone are shown (the look is logged)."""

    purpose = forms.CharField(
        label=_("查询事由"),
        max_length=255,
        min_length=PURPOSE_MIN_LENGTH,
        help_text=_("说明为什么需要查看签署人的完整姓名和联系电话;本次查看将被记录。"),
        error_messages={"required": _("请填写查询事由。")},
    )


class DecisionForm(forms.Form):
    """The accepting department's decision on an online signing."""

    decision = forms.ChoiceField(
        label=_("办理结果"),
        choices=[("confirm", _("确认受理")), ("reject", _("不予受理"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("办理说明"),
        max_length=REASON_MAX,
        required=False,
        help_text=_("不予受理时必填,签署人可以看到。"),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "reject" and not (data.get("note") or "").strip():
            self.add_error("note", _("请填写不予受理的理由。"))
        return data
