"""Signals other parts listen to, sent after the transaction that caused them has committed
(notifications, not derived state: what derives from entries is refreshed in the transaction, by
the subscribers of lists.changes).

`entries_published(sender=ListEntry, entry_ids=[...], subject_ids=[...], kinds={"black", ...})`:
new entries were published (认定 in the console or through intake). The credit-check work uses it
to notify departments that checked a subject recently when it gets a new black-list entry.

`entries_ended(sender=ListEntry, entry_ids=[...], subject_ids=[...], status="removed"|"expired")`:
entries stopped being published.

Records of list categories become entries through the records-changed flow
(records.changes → lists.subscribers.records_changed), not through model signals.
"""

from django.dispatch import Signal

entries_published = Signal()
entries_ended = Signal()
