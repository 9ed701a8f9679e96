"""The admin: scorecards and versions for whoever maintains the catalogue's rules, audited; a
new version gets the next number; results read-only with persons masked."""

from __future__ import annotations

import json

import pytest

from pubcredit.accounts.models import AuditEvent, Role, User
from pubcredit.scoring.models import Scorecard, ScorecardVersion, ScoreResult

pytestmark = pytest.mark.django_db


def test_pages_render_and_a_new_version_is_numbered_and_audited(scorecards, client, make_subject):
    from pubcredit.scoring.services import compute_subjects

    person = make_subject(kind="person", name="钱多多")
    compute_subjects([person.pk, make_subject().pk])
    centre = User.objects.create_user("centre", password="pw", role=Role.CENTRE_STAFF)
    client.force_login(centre)
    card = Scorecard.objects.get(code="SCORE_PUBLIC")
    version = card.versions.get()
    result = ScoreResult.objects.get(subject=person)
    for url in (
        "/admin/scoring/scorecard/",
        f"/admin/scoring/scorecard/{card.pk}/change/",
        "/admin/scoring/scorecardversion/",
        f"/admin/scoring/scorecardversion/{version.pk}/change/",
        "/admin/scoring/scoreresult/",
        f"/admin/scoring/scoreresult/{result.pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "钱多多" not in response.content.decode(), url
    definition = json.loads(json.dumps(version.definition))
    definition["indicators"][1]["points"] = -2
    response = client.post(
        "/admin/scoring/scorecardversion/add/",
        {
            "scorecard": card.pk,
            "effective_from": "2027-01-01",
            "effective_to": "",
            "base_points": "80",
            "basis": "新版本",
            "definition": json.dumps(definition, ensure_ascii=False),
            "note": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    added = ScorecardVersion.objects.get(scorecard=card, version=2)
    assert added.definition["indicators"][1]["points"] == -2 and not added.frozen
    assert AuditEvent.objects.filter(action="scoring.scorecardversion_create").count() == 1
    window = User.objects.create_user("window", password="pw", role=Role.WINDOW_CLERK)
    client.force_login(window)
    assert client.get("/admin/scoring/scorecard/").status_code in (302, 403)
