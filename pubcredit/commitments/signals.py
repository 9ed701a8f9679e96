"""Commitments arriving through intake: the receivers that turn CN (信用承诺) records into
`Commitment` rows, connected in CommitmentsConfig.ready(), like the lists app does for list
entries (pubcredit/lists/signals.py).

- A record saved one at a time (withdraw_record, a confirmed subject match): its commitment is
  created, refreshed or withdrawn in the same transaction.
- A submission finished by intake (status 已完成 saved in the loading transaction): the CN
  records it brought are turned into commitments in that transaction, set-based.
"""

from __future__ import annotations


def record_saved(sender, instance, raw: bool = False, **kwargs) -> None:
    # Only CN records carry a 承诺编码; the service confirms the category.
    if raw or "CN_CNBM" not in (instance.data or {}):
        return
    from pubcredit.commitments.services import commitments_from_records

    commitments_from_records([instance.pk])


def submission_saved(sender, instance, raw: bool = False, **kwargs) -> None:
    from pubcredit.intake.models import Submission

    update_fields = kwargs.get("update_fields")
    if raw or instance.status != Submission.Status.DONE:
        return
    if update_fields is not None and "status" not in update_fields:
        return
    from pubcredit.commitments.services import category_id, commitments_from_records

    if instance.category_id != category_id():
        return
    from pubcredit.records.models import Record

    ids = Record.objects.filter(
        department_id=instance.department_id,
        category_id=instance.category_id,
        submission_id=instance.pk,
    ).values_list("pk", flat=True)
    commitments_from_records(list(ids))


def connect() -> None:
    from django.db.models.signals import post_save

    from pubcredit.intake.models import Submission
    from pubcredit.records.models import Record

    post_save.connect(record_saved, sender=Record, dispatch_uid="commitments_record_saved")
    post_save.connect(
        submission_saved, sender=Submission, dispatch_uid="commitments_submission_done"
    )
