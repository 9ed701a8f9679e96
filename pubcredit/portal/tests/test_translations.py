"""The English catalogue is complete, compiled, and keeps every placeholder.

Chinese strings are the msgids, so Chinese needs no catalogue; English comes from
locale/en/LC_MESSAGES/django.po, whose compiled django.mo is committed. After adding strings:
`cd pubcredit && ../.venv/bin/pubcredit makemessages -l en --ignore='static/vendor/*'`, translate,
then `../.venv/bin/pubcredit compilemessages -l en`.
"""

import gettext
import re
from pathlib import Path

from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|{\w*}")


def _unquote(line: str) -> str:
    body = line.strip()[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def read_po(path: Path) -> list[dict]:
    """Entries of a .po file as dicts (msgctxt, msgid, msgstr, flags); header and obsolete
    entries skipped. An entry ends where the next one's comments or msgctxt/msgid begin."""
    entries: list[dict] = []
    entry: dict = {}
    key = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        starts_entry = line.startswith("#") or line.startswith(("msgctxt ", "msgid "))
        if starts_entry and any(k.startswith("msgstr") for k in entry):
            entries.append(entry)
            entry, key = {}, None
        if line.startswith("#,"):
            entry["flags"] = {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif match := re.match(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (\".*\")$", line):
            key = match.group(1)
            entry[key] = _unquote(match.group(2))
        elif line.startswith('"') and key:
            entry[key] += _unquote(line)
    if entry:
        entries.append(entry)
    return [e for e in entries if e.get("msgid")]


ENTRIES = read_po(LOCALE / "django.po")


def test_catalogue_is_not_empty():
    assert len(ENTRIES) > 100
    assert any(e["msgid"] == "公共信用信息平台" for e in ENTRIES)


def test_every_string_is_translated_and_none_is_fuzzy():
    untranslated = [e["msgid"] for e in ENTRIES if not e.get("msgstr", e.get("msgstr[0]"))]
    fuzzy = [e["msgid"] for e in ENTRIES if "fuzzy" in e.get("flags", set())]
    assert untranslated == []
    assert fuzzy == []


def test_placeholders_are_kept():
    def placeholders(text):
        return sorted(PLACEHOLDER.findall(text))

    broken = [
        e["msgid"]
        for e in ENTRIES
        if placeholders(e.get("msgstr", e.get("msgstr[0]", ""))) != placeholders(e["msgid"])
    ]
    assert broken == []


def test_compiled_catalogue_matches_the_po_file():
    with (LOCALE / "django.mo").open("rb") as mo:
        catalogue = gettext.GNUTranslations(mo)
    stale = []
    for entry in ENTRIES:
        if "msgid_plural" in entry:
            continue
        if "msgctxt" in entry:
            got = catalogue.pgettext(entry["msgctxt"], entry["msgid"])
        else:
            got = catalogue.gettext(entry["msgid"])
        if got != entry["msgstr"]:
            stale.append(entry["msgid"])
    assert stale == [], "run compilemessages -l en"
