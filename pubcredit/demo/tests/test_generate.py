"""The demo city generator: deterministic, valid identifiers, realistic spread. No database."""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pubcredit.core import identifiers
from pubcredit.demo import generate
from pubcredit.demo.generate import DISTRICTS, DemoCity, generate_subjects


def _digest(frames: list[pl.DataFrame]) -> str:
    h = hashlib.sha256()
    for frame in frames:
        h.update(frame.write_csv().encode("utf-8"))
    return h.hexdigest()


def _city(n: int, seed: int, chunk_size: int = generate.CHUNK_SIZE):
    chunks = list(generate_subjects(n, seed, chunk_size=chunk_size))
    subjects = pl.concat([c.subjects for c in chunks])
    offsets = np.cumsum([0] + [c.subjects.height for c in chunks[:-1]])
    former = pl.concat(
        [
            c.former_names.with_columns(pl.col("row") + int(o))
            for c, o in zip(chunks, offsets, strict=True)
        ]
    )
    return subjects, former


@pytest.fixture(scope="module")
def city():
    return _city(20_000, 7, chunk_size=6_000)


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_byte_identical_frames():
    a = list(generate_subjects(3_000, 42, chunk_size=1_000))
    b = list(generate_subjects(3_000, 42, chunk_size=1_000))
    assert _digest([c.subjects for c in a] + [c.former_names for c in a]) == _digest(
        [c.subjects for c in b] + [c.former_names for c in b]
    )


def test_different_seeds_differ():
    a, _ = _city(2_000, 1)
    b, _ = _city(2_000, 2)
    assert _digest([a]) != _digest([b])
    # Not just a shuffle: most names differ.
    assert len(set(a["name"].to_list()) & set(b["name"].to_list())) < 0.3 * a.height


def test_chunks_have_the_requested_sizes():
    sizes = [c.subjects.height for c in generate_subjects(2_500, 3, chunk_size=1_000)]
    assert sizes == [1_000, 1_000, 500]
    assert list(generate_subjects(0, 3)) == []


def test_output_does_not_depend_on_today(monkeypatch):
    before = _digest([_city(500, 9)[0]])

    class FrozenDate(dt.date):
        @classmethod
        def today(cls):
            return cls(2031, 1, 1)

    monkeypatch.setattr(dt, "date", FrozenDate)
    assert _digest([_city(500, 9)[0]]) == before


# --------------------------------------------------------------------------- identifiers


def test_every_uscc_is_valid_and_unique(city):
    subjects, _ = city
    orgs = subjects.filter(pl.col("uscc").is_not_null())
    assert orgs["uscc"].n_unique() == orgs.height
    # The organisation code inside (positions 9–17) is unique too.
    assert orgs["uscc"].str.slice(8, 9).n_unique() == orgs.height
    for row in orgs.sample(3_000, seed=1).iter_rows(named=True):
        result = identifiers.check_uscc(row["uscc"])
        assert result.valid, (row["uscc"], result.errors)
        # No warning either: known category, known Zibo region, valid GB 11714 check.
        assert result.warnings == [], (row["uscc"], result.warnings)
        assert row["uscc"][:2] == row["org_category"]
        assert row["uscc"][2:8] == row["region"]


def test_every_person_id_is_valid_unique_and_consistent(city):
    subjects, _ = city
    persons = subjects.filter(pl.col("kind") == "person")
    assert persons["id_number"].null_count() == 0
    assert persons["id_number"].n_unique() == persons.height
    assert persons["uscc"].null_count() == persons.height
    assert subjects.filter(pl.col("kind") != "person")["id_number"].null_count() == (
        subjects.height - persons.height
    )
    for row in persons.sample(3_000, seed=2).iter_rows(named=True):
        number = row["id_number"]
        result = identifiers.check_ric(number)
        assert result.valid, (number, result.errors)
        assert number[:6] == row["region"]
        born = identifiers.ric_birth_date(number)
        assert dt.date(1940, 1, 1) <= born <= dt.date(2006, 12, 31)
        assert number[14:17] != "000"
    sexes = persons["id_number"].str.slice(16, 1).cast(pl.Int32) % 2
    share_male = sexes.mean()
    assert 0.45 < share_male < 0.55


def test_person_birth_years_look_like_a_population(city):
    subjects, _ = city
    years = subjects.filter(pl.col("kind") == "person")["id_number"].str.slice(6, 4).cast(pl.Int32)
    assert years.min() >= 1940 and years.max() <= 2006
    sixties = ((years >= 1960) & (years < 1976)).mean()
    forties = (years < 1950).mean()
    assert sixties > 2 * forties


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(generate.USCC_CHARSET), min_size=17, max_size=17))
def test_vectorised_uscc_check_matches_the_subjects_validator(chars):
    first17 = "".join(chars)
    mat = np.frombuffer(first17.encode(), dtype=np.uint8).reshape(1, 17)
    assert chr(generate.uscc_check_chars(mat)[0]) == identifiers.uscc_check_char(first17)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_vectorised_ric_check_matches_the_subjects_validator(first17):
    mat = np.frombuffer(first17.encode(), dtype=np.uint8).reshape(1, 17)
    assert chr(generate.ric_check_chars(mat)[0]) == identifiers.ric_check_char(first17)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=8, max_size=8))
def test_vectorised_orgcode_check_matches_the_subjects_validator(first8):
    mat = np.frombuffer(first8.encode(), dtype=np.uint8).reshape(1, 8)
    assert chr(generate.orgcode_check_chars(mat)[0]) == identifiers.orgcode_check_char(first8)


def test_charset_is_the_subjects_one():
    assert generate.USCC_CHARSET == identifiers.USCC_CHARSET


def test_vectorised_checks_on_many_rows_at_once():
    rng = np.random.default_rng(0)
    chars = np.frombuffer(generate.USCC_CHARSET.encode(), dtype=np.uint8)
    mat = chars[rng.integers(0, len(chars), (2_000, 17))]
    got = generate.uscc_check_chars(mat)
    for row, check in zip(mat, got, strict=True):
        assert chr(check) == identifiers.uscc_check_char(row.tobytes().decode())


# --------------------------------------------------------------------------- spread and names


def test_spread_over_the_eight_districts_by_population(city):
    subjects, _ = city
    counts = dict(subjects.group_by("region").len().iter_rows())
    assert set(counts) == {d.code for d in DISTRICTS}
    assert max(counts, key=counts.get) == "370303"  # 张店区 is the largest
    total = sum(d.population for d in DISTRICTS)
    for d in DISTRICTS:
        expected = subjects.height * d.population / total
        assert abs(counts[d.code] - expected) < 0.15 * expected, d.name


def test_kind_mix(city):
    subjects, _ = city
    n = subjects.height
    share = {k: v / n for k, v in subjects.group_by("org_category").len().iter_rows()}
    assert 0.42 < share["91"] < 0.48
    assert 0.22 < share["92"] < 0.28
    assert 0.22 < share[""] < 0.28  # persons
    for code in ("93", "12", "52", "51", "11", "N2"):
        assert share.get(code, 0) > 0, code
    kinds = dict(subjects.group_by("kind").len().iter_rows())
    assert kinds["ind"] == int((subjects["org_category"] == "92").sum())


def test_names_are_distinct_and_shaped_by_category(city):
    subjects, _ = city
    orgs = subjects.filter(pl.col("kind") != "person")
    assert orgs["name"].n_unique() == orgs.height
    enterprises = orgs.filter(pl.col("org_category") == "91")["name"]
    assert enterprises.str.contains("(有限公司|有限责任公司|股份有限公司)$").all()
    assert enterprises.str.contains("^(淄博|山东)").all()
    # The registration rule: place + 字号 + 行业 never repeats, whatever the legal form.
    core = enterprises.str.replace("(股份有限公司|集团有限公司|有限责任公司|有限公司)$", "")
    assert core.n_unique() == enterprises.len()
    businesses = subjects.filter(pl.col("org_category") == "92")
    district_names = "|".join(d.name for d in DISTRICTS)
    assert businesses["name"].str.contains(f"^({district_names})").all()
    # "张店区王记餐馆": the 记 form uses the owner's (legal representative's) surname.
    ji = businesses.filter(pl.col("name").str.contains("记"))
    assert ji.height > 0.2 * businesses.height
    for row in ji.iter_rows(named=True):
        owner = row["legal_representative"]
        assert any(
            row["name"].startswith(d.name + owner[:k] + "记") for d in DISTRICTS for k in (1, 2)
        ), (row["name"], owner)
    coops = subjects.filter(pl.col("org_category") == "93")["name"]
    assert coops.str.ends_with("专业合作社").all()
    assert (subjects.filter(pl.col("kind") != "person")["legal_representative"] != "").all()
    assert (subjects.filter(pl.col("kind") == "person")["legal_representative"] == "").all()


def test_person_names_are_varied(city):
    subjects, _ = city
    names = subjects.filter(pl.col("kind") == "person")["name"]
    assert names.str.len_chars().is_between(2, 4).all()
    assert names.n_unique() > 0.6 * names.len()


def test_established_dates(city):
    subjects, _ = city
    orgs = subjects.filter(pl.col("kind") != "person")
    assert orgs["established_on"].null_count() == 0
    assert orgs["established_on"].max() <= generate.AS_OF
    assert orgs["established_on"].min() >= dt.date(1980, 1, 1)
    assert subjects.filter(pl.col("kind") == "person")["established_on"].null_count() == (
        subjects.filter(pl.col("kind") == "person").height
    )
    # After the 2015 reform, codes are issued as "MA…"; before, 8-digit organisation codes.
    new = orgs.filter(pl.col("established_on") >= dt.date(2015, 10, 1))
    old = orgs.filter(pl.col("established_on") < dt.date(2015, 10, 1))
    assert new["uscc"].str.slice(8, 2).eq("MA").all()
    assert old["uscc"].str.slice(8, 8).str.contains("^[0-9]{8}$").all()


def test_former_names(city):
    subjects, former = city
    enterprises = subjects.with_row_index("row").filter(pl.col("org_category") == "91")
    assert 0.03 < former.height / enterprises.height < 0.09
    joined = former.join(
        subjects.with_row_index("row").with_columns(pl.col("row").cast(pl.Int64)),
        on="row",
        suffix="_now",
    )
    assert joined.height == former.height
    assert (joined["org_category"] == "91").all()
    assert (joined["name"] != joined["name_now"]).all()
    assert (joined["used_until"] > joined["established_on"]).all()
    assert (joined["used_until"] <= generate.AS_OF).all()


def test_unique_keys_survive_across_chunks():
    # Small chunks force many cross-chunk comparisons.
    city = DemoCity(seed=5, chunk_size=300)
    frames = [c.subjects for c in city.chunks(3_000)]
    subjects = pl.concat(frames)
    orgs = subjects.filter(pl.col("kind") != "person")
    assert orgs["name"].n_unique() == orgs.height
    assert orgs["uscc"].n_unique() == orgs.height
    persons = subjects.filter(pl.col("kind") == "person")
    assert persons["id_number"].n_unique() == persons.height
