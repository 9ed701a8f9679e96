"""The scoring definition of a scorecard version: its JSON form, parsed and checked.

`ScorecardVersion.definition` (and the "definition" of a scorecard file) is a JSON object:

    {
      "min_score": 0, "max_score": null,        optional bounds of the score
      "population": null | {"categories": [...], "list_types": [...]},
                                                 who is evaluated besides the subject kinds:
                                                 null = every subject of the scorecard's kinds;
                                                 else only subjects with an active record of one
                                                 of the categories or a published entry of one of
                                                 the list types (a sector scorecard)
      "indicators": [indicator, ...],
      "bands": [{"grade": "A", "name": "优秀", "min": 90}, ..., {"grade": "D", "name": "较差",
                "min": null}],              best grade first; a score ≥ min gets the grade; the
                                                 last band (min null) takes every lower score
      "downgrades": [rule, ...]
    }

An indicator gives points for facts:

    {"code": "CF_SERIOUS", "name": "…", "dimension": "守法守信",
     "source": source,
     "points": -10,                    points per fact (or, for given grades, "points_by_grade":
                                       {"A": 5, "D": -10}; for registration age, "steps":
                                       [{"years": 3, "points": 2}, …]: the highest step reached)
     "per_amount": {"field": "CF_NR_FK", "step": 1, "points": -1},
                                       optional: plus `points` per full `step` of a numeric field
     "cap": 30,                        optional: the indicator's total is held within ±cap
     "window_months": 36,              optional: only facts dated within this many months before
                                       the evaluation day count (the fact's date: a record's
                                       decision date, else its 有效期自; an entry's 认定日期; a
                                       commitment's assessment date)
     "repeat": {"multiplier": 2, "same": "CF_WFXW"},
                                       optional: the 2nd and later facts of the same indicator
                                       (and, with "same", the same value of that field) within
                                       the window count `multiplier` times
     "basis": "policy basis, shown with each contribution"}

Sources (`source.type`):
- "records": records of `category` (code), optionally only of publicity `tiers`
  (["minor", "general", "serious"], the 行政处罚 tier of publicity.Publicity) and matching
  `condition` on the records' cleaned data: the catalogue's condition language
  (catalog.conditions: in / not_in / filled, all / any) plus numeric leaves
  {"field": "CF_NR_FK", "gte" | "gt" | "lte" | "lt": 5}. Only active records (not withdrawn or
  expired, 有效期至 not passed) without a granted repair (an open PublicityMark REPAIRED) count.
- "list_entries": published entries in force on the day, of `list_types` (codes) and/or
  `list_kinds` (red / black / watch).
- "commitments": commitments (not withdrawn) assessed with one of `performance`
  (全部履行 / 部分履行 / 全部未履行), optionally of `commitment_types`.
- "given_grade": the latest active record of a grade `category` (a field with role
  credit_grade), its grade read as given: `points_by_grade`.
- "registration_age": years since the subject's 成立日期 (`steps`).

A direct-downgrade rule caps the grade whatever the points, while its fact is in force:

    {"code": "DG_BLACK", "name": "…", "grade": "D", "source": source,
     "window_months": 60, "basis": "…"}

`parse_definition` returns a `Definition` or raises `DefinitionError` listing every problem in
Chinese; `check_references` checks the codes it names against the catalogue and the list types.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from pubcredit.catalog import conditions

SOURCE_TYPES = ("records", "list_entries", "commitments", "given_grade", "registration_age")
SUBJECT_KINDS = ("org", "ind", "person")
TIERS = ("minor", "general", "serious")
LIST_KINDS = ("red", "black", "watch")
PERFORMANCES = ("全部履行", "部分履行", "全部未履行")
NUMERIC_OPERATORS = ("gte", "gt", "lte", "lt")
# The catalogue role of the field that carries a grade decided by another authority.
GRADE_ROLE = "credit_grade"
MAX_WINDOW_MONTHS = 240


class DefinitionError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__(f"评价规则有 {len(problems)} 个问题:\n" + "\n".join(problems))


@dataclass(frozen=True)
class Source:
    type: str
    category: str = ""
    tiers: tuple[str, ...] = ()
    condition: dict | None = None
    list_types: tuple[str, ...] = ()
    list_kinds: tuple[str, ...] = ()
    performance: tuple[str, ...] = ()
    commitment_types: tuple[str, ...] = ()

    def fields(self) -> set[str]:
        """The data fields of its category that the source reads."""
        return _condition_fields(self.condition) if self.condition else set()


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    dimension: str
    source: Source
    points: float = 0.0
    points_by_grade: tuple[tuple[str, float], ...] = ()
    steps: tuple[tuple[float, float], ...] = ()  # (years, points), ascending years
    per_amount: tuple[str, float, float] | None = None  # (field, step, points)
    cap: float | None = None
    window_months: int | None = None
    repeat: tuple[float, str] | None = None  # (multiplier, same field or "")
    basis: str = ""

    def fields(self) -> set[str]:
        out = self.source.fields()
        if self.per_amount:
            out.add(self.per_amount[0])
        if self.repeat and self.repeat[1]:
            out.add(self.repeat[1])
        return out


@dataclass(frozen=True)
class Band:
    grade: str
    name: str
    min: float | None


@dataclass(frozen=True)
class Downgrade:
    code: str
    name: str
    grade: str
    source: Source
    window_months: int | None = None
    basis: str = ""

    def fields(self) -> set[str]:
        return self.source.fields()


@dataclass(frozen=True)
class Definition:
    base_points: float
    indicators: tuple[Indicator, ...]
    bands: tuple[Band, ...]
    downgrades: tuple[Downgrade, ...] = ()
    min_score: float | None = None
    max_score: float | None = None
    population_categories: tuple[str, ...] = ()
    population_list_types: tuple[str, ...] = ()
    by_code: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def grades(self) -> tuple[str, ...]:
        """Grades from best to worst."""
        return tuple(b.grade for b in self.bands)

    def rank(self, grade: str) -> int:
        return self.grades.index(grade)

    def rules(self) -> tuple[Indicator | Downgrade, ...]:
        return (*self.indicators, *self.downgrades)

    def describe(self, code: str) -> dict:
        """{"name", "dimension", "basis"} of an indicator or downgrade rule ("" when unknown)."""
        rule = self.by_code.get(code)
        if rule is None:
            return {"name": "", "dimension": "", "basis": ""}
        return {
            "name": rule.name,
            "dimension": getattr(rule, "dimension", "") or "",
            "basis": rule.basis,
        }


# --------------------------------------------------------------------------- parsing


def _condition_fields(condition) -> set[str]:
    return conditions.referenced_fields(condition)


def validate_score_condition(condition) -> list[str]:
    """The catalogue's condition language plus numeric leaves (see the module docstring)."""
    if isinstance(condition, dict) and "field" in condition:
        numeric = [k for k in condition if k in NUMERIC_OPERATORS]
        if numeric:
            if set(condition) != {"field", numeric[0]} or len(numeric) != 1:
                return [
                    f"数值条件应只有字段和一个运算符({'、'.join(NUMERIC_OPERATORS)}):{condition!r}"
                ]
            value = condition[numeric[0]]
            if isinstance(value, bool) or not isinstance(value, int | float):
                return [f"数值条件“{numeric[0]}”的取值应为数字:{condition!r}"]
            return []
    if isinstance(condition, dict):
        for combinator in ("all", "any"):
            if combinator in condition:
                parts = condition[combinator]
                if set(condition) != {combinator} or not isinstance(parts, list) or not parts:
                    return [f"“{combinator}”应为非空的条件列表,且不能与其他键并列"]
                out: list[str] = []
                for part in parts:
                    out += validate_score_condition(part)
                return out
    return conditions.validate_condition(condition)


def _number(value, where: str, problems: list[str], *, required=False) -> float | None:
    if value is None:
        if required:
            problems.append(f"{where}:缺少数值")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"{where}:应为数字,实为 {value!r}")
        return None
    return float(value)


def _codes(value, where: str, problems: list[str], allowed=None) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.append(f"{where}:应为非空字符串的列表")
        return ()
    if allowed is not None:
        for v in value:
            if v not in allowed:
                problems.append(f"{where}:“{v}”无效,应为 {'、'.join(allowed)} 之一")
    return tuple(value)


def _window(value, where: str, problems: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_WINDOW_MONTHS:
        problems.append(f"{where}:时间范围(月)应为 1 到 {MAX_WINDOW_MONTHS} 的整数")
        return None
    return value


def _source(raw, where: str, problems: list[str]) -> Source | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}:数据来源(source)应为 JSON 对象")
        return None
    kind = raw.get("type")
    if kind not in SOURCE_TYPES:
        problems.append(f"{where}:数据来源类型“{kind}”无效,应为 {'、'.join(SOURCE_TYPES)} 之一")
        return None
    known = {
        "records": {"type", "category", "tiers", "condition"},
        "list_entries": {"type", "list_types", "list_kinds"},
        "commitments": {"type", "performance", "commitment_types"},
        "given_grade": {"type", "category"},
        "registration_age": {"type"},
    }[kind]
    unknown = sorted(set(raw) - known)
    if unknown:
        problems.append(f"{where}:数据来源中未知的键 {', '.join(unknown)}")
    category = raw.get("category") or ""
    if kind in ("records", "given_grade") and not (isinstance(category, str) and category):
        problems.append(f"{where}:须指定信息类别编码(category)")
    condition = raw.get("condition")
    if condition is not None:
        for p in validate_score_condition(condition):
            problems.append(f"{where}:{p}")
    source = Source(
        type=kind,
        category=category if isinstance(category, str) else "",
        tiers=_codes(raw.get("tiers"), f"{where} tiers", problems, TIERS),
        condition=condition,
        list_types=_codes(raw.get("list_types"), f"{where} list_types", problems),
        list_kinds=_codes(raw.get("list_kinds"), f"{where} list_kinds", problems, LIST_KINDS),
        performance=_codes(raw.get("performance"), f"{where} performance", problems, PERFORMANCES),
        commitment_types=_codes(raw.get("commitment_types"), f"{where} commitment_types", problems),
    )
    if kind == "list_entries" and not (source.list_types or source.list_kinds):
        problems.append(f"{where}:须指定名单类型(list_types)或名单类别(list_kinds)")
    if kind == "commitments" and not source.performance:
        problems.append(f"{where}:须指定承诺履行状态(performance)")
    return source


_INDICATOR_KEYS = {
    "code",
    "name",
    "dimension",
    "source",
    "points",
    "points_by_grade",
    "steps",
    "per_amount",
    "cap",
    "window_months",
    "repeat",
    "basis",
}
_DOWNGRADE_KEYS = {"code", "name", "grade", "source", "window_months", "basis"}


def _text(raw: dict, key: str, where: str, problems: list[str], required=True) -> str:
    value = raw.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        problems.append(f"{where}:{key} 应为非空文本")
        return ""
    return value.strip()


def _indicator(raw, where: str, problems: list[str]) -> Indicator | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}:应为 JSON 对象")
        return None
    where = f"指标 {raw.get('code') or where}"
    unknown = sorted(set(raw) - _INDICATOR_KEYS)
    if unknown:
        problems.append(f"{where}:未知的键 {', '.join(unknown)}")
    source = _source(raw.get("source"), where, problems)
    if source is None:
        return None
    points = _number(raw.get("points"), f"{where} points", problems) or 0.0
    by_grade: tuple[tuple[str, float], ...] = ()
    steps: tuple[tuple[float, float], ...] = ()
    if source.type == "given_grade":
        table = raw.get("points_by_grade")
        if not isinstance(table, dict) or not table:
            problems.append(f"{where}:评价等级来源须有 points_by_grade(等级 → 分值)")
        else:
            by_grade = tuple(
                (str(g), _number(p, f"{where} points_by_grade {g}", problems, required=True) or 0.0)
                for g, p in table.items()
            )
    elif source.type == "registration_age":
        raw_steps = raw.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            problems.append(f"{where}:成立年限来源须有 steps([{{years, points}}, …])")
        else:
            parsed = []
            for i, step in enumerate(raw_steps, 1):
                if not isinstance(step, dict):
                    problems.append(f"{where} steps 第 {i} 项:应为 JSON 对象")
                    continue
                years = _number(
                    step.get("years"), f"{where} steps 第 {i} 项 years", problems, required=True
                )
                pts = _number(
                    step.get("points"), f"{where} steps 第 {i} 项 points", problems, required=True
                )
                if years is not None and pts is not None:
                    parsed.append((years, pts))
            if [y for y, _ in parsed] != sorted({y for y, _ in parsed}):
                problems.append(f"{where}:steps 的年限应严格递增")
            steps = tuple(parsed)
    elif raw.get("points") is None:
        problems.append(f"{where}:缺少每项事实的分值(points)")
    if source.type != "given_grade" and raw.get("points_by_grade") is not None:
        problems.append(f"{where}:只有评价等级来源(given_grade)可用 points_by_grade")
    per_amount = None
    if raw.get("per_amount") is not None:
        pa = raw["per_amount"]
        if source.type != "records" or not isinstance(pa, dict):
            problems.append(f"{where}:per_amount 只用于信用记录来源,应为 {{field, step, points}}")
        else:
            step = _number(pa.get("step"), f"{where} per_amount step", problems, required=True)
            pts = _number(pa.get("points"), f"{where} per_amount points", problems, required=True)
            fld = pa.get("field")
            if not isinstance(fld, str) or not fld:
                problems.append(f"{where}:per_amount 须指定字段(field)")
            elif step is not None and step <= 0:
                problems.append(f"{where}:per_amount 的 step 应大于 0")
            elif step is not None and pts is not None:
                per_amount = (fld, step, pts)
    cap = _number(raw.get("cap"), f"{where} cap", problems)
    if cap is not None and cap <= 0:
        problems.append(f"{where}:封顶分值(cap)应为正数(按绝对值封顶)")
        cap = None
    repeat = None
    if raw.get("repeat") is not None:
        rp = raw["repeat"]
        if not isinstance(rp, dict):
            problems.append(f"{where}:repeat 应为 {{multiplier, same}}")
        else:
            mult = _number(
                rp.get("multiplier"), f"{where} repeat multiplier", problems, required=True
            )
            same = rp.get("same") or ""
            if not isinstance(same, str):
                problems.append(f"{where}:repeat 的 same 应为字段编码")
                same = ""
            if same and source.type != "records":
                problems.append(f"{where}:repeat 的 same 只用于信用记录来源")
            if mult is not None and mult < 1:
                problems.append(f"{where}:repeat 的 multiplier 应不小于 1")
            elif mult is not None:
                repeat = (mult, same)
    return Indicator(
        code=_text(raw, "code", where, problems),
        name=_text(raw, "name", where, problems),
        dimension=_text(raw, "dimension", where, problems),
        source=source,
        points=points,
        points_by_grade=by_grade,
        steps=steps,
        per_amount=per_amount,
        cap=cap,
        window_months=_window(raw.get("window_months"), f"{where} window_months", problems),
        repeat=repeat,
        basis=_text(raw, "basis", where, problems),
    )


def _downgrade(raw, where: str, problems: list[str], grades: tuple[str, ...]) -> Downgrade | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}:应为 JSON 对象")
        return None
    where = f"直接降级规则 {raw.get('code') or where}"
    unknown = sorted(set(raw) - _DOWNGRADE_KEYS)
    if unknown:
        problems.append(f"{where}:未知的键 {', '.join(unknown)}")
    source = _source(raw.get("source"), where, problems)
    if source is None:
        return None
    if source.type == "registration_age":
        problems.append(f"{where}:成立年限不能作为直接降级的依据")
    grade = raw.get("grade")
    if grade not in grades:
        problems.append(f"{where}:等级“{grade}”不在等级划分中")
    return Downgrade(
        code=_text(raw, "code", where, problems),
        name=_text(raw, "name", where, problems),
        grade=grade if isinstance(grade, str) else "",
        source=source,
        window_months=_window(raw.get("window_months"), f"{where} window_months", problems),
        basis=_text(raw, "basis", where, problems),
    )


def _bands(raw, problems: list[str]) -> tuple[Band, ...]:
    if not isinstance(raw, list) or len(raw) < 2:
        problems.append("等级划分(bands)应为至少两个等级的列表,从高到低")
        return ()
    bands = []
    for i, b in enumerate(raw, 1):
        if not isinstance(b, dict) or set(b) - {"grade", "name", "min"}:
            problems.append(f"等级划分第 {i} 项:应为 {{grade, name, min}}")
            continue
        grade = b.get("grade")
        if not isinstance(grade, str) or not grade or len(grade) > 8:
            problems.append(f"等级划分第 {i} 项:等级应为 1–8 个字符")
            continue
        last = i == len(raw)
        low = b.get("min")
        if last:
            if low is not None:
                problems.append(f"等级划分最后一项({grade})的 min 应为 null(其余分值都归入此等级)")
        else:
            low = _number(low, f"等级划分 {grade} 的 min", problems, required=True)
        bands.append(Band(grade=grade, name=str(b.get("name") or ""), min=low))
    grades = [b.grade for b in bands]
    if len(set(grades)) != len(grades):
        problems.append("等级划分中有重复的等级")
    mins = [b.min for b in bands[:-1] if b.min is not None]
    if any(a <= b for a, b in itertools.pairwise(mins)):
        problems.append("等级划分的 min 应从高到低严格递减")
    return tuple(bands)


def parse_definition(raw, *, base_points) -> Definition:
    """The definition as dataclasses; DefinitionError (every problem, in Chinese) otherwise."""
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise DefinitionError(["评价规则应为 JSON 对象"])
    unknown = sorted(
        set(raw) - {"indicators", "bands", "downgrades", "min_score", "max_score", "population"}
    )
    if unknown:
        problems.append(f"评价规则中未知的键 {', '.join(unknown)}")
    try:
        base = float(Decimal(str(base_points)))
    except (InvalidOperation, ValueError):
        problems.append(f"基础分“{base_points}”不是数字")
        base = 0.0
    bands = _bands(raw.get("bands"), problems)
    grades = tuple(b.grade for b in bands)
    raw_indicators = raw.get("indicators")
    if not isinstance(raw_indicators, list):
        problems.append("指标(indicators)应为列表")
        raw_indicators = []
    indicators = [
        i
        for n, r in enumerate(raw_indicators, 1)
        if (i := _indicator(r, f"第 {n} 项", problems)) is not None
    ]
    raw_downgrades = raw.get("downgrades") or []
    if not isinstance(raw_downgrades, list):
        problems.append("直接降级规则(downgrades)应为列表")
        raw_downgrades = []
    downgrades = [
        d
        for n, r in enumerate(raw_downgrades, 1)
        if (d := _downgrade(r, f"第 {n} 项", problems, grades)) is not None
    ]
    codes = [r.code for r in (*indicators, *downgrades)]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        problems.append(f"指标和降级规则的编码重复:{', '.join(duplicates)}")
    low = _number(raw.get("min_score"), "min_score", problems)
    high = _number(raw.get("max_score"), "max_score", problems)
    if low is not None and high is not None and low >= high:
        problems.append("min_score 应小于 max_score")
    population = raw.get("population")
    pop_categories: tuple[str, ...] = ()
    pop_lists: tuple[str, ...] = ()
    if population is not None:
        if not isinstance(population, dict) or set(population) - {"categories", "list_types"}:
            problems.append("population 应为 {categories, list_types} 或 null")
        else:
            pop_categories = _codes(population.get("categories"), "population categories", problems)
            pop_lists = _codes(population.get("list_types"), "population list_types", problems)
            if not (pop_categories or pop_lists):
                problems.append("population 须至少指定一个信息类别或名单类型")
    if problems:
        raise DefinitionError(problems)
    rules = (*indicators, *downgrades)
    return Definition(
        base_points=base,
        indicators=tuple(indicators),
        bands=bands,
        downgrades=tuple(downgrades),
        min_score=low,
        max_score=high,
        population_categories=pop_categories,
        population_list_types=pop_lists,
        by_code={r.code: r for r in rules},
    )


def card_problems(card: dict) -> list[str]:
    """Problems of a scorecard's own fields (subject kinds, publicity)."""
    problems = []
    kinds = card.get("subject_kinds")
    if not isinstance(kinds, list) or not kinds or any(k not in SUBJECT_KINDS for k in kinds):
        problems.append("适用主体应为 org、ind、person 组成的非空列表")
    elif "person" in kinds and card.get("public"):
        problems.append("个人信用积分(适用于自然人的评价)不能向社会公开")
    return problems


def check_references(defn: Definition) -> list[str]:
    """Codes the definition names that the catalogue or the list types do not know."""
    from pubcredit.catalog.models import Category, Field
    from pubcredit.lists.models import ListType

    problems = []
    categories = {c.code: c.pk for c in Category.objects.only("code")}
    fields: dict[str, set[str]] = {}
    roles: dict[str, set[str]] = {}
    for code, cat_code, role in Field.objects.values_list("code", "category__code", "role"):
        fields.setdefault(cat_code, set()).add(code)
        if role:
            roles.setdefault(cat_code, set()).add(role)
    list_types = set(ListType.objects.values_list("code", flat=True))
    for rule in defn.rules():
        src = rule.source
        if src.type in ("records", "given_grade"):
            if src.category not in categories:
                problems.append(f"{rule.code}:信息类别 {src.category} 不存在")
                continue
            for code in sorted(rule.fields() - fields.get(src.category, set())):
                problems.append(f"{rule.code}:字段 {code} 不是信息类别 {src.category} 的字段")
            if src.type == "given_grade" and GRADE_ROLE not in roles.get(src.category, set()):
                problems.append(
                    f"{rule.code}:信息类别 {src.category} 没有评价等级字段(语义角色 {GRADE_ROLE})"
                )
        for code in src.list_types:
            if code not in list_types:
                problems.append(f"{rule.code}:名单类型 {code} 不存在")
    for code in defn.population_categories:
        if code not in categories:
            problems.append(f"population:信息类别 {code} 不存在")
    for code in defn.population_list_types:
        if code not in list_types:
            problems.append(f"population:名单类型 {code} 不存在")
    return problems


def definition_digest(definition, base_points, effective_from) -> str:
    """A stable digest of what a version's results depend on (key order and number spelling do
    not matter): a file whose digest differs from the latest version's is a new version."""
    base = Decimal(str(base_points)).quantize(Decimal("0.01"))
    day = effective_from.isoformat() if isinstance(effective_from, dt.date) else str(effective_from)
    text = json.dumps(
        {"definition": _normal(definition), "base_points": str(base), "effective_from": day},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _normal(value):
    """Numbers as floats (5 and 5.0 are the same rule), containers recursively."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value
