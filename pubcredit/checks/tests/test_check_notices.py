"""A new black-list entry for a subject checked in the last 30 days notifies whoever checked it:
console notifications, and a webhook POST received by a real local HTTP server (no mocks), with
a failed attempt recorded and retried."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from pubcredit.checks import notices as check_notices
from pubcredit.checks.models import (
    CheckNotification,
    CheckWebhook,
    CreditCheck,
    WebhookDelivery,
)
from pubcredit.checks.services import run_check
from pubcredit.testing.checkkit import (  # noqa: F401 (fixtures)
    accounts_fixture,
    principal_of,
)
from pubcredit.testing.webhooks import Receiver

pytestmark = pytest.mark.usefixtures("seeded")


@pytest.fixture
def allow_local(settings):
    """The local receiver listens on 127.0.0.1: allowed only with the intranet setting on."""
    settings.PUBCREDIT_WEBHOOK_ALLOW_PRIVATE = True


def today_black(system, subject, code="BLK_WAGE_ARREARS"):
    from pubcredit.testing.listkit import identify

    today = timezone.localdate()
    return identify(system, subject, code, decided_on=today, today=today)


def test_new_black_entry_notifies_recent_checkers_and_posts_the_webhook(
    system, make_subject, accounts, django_capture_on_commit_callbacks, allow_local
):
    company = make_subject()
    bank_key, _bank_clear = accounts["bank"]
    bank = principal_of(bank_key)
    clerk = principal_of(accounts["clerk"])
    old_system = principal_of(accounts["system"][0])

    run_check(bank, uscc=company.uscc, matter="FINANCING")
    run_check(bank, uscc=company.uscc, matter="GOV_PROCUREMENT")  # the latest of the bank
    run_check(clerk, uscc=company.uscc, matter="HONOURS", channel="window")
    stale = run_check(old_system, uscc=company.uscc, matter="BIDDING")
    CreditCheck.objects.filter(pk=stale.check.pk).update(
        checked_at=timezone.now() - dt.timedelta(days=31)
    )
    other = make_subject()
    run_check(bank, uscc=other.uscc, matter="FINANCING")

    with Receiver(statuses=(503, 200)) as server:
        hook = check_notices.register_webhook(bank, server.url)
        with django_capture_on_commit_callbacks(execute=True):
            entry = today_black(system, company)

        notes = {n.recipient: n for n in CheckNotification.objects.all()}
        assert set(notes) == {f"key:{bank_key.pk}", f"user:{accounts['clerk'].pk}"}
        bank_note = notes[f"key:{bank_key.pk}"]
        assert bank_note.entry == entry and bank_note.subject_id == company.pk
        assert bank_note.last_check.matter.code == "GOV_PROCUREMENT"
        assert "拖欠农民工工资失信联合惩戒对象" in bank_note.message
        assert company.name in bank_note.message
        assert notes[f"user:{accounts['clerk'].pk}"].api_key is None

        # First attempt: the server answered 503; recorded, pending, retry scheduled.
        delivery = WebhookDelivery.objects.get(notification=bank_note)
        assert delivery.status == WebhookDelivery.Status.PENDING
        assert delivery.attempt_count == 1
        assert delivery.attempts[0]["status_code"] == 503
        assert delivery.next_attempt_at > timezone.now()
        assert len(server.requests) == 1
        assert not WebhookDelivery.objects.filter(
            notification=notes[f"user:{accounts['clerk'].pk}"]
        ).exists()

        # Not due yet: nothing is sent.
        assert check_notices.deliver_due() == 0
        later = timezone.now() + dt.timedelta(seconds=check_notices.RETRY_DELAYS[0] + 1)
        assert check_notices.deliver_due(now=later) == 1
        delivery.refresh_from_db()
        assert delivery.status == WebhookDelivery.Status.DELIVERED
        assert [a["status_code"] for a in delivery.attempts] == [503, 200]
        assert delivery.delivered_at is not None

    request = server.requests[-1]
    body = request["body"]
    sent = json.loads(body)
    assert sent["event"] == "subject.blacklisted"
    assert sent["subject"]["uscc"] == company.uscc
    assert sent["entry"]["list_type"] == "BLK_WAGE_ARREARS"
    assert sent["last_check"]["matter"] == "GOV_PROCUREMENT"
    headers = request["headers"]
    expected = "sha256=" + hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-pubcredit-signature"] == expected
    assert headers["x-pubcredit-delivery"] == str(delivery.pk)

    # Idempotent: running again for the same entry writes nothing.
    assert check_notices.notify_checkers([entry.pk]) == []
    assert CheckNotification.objects.count() == 2


def test_red_entries_and_unchecked_subjects_notify_nobody(
    system, make_subject, accounts, django_capture_on_commit_callbacks
):
    from pubcredit.testing.listkit import identify

    checked, unchecked = make_subject(), make_subject()
    run_check(principal_of(accounts["bank"][0]), uscc=checked.uscc, matter="FINANCING")
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        identify(system, checked, "RED_TAX_A", decided_on=today, today=today)
        today_black(system, unchecked)
    assert CheckNotification.objects.count() == 0


def test_unreachable_webhook_fails_after_max_attempts(system, make_subject, accounts, allow_local):
    bank = principal_of(accounts["bank"][0])
    company = make_subject()
    run_check(bank, uscc=company.uscc, matter="FINANCING")
    with Receiver() as server:
        url = server.url
    # The server is closed: every attempt is a connection error.
    check_notices.register_webhook(bank, url)
    entry = today_black(system, company)
    notes = check_notices.notify_checkers([entry.pk])
    delivery = WebhookDelivery.objects.get(notification=notes[0])
    now = timezone.now()
    for i in range(check_notices.MAX_ATTEMPTS):
        now += dt.timedelta(hours=7)
        assert check_notices.deliver(delivery.pk, now=now) is not None, i
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempt_count == check_notices.MAX_ATTEMPTS
    assert all(a["status_code"] is None and a["error"] for a in delivery.attempts)
    assert check_notices.deliver(delivery.pk, now=now + dt.timedelta(days=1)) is None


def test_notifications_are_listed_for_their_recipient_only(system, make_subject, accounts):
    from django.test import Client

    company = make_subject()
    bank_key, bank_clear = accounts["bank"]
    run_check(principal_of(bank_key), uscc=company.uscc, matter="FINANCING")
    entry = today_black(system, company)
    check_notices.notify_checkers([entry.pk])
    client = Client()
    mine = client.get(
        "/api/v1/checks/notifications", HTTP_AUTHORIZATION=f"Bearer {bank_clear}"
    ).json()
    assert len(mine) == 1 and mine[0]["subject"]["id"] == company.pk and not mine[0]["read"]
    theirs = client.get(
        "/api/v1/checks/notifications",
        HTTP_AUTHORIZATION=f"Bearer {accounts['system'][1]}",
    ).json()
    assert theirs == []
    assert check_notices.mark_read(principal_of(bank_key), [mine[0]["id"]]) == 1


# --------------------------------------------------------------------------- forged targets


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://[::1]/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://224.0.0.1/hook",
        "http://0.0.0.0/hook",
        "http://localhost:8000/hook",  # a host name resolving to 127.0.0.1
        "http://[::ffff:127.0.0.1]/hook",
    ],
)
def test_webhooks_to_internal_addresses_are_refused(url, accounts):
    bank = principal_of(accounts["bank"][0])
    with pytest.raises(ValidationError) as caught:
        check_notices.register_webhook(bank, url)
    message = caught.value.message_dict["url"][0]
    assert message.startswith("通知地址不能指向"), message
    assert not CheckWebhook.objects.filter(api_key=accounts["bank"][0]).exists()


def test_a_public_address_is_accepted(accounts):
    hook = check_notices.register_webhook(principal_of(accounts["bank"][0]), "https://1.2.3.4/h")
    assert hook.url == "https://1.2.3.4/h"


def test_the_intranet_setting_allows_private_ranges_only(accounts, settings):
    bank = principal_of(accounts["bank"][0])
    settings.PUBCREDIT_WEBHOOK_ALLOW_PRIVATE = True
    assert check_notices.register_webhook(bank, "http://10.0.0.1/hook").url.startswith("http://10.")
    for url in ("http://169.254.169.254/", "http://224.0.0.1/", "http://0.0.0.0/"):
        with pytest.raises(ValidationError):
            check_notices.register_webhook(bank, url)


def _pending_delivery(system, make_subject, accounts, url):
    bank = principal_of(accounts["bank"][0])
    company = make_subject()
    run_check(bank, uscc=company.uscc, matter="FINANCING")
    check_notices.register_webhook(bank, url)
    notes = check_notices.notify_checkers([today_black(system, company).pk])
    return WebhookDelivery.objects.get(notification=notes[0])


def test_delivery_checks_the_target_again(system, make_subject, accounts, settings):
    """Registered while allowed, then the setting is off: the worker refuses to POST."""
    settings.PUBCREDIT_WEBHOOK_ALLOW_PRIVATE = True
    with Receiver() as server:
        delivery = _pending_delivery(system, make_subject, accounts, server.url)
        settings.PUBCREDIT_WEBHOOK_ALLOW_PRIVATE = False
        done = check_notices.deliver(delivery.pk)
        assert server.requests == []
    assert done.status == WebhookDelivery.Status.PENDING and done.attempt_count == 1
    assert done.attempts[0]["status_code"] is None
    assert done.attempts[0]["error"].startswith("refused: 通知地址不能指向本机回环地址")


def test_a_redirect_is_not_followed_and_host_is_kept(system, make_subject, accounts, allow_local):
    with Receiver() as elsewhere:
        with Receiver(statuses=(302,), location=elsewhere.url) as server:
            port = server.server.server_address[1]
            url = f"http://localhost:{port}/pubcredit/hook"
            delivery = _pending_delivery(system, make_subject, accounts, url)
            done = check_notices.deliver(delivery.pk)
            assert len(server.requests) == 1
        assert elsewhere.requests == []
    headers = server.requests[0]["headers"]
    assert headers["host"] == f"localhost:{port}"
    assert done.status == WebhookDelivery.Status.PENDING
    assert done.attempts[0]["status_code"] == 302 and done.attempts[0]["error"] == "HTTP 302"
