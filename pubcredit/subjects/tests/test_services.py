"""register / rename / find: validation, idempotency, audit trail, encrypted person ids."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from pubcredit.accounts.models import AuditEvent
from pubcredit.accounts.permissions import Principal
from pubcredit.core.identifiers import ric_check_char, uscc_check_char
from pubcredit.subjects import crypto
from pubcredit.subjects.models import FormerName, Subject
from pubcredit.subjects.services import (
    backfill_name_keys,
    find_subject,
    register_subject,
    rename_subject,
)

pytestmark = pytest.mark.django_db


def make_uscc(prefix: str = "91370303", body: str = "MA3C0000") -> str:
    first17 = (prefix + body + "1")[:17]
    return first17 + uscc_check_char(first17)


def make_ric(first17: str = "37030319800101123") -> str:
    return first17 + ric_check_char(first17)


def test_register_org_fills_derived_fields_and_audits(system):
    code = make_uscc()
    s = register_subject(
        system, kind="org", name="淄博 宏达（集团）有限责任公司", uscc=code.lower()
    )
    assert s.uscc == code
    assert s.org_category == "91"
    assert s.region == "370303"
    assert s.name == "淄博 宏达（集团）有限责任公司"
    assert s.name_norm == "淄博宏达(集团)有限责任公司"
    assert s.name_key == "宏达集团"
    ev = AuditEvent.objects.get(action="subjects.register", object_id=str(s.pk))
    assert ev.after["uscc"] == code
    assert ev.actor_label == "test"


def test_register_is_idempotent_on_identifier(system):
    code = make_uscc()
    a = register_subject(system, kind="org", name="淄博宏达有限公司", uscc=code)
    b = register_subject(system, kind="org", name="别的名字有限公司", uscc=" " + code + " ")
    assert a.pk == b.pk
    assert Subject.objects.get(pk=a.pk).name == "淄博宏达有限公司"
    assert AuditEvent.objects.filter(action="subjects.register").count() == 1


def test_register_rejects_invalid_uscc_in_chinese(system):
    bad = make_uscc()[:-1] + ("0" if make_uscc()[-1] != "0" else "1")
    with pytest.raises(ValidationError) as exc:
        register_subject(system, kind="org", name="某公司", uscc=bad)
    assert "校验位错误" in " ".join(exc.value.messages)
    assert not Subject.objects.exists()


def test_register_kind_must_fit_category(system):
    with pytest.raises(ValidationError, match="个体工商户"):
        register_subject(system, kind="org", name="张三小吃店", uscc=make_uscc("92370303"))
    with pytest.raises(ValidationError, match="92 开头"):
        register_subject(system, kind="ind", name="张三小吃店", uscc=make_uscc("91370303"))
    s = register_subject(system, kind="ind", name="张三小吃店", uscc=make_uscc("92370303"))
    assert s.org_category == "92"


def test_person_never_stores_clear_id(system):
    ric = make_ric()
    with pytest.raises(ValidationError, match="自然人不能登记统一社会信用代码"):
        register_subject(system, kind="person", name="张三", id_number=ric, uscc=make_uscc())
    s = register_subject(system, kind="person", name="张三", id_number=ric.lower())
    assert s.uscc is None
    assert s.region == "370303"
    assert s.id_masked == ric[:6] + "********" + ric[-4:]
    assert crypto.decrypt_id(s.id_cipher) == ric
    assert s.id_index == crypto.blind_index(ric)
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM subjects_subject WHERE id = %s", [s.pk])
        row = cur.fetchone()
    for value in row:
        if isinstance(value, bytes | memoryview):
            value = bytes(value)
            assert ric.encode() not in value
        else:
            assert ric not in str(value)
    event = AuditEvent.objects.get(action="subjects.register", object_id=str(s.pk))
    assert ric not in str(event.after)
    again = register_subject(system, kind="person", name="张三", id_number=ric)
    assert again.pk == s.pk


def test_person_requires_valid_id(system):
    with pytest.raises(ValidationError, match="必须填写证件号码"):
        register_subject(system, kind="person", name="张三")
    with pytest.raises(ValidationError, match="校验位错误"):
        register_subject(system, kind="person", name="张三", id_number="370303198001011230")


def test_writes_need_subjects_change():
    clerk = Principal(role="window_clerk", label="w")
    with pytest.raises(PermissionDenied):
        register_subject(clerk, kind="org", name="某公司", uscc=make_uscc())


def test_rename_keeps_former_name_and_audits(system):
    s = register_subject(system, kind="org", name="淄博宏达有限公司", uscc=make_uscc())
    with pytest.raises(ValidationError, match="原因"):
        rename_subject(system, s, "淄博宏远有限公司", reason=" ")
    with pytest.raises(ValidationError, match="相同"):
        rename_subject(system, s, "淄博宏达有限公司 ", reason="x")
    rename_subject(system, s, "淄博宏远有限公司", reason="工商变更", effective=dt.date(2024, 5, 1))
    s.refresh_from_db()
    assert s.name == "淄博宏远有限公司"
    former = FormerName.objects.get(subject=s)
    assert former.name == "淄博宏达有限公司"
    assert former.used_until == dt.date(2024, 4, 30)
    ev = AuditEvent.objects.get(action="subjects.rename")
    assert ev.before["name"] == "淄博宏达有限公司"
    assert ev.after["name"] == "淄博宏远有限公司"
    assert ev.reason == "工商变更"
    # the old name still finds the subject
    assert find_subject(name="淄博宏达有限公司").subject == s


def test_find_by_identifier(system):
    code = make_uscc()
    ric = make_ric()
    org = register_subject(system, kind="org", name="淄博宏达有限公司", uscc=code)
    person = register_subject(system, kind="person", name="李四", id_number=ric)
    assert find_subject(uscc=code.lower()).subject == org
    m = find_subject(id_number=" " + ric)
    assert m.subject == person
    assert m.candidates[0].score == 100
    assert find_subject(uscc=make_uscc(body="MA3C0001")).subject is None


def test_find_by_name_exact_and_fuzzy(system):
    target = register_subject(
        system, kind="org", name="淄博市张店区宏达机械制造有限公司", uscc=make_uscc()
    )
    register_subject(
        system, kind="org", name="淄博宏达贸易有限公司", uscc=make_uscc(body="MA3C0002")
    )
    register_subject(
        system, kind="org", name="淄博华能电力有限公司", uscc=make_uscc(body="MA3C0003")
    )
    exact = find_subject(name="淄博市张店区 宏达机械制造有限公司")
    assert exact.subject == target
    assert exact.candidates[0].score == 100

    variant = find_subject(name="淄博市张店区宏达机械制造有限责任公司")
    assert variant.subject is None
    assert variant.candidates[0].subject == target
    assert variant.candidates[0].score == 100

    typo = find_subject(name="张店宏达机械制浩有限公司")
    assert typo.subject is None
    assert typo.candidates[0].subject == target
    assert 60 < typo.candidates[0].score < 100
    scores = [c.score for c in typo.candidates]
    assert scores == sorted(scores, reverse=True)
    assert all(c.subject.name != "淄博华能电力有限公司" for c in typo.candidates)


def test_find_respects_kinds(system):
    register_subject(system, kind="org", name="淄博宏达有限公司", uscc=make_uscc())
    assert find_subject(name="淄博宏达有限公司", kinds=["person"]).candidates == []


def test_backfill_name_keys(system):
    s = register_subject(system, kind="org", name="淄博宏达有限公司", uscc=make_uscc())
    Subject.objects.filter(pk=s.pk).update(name_key="")
    assert backfill_name_keys() == 1
    s.refresh_from_db()
    assert s.name_key == "宏达"


def _bulk_subjects(names_list):
    from pubcredit.subjects.names import name_keys, normalize_names

    norms = normalize_names(names_list)
    Subject.objects.bulk_create(
        Subject(kind="org", name=n, name_norm=nn, name_key=k)
        for n, nn, k in zip(names_list, norms, name_keys(norms), strict=True)
    )


def test_name_search_never_loads_the_whole_table(system):
    import random

    from django.test.utils import CaptureQueriesContext

    rng = random.Random(3)
    chars = "宏达华兴盛昌隆鑫源泰恒丰瑞祥安康永信德利通汇金鼎"
    industries = ["机械制造", "商贸", "化工", "物流", "科技", "陶瓷"]
    _bulk_subjects(
        [
            f"淄博{rng.choice(chars)}{rng.choice(chars)}{rng.choice(industries)}有限公司"
            for _ in range(3000)
        ]
    )
    target = register_subject(system, kind="org", name="淄博齐鲁瑞丰纺织有限公司", uscc=make_uscc())
    with CaptureQueriesContext(connection) as ctx:
        wrong_first = find_subject(name="淄博齐路瑞丰纺织有限公司")  # wrong 2nd char of key
    assert wrong_first.candidates[0].subject == target
    # every query is capped, or fetches the few ranked rows by primary key
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert len(sqls) < 15
    for sql in sqls:
        assert "LIMIT" in sql.upper() or '"subjects_subject"."id" IN (' in sql, sql

    first_char_typo = find_subject(name="淄博齐鲁瑞丰纺织有限公司".replace("齐", "奇"))
    assert first_char_typo.candidates[0].subject == target

    by_brand = find_subject(name="齐鲁瑞丰")
    assert by_brand.candidates[0].subject == target
    assert by_brand.candidates[0].reason == "名称以所查字号开头"


def test_exact_name_shared_by_two_subjects_is_not_an_exact_hit(system):
    register_subject(system, kind="person", name="王伟", id_number=make_ric("37030319800101123"))
    register_subject(system, kind="person", name="王伟", id_number=make_ric("37030319900101123"))
    match = find_subject(name="王伟")
    assert match.subject is None
    assert [c.score for c in match.candidates] == [100.0, 100.0]
