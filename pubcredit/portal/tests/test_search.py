"""The public name search: bigram index, any 2+ character substring, filters, ranking, upkeep,
and natural persons never found by name."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pubcredit.catalog.models import SubjectKind
from pubcredit.portal import search
from pubcredit.portal.models import GramStat, NameGram, SearchEntry, SearchIndexState
from pubcredit.portal.services import search_subjects
from pubcredit.subjects.models import FormerName, Subject
from pubcredit.subjects.names import normalize_name
from pubcredit.subjects.services import register_subject, rename_subject

pytestmark = pytest.mark.django_db

ZHANGDIAN, ZICHUAN = "370303", "370302"


def org(name, region=ZHANGDIAN, kind=SubjectKind.ORG, uscc=None):
    return Subject.objects.create(
        kind=kind, name=name, name_norm=normalize_name(name), region=region, uscc=uscc
    )


def bulk_org(name, region=ZHANGDIAN, kind=SubjectKind.ORG):
    """A subject written the way bulk loaders write (no signals)."""
    Subject.objects.bulk_create(
        [Subject(kind=kind, name=name, name_norm=normalize_name(name), region=region)]
    )
    return Subject.objects.get(name=name)


def names(outcome):
    return [hit.subject.name for hit in outcome.hits]


@pytest.fixture
def city():
    subjects = [
        org("淄博宏达机械制造有限公司"),
        org("宏达商店", kind=SubjectKind.INDIVIDUAL_BUSINESS),
        org("淄川区宏达陶瓷有限公司", region=ZICHUAN),
        org("山东华宇化工集团有限公司"),
        org("淄博达机科技有限公司"),
    ]
    Subject.objects.create(kind=SubjectKind.PERSON, name="宏达", name_norm="宏达", region=ZHANGDIAN)
    return subjects


def test_bigram_encoding_round_trips():
    for pair in ["宏达", "AB", "淄1", "𠀀𠀁"]:
        assert search.decode_gram(search.encode_gram(pair)) == pair
    assert search.query_grams("宏达宏达") == [
        search.encode_gram("宏达"),
        search.encode_gram("达宏"),
    ]


def test_two_character_query_finds_every_name_containing_it_shortest_first(city):
    outcome = search_subjects("宏达")
    assert outcome.mode == "name"
    assert names(outcome) == ["宏达商店", "淄川区宏达陶瓷有限公司", "淄博宏达机械制造有限公司"]
    assert outcome.total == 3 and not outcome.more


def test_a_substring_in_the_middle_of_a_name_is_found(city):
    assert names(search_subjects("达机")) == ["淄博达机科技有限公司", "淄博宏达机械制造有限公司"]
    assert names(search_subjects("机械制造")) == ["淄博宏达机械制造有限公司"]
    assert names(search_subjects("化工集团有限")) == ["山东华宇化工集团有限公司"]


def test_bigrams_present_but_not_adjacent_do_not_match(city):
    # 宏达 and 达机 both occur in 淄博达机科技 only apart from 宏达…: "宏达机" needs the substring.
    assert names(search_subjects("宏达机")) == ["淄博宏达机械制造有限公司"]
    assert names(search_subjects("达宏")) == []


def test_query_is_normalised_like_the_register(city):
    assert names(search_subjects(" 宏 达 机械 ")) == ["淄博宏达机械制造有限公司"]
    assert names(search_subjects("宏達機械")) == ["淄博宏达机械制造有限公司"]  # traditional


def test_one_character_is_refused_with_a_chinese_message(city):
    outcome = search_subjects("宏")
    assert outcome.hits == [] and "至少" in outcome.message


def test_natural_persons_are_never_found_by_name(city):
    assert "宏达" not in names(search_subjects("宏达"))
    assert search_subjects("宏达", kind=SubjectKind.PERSON).hits == []
    assert "身份证" in search_subjects("宏达", kind=SubjectKind.PERSON).message
    assert not SearchEntry.objects.filter(kind=SubjectKind.PERSON).exists()


def test_filters_by_district_and_kind(city):
    assert names(search_subjects("宏达", district=ZICHUAN)) == ["淄川区宏达陶瓷有限公司"]
    assert names(search_subjects("宏达", kind=SubjectKind.INDIVIDUAL_BUSINESS)) == ["宏达商店"]
    assert names(search_subjects("有限公司", district=ZICHUAN, kind=SubjectKind.ORG)) == [
        "淄川区宏达陶瓷有限公司"
    ]
    assert search_subjects("宏达", district="370304").hits == []


def test_pagination_and_cap(monkeypatch, city):
    monkeypatch.setattr(search, "RESULT_CAP", 3)
    first = search_subjects("有限公司", limit=2)
    assert first.total == 3 and first.more
    second = search_subjects("有限公司", limit=2, offset=2)
    assert len(first.hits) == 2 and len(second.hits) == 1
    assert not set(names(first)) & set(names(second))


def test_former_names_are_searchable_and_shown(city, system):
    subject = register_subject(
        system, kind=SubjectKind.ORG, name="淄博新名字有限公司", uscc="91370303MA3C4Q2X1W"
    )
    rename_subject(system, subject, "淄博另一个名字有限公司", reason="工商变更")
    outcome = search_subjects("新名字")
    assert names(outcome) == ["淄博另一个名字有限公司"]
    assert outcome.hits[0].matched_former_name == "淄博新名字有限公司"
    assert names(search_subjects("另一个")) == ["淄博另一个名字有限公司"]


def test_uscc_search_is_exact(city, system):
    subject = register_subject(
        system, kind=SubjectKind.ORG, name="淄博信用代码有限公司", uscc="91370303MA3C4Q2X1W"
    )
    outcome = search_subjects("91370303MA3C4Q2X1W")
    assert outcome.mode == "uscc" and [h.subject.ref for h in outcome.hits] == [str(subject.pk)]
    assert search_subjects("91370303 ma3c4q2x1w").hits[0].subject.uscc == "91370303MA3C4Q2X1W"
    wrong = search_subjects("91370303MA3C4Q2X1U")
    assert wrong.mode == "invalid" and wrong.hits == [] and "校验" in wrong.message


def test_a_person_is_found_only_by_a_full_id_number_and_shown_masked(platform, system):
    from pubcredit.testing.portalkit import penalty, submit

    person = register_subject(
        system, kind=SubjectKind.PERSON, name="张三丰", id_number="370303198001010012"
    )
    # In the register with nothing public: answered like an unknown number.
    quiet = search_subjects("370303198001010012")
    assert (quiet.mode, quiet.hits, quiet.total) == ("id", [], 0)
    submit(system, "CF", [penalty(9, name="张三丰", kind="自然人", id_number="370303198001010012")])
    outcome = search_subjects("370303198001010012")
    assert outcome.mode == "id"
    [hit] = outcome.hits
    assert hit.subject.name == "张**"
    assert hit.subject.id_masked == "370303********0012"
    assert hit.subject.ref.startswith("p-") and str(person.pk) != hit.subject.ref
    assert "370303198001010012" not in repr(outcome.as_dict())
    assert search_subjects("张三丰").hits == []
    assert search_subjects("370303198001010020").hits == []  # another valid number: nobody


def test_signals_index_registered_and_renamed_subjects_in_the_same_transaction(system):
    subject = register_subject(system, kind=SubjectKind.ORG, name="淄博甲乙丙有限公司")
    assert names(search_subjects("甲乙")) == ["淄博甲乙丙有限公司"]
    rename_subject(system, subject, "淄博丁戊己有限公司", reason="更名")
    assert names(search_subjects("丁戊")) == ["淄博丁戊己有限公司"]
    assert names(search_subjects("甲乙")) == ["淄博丁戊己有限公司"]  # former name
    subject.former_names.all().delete()
    assert search_subjects("甲乙").hits == []
    subject.delete()
    assert search_subjects("丁戊").hits == []
    assert not SearchEntry.objects.filter(subject_id=subject.pk).exists()


def test_bulk_written_subjects_are_caught_up_by_a_search(city):
    search.refresh_search_index()
    bulk_org("淄博批量写入有限公司")
    assert names(search_subjects("批量")) == ["淄博批量写入有限公司"]


def test_refresh_indexes_bulk_subjects_changes_and_drops_removed_ones(city, monkeypatch):
    search.rebuild_search_index()
    monkeypatch.setattr(search, "LAZY_REFRESH_LIMIT", 0)  # no catch-up inside the search
    new = bulk_org("淄博后来者有限公司")
    assert search_subjects("后来者").hits == []
    Subject.objects.filter(name="宏达商店").update(name="宏达小店", name_norm="宏达小店")
    gone = Subject.objects.get(name="山东华宇化工集团有限公司")
    Subject.objects.filter(pk=gone.pk).delete()  # queryset delete still sends signals…
    SearchEntry.objects.create(doc=999_999, subject_id=10**9, kind="org", region="", text="幽灵")
    summary = search.refresh_search_index()
    assert summary.indexed >= 2 and summary.removed >= 1
    assert names(search_subjects("后来者")) == ["淄博后来者有限公司"]
    assert names(search_subjects("小店")) == ["宏达小店"]
    assert search_subjects("商店").hits == []
    assert not SearchEntry.objects.filter(subject_id=10**9).exists()
    assert SearchIndexState.objects.get().max_subject_id >= new.pk
    again = search.refresh_search_index()
    assert (again.indexed, again.removed) == (0, 0)  # idempotent


def test_rebuild_is_complete_and_gram_statistics_match_postings(city):
    FormerName.objects.create(
        subject=city[0], name="淄博旧名称有限公司", name_norm="淄博旧名称有限公司"
    )
    summary = search.rebuild_search_index()
    assert summary.indexed == 5
    texts = set(SearchEntry.objects.values_list("text", flat=True))
    assert "淄博宏达机械制造有限公司|淄博旧名称有限公司" in texts
    docs = list(SearchEntry.objects.order_by("doc").values_list("text", flat=True))
    assert docs[0] == "宏达商店"  # shortest first
    for stat in GramStat.objects.all():
        assert stat.df == NameGram.objects.filter(gram=stat.gram).count()
    assert NameGram.objects.filter(gram=search.encode_gram("旧名")).count() == 1


def test_gram_statistics_stay_exact_through_incremental_changes(city, system):
    search.rebuild_search_index()
    subject = register_subject(system, kind=SubjectKind.ORG, name="淄博统计测试有限公司")
    rename_subject(system, subject, "淄博统计改名有限公司", reason="更名")
    subject.delete()
    stats = dict(GramStat.objects.values_list("gram", "df"))
    for gram, df in stats.items():
        assert df == NameGram.objects.filter(gram=gram).count(), search.decode_gram(gram)


def test_special_characters_in_a_query_are_literal(city):
    org("淄博百分之百%有限公司")
    assert search_subjects("%%").hits == []
    assert search_subjects("__").hits == []


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.text(alphabet="宏达机械淄博有限公司AB1", min_size=2, max_size=10),
        min_size=1,
        max_size=8,
        unique=True,
    ),
    st.text(alphabet="宏达机械淄博有限公司AB1", min_size=2, max_size=4),
)
def test_search_agrees_with_a_plain_substring_scan(name_list, query):
    Subject.objects.all().delete()
    for name in name_list:
        Subject.objects.create(kind="org", name=name, name_norm=normalize_name(name))
    search.rebuild_search_index()
    norm = normalize_name(query)
    expected = sorted(n for n in name_list if norm in normalize_name(n))
    found = search_subjects(query, limit=50)
    assert sorted(names(found)) == expected
    assert found.total == len(expected)
