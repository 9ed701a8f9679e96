"""Keep the name-search index current when a subject is saved through the ORM (register, rename,
former names). Bulk writers bypass signals; `search.refresh_search_index` catches up with them.

The re-index runs in the saving transaction, so the subject and its index entry commit (or roll
back) together.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from pubcredit.portal.search import index_subjects
from pubcredit.subjects.models import FormerName, Subject


@receiver(post_save, sender=Subject, dispatch_uid="portal.index_subject")
@receiver(post_delete, sender=Subject, dispatch_uid="portal.unindex_subject")
def _subject_changed(sender, instance, raw=False, **kwargs):
    if raw:  # fixtures
        return

    index_subjects([instance.pk])


@receiver(post_save, sender=FormerName, dispatch_uid="portal.index_former_name")
@receiver(post_delete, sender=FormerName, dispatch_uid="portal.unindex_former_name")
def _former_name_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return

    index_subjects([instance.subject_id])
