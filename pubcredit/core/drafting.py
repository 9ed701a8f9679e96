"""Drafting notes in shipped seed data: "[UNCONFIRMED …]" marks text not yet checked against the
official source. They are for the people who maintain the data, never for the public: an import
takes them out of every public field and keeps what they said in the row's admin-only note, with
the row flagged 待核实 (`take_out_markers`)."""

from __future__ import annotations

import re

# "[UNCONFIRMED]" or "[UNCONFIRMED what to check]", with the space before it.
MARKER = re.compile(r"\s*\[UNCONFIRMED\b\s*([^\]]*)\]")


def split_unconfirmed(text: str | None) -> tuple[str, list[str]]:
    """`text` without its drafting markers, and what each marker said ("" for a bare one)."""
    text = text or ""
    details = [m.group(1).strip() for m in MARKER.finditer(text)]
    return MARKER.sub("", text).strip(), details


def review_note(label: str, details: list[str]) -> list[str]:
    """Lines for the admin-only note: "<label>待核实" or "<label>待核实:<what>" per marker."""
    return [f"{label}待核实:{d}" if d else f"{label}待核实" for d in details]


def take_out_markers(values: dict, public_fields: tuple[tuple[str, str], ...]) -> bool:
    """For a seed row's field values: strip the markers from each public field (key, label) and
    from values["note"], write what they said into the note ("<label>待核实:…" lines) and set
    values["needs_review"] when there was any. Returns whether a public field had one."""
    lines = []
    for key, label in public_fields:
        values[key], details = split_unconfirmed(values.get(key))
        lines += review_note(label, details)
    public = bool(lines)
    note, details = split_unconfirmed(values.get("note"))
    lines += review_note("", details)
    values["note"] = "\n".join([note, *lines]).strip()
    values["needs_review"] = bool(lines)
    return public
