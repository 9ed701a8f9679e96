"""Validation driven only by the category spec: a new category or field needs no code here.

`validate(cleaned, spec, ...)` takes the output of `cleaning.clean_frame` and returns the errors
and warnings of every row, the accepted rows, and the counts. Rules, with their stable codes:

  required            a required field is empty (or has no column in the file)
  required_if         a conditionally required field is empty while its condition holds
                      (catalog.conditions: {"field", "in"|"not_in"|"filled"}, {"all"|"any": [...]})
  date_format, amount_format, integer_format, code_value
                      the cell could not be understood (see cleaning)
  excel_scientific, uscc_*, ric_*
                      identifier checks (subjects.bulk_checks); an id_number field is checked as a
                      居民身份证号码 when its companion 证件类型 field (role X_id_type for role
                      X_id_number) is empty or says 身份证
  amount_negative, amount_precision (more decimals than the field allows)
  date_future         the decision date (role decision_date) is after the receipt date
  date_order          the end date (role valid_to) is before the start (valid_from, else the
                      decision date)
  max_length, exact_length
  source_department   数据来源单位代码 (role source_department_uscc) is not the submitting
                      department's or one it may submit for
  conflict            rows with the same business key and different content: all rejected
  duplicate           (warning) the row repeats an earlier row exactly: collapsed into it
  amount_unit_converted (warning) an amount written in 元 was converted to 万元

Each field of a row gets at most one error (the first in the order above), so a clerk sees the
most basic problem first. A row with an error is rejected; warnings never reject.
Counting: rows = accepted + rejected, where `accepted` includes the duplicates that collapsed
into an earlier row (their content is accepted once); `accepted_frame` holds one row per content.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import polars as pl
from django.utils.translation import gettext as _

from pubcredit.intake.engine.cleaning import detail_col, issue_col, orig_col
from pubcredit.intake.engine.reading import ROW
from pubcredit.intake.engine.spec import CategorySpec, FieldSpec
from pubcredit.subjects.bulk_checks import ric_verdicts, uscc_verdicts

__all__ = ["ERROR_SCHEMA", "ValidationResult", "condition_expr", "validate"]

ERROR_SCHEMA = {
    "row": pl.Int64,
    "field": pl.String,
    "field_name": pl.String,
    "value": pl.String,
    "rule": pl.String,
    "message": pl.String,
    "severity": pl.String,
}
_CLEANING_ERRORS = ("date_format", "amount_format", "integer_format", "code_value")
_CLEANING_WARNINGS = ("amount_unit_converted",)
_MAX_ROWS_NAMED = 10


@dataclass
class ValidationResult:
    errors: pl.DataFrame  # ERROR_SCHEMA, errors and warnings, sorted by row and field order
    accepted_frame: pl.DataFrame  # cleaned accepted rows, one per distinct content
    rows: int
    accepted: int
    rejected: int
    duplicates: int

    @property
    def error_count(self) -> int:
        return int((self.errors["severity"] == "error").sum())

    @property
    def warning_count(self) -> int:
        return int((self.errors["severity"] == "warning").sum())


# --------------------------------------------------------------------------- messages

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _format(template: str, **parts: pl.Expr | str) -> pl.Expr:
    """A vectorised `template % parts`: placeholders %(name)s become the given expressions (or
    literal strings); a null part renders as an empty string."""
    pieces: list[pl.Expr] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(template):
        if m.start() > pos:
            pieces.append(pl.lit(template[pos : m.start()]))
        part = parts[m.group(1)]
        expr = pl.lit(part) if isinstance(part, str) else part
        pieces.append(expr.cast(pl.String).fill_null(""))
        pos = m.end()
    if pos < len(template):
        pieces.append(pl.lit(template[pos:]))
    return pl.concat_str(pieces) if pieces else pl.lit("")


def _quoted(name: str) -> str:
    return f"“{name}”"


def _describe_condition(cond, spec: CategorySpec) -> str:
    """The condition of a conditional field in words, e.g. “行政相对人类别”为“自然人”."""
    if not cond:
        return ""
    for key, joiner in (("all", _("且")), ("any", _("或"))):
        if key in cond:
            return joiner.join(_describe_condition(c, spec) for c in cond[key])
    if "any_of" in cond:
        return ""
    try:
        name = _quoted(spec.field(cond["field"]).name)
    except KeyError:
        name = _quoted(cond.get("field", ""))
    if "in" in cond:
        return _("%(field)s为%(values)s") % {
            "field": name,
            "values": _("或").join(_quoted(v) for v in cond["in"]),
        }
    if "not_in" in cond:
        return _("%(field)s不为%(values)s") % {
            "field": name,
            "values": _("或").join(_quoted(v) for v in cond["not_in"]),
        }
    if "filled" in cond:
        return (_("已填写%(field)s") if cond["filled"] else _("未填写%(field)s")) % {"field": name}
    return ""


# --------------------------------------------------------------------------- conditions


def condition_expr(cond, spec: CategorySpec, present: Iterable[str]) -> pl.Expr:
    """A boolean expression over the cleaned frame that holds where the catalogue condition
    holds, with the semantics of `catalog.conditions.evaluate` (values are canonical code-list
    values; a multi-value field matches `in` when any value is listed and `not_in` when none is;
    an empty field matches `not_in` and never `in`). Also accepts {"any_of": [codes]} (at least
    one of the fields is filled) and "contains_any" as another name for "in"."""
    present = set(present)
    if not cond:
        return pl.lit(False)
    if "all" in cond:
        return pl.all_horizontal([condition_expr(c, spec, present) for c in cond["all"]])
    if "any" in cond:
        return pl.any_horizontal([condition_expr(c, spec, present) for c in cond["any"]])
    if "any_of" in cond:
        return pl.any_horizontal([_filled(c, spec, present) for c in cond["any_of"]])
    code = cond["field"]
    if "filled" in cond:
        filled = _filled(code, spec, present)
        return filled if cond["filled"] else ~filled
    if "contains_any" in cond:  # an alias of "in", read naturally for multi-value fields
        cond = {"field": code, "in": cond["contains_any"]}
    values = list(cond.get("in", cond.get("not_in", [])))
    if code not in present:
        hit = pl.lit(False)
    elif _is_multi(spec, code):
        hit = pl.any_horizontal([pl.col(code).list.contains(v) for v in values]).fill_null(False)
    else:
        hit = pl.col(code).is_in(values).fill_null(False)
    return hit if "in" in cond else ~hit


def _is_multi(spec: CategorySpec, code: str) -> bool:
    try:
        return spec.field(code).multi_value
    except KeyError:
        return False


def _filled(code: str, spec: CategorySpec, present: set[str]) -> pl.Expr:
    if code not in present:
        return pl.lit(False)
    if _is_multi(spec, code):
        return (pl.col(code).list.len() > 0).fill_null(False)
    return pl.col(code).is_not_null()


# --------------------------------------------------------------------------- per-field rules


class _Rules:
    """Collects, for one field, its rules in priority order: each has a stable code (`names`),
    a message expression, and a branch (condition → rule position)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.messages: list[pl.Expr] = []
        self.branches: list[tuple[pl.Expr, pl.Expr]] = []

    def add(self, when: pl.Expr, rule: str, message: pl.Expr) -> None:
        self.branches.append((when.fill_null(False), pl.lit(len(self.names), dtype=pl.UInt8)))
        self.names.append(rule)
        self.messages.append(message)

    def add_coded(self, code: pl.Expr, messages: dict[str, pl.Expr], where: pl.Expr) -> None:
        """Several rules at once from a column naming the failed rule (identifier verdicts):
        one branch instead of one comparison per rule."""
        base = len(self.names)
        names = list(messages)
        position = code.replace_strict(
            names, list(range(base, base + len(names))), default=None, return_dtype=pl.UInt8
        )
        self.branches.append(((where & code.is_not_null()).fill_null(False), position))
        self.names.extend(names)
        self.messages.extend(messages.values())

    def rule_expr(self, code: str) -> pl.Expr | None:
        """Per row, the position in `names` of the first failing rule (UInt8, null when the
        field is fine: a million mostly-null bytes, not strings)."""
        if not self.branches:
            return None
        rule = None
        for when, value in self.branches:
            rule = (pl.when(when) if rule is None else rule.when(when)).then(value)
        return rule.alias(f"{code}__rule")

    def message_expr(self, code: str) -> pl.Expr:
        """The message for the rule in column `<code>__rule`; evaluated on failing rows only."""
        rule_col = pl.col(f"{code}__rule")
        message = None
        for i, msg in enumerate(self.messages):
            message = (
                pl.when(rule_col == i) if message is None else message.when(rule_col == i)
            ).then(msg)
        return message.alias(f"{code}__msg")


def _original(code: str, present: set[str]) -> pl.Expr:
    """The cell as the clerk wrote it: F__original, or F itself where cleaning changed nothing
    in the column (the engine then keeps no separate original)."""
    if f"{code}__has_original" in present:
        return pl.col(orig_col(code))
    if code in present:
        return pl.col(code).cast(pl.String)
    return pl.lit(None, dtype=pl.String)


def _stars(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"(?s).", "*")


def masked_id(expr: pl.Expr) -> pl.Expr:
    """`subjects.crypto.mask_id` as an expression: a 身份证号 shown as its first 6 and last 4
    characters with the middle masked (shorter values: all but the last character). Messages
    quote a 证件号码 cell only this way: an error report is a file that leaves the platform."""
    n = expr.str.len_chars()
    return (
        pl.when(n > 10)
        .then(
            pl.concat_str(
                expr.str.slice(0, 6),
                _stars(expr.str.slice(6, (n - 10).clip(lower_bound=0))),
                expr.str.slice(-4),
            )
        )
        .when(n > 1)
        .then(
            pl.concat_str(
                _stars(expr.str.slice(0, (n - 1).clip(lower_bound=0))), expr.str.slice(-1)
            )
        )
        .otherwise(_stars(expr))
    )


def _quoted_value(field: FieldSpec, present: set[str]) -> pl.Expr:
    """The cell as the clerk wrote it, for a message: a 证件号码 masked."""
    orig = _original(field.code, present)
    if field.type != "id_number":
        return orig
    # A number Excel showed in scientific form ("3.70303E+17") keeps 6 digits at most: the same
    # as a masked number shows, and what the clerk needs to recognise the mistake.
    scientific = orig.str.contains(r"^\d(?:\.\d{1,5})?E\+\d{2}$")
    return pl.when(scientific).then(orig).otherwise(masked_id(orig))


def _companion_type(spec: CategorySpec, field: FieldSpec) -> FieldSpec | None:
    if field.role.endswith("_id_number"):
        return spec.by_role(field.role[: -len("_number")] + "_type")
    return None


def _field_rules(
    field: FieldSpec,
    spec: CategorySpec,
    present: set[str],
    *,
    receipt_date: dt.date,
    allowed_source_usccs: set[str] | None,
) -> _Rules:
    code = field.code
    label = _quoted(field.name)
    rules = _Rules()
    mapped = code in present
    value = pl.col(code) if mapped else pl.lit(None)
    orig = _quoted_value(field, present)
    empty = _filled(code, spec, present).not_()
    if mapped and f"{code}__has_issue" in present:
        # A cell that could not be understood is not "empty": its own error explains it.
        empty = empty & pl.col(issue_col(code)).is_null()

    if field.requirement == "required":
        rules.add(empty, "required", pl.lit(_("%(field)s为必填项,不能为空") % {"field": label}))
    elif field.requirement == "conditional" and field.condition:
        described = _describe_condition(field.condition, spec)
        message = (
            _("%(condition)s时,%(field)s为必填项") % {"condition": described, "field": label}
            if described
            else _("%(field)s为必填项,不能为空") % {"field": label}
        )
        rules.add(
            empty & condition_expr(field.condition, spec, present), "required_if", pl.lit(message)
        )
    if not mapped:
        return rules

    if f"{code}__has_issue" in present:
        issue = pl.col(issue_col(code))
        detail = pl.col(detail_col(code)) if f"{code}__has_detail" in present else pl.lit("")
        rules.add(
            issue == "date_format",
            "date_format",
            _format(
                _(
                    "%(field)s的值“%(value)s”不是有效日期(可写作 2024-03-05、2024/3/5、2024年3月5日 或 20240305)"
                ),
                field=label,
                value=orig,
            ),
        )
        rules.add(
            issue == "amount_format",
            "amount_format",
            _format(
                _(
                    "%(field)s的值“%(value)s”不是有效金额(应填以万元为单位的数字,例如 0.2 表示 2000 元)"
                ),
                field=label,
                value=orig,
            ),
        )
        rules.add(
            issue == "integer_format",
            "integer_format",
            _format(_("%(field)s的值“%(value)s”不是整数"), field=label, value=orig),
        )
        if field.codelist is not None:
            allowed = "、".join(field.codelist.values[:20])
            if field.codelist.allow_other:
                allowed += _("或“其他-具体类型”")
            rules.add(
                issue == "code_value",
                "code_value",
                _format(
                    _("%(field)s中的“%(unknown)s”不是代码表“%(list)s”中的值(可填:%(allowed)s)"),
                    field=label,
                    unknown=detail,
                    list=field.codelist.name,
                    allowed=allowed,
                ),
            )

    if field.type == "uscc":
        _identifier_rules(rules, code, label, orig, kind="uscc")
    elif field.type == "id_number":
        companion = _companion_type(spec, field)
        ric_rows = pl.lit(True)
        if companion is not None and companion.code in present:
            resident = companion.codelist.resident_id_value if companion.codelist else None
            ric_rows = pl.col(companion.code).is_null() | (pl.col(companion.code) == resident)
        _identifier_rules(rules, code, label, orig, kind="ric", where=ric_rows)
    elif field.type == "decimal":
        rules.add(
            value.str.starts_with("-"),
            "amount_negative",
            _format(_("%(field)s不能为负数:“%(value)s”"), field=label, value=orig),
        )
        if field.decimal_places is not None:
            # Canonical text: the digits after the point are the decimal places.
            point = value.str.find(".", literal=True)
            places = (value.str.len_bytes() - point - 1).fill_null(0)
            rules.add(
                places > field.decimal_places,
                "amount_precision",
                _format(
                    _("%(field)s最多 %(n)s 位小数:“%(value)s”"),
                    field=label,
                    n=str(field.decimal_places),
                    value=orig,
                ),
            )
    elif field.type == "date":
        if field.role == "decision_date":
            rules.add(
                value > pl.lit(receipt_date),
                "date_future",
                _format(
                    _("%(field)s %(date)s 晚于接收日期 %(receipt)s"),
                    field=label,
                    date=value.dt.to_string("%Y-%m-%d"),
                    receipt=receipt_date.isoformat(),
                ),
            )
        if field.role == "valid_to":
            start = spec.by_role("valid_from") or spec.by_role("decision_date")
            if start is not None and start.code in present:
                rules.add(
                    value < pl.col(start.code),
                    "date_order",
                    _format(
                        _("%(field)s %(date)s 早于%(start)s %(start_date)s"),
                        field=label,
                        date=value.dt.to_string("%Y-%m-%d"),
                        start=_quoted(start.name),
                        start_date=pl.col(start.code).dt.to_string("%Y-%m-%d"),
                    ),
                )

    if field.type in ("string", "text", "id_number") or (
        field.type == "code" and not field.multi_value
    ):
        length = value.str.len_chars()
        if field.exact_length:
            rules.add(
                length != field.exact_length,
                "exact_length",
                _format(
                    _("%(field)s应为 %(n)s 个字符,实为 %(len)s 个"),
                    field=label,
                    n=str(field.exact_length),
                    len=length,
                ),
            )
        if field.max_length:
            rules.add(
                length > field.max_length,
                "max_length",
                _format(
                    _("%(field)s长 %(len)s 个字符,超过上限 %(n)s"),
                    field=label,
                    n=str(field.max_length),
                    len=length,
                ),
            )

    if field.role == "source_department_uscc" and allowed_source_usccs is not None:
        rules.add(
            value.is_not_null() & ~value.is_in(sorted(allowed_source_usccs)),
            "source_department",
            _format(
                _("%(field)s的值“%(value)s”不是本部门或本部门可代为报送的单位的代码"),
                field=label,
                value=orig,
            ),
        )
    return rules


def _identifier_rules(
    rules: _Rules, code: str, label: str, orig: pl.Expr, *, kind: str, where=None
) -> None:
    rule = pl.col(f"{code}__id_rule")
    expected = pl.col(f"{code}__id_expected")
    value = pl.col(code)
    where = pl.lit(True) if where is None else where
    common = {"field": label, "value": orig}
    messages = {
        "excel_scientific": _format(
            _(
                "%(field)s被 Excel 转成了科学计数法(%(value)s),原值已丢失,请将该列设为文本后重新导出"
            ),
            **common,
        ),
        "uscc_length": _format(
            _("%(field)s应为 18 位,实为 %(len)s 位:“%(value)s”"),
            len=value.str.len_chars(),
            **common,
        ),
        "uscc_charset": _format(
            _("%(field)s含有不允许的字符(只能用数字和除 I、O、S、V、Z 以外的大写字母):“%(value)s”"),
            **common,
        ),
        "uscc_authority": _format(
            _("%(field)s第 1 位登记管理部门代码“%(c)s”无效,应为 1–9、A、N 或 Y"),
            c=value.str.slice(0, 1),
            **common,
        ),
        "uscc_region": _format(
            _("%(field)s第 3–8 位应为 6 位数字的行政区划码:“%(value)s”"), **common
        ),
        "uscc_checksum": _format(
            _("%(field)s校验位错误:第 18 位应为 %(expected)s,实为 %(actual)s(“%(value)s”)"),
            expected=expected,
            actual=value.str.slice(17, 1),
            **common,
        ),
        "ric_old15": _format(
            _("%(field)s是 15 位旧版身份证号码,请填写 18 位居民身份证号码:“%(value)s”"), **common
        ),
        "ric_length": _format(
            _("%(field)s应为 18 位,实为 %(len)s 位:“%(value)s”"),
            len=value.str.len_chars(),
            **common,
        ),
        "ric_format": _format(
            _("%(field)s前 17 位应为数字,第 18 位为数字或 X:“%(value)s”"), **common
        ),
        "ric_birth_date": _format(
            # The birth date is not quoted: with the masked number it would give the whole.
            _("%(field)s中的出生日期(第 7–14 位)无效:“%(value)s”"),
            **common,
        ),
        "ric_checksum": _format(
            _("%(field)s校验位错误:第 18 位应为 %(expected)s,实为 %(actual)s(“%(value)s”)%(hint)s"),
            expected=expected,
            actual=value.str.slice(17, 1),
            hint=pl.when(value.str.ends_with("000")).then(
                pl.lit(_(";末三位为 000,可能是 Excel 按数字处理后丢失了末尾数字"))
            ),
            **common,
        ),
    }
    prefix = "uscc_" if kind == "uscc" else "ric_"
    mine = {n: m for n, m in messages.items() if n == "excel_scientific" or n.startswith(prefix)}
    rules.add_coded(rule, mine, where)


# --------------------------------------------------------------------------- main


class _Clock:
    """Adds the seconds since the previous call to timings["validate.<stage>"]."""

    def __init__(self, timings: dict[str, float] | None):
        self.timings = timings
        self.last = time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[f"validate.{stage}"] = now - self.last
        self.last = now


def _with_identifier_verdicts(
    frame: pl.DataFrame, spec: CategorySpec, present: set[str], today: dt.date
) -> pl.DataFrame:
    fields = [f for f in spec.fields if f.code in present and f.type in ("uscc", "id_number")]
    if not fields:
        return frame

    def verdicts(f: FieldSpec) -> pl.DataFrame:
        values = frame.get_column(f.code)
        return uscc_verdicts(values) if f.type == "uscc" else ric_verdicts(values, today)

    # Columns in parallel threads: numpy and polars release the GIL.
    with ThreadPoolExecutor(max_workers=max(1, min(len(fields), pl.thread_pool_size()))) as pool:
        results = list(pool.map(verdicts, fields))
    extra = []
    for f, found in zip(fields, results, strict=True):
        extra.append(found["rule"].alias(f"{f.code}__id_rule"))
        extra.append(found["expected"].alias(f"{f.code}__id_expected"))
    return frame.with_columns(extra)


def validate(
    cleaned: pl.DataFrame,
    spec: CategorySpec,
    *,
    receipt_date: dt.date,
    allowed_source_usccs: Iterable[str] | None = None,
    timings: dict[str, float] | None = None,
) -> ValidationResult:
    """Apply every rule of `spec` to the cleaned frame. `receipt_date` is the day the file was
    received (decision dates after it are rejected; birth dates in ID numbers must not be after
    it); `allowed_source_usccs` the codes 数据来源单位代码 may take (None: not checked)."""
    present = {f.code for f in spec.fields if f.code in cleaned.columns}
    markers = set(present)
    for code in present:
        if issue_col(code) in cleaned.columns:
            markers.add(f"{code}__has_issue")
        if detail_col(code) in cleaned.columns:
            markers.add(f"{code}__has_detail")
        if orig_col(code) in cleaned.columns:
            markers.add(f"{code}__has_original")
    allowed = None if allowed_source_usccs is None else set(allowed_source_usccs)
    clock = _Clock(timings)
    frame = _with_identifier_verdicts(cleaned, spec, present, receipt_date)
    clock("identifiers")

    rule_exprs: list[pl.Expr] = []
    messages: dict[str, pl.Expr] = {}
    names: dict[str, list[str]] = {}
    for f in spec.fields:
        rules = _field_rules(
            f, spec, markers, receipt_date=receipt_date, allowed_source_usccs=allowed
        )
        expr = rules.rule_expr(f.code)
        if expr is not None:
            rule_exprs.append(expr)
            messages[f.code] = rules.message_expr(f.code)
            names[f"{f.code}__rule"] = rules.names
        if f.code in present and issue_col(f.code) in cleaned.columns and f.type == "decimal":
            rule_exprs.append(
                pl.when(pl.col(issue_col(f.code)) == "amount_unit_converted")
                .then(pl.lit(0, dtype=pl.UInt8))
                .alias(f"{f.code}__warn")
            )
            names[f"{f.code}__warn"] = ["amount_unit_converted"]
            messages[f"{f.code}__warn"] = _format(
                _("%(field)s的值“%(value)s”按元填写,已换算为 %(amount)s 万元"),
                field=_quoted(f.name),
                value=_original(f.code, markers),
                amount=pl.col(f.code),
            )
    # Rule codes over all rows (cheap); messages only for the failing rows.
    judged = frame.with_columns(rule_exprs) if rule_exprs else frame
    clock("rules")

    order = {f.code: i for i, f in enumerate(spec.fields)}
    parts: list[pl.DataFrame] = []
    for f in spec.fields:
        for suffix, severity in (("__rule", "error"), ("__warn", "warning")):
            col = f"{f.code}{suffix}"
            if col not in judged.columns:
                continue
            if judged.get_column(col).null_count() == judged.height:
                continue
            message = messages[f.code] if suffix == "__rule" else messages[col]
            codes = names[col]
            part = (
                judged.lazy()
                .filter(pl.col(col).is_not_null())
                .select(
                    pl.col(ROW).alias("row"),
                    pl.lit(f.code).alias("field"),
                    pl.lit(f.name).alias("field_name"),
                    _original(f.code, markers).alias("value"),
                    pl.col(col)
                    .replace_strict(list(range(len(codes))), codes, return_dtype=pl.String)
                    .alias("rule"),
                    message.alias("message"),
                    pl.lit(severity).alias("severity"),
                    pl.lit(order[f.code], dtype=pl.Int64).alias("_order"),
                )
                .collect()
            )
            parts.append(part)

    clock("messages")
    # Business-key conflicts and exact duplicates, on the cleaned content of the mapped fields.
    content_cols = [f.code for f in spec.fields if f.code in present]
    key_cols = [c for c in spec.business_key if c in present]
    # Only rows whose business key occurs more than once (or who have none) can be duplicates
    # or conflicts (the key is part of the content), so content is hashed for those alone.
    if key_cols:
        keys = cleaned.select(
            ROW,
            _hash(key_cols).alias("_key"),
            pl.any_horizontal([pl.col(c).is_not_null() for c in key_cols]).alias("_has_key"),
        )
        maybe = (pl.col("_key").is_duplicated() | ~pl.col("_has_key")).alias("_maybe")
        positions = keys.select(maybe).to_series().arg_true()
        keyed = keys[positions].with_columns(
            cleaned.select(content_cols)[positions]
            .select(_hash(content_cols))
            .to_series()
            .alias("_content")
        )
    else:
        keyed = cleaned.select(
            ROW,
            _hash(content_cols).alias("_content"),
            pl.lit(None, dtype=pl.UInt64).alias("_key"),
            pl.lit(False).alias("_has_key"),
        )
    clock("content_hash")
    conflicts = _conflicts(keyed, cleaned, spec, key_cols, markers)
    clock("conflicts")
    if conflicts.height:
        parts.append(conflicts)

    errors = (
        pl.concat([p.select(*ERROR_SCHEMA, "_order") for p in parts], how="vertical_relaxed")
        if parts
        else pl.DataFrame(schema={**ERROR_SCHEMA, "_order": pl.Int64})
    )
    rejected_rows = errors.filter(pl.col("severity") == "error").get_column("row").unique()
    candidates = keyed.filter(~pl.col(ROW).is_in(rejected_rows.implode()))
    first_row = pl.col(ROW).first().over("_content")
    dups = candidates.with_columns(first_row.alias("_first")).filter(
        pl.col(ROW) != pl.col("_first")
    )
    if dups.height:
        duplicate_errors = dups.select(
            pl.col(ROW).alias("row"),
            pl.lit("").alias("field"),
            pl.lit("").alias("field_name"),
            pl.lit(None, dtype=pl.String).alias("value"),
            pl.lit("duplicate").alias("rule"),
            _format(_("与第 %(row)s 行内容完全相同,按一行处理"), row=pl.col("_first")).alias(
                "message"
            ),
            pl.lit("warning").alias("severity"),
            pl.lit(-1, dtype=pl.Int64).alias("_order"),
        )
        errors = pl.concat([errors, duplicate_errors], how="vertical_relaxed")
    errors = errors.sort(["row", "_order", "rule"]).drop("_order").cast(ERROR_SCHEMA)

    dropped = pl.concat([rejected_rows, dups.get_column(ROW)])
    public = [c for c in cleaned.columns if not c.endswith(("__issue", "__detail"))]
    accepted_frame = cleaned.select(public)
    if dropped.len():
        accepted_frame = accepted_frame.filter(~pl.col(ROW).is_in(dropped.implode()))
    clock("accepted")
    rows = cleaned.height
    rejected = rejected_rows.len()
    return ValidationResult(
        errors=errors,
        accepted_frame=accepted_frame,
        rows=rows,
        accepted=rows - rejected,
        rejected=rejected,
        duplicates=dups.height,
    )


def _hash(columns: list[str]) -> pl.Expr:
    """A 64-bit hash of the values of `columns` in a row (per-column hashes with distinct seeds,
    folded; much cheaper than hashing a struct)."""
    if not columns:
        return pl.lit(0, dtype=pl.UInt64)
    out = pl.lit(0, dtype=pl.UInt64)
    for i, c in enumerate(columns):
        out = out * pl.lit(1_000_003, dtype=pl.UInt64) + pl.col(c).hash(seed=i + 1)
    return out


def _conflicts(
    keyed: pl.DataFrame,
    cleaned: pl.DataFrame,
    spec: CategorySpec,
    key_cols: list[str],
    present: set[str],
) -> pl.DataFrame:
    if not key_cols:
        return pl.DataFrame(schema={**ERROR_SCHEMA, "_order": pl.Int64})
    with_key = keyed.filter(pl.col("_has_key"))
    groups = (
        with_key.group_by("_key")
        .agg(pl.col("_content").n_unique().alias("_n"), pl.col(ROW).alias("_rows"))
        .filter(pl.col("_n") > 1)
    )
    if not groups.height:
        return pl.DataFrame(schema={**ERROR_SCHEMA, "_order": pl.Int64})
    names = "、".join(spec.field(c).name for c in key_cols)
    hits = with_key.join(groups, on="_key", how="inner")
    others = pl.col("_rows").list.set_difference(pl.concat_list(ROW)).list.sort()
    key_text = pl.concat_str(
        [_quoted_value(spec.field(c), present) for c in key_cols],
        separator=" / ",
        ignore_nulls=True,
    )
    return (
        hits.with_columns(others.alias("_others"))
        .join(cleaned.select(ROW, key_text.alias("value")), on=ROW, how="left")
        .select(
            pl.col(ROW).alias("row"),
            pl.lit("").alias("field"),
            pl.lit(names).alias("field_name"),
            pl.col("value"),
            pl.lit("conflict").alias("rule"),
            _format(
                _("与第 %(rows)s 行的%(key)s相同但内容不同,无法确定以哪一行为准,这些行均不予接收"),
                rows=pl.col("_others")
                .list.head(_MAX_ROWS_NAMED)
                .list.eval(pl.element().cast(pl.String))
                .list.join("、")
                + pl.when(pl.col("_others").list.len() > _MAX_ROWS_NAMED)
                .then(pl.lit(_(" 等")))
                .otherwise(pl.lit("")),
                key=names,
            ).alias("message"),
            pl.lit("error").alias("severity"),
            pl.lit(-2, dtype=pl.Int64).alias("_order"),
        )
    )
