"""Signals other parts listen to (sent after the transaction that caused them has committed),
and the receivers that turn intake's records of list categories into entries.

`entries_published(sender=ListEntry, entry_ids=[...], subject_ids=[...], kinds={"black", ...})`:
new entries were published (认定 in the console or through intake). The credit-check work uses it
to notify departments that checked a subject recently when it gets a new black-list entry.

`entries_ended(sender=ListEntry, entry_ids=[...], subject_ids=[...], status="removed"|"expired")`:
entries stopped being published.
"""

from django.dispatch import Signal

entries_published = Signal()
entries_ended = Signal()


# --------------------------------------------------------------------------- receivers
# Entries arriving through intake: connected in ListsConfig.ready().


def record_saved(sender, instance, raw: bool = False, **kwargs) -> None:
    """A record saved one at a time (withdraw_record, a confirmed subject match): when its
    category carries list entries, update its entry in the same transaction."""
    if raw or instance.category_id not in _list_category_ids():
        return
    from pubcredit.lists.services import entries_from_records

    entries_from_records([instance.pk])


def submission_saved(sender, instance, raw: bool = False, **kwargs) -> None:
    """A submission finished by intake (status 已完成 saved in the loading transaction): the
    records it brought of a list category become entries in that transaction. Served by the
    records' (department, category, …) index."""
    from pubcredit.intake.models import Submission

    update_fields = kwargs.get("update_fields")
    if raw or instance.status != Submission.Status.DONE:
        return
    if update_fields is not None and "status" not in update_fields:
        return
    if instance.category_id not in _list_category_ids():
        return
    from pubcredit.lists.services import entries_from_records
    from pubcredit.records.models import Record

    ids = Record.objects.filter(
        department_id=instance.department_id,
        category_id=instance.category_id,
        submission_id=instance.pk,
    ).values_list("pk", flat=True)
    entries_from_records(list(ids))


def _list_category_ids() -> frozenset[int]:
    from pubcredit.measures.rules import current_rules

    return current_rules().list_category_ids


def connect() -> None:
    from django.db.models.signals import post_save

    from pubcredit.intake.models import Submission
    from pubcredit.records.models import Record

    post_save.connect(record_saved, sender=Record, dispatch_uid="lists_record_saved")
    post_save.connect(submission_saved, sender=Submission, dispatch_uid="lists_submission_done")
