"""Subject names for matching: normalisation, legal-form suffixes, search keys, masking.

`normalize_name` is what `Subject.name_norm` holds: two spellings of one name written by
different departments (full-width letters, 【】 or （） brackets, inner spaces, traditional
characters, 有限责任公司 / 有限公司) should meet. It is one NFKC pass plus one `str.translate`
with a table built once (OpenCC's single-character traditional→simplified dictionary merged with
bracket, case, space and punctuation rules), so a million names take a few seconds;
OpenCC's phrase-level conversion (pure Python, slow) runs only for the rare name that mixes
traditional characters with a character whose simplified form depends on the phrase (乾/於/餘…).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path

# --------------------------------------------------------------------------- the table

# Everything becomes ASCII round brackets.
_BRACKETS = {"(": "（〔【[［{｛〈《「『﹙⦅", ")": "）〕】]］}｝〉》」』﹚⦆"}
# Removed: separators and punctuation that departments write inconsistently.
_PUNCTUATION = "·•・‧∙⋅、,，.。．-‐‑‒–—―−﹣_＿'\"‘’“”`´:：;；!！?？*＊~～/／\\|｜+#@&＆"
# Invisible characters that are not str.isspace().
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"


def _opencc_dictionary(name: str) -> Path:
    # Imported here: opencc loads its dictionaries on import; only name normalisation needs it.
    import opencc

    return Path(opencc.__file__).parent / "dictionary" / name


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[dict[int, str | None], re.Pattern | None]:
    """(translate table, pattern of ambiguous characters that need phrase conversion)."""
    table: dict[int, str | None] = {}
    ambiguous: set[str] = set()
    try:
        with open(_opencc_dictionary("TSCharacters.txt"), encoding="utf-8") as fh:
            for line in fh:
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 2 or len(parts[0]) != 1:
                    continue
                src, targets = parts[0], parts[1].split(" ")
                if len(targets) == 1 or src not in targets:
                    # Unambiguous, or ambiguous without the character itself as a candidate:
                    # the first candidate is OpenCC's default.
                    if targets[0] != src and len(targets[0]) == 1:
                        table[ord(src)] = targets[0]
                else:
                    # e.g. 乾 → 干|乾: legal in simplified text; only a phrase decides.
                    ambiguous.add(src)
    except OSError:  # pragma: no cover - opencc is a hard dependency
        pass
    # Chains (薴 → 苧 → 苎) are followed to the end so one pass is enough (idempotence).
    for src, dst in list(table.items()):
        seen = {src}
        while dst is not None and ord(dst) in table and ord(dst) not in seen:
            seen.add(ord(dst))
            dst = table[ord(dst)]
        table[src] = dst
    for target, sources in _BRACKETS.items():
        for c in sources:
            table[ord(c)] = target
    for c in _PUNCTUATION + _INVISIBLE:
        table[ord(c)] = None
    for cp in range(0x3001):  # every str.isspace() character is at or below U+3000
        if chr(cp).isspace():
            table[cp] = None
    for cp in range(ord("a"), ord("z") + 1):
        table[cp] = chr(cp - 32)
    pattern = re.compile("[" + re.escape("".join(sorted(ambiguous))) + "]") if ambiguous else None
    return table, pattern


@functools.lru_cache(maxsize=1)
def _t2s():
    # Imported here: opencc loads its dictionaries on import; only name normalisation needs it.
    import opencc

    return opencc.OpenCC("t2s")


def _renormalize(s: str, table) -> str:
    """Removing a character can leave a base letter next to a combining mark ("A ́" → "Á"
    after NFKC): repeat until stable so that normalize_name is idempotent."""
    for _ in range(3):
        s = unicodedata.normalize("NFKC", s).translate(table)
        if unicodedata.is_normalized("NFKC", s):
            break
    return s


def _phrase_fallback(original: str, fast: str, table, pattern) -> str:
    """Called when `fast` still holds an ambiguous character: if the name also had traditional
    characters, let OpenCC's phrase dictionary decide, then apply the table again."""
    nfkc = unicodedata.normalize("NFKC", original)
    if not any(table.get(ord(c), c) != c and "\u3400" <= c for c in nfkc):
        return fast  # no traditional characters at all: keep 乾/於 as written
    converted = _t2s().convert(nfkc).translate(table)
    if not unicodedata.is_normalized("NFKC", converted):
        converted = _renormalize(converted, table)
    return converted


def normalize_name(name: str) -> str:
    """The matching form of a name: NFKC, no whitespace, brackets → (), traditional →
    simplified, Latin upper-case, separators (·•、,.- …) removed. Idempotent."""
    if not name:
        return ""
    table, pattern = _tables()
    fast = unicodedata.normalize("NFKC", name).translate(table)
    if not unicodedata.is_normalized("NFKC", fast):
        fast = _renormalize(fast, table)
    if pattern is not None and pattern.search(fast):
        return _phrase_fallback(name, fast, table, pattern)
    return fast


def normalize_names(names: list[str]) -> list[str]:
    """`normalize_name` over a list, for bulk callers (≈1M names in a few seconds)."""
    table, pattern = _tables()
    nfkc = unicodedata.normalize
    out = [nfkc("NFKC", n).translate(table) if n else "" for n in names]
    is_normalized = unicodedata.is_normalized
    for i, s in enumerate(out):
        if not is_normalized("NFKC", s):
            out[i] = _renormalize(s, table)
    if pattern is not None:
        search = pattern.search
        for i, s in enumerate(out):
            if search(s):
                out[i] = _phrase_fallback(names[i], s, table, pattern)
    return out


# --------------------------------------------------------------------------- legal forms

# (suffix as it appears after normalize_name, canonical class). Longest first; the class is what
# match_key compares, so variants that mean the same legal form share one class.
LEGAL_FORM_SUFFIXES: tuple[tuple[str, str], ...] = tuple(
    sorted(
        [
            ("集团股份有限公司", "股份有限公司"),
            ("股份有限公司", "股份有限公司"),
            ("集团有限责任公司", "集团有限公司"),
            ("集团有限公司", "集团有限公司"),
            ("有限责任公司", "有限公司"),
            ("有限公司", "有限公司"),
            ("股份合作公司", "股份合作公司"),
            ("合伙企业(特殊普通合伙)", "合伙企业(特殊普通合伙)"),
            ("(特殊普通合伙)", "合伙企业(特殊普通合伙)"),
            ("合伙企业(普通合伙)", "合伙企业(普通合伙)"),
            ("(普通合伙)", "合伙企业(普通合伙)"),
            ("合伙企业(有限合伙)", "合伙企业(有限合伙)"),
            ("(有限合伙)", "合伙企业(有限合伙)"),
            ("合伙企业", "合伙企业"),
            ("个人独资企业", "个人独资企业"),
            ("分公司", "分公司"),
            ("农民专业合作社联合社", "专业合作社联合社"),
            ("专业合作社联合社", "专业合作社联合社"),
            ("农民专业合作社", "专业合作社"),
            ("专业合作社", "专业合作社"),
            ("合作社", "专业合作社"),
            ("个体工商户", "个体工商户"),
            ("公司", "公司"),
        ],
        key=lambda item: -len(item[0]),
    )
)
_SUFFIX_CLASS = dict(LEGAL_FORM_SUFFIXES)
_SUFFIX_LENGTHS = sorted({len(s) for s, _ in LEGAL_FORM_SUFFIXES}, reverse=True)


def split_legal_form(norm: str) -> tuple[str, str]:
    """(core, suffix) of a normalised name; suffix is the longest known legal-form ending as
    written ("" when none), e.g. "淄博宏达有限责任公司" → ("淄博宏达", "有限责任公司")."""
    n = len(norm)
    if norm in _SUFFIX_CLASS:
        return norm, ""  # a bare "有限公司" has no core to compare
    for length in _SUFFIX_LENGTHS:
        if length < n and norm[-length:] in _SUFFIX_CLASS:
            return norm[:-length], norm[-length:]
    return norm, ""


def legal_form_class(suffix: str) -> str:
    """The canonical class of a suffix: 有限责任公司 and 有限公司 are both "有限公司"."""
    return _SUFFIX_CLASS.get(suffix, suffix)


_INNER_EQUIVALENTS = (("有限责任公司", "有限公司"),)


def _canonical_core(core: str) -> str:
    for old, new in _INNER_EQUIVALENTS:
        if old in core:
            core = core.replace(old, new)
    # "淄博宏达(集团)" and "淄博宏达集团" are the same core.
    return core.replace("(", "").replace(")", "")


def match_key(name: str) -> str:
    """Key for comparing two names: core (brackets dropped, inner 有限责任公司 → 有限公司) plus the
    canonical legal-form class. Equal keys mean "the same name" for matching purposes."""
    return match_key_of_normalized(normalize_name(name))


def match_key_of_normalized(norm: str) -> str:
    """`match_key` of a name that is already `normalize_name` output (e.g. `name_norm`)."""
    core, suffix = split_legal_form(norm)
    return _canonical_core(core) + legal_form_class(suffix)


# --------------------------------------------------------------------------- search key


@functools.lru_cache(maxsize=1)
def _region_prefixes() -> tuple[frozenset[str], tuple[int, ...]]:
    """Place names that commonly open a subject name: provinces and prefecture-level cities of
    the whole country as written in full, plus short forms (without 省/市/区/县) for provinces,
    Shandong's cities and Zibo's counties. From stdnum's GB/T 2260 table (current codes)."""
    names: set[str] = {"中国", "中华人民共和国"}
    short_ok_prefixes = ("37",)  # Shandong: short forms of its cities and counties too
    try:  # numdb has no public iterator: read its data file directly
        import stdnum

        text = (Path(stdnum.__file__).parent / "cn" / "loc.dat").read_text(encoding="utf-8")
    except OSError:
        text = ""
    province = ""
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^(\d{2}) province="([^"]+)"', line)
        if m:
            province = m.group(1)
            full = m.group(2)
            names.add(full)
            names.add(
                re.sub(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$", "", full)
            )
            continue
        m = re.match(r'^\s+(\d{4}) county="(?:\[(\d{4})?-(\d{4})?\])?([^"]+)"', line)
        if not m or m.group(3):  # skip abolished codes
            continue
        code, label = province + m.group(1), m.group(4)
        if label in {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}:
            continue
        is_city = code.endswith("00")
        if is_city or code.startswith(short_ok_prefixes):
            names.add(label)
        if code.startswith(short_ok_prefixes):
            short = re.sub(r"(市|区|县)$", "", label)
            if len(short) >= 2:
                names.add(short)
    names = {normalize_name(n) for n in names if n}
    return frozenset(names), tuple(sorted({len(n) for n in names}, reverse=True))


def strip_region_prefix(core: str) -> str:
    """Drop leading place names ("山东省淄博市张店区宏达" → "宏达"), keeping at least 2 chars."""
    names, lengths = _region_prefixes()
    for _ in range(4):
        for length in lengths:
            if len(core) - length >= 2 and core[:length] in names:
                core = core[length:]
                break
        else:
            break
    return core


def name_key(name: str) -> str:
    """The search key stored in `Subject.name_key`: the distinctive part of a name (字号 and
    business words) without leading place names, brackets and the legal form. Indexed, so a
    prefix of it finds a subject however the region and legal form were written."""
    return name_keys([normalize_name(name)])[0]


def name_keys(names: list[str]) -> list[str]:
    """`name_key` over a list of names that are ALREADY normalised (e.g. `normalize_names`
    output), for bulk loaders."""
    out = []
    for norm in names:
        core, suffix = split_legal_form(norm)
        if suffix.startswith("集团"):
            core += "集团"  # "宏达集团有限公司" and "宏达(集团)有限责任公司" share "宏达集团"
        out.append(strip_region_prefix(_canonical_core(core)))
    return out


# --------------------------------------------------------------------------- masking

COMPOUND_SURNAMES = frozenset(
    {
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "令狐",
        "司徒",
        "夏侯",
        "宇文",
        "长孙",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "轩辕",
        "澹台",
        "申屠",
        "呼延",
    }
)


def mask_person_name(name: str) -> str:
    """Public rendering of a natural person's name: the surname kept, every other character
    masked ("张三" → "张*", "欧阳娜娜" → "欧阳**"). A two-character compound-surname name keeps
    only the first character so something is always masked."""
    name = (name or "").strip()
    if not name:
        return ""
    keep = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
    return name[:keep] + "*" * (len(name) - keep)
