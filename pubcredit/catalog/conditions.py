"""The small condition language of conditional fields (条件必填).

A condition is JSON stored on `Field.condition`; when it holds for a record, the field is required.

    {"field": "CF_XDR_LB", "in": ["法人及非法人组织", "个体工商户"]}   a value of the field is listed
    {"field": "CN_LXZT", "not_in": ["全部履行"]}                      no value of the field is listed
    {"field": "XK_XKBH", "filled": true}                             the field is (not) filled
    {"all": [cond, ...]}  /  {"any": [cond, ...]}                    conjunction / disjunction

Values are compared after code-list normalisation, i.e. with the canonical code-list values. A
multi-value field (处罚类别) matches `in` when any of its values is listed, and `not_in` when none
is; an empty field matches `not_in` and never matches `in`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

_LEAF_OPERATORS = ("in", "not_in", "filled")


def _values(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw] if raw.strip() else []
    if isinstance(raw, Iterable):
        return [str(v) for v in raw if v is not None and str(v).strip()]
    return [str(raw)]


def validate_condition(condition: Any) -> list[str]:
    """Structural problems of a condition, as Chinese messages (empty when it is well-formed)."""
    if not isinstance(condition, dict) or not condition:
        return [f"条件应为非空的 JSON 对象,实为 {condition!r}"]
    for combinator in ("all", "any"):
        if combinator in condition:
            parts = condition[combinator]
            if set(condition) != {combinator}:
                return [f"“{combinator}”条件不能与其他键并列:{sorted(condition)}"]
            if not isinstance(parts, list) or not parts:
                return [f"“{combinator}”应为非空的条件列表"]
            problems: list[str] = []
            for part in parts:
                problems.extend(validate_condition(part))
            return problems
    if not isinstance(condition.get("field"), str) or not condition["field"]:
        return [f"条件缺少字段编码“field”:{condition!r}"]
    operators = [k for k in condition if k != "field"]
    if len(operators) != 1 or operators[0] not in _LEAF_OPERATORS:
        return [f"条件应且仅应有一个运算符({'、'.join(_LEAF_OPERATORS)}),实为 {operators or '无'}"]
    op = operators[0]
    operand = condition[op]
    if op == "filled":
        if not isinstance(operand, bool):
            return ["“filled”的取值应为 true 或 false"]
    elif (
        not isinstance(operand, list)
        or not operand
        or not all(isinstance(v, str) and v for v in operand)
    ):
        return [f"“{op}”的取值应为非空的字符串列表"]
    return []


def referenced_fields(condition: Any) -> set[str]:
    """Every field code a (well-formed) condition refers to."""
    if not isinstance(condition, dict):
        return set()
    for combinator in ("all", "any"):
        if combinator in condition:
            refs: set[str] = set()
            for part in condition[combinator] or []:
                refs |= referenced_fields(part)
            return refs
    field = condition.get("field")
    return {field} if isinstance(field, str) else set()


def referenced_values(condition: Any) -> dict[str, set[str]]:
    """Field code → the values the condition compares it with (for checking them against the
    field's code list)."""
    out: dict[str, set[str]] = {}
    if not isinstance(condition, dict):
        return out
    for combinator in ("all", "any"):
        if combinator in condition:
            for part in condition[combinator] or []:
                for field, values in referenced_values(part).items():
                    out.setdefault(field, set()).update(values)
            return out
    for op in ("in", "not_in"):
        if op in condition and isinstance(condition.get("field"), str):
            out.setdefault(condition["field"], set()).update(condition[op])
    return out


def evaluate(condition: Any, values: Mapping[str, Any]) -> bool:
    """Whether the condition holds for a record whose (normalised) values are given by field
    code. A missing key counts as an empty field. A null condition never holds."""
    if not condition:
        return False
    if "all" in condition:
        return all(evaluate(part, values) for part in condition["all"])
    if "any" in condition:
        return any(evaluate(part, values) for part in condition["any"])
    present = _values(values.get(condition["field"]))
    if "filled" in condition:
        return bool(present) is condition["filled"]
    if "in" in condition:
        return any(v in condition["in"] for v in present)
    if "not_in" in condition:
        return not any(v in condition["not_in"] for v in present)
    raise ValueError(f"unknown condition {condition!r}")
