"""Who may call what: every API operation × every kind of caller, the expected status written
by hand in MATRIX below (from docs/roles.md: the role's actions and scope). A test also holds
the table to the OpenAPI document, so an endpoint added without its row fails.

Columns: anonymous; a session of each staff role (platform_admin, centre_staff,
department_clerk, district_admin, window_clerk, bank_user); an API key of each role a key may
carry (centre_staff, department_clerk, district_admin, window_clerk, bank_user; never
platform_admin). The clerks belong to 市市场监督管理局 (ZB-SCJG), the district administrators to
张店区; the objects named in paths are the city's (apiworld.py): a check and a batch made by the
bank's key, a credit report and a batch of reports issued by the bank's key, a submission by the
clerk's key, a record and a commitment of the clerks' department, a black-list entry, a repair
application and an objection the window's key filed (penalties of the clerks' department in the
administrators' district; each concluded with its letter). Filing (repairs, objections) needs
"repair.file": a clerk files only objections to its department's records; the window's session
(a user, not the key) follows only what it filed itself. For 信易贷, the bank's session and key
act for an institution, and the first organisation's enterprise account (not a column: its
operations answer 403 to every staff caller, the platform administrator included, who is bound
to no enterprise or institution) posted a demand and authorised every institution. Each call
runs in a savepoint rolled back afterwards, so every
caller meets the same data."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client

from pubcredit.tests import apiworld

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("api-matrix")]

COLUMNS = (
    "anon",
    "s:admin",
    "s:centre",
    "s:clerk",
    "s:district",
    "s:window",
    "s:bank",
    "k:centre",
    "k:clerk",
    "k:district",
    "k:window",
    "k:bank",
)

# Legend: 401 no credentials; 403 the role lacks the action (docs/roles.md); 404 the object is
# outside the caller's scope or not its own (a check, batch or credit report another system
# made, a record of another district…), or there is none (no webhook registered); 422 refused input.
# Public by design, answered to anyone: /health, the catalogue, list types, measures and
# matters (published reference data), everything under /public (rate-limited), and
# /subjects/idcheck (checks the form of identifiers, reads nothing).
#                                                     anon  admin centre clerk distr window bank | centre clerk distr window bank
MATRIX = """
GET  /api/v1/health                                  : 200   200   200   200   200   200   200  |  200   200   200   200   200
GET  /api/v1/accounts/me                             : 401   200   200   200   200   200   200  |  200   200   200   200   200
GET  /api/v1/catalog/departments                     : 200   200   200   200   200   200   200  |  200   200   200   200   200
GET  /api/v1/catalog/categories                      : 200   200   200   200   200   200   200  |  200   200   200   200   200
GET  /api/v1/catalog/categories/{code}               : 200   200   200   200   200   200   200  |  200   200   200   200   200
GET  /api/v1/catalog/codelists                       : 200   200   200   200   200   200   200  |  200   200   200   200   200
GET  /api/v1/catalog/codelists/{code}                : 200   200   200   200   200   200   200  |  200   200   200   200   200
POST /api/v1/checks                                  : 401   200   200   403   403   200   200  |  200   403   403   200   200
GET  /api/v1/checks/matters                          : 401   200   200   403   403   200   200  |  200   403   403   200   200
GET  /api/v1/checks/{check_id}                       : 401   200   200   403   403   404   404  |  200   403   403   404   200
POST /api/v1/checks/{check_id}/feedback              : 401   200   200   403   403   404   404  |  200   403   403   404   200
POST /api/v1/checks/batches                          : 401   200   200   403   403   200   200  |  200   403   403   200   200
GET  /api/v1/checks/batches/{batch_id}               : 401   200   200   403   403   404   404  |  200   403   403   404   200
GET  /api/v1/checks/batches/{batch_id}/result        : 401   200   200   403   403   404   404  |  200   403   403   404   200
GET  /api/v1/checks/notifications                    : 401   200   200   403   403   200   200  |  200   403   403   200   200
GET  /api/v1/checks/webhook                          : 401   404   404   403   403   404   404  |  404   403   403   404   404
PUT  /api/v1/checks/webhook                          : 401   403   403   403   403   403   403  |  200   403   403   200   200
GET  /api/v1/commitments                             : 401   200   200   200   200   403   403  |  200   200   200   403   403
GET  /api/v1/commitments/{code}                      : 401   200   200   200   404   403   403  |  200   200   404   403   403
POST /api/v1/commitments/{code}/assessment           : 401   200   200   200   403   403   403  |  200   200   403   403   403
POST /api/v1/submissions                             : 401   201   403   201   403   403   403  |  403   201   403   403   403
GET  /api/v1/submissions                             : 401   200   200   200   200   403   403  |  200   200   200   403   403
GET  /api/v1/submissions/{submission_id}             : 401   200   200   200   404   403   403  |  200   200   404   403   403
GET  /api/v1/submissions/{submission_id}/errors      : 401   200   200   200   404   403   403  |  200   200   404   403   403
GET  /api/v1/submissions/{submission_id}/errors.xlsx : 401   200   200   200   404   403   403  |  200   200   404   403   403
POST /api/v1/records                                 : 401   201   403   201   403   403   403  |  403   201   403   403   403
GET  /api/v1/records/{record_id}/publicity           : 401   200   200   200   200   403   403  |  200   200   200   403   403
POST /api/v1/records/{record_id}/tier                : 401   200   403   200   403   403   403  |  403   200   403   403   403
GET  /api/v1/financing/products                      : 200   200   200   200   200   200   200  |  200   200   200   200   200
POST /api/v1/financing/demands                       : 401   403   403   403   403   403   403  |  403   403   403   403   403
GET  /api/v1/financing/demands                       : 401   403   403   403   403   403   200  |  403   403   403   403   200
POST /api/v1/financing/demands/{demand_id}/outcomes  : 401   403   403   403   403   403   201  |  403   403   403   403   201
POST /api/v1/financing/authorisations                : 401   403   403   403   403   403   403  |  403   403   403   403   403
GET  /api/v1/financing/authorisations                : 401   403   403   403   403   403   403  |  403   403   403   403   403
POST /api/v1/financing/authorisations/{authorisation_id}/revoke : 401   403   403   403   403   403   403  |  403   403   403   403   403
GET  /api/v1/financing/profiles/{subject_id}         : 401   403   403   403   403   403   200  |  403   403   403   403   200
GET  /api/v1/financing/views                         : 401   403   403   403   403   403   403  |  403   403   403   403   403
GET  /api/v1/financing/statistics                    : 401   200   200   403   403   403   403  |  200   403   403   403   403
GET  /api/v1/lists/types                             : 200   200   200   200   200   200   200  |  200   200   200   200   200
GET  /api/v1/lists/entries                           : 401   200   200   200   200   403   403  |  200   200   200   403   403
POST /api/v1/lists/entries                           : 401   201   201   201   403   403   403  |  201   201   403   403   403
GET  /api/v1/lists/entries/{entry_id}                : 401   200   200   200   404   403   403  |  200   200   404   403   403
POST /api/v1/lists/entries/{entry_id}/remove         : 401   200   200   200   403   403   403  |  200   200   403   403   403
GET  /api/v1/measures/matters                        : 200   200   200   200   200   200   200  |  200   200   200   200   200
GET  /api/v1/measures                                : 200   200   200   200   200   200   200  |  200   200   200   200   200
GET  /api/v1/public/search                           : 200   200   200   200   200   200   200  |  200   200   200   200   200
POST /api/v1/public/search                           : 200   200   200   200   200   200   200  |  200   200   200   200   200
POST /api/v1/public/persons/lookup                   : 200   200   200   200   200   200   200  |  200   200   200   200   200
GET  /api/v1/public/subjects/{ref}                   : 200   200   200   200   200   200   200  |  200   200   200   200   200
GET  /api/v1/public/subjects/{ref}/records           : 200   200   200   200   200   200   200  |  200   200   200   200   200
GET  /api/v1/public/publicity                        : 200   200   200   200   200   200   200  |  200   200   200   200   200
GET  /api/v1/public/publicity/{record_id}            : 200   200   200   200   200   200   200  |  200   200   200   200   200
GET  /api/v1/public/lists                            : 200   200   200   200   200   200   200  |  200   200   200   200   200
GET  /api/v1/public/lists/{code}/entries             : 200   200   200   200   200   200   200  |  200   200   200   200   200
GET  /api/v1/public/measures                         : 200   200   200   200   200   200   200  |  200   200   200   200   200
GET  /api/v1/public/news                             : 200   200   200   200   200   200   200  |  200   200   200   200   200
GET  /api/v1/public/news/{article_id}                : 200   200   200   200   200   200   200  |  200   200   200   200   200
GET  /api/v1/public/reports/{number}                 : 200   200   200   200   200   200   200  |  200   200   200   200   200
POST /api/v1/repairs                                 : 401   201   201   403   403   201   403  |  201   403   403   201   403
GET  /api/v1/repairs                                 : 401   200   200   200   200   200   403  |  200   200   200   200   403
GET  /api/v1/repairs/{repair_id}                     : 401   200   200   200   200   404   403  |  200   200   200   200   403
GET  /api/v1/repairs/{repair_id}/letter              : 401   200   200   200   200   404   403  |  200   200   200   200   403
POST /api/v1/objections                              : 401   201   201   201   403   201   403  |  201   201   403   201   403
GET  /api/v1/objections                              : 401   200   200   200   200   200   403  |  200   200   200   200   403
GET  /api/v1/objections/{objection_id}               : 401   200   200   200   200   404   403  |  200   200   200   200   403
GET  /api/v1/objections/{objection_id}/letter        : 401   200   200   200   200   404   403  |  200   200   200   200   403
GET  /api/v1/reminders/webhook                       : 401   404   403   404   403   403   403  |  403   404   403   403   403
PUT  /api/v1/reminders/webhook                       : 401   403   403   403   403   403   403  |  403   200   403   403   403
POST /api/v1/reports                                 : 401   201   201   403   403   201   201  |  201   403   403   201   201
POST /api/v1/reports/batches                         : 401   201   201   403   403   201   201  |  201   403   403   201   201
GET  /api/v1/reports/batches/{batch_id}              : 401   200   200   403   403   404   404  |  200   403   403   404   200
GET  /api/v1/reports/batches/{batch_id}/zip          : 401   200   200   403   403   404   404  |  200   403   403   404   200
GET  /api/v1/reports/{number}                        : 401   200   200   403   403   404   404  |  200   403   403   404   200
GET  /api/v1/reports/{number}/pdf                    : 401   200   200   403   403   404   404  |  200   403   403   404   200
GET  /api/v1/scoring/supervision                     : 401   200   200   200   200   403   403  |  200   200   200   403   403
GET  /api/v1/sharing/subjects/{ref}/records          : 401   200   200   200   403   403   403  |  200   200   403   403   403
GET  /api/v1/sharing/subjects/{ref}/lists            : 401   200   200   200   403   403   403  |  200   200   403   403   403
GET  /api/v1/subjects/search                         : 401   200   200   200   200   200   200  |  200   200   200   200   200
GET  /api/v1/subjects/{subject_id}                   : 401   200   200   200   404   200   200  |  200   200   404   200   200
POST /api/v1/subjects/idcheck                        : 200   200   200   200   200   200   200  |  200   200   200   200   200
"""


def parse(text: str) -> dict[tuple[str, str], tuple[int, ...]]:
    table = {}
    for line in text.strip().splitlines():
        operation, _sep, statuses = line.partition(":")
        method, path = operation.split()
        codes = tuple(int(s) for s in statuses.replace("|", " ").split())
        assert len(codes) == len(COLUMNS), line
        table[(method, path)] = codes
    return table


def clients(world) -> dict[str, Client]:
    out = {"anon": Client()}
    short = {
        "platform_admin": "admin",
        "centre_staff": "centre",
        "department_clerk": "clerk",
        "district_admin": "district",
        "window_clerk": "window",
        "bank_user": "bank",
    }
    for role, user in world.users.items():
        client = Client()
        client.force_login(user)
        out[f"s:{short[role]}"] = client
    for role, clear in world.keys.items():
        out[f"k:{short[role]}"] = Client(HTTP_AUTHORIZATION=f"Bearer {clear}")
    return out


def request_for(world, method: str, path: str):
    """The concrete URL and body of one call of the operation (valid where it can be)."""
    org = world.org
    values = {
        "{code}": "CF",
        "{check_id}": world.check_id,
        "{batch_id}": world.batch_id,
        "{submission_id}": world.submission_id,
        "{record_id}": world.record_id,
        "{entry_id}": world.entry_id,
        "{ref}": world.subject_ref,
        "{article_id}": world.article_id,
        "{subject_id}": org.pk,
        "{number}": world.report_number,
        "{repair_id}": world.repair_id,
        "{objection_id}": world.objection_id,
        "{demand_id}": world.demand_id,
        "{authorisation_id}": world.authorisation_id,
    }
    url = path
    if path.startswith("/api/v1/catalog/codelists/"):
        url = url.replace("{code}", world.codelist)
    elif path.startswith("/api/v1/commitments/"):
        url = url.replace("{code}", world.commitment_code)
    elif path.startswith("/api/v1/public/lists/"):
        url = url.replace("{code}", world.list_code)
    elif path.startswith("/api/v1/public/publicity/"):
        url = url.replace("{record_id}", str(world.public_record_id))
    elif path.startswith("/api/v1/reports/"):
        url = url.replace("{batch_id}", str(world.report_batch_id))
        url = url.replace("{number}", world.api_report_number)
    for name, value in values.items():
        url = url.replace(name, str(value))
    query = {
        "/api/v1/public/search": "?q=淄博",
        "/api/v1/subjects/search": "?name=淄博",
        # the clerks' own department; a district administrator gets its district's subjects
        "/api/v1/scoring/supervision": f"?department={apiworld.DEPARTMENT}",
        # 共享 (issue 19): a stated purpose is required
        "/api/v1/sharing/subjects/{ref}/records": "?purpose=行政许可审查",
        "/api/v1/sharing/subjects/{ref}/lists": "?purpose=行政许可审查",
    }
    if method == "GET":
        return url + query.get(path, ""), None
    from pubcredit.testing.portalkit import penalty

    bodies = {
        "/api/v1/checks": {"uscc": org.uscc, "matter": "FINANCING"},
        "/api/v1/checks/{check_id}/feedback": {
            "items": [{"measure": world.measure, "applied": True}]
        },
        "/api/v1/checks/webhook": {"url": "https://1.2.3.4/hook"},
        "/api/v1/reminders/webhook": {"url": "https://1.2.3.4/hook"},
        "/api/v1/commitments/{code}/assessment": {"performance": "全部履行", "reason": "按期履行"},
        "/api/v1/records": {
            "category": "CF",
            "department": apiworld.DEPARTMENT,
            "rows": [penalty(9002, name="淄博接口矩阵有限公司")],
        },
        "/api/v1/records/{record_id}/tier": {"tier": "serious", "reason": "复核认定"},
        "/api/v1/lists/entries": {
            "list_type": "RED_CONTRACT",
            "subject_id": org.pk,
            "basis": "判决",
            "decided_on": "2025-01-10",
            "department": apiworld.DEPARTMENT,
        },
        "/api/v1/lists/entries/{entry_id}/remove": {"reason": "履行完毕"},
        "/api/v1/public/search": {"q": "淄博"},
        "/api/v1/public/persons/lookup": {"id_number": "370303199001011237"},
        "/api/v1/subjects/idcheck": {"values": [org.uscc]},
        "/api/v1/reports": {"uscc": org.uscc, "purpose": "招标投标"},
        "/api/v1/reports/batches": {"uscc": [org.uscc]},
        "/api/v1/financing/demands": {
            "amount": "50",
            "term_months": 12,
            "purpose": "购买设备",
            "sector": "C",
        },
        "/api/v1/financing/demands/{demand_id}/outcomes": {"kind": "accepted"},
        "/api/v1/financing/authorisations": {
            "scopes": ["records"],
            "valid_until": "2099-01-01T00:00:00+08:00",
        },
        "/api/v1/financing/authorisations/{authorisation_id}/revoke": {},
    }
    if path == "/api/v1/checks/batches":
        csv = f"统一社会信用代码,名称\n{org.uscc},{org.name}\n".encode()
        return url, {"file": SimpleUploadedFile("b.csv", csv, "text/csv"), "matter": "FINANCING"}
    if path == "/api/v1/submissions":
        csv = "行政相对人名称,统一社会信用代码\n淄博某公司,91370303MA3C00000X\n".encode()
        return url, {
            "file": SimpleUploadedFile("s.csv", csv, "text/csv"),
            "category": "CF",
            "department": apiworld.DEPARTMENT,
        }
    if path in ("/api/v1/repairs", "/api/v1/objections"):
        return url, _procedure_form(world, path)
    return url, json.dumps(bodies[path])


def _procedure_form(world, path: str) -> dict:
    """A filing for an applicant (multipart): a repair of a penalty that may be repaired, an
    objection to a penalty of the clerks' department shown today."""
    form = {"applicant_name": "李经办", "applicant_phone": "0533-1234567"}
    if path == "/api/v1/objections":
        return {
            **form,
            "record_id": world.objection_record_id,
            "target": "content",
            "reason": "有误",
        }
    return {
        **form,
        "record_id": world.repair_record_id,
        "statement": "已缴纳罚款并完成整改。",
        "obligations_declared": "true",
        "accept_commitment": "true",
        "material_proof": SimpleUploadedFile("p.pdf", b"%PDF-1.4 p", "application/pdf"),
    }


def call(client, method, url, body):
    if body is None:
        return client.generic(method, url)
    if isinstance(body, dict):
        return client.post(url, body)
    return client.generic(method, url, body, content_type="application/json")


def operations(client) -> list[tuple[str, str]]:
    document = client.get("/api/v1/openapi.json").json()
    return sorted(
        (method.upper(), path) for path, ops in document["paths"].items() for method in ops
    )


def test_the_table_covers_every_operation(client):
    assert sorted(parse(MATRIX)) == operations(client)


def test_every_caller_gets_the_expected_status(world, settings):
    settings.PUBCREDIT_PUBLIC_RATE = "0"
    table = parse(MATRIX)
    callers = clients(world)
    wrong = []
    for method, path in operations(Client()):
        row = []
        for column in COLUMNS:
            url, body = request_for(world, method, path)
            with transaction.atomic():
                status = call(callers[column], method, url, body).status_code
                transaction.set_rollback(True)
            row.append(status)
        if table.get((method, path)) != tuple(row):
            wrong.append(f"{method} {path}: {' '.join(map(str, row))}")
    assert wrong == []
