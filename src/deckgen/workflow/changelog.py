"""Release notes: what changed for students since the last release, as Markdown.

The last release is a package (by default the one in decks/): it holds exactly what students
imported, field by field, which the lock (fingerprints only) does not.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass
from pathlib import Path

from deckgen.anki.anki_package import package_content
from deckgen.anki.occlusion import read_occlusion_field
from deckgen.anki.retire import RETIRED_TAG
from deckgen.build import compile_project, last_release_packages, package_path
from deckgen.diagnostics import DeckgenError, Report, display_path, plural, shorten
from deckgen.notes import CompiledDeck, Note

_TAG = re.compile(r"<[^>]*>")
_CONTEXT_WORDS = 4
"""Unchanged words kept on each side of a change in a word diff."""


@dataclass(frozen=True)
class ShippedNote:
    """A note as a release shipped it."""

    fields: tuple[str, ...]
    tags: tuple[str, ...]


def last_release(package: Path) -> dict[str, ShippedNote] | None:
    """Fields and tags of every note in the package, by guid; None when there is no package."""
    if not package.exists():
        return None
    try:
        content = package_content(package.read_bytes())
    except OSError as exc:
        raise DeckgenError(f"cannot read {display_path(package)}: {exc.strerror}") from exc
    if content is None:
        raise DeckgenError(f"{display_path(package)} is not an Anki package")
    return {
        guid: ShippedNote(tuple(note["fields"].split("\x1f")), tuple(note["tags"].split()))
        for guid, note in content["notes"].items()
    }


def changes_since(
    cards_dir: Path, *, now: int, packages_dir: Path, previous: Path, report: Report
) -> str:
    """Release notes of every deck for what changed since the last release: ``previous`` is
    its package (a project of one deck) or a folder of them named like those in
    ``packages_dir``."""
    compiled = compile_project(cards_dir, now=now, report=report, packages_dir=packages_dir)
    notes = []
    for deck, baseline in zip(
        compiled, last_release_packages(previous, cards_dir, compiled), strict=True
    ):
        notes.append(
            release_notes(
                deck,
                last_release(baseline),
                title=f"{deck.spec.name}: changes since {display_path(baseline)}",
                package_name=package_path(packages_dir, deck.spec.folder).name,
            )
        )
    return "\n".join(notes)


def release_notes(
    deck: CompiledDeck, previous: dict[str, ShippedNote] | None, *, title: str, package_name: str
) -> str:
    """Markdown: the cards added, changed (with a word diff) and retired since ``previous``,
    then how a student imports the update."""
    shipped = previous or {}
    added: list[str] = []
    changed: list[str] = []
    retired: list[str] = []
    for note in sorted(deck.notes, key=lambda n: n.card_id):
        old = shipped.get(note.guid)
        if RETIRED_TAG in note.tags:
            if old is None or RETIRED_TAG not in old.tags:
                retired.append(f"- `{note.card_id}`: {_summary(note)}")
        elif old is None:
            added.append(f"- `{note.card_id}`: {_summary(note)}")
        elif (old.fields, sorted(old.tags)) != (note.fields, sorted(note.tags)):
            changed.append(_changed(note, old))
    lines = [f"## {title}", ""]
    for heading, entries in (("Added", added), ("Changed", changed), ("Retired", retired)):
        if entries:
            lines += [f"### {heading}", "", *entries, ""]
    if not (added or changed or retired):
        lines += ["No card changed.", ""]
    lines += [
        "### How to update",
        "",
        f"1. Download `{package_name}`.",
        "2. In Anki, choose **File → Import…** and pick the file.",
        "3. Keep the default options and click **Import**. Your review history stays, and so do "
        "your own edits to cards this release does not change.",
    ]
    if retired or any(RETIRED_TAG in note.tags for note in deck.notes):
        lines.append(
            "4. Retired cards are no longer part of the deck. To find them, open **Browse** and "
            f"search `tag:{RETIRED_TAG}`; suspend or delete them as you like."
        )
    return "\n".join(lines) + "\n"


def _summary(note: Note) -> str:
    """A note in one line: its first field, or for image occlusion what it is and its header
    (its first field is the masks' coordinates)."""
    if note.notetype.original_stock_kind is None:
        return shorten(_text(note.fields[0]))
    header = _text(note.fields[2])
    cards = plural(len(note.card_ords), "card")
    return f"image occlusion, {cards}" + (f": {shorten(header)}" if header else "")


def _masks_changed(before: str, after: str) -> str:
    """What changed in an Occlusion field, card by card."""
    old, new = read_occlusion_field(before), read_occlusion_field(after)
    parts = []
    for label, numbers in (
        ("new", sorted(new.keys() - old.keys())),
        ("moved", sorted(n for n in new.keys() & old.keys() if new[n] != old[n])),
        ("removed", sorted(old.keys() - new.keys())),
    ):
        if numbers:
            parts.append(f"{label} masks for card{'s' if len(numbers) > 1 else ''} "
                         + ", ".join(map(str, numbers)))  # fmt: skip
    return "; ".join(parts) or "(mask mode)"


def _changed(note: Note, old: ShippedNote) -> str:
    parts = []
    for name, before, after in zip(note.notetype.fields, old.fields, note.fields, strict=False):
        if before != after and note.notetype.original_stock_kind and name == "Occlusion":
            parts.append(f"  - {name}: {_masks_changed(before, after)}")
        elif before != after:
            diff = word_diff(_text(before), _text(after))
            parts.append(f"  - {name}: {diff or '(formatting or images)'}")
    added_tags = sorted(set(note.tags) - set(old.tags))
    removed_tags = sorted(set(old.tags) - set(note.tags))
    if added_tags or removed_tags:
        tags = [f"**{tag}**" for tag in added_tags] + [f"~~{tag}~~" for tag in removed_tags]
        parts.append(f"  - tags: {' '.join(tags)}")
    return "\n".join([f"- `{note.card_id}`: {_summary(note)}", *parts])


def word_diff(before: str, after: str) -> str:
    """The changed words, ``~~removed~~ **added**``, with a little unchanged context."""
    old, new = before.split(), after.split()
    pieces: list[str] = []
    opcodes = difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            words = old[i1:i2]
            if index == 0:
                words = (["…"] if len(words) > _CONTEXT_WORDS else []) + words[-_CONTEXT_WORDS:]
            elif index == len(opcodes) - 1:
                words = words[:_CONTEXT_WORDS] + (["…"] if len(words) > _CONTEXT_WORDS else [])
            elif len(words) > 2 * _CONTEXT_WORDS:
                words = [*words[:_CONTEXT_WORDS], "…", *words[-_CONTEXT_WORDS:]]
            pieces.extend(words)
            continue
        if i2 > i1:
            pieces.append(f"~~{' '.join(old[i1:i2])}~~")
        if j2 > j1:
            pieces.append(f"**{' '.join(new[j1:j2])}**")
    return " ".join(pieces) if any(tag != "equal" for tag, *_ in opcodes) else ""


def _text(field_html: str) -> str:
    """What a student reads in a field, on one line."""
    return " ".join(html.unescape(_TAG.sub(" ", field_html)).split())
