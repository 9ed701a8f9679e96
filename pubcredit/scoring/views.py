"""Console page of a subject's credit evaluation (信用评价明细), under /console/scoring/ (namespace
"scoring"): `subjects/<id>/?scorecard=CODE` explains the subject's current result under the
scorecard (default: its general one) line by line (`services.explain`: every contribution with
its indicator, dimension, source and policy basis), lists its other current grades and its grade
history (`services.history`).

Reached from a credit check's result and from subject pages, not from the navigation.
Who may open it: a staff member whose role has "console.view" and "scoring.view", for a subject in
its scope (`restrict` on the register: a 区县管理员 its district's subjects). A natural person's
个人信用积分 is never public: the page needs "subjects.view_person" too (else 403, even for
window clerks who may check the person), and shows nothing of the points before the staff member
gives a 查询事由 (POSTed, as on the console's person page); the look is then logged by the
services (subjects.access.log_person_access: the explanation and the history, each one row).

Thin: check the principal, call `scoring.services`, render.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.accounts.services import PURPOSE_MIN_LENGTH
from pubcredit.scoring import services
from pubcredit.scoring.current import current_grades_many
from pubcredit.scoring.models import Scorecard
from pubcredit.subjects.masking import display_identifier, display_name
from pubcredit.subjects.models import Subject

ACTION = "scoring.view"
PERSON_ACTION = "subjects.view_person"


def _principal(request) -> Principal:
    principal = Principal.of(request.user)
    if not (principal.can("console.view") and principal.can(ACTION)):
        raise PermissionDenied(_("您的账号没有查看信用评价明细的权限。如需开通,请联系平台管理员。"))
    return principal


class PurposeForm(forms.Form):
    purpose = forms.CharField(
        label=gettext_lazy("查询事由"),
        max_length=255,
        min_length=PURPOSE_MIN_LENGTH,
        help_text=gettext_lazy("个人信用积分不公开:说明为什么需要查看;本次查看将被记录。"),
        error_messages={"required": gettext_lazy("请填写查询事由。")},
    )


def _scorecard(request) -> Scorecard | None:
    code = (request.GET.get("scorecard") or "").strip()
    if not code:
        return None
    card = Scorecard.objects.filter(code=code[:32]).first()
    if card is None:
        raise Http404(_("没有编码为 %(c)s 的信用评价。") % {"c": code[:32]})
    return card


@login_required
def explain(request, subject_id: int):
    principal = _principal(request)
    subject = get_object_or_404(restrict(Subject.objects.all(), principal, ACTION), pk=subject_id)
    card = _scorecard(request)
    context = {
        "subject": subject,
        "display_name": display_name(subject),
        "display_identifier": display_identifier(subject),
        "scorecard": card,
        "explanation": None,
        "history": [],
        "grades": [],
        "form": None,
        "purpose": "",
    }
    show = True
    if subject.is_person:
        if not principal.can(PERSON_ACTION):
            raise PermissionDenied(
                _("个人信用积分不公开,您的角色不能查看。如需查看,请联系信用中心。")
            )
        form = PurposeForm(request.POST if request.method == "POST" else None)
        context["form"] = form
        show = form.is_bound and form.is_valid()
        if show:
            context["purpose"] = form.cleaned_data["purpose"]
    if show:
        try:
            context["explanation"] = services.explain(
                subject, card, principal=principal, purpose=context["purpose"]
            )
            context["history"] = services.history(
                subject, card, principal=principal, purpose=context["purpose"]
            )
        except ValidationError as exc:  # the purpose, as log_person_access judges it
            context["form"].add_error("purpose", exc.messages)
            context["explanation"], context["history"] = None, []
            show = False
        else:
            context["grades"] = current_grades_many([subject.pk]).get(subject.pk, [])
    context["shown"] = show
    response = render(request, "scoring/explain.html", context)
    add_never_cache_headers(response)
    return response
