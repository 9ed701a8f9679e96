"""The 信用承诺书 of a commitment: its content (pubcredit.core.letters.Letter) and the PDF kept
with the commitment (sha256, and a random token naming its download address)."""

from __future__ import annotations

import hashlib
import secrets

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from pubcredit.catalog.models import SubjectKind
from pubcredit.commitments.models import Commitment
from pubcredit.core.letters import Letter, render_letter


def build_letter(commitment: Commitment):
    """The 信用承诺书 of a commitment (pubcredit.core.letters.Letter)."""
    c = commitment
    facts = [
        (_("承诺编码"), c.code),
        (_("承诺人名称"), c.committer_name),
        (_("承诺人类别"), c.get_committer_kind_display()),
        (
            _("承诺人代码") if c.committer_kind != SubjectKind.PERSON else _("身份证号码"),
            c.committer_code,
        ),
        (_("承诺类型"), c.get_commitment_type_display()),
        (_("承诺事由"), c.reason),
        (_("承诺作出日期"), c.made_on.isoformat()),
        (_("承诺有效期至"), c.valid_to.isoformat() if c.valid_to else _("长期")),
        (_("承诺受理单位"), c.department.name),
        (_("公开类型"), c.get_publicity_type_display()),
    ]
    if c.matter_id:
        facts.append((_("替代的审批事项"), c.matter.name))
    paragraphs = [
        _("承诺人自愿作出以下信用承诺,并对承诺内容的真实性负责:"),
        c.content,
        _("违诺责任:") + c.liability,
        _(
            "承诺人知悉:本承诺书由承诺受理单位保存并认定履行情况,承诺及其履行情况记入承诺人的"
            "信用记录,按公开类型公开;违背承诺的,依法依规承担违诺责任。"
        ),
    ]
    signature = _("承诺人:%(name)s") % {"name": c.committer_name}
    if c.signer_name:
        signature += "  " + _("签署人:%(name)s") % {"name": c.signer_name}
    return Letter(
        title=_("信用承诺书"),
        number=_("承诺编码:%(code)s") % {"code": c.code},
        issuer=c.department.name,
        issued_on=c.made_on,
        addressee=c.department.name,
        facts=facts,
        paragraphs=paragraphs,
        signature=signature,
    )


def attach_letter(commitment: Commitment) -> None:
    pdf = render_letter(build_letter(commitment))
    commitment.letter_sha256 = hashlib.sha256(pdf).hexdigest()
    commitment.letter_token = secrets.token_urlsafe(24)
    commitment.letter.save(f"{commitment.code}.pdf", ContentFile(pdf), save=False)
    commitment.save(update_fields=["letter", "letter_sha256", "letter_token", "updated_at"])
