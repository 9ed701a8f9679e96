"""The subject admin writes through the services and never shows a clear ID number."""

import pytest
from django.test import Client

from pubcredit.accounts.models import AuditEvent, User
from pubcredit.core.identifiers import ric_check_char, uscc_check_char
from pubcredit.subjects.models import FormerName, Subject
from pubcredit.subjects.services import register_subject

pytestmark = pytest.mark.django_db

RIC = "37030319800101123" + ric_check_char("37030319800101123")
USCC = "91370303MA3C00001" + uscc_check_char("91370303MA3C00001")


@pytest.fixture
def admin_client():
    user = User.objects.create_superuser(username="root", password="x", email="r@example.org")
    client = Client()
    client.force_login(user)
    return client


def test_add_person_through_service_and_pages_show_only_masked_id(admin_client):
    response = admin_client.post(
        "/admin/subjects/subject/add/",
        {
            "kind": "person",
            "name": "张三",
            "uscc": "",
            "id_type": "身份证",
            "id_number": RIC,
            "region": "",
            "legal_representative": "",
            "established_on": "",
            "former_names-TOTAL_FORMS": "0",
            "former_names-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    person = Subject.objects.get()
    assert person.id_masked == RIC[:6] + "********" + RIC[-4:]
    assert AuditEvent.objects.filter(action="subjects.register", actor_label="root").exists()
    for url in ["/admin/subjects/subject/", f"/admin/subjects/subject/{person.pk}/change/"]:
        page = admin_client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert RIC not in html and person.id_masked in html


def test_add_refuses_bad_uscc_with_chinese_message(admin_client):
    response = admin_client.post(
        "/admin/subjects/subject/add/",
        {
            "kind": "org",
            "name": "某公司",
            "uscc": USCC[:-1] + ("0" if USCC[-1] != "0" else "1"),
            "id_type": "身份证",
            "former_names-TOTAL_FORMS": "0",
            "former_names-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "校验位错误" in response.content.decode()
    assert not Subject.objects.exists()


def test_change_renames_through_service(admin_client, system):
    org = register_subject(system, kind="org", name="淄博宏达有限公司", uscc=USCC)
    response = admin_client.post(
        f"/admin/subjects/subject/{org.pk}/change/",
        {
            "region": "370303",
            "legal_representative": "李四",
            "established_on": "",
            "new_name": "淄博宏远有限公司",
            "rename_reason": "市场监管局变更登记",
            "former_names-TOTAL_FORMS": "0",
            "former_names-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    org.refresh_from_db()
    assert org.name == "淄博宏远有限公司" and org.legal_representative == "李四"
    assert FormerName.objects.get(subject=org).name == "淄博宏达有限公司"
    assert AuditEvent.objects.filter(action="subjects.rename").count() == 1
    assert AuditEvent.objects.filter(action="subjects.change").count() == 1
