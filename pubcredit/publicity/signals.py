"""Keep the read model current when the facts it derives from change.

- A record saved one at a time (withdraw_record, a confirmed subject match, a test fixture):
  its publicity is recomputed in the same transaction.
- A submission finished by intake (status 已完成 saved in the loading transaction): the records
  whose current version it brought are recomputed in that transaction, set-based.
Bulk writes that bypass `save()` (intake's COPY/SQL) are covered by the second hook; any other
bulk writer calls `services.refresh_publicity` itself.
"""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from pubcredit.intake.models import Submission
from pubcredit.records.models import Record


@receiver(post_save, sender=Record, dispatch_uid="publicity_record_saved")
def record_saved(sender, instance: Record, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    from pubcredit.publicity.services import refresh_publicity

    refresh_publicity([instance.pk], reason="record_saved")


@receiver(post_save, sender=Submission, dispatch_uid="publicity_submission_done")
def submission_saved(sender, instance: Submission, raw: bool = False, **kwargs) -> None:
    update_fields = kwargs.get("update_fields")
    if raw or instance.status != Submission.Status.DONE:
        return
    if update_fields is not None and "status" not in update_fields:
        return
    from pubcredit.publicity.services import refresh_publicity

    refresh_publicity(submission_id=instance.pk, reason="intake")
