"""Release notes: what changed for students since the last release, as Markdown.

The last release is a package (by default the one in decks/): it holds exactly what students
imported, field by field, which the lock (fingerprints only) does not.

Everything quoted from cards (text, deck names, ids, tags, file names) is untrusted and goes
through ``markdown_text`` or ``markdown_code``: students read the notes rendered, where raw
text would become HTML, links, images, comments that hide the rest, or @mentions.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from deckgen.anki.compiled import CompiledDeck, Note
from deckgen.anki.occlusion import read_occlusion_field
from deckgen.anki.retire import RETIRED_TAG
from deckgen.diagnostics import Report, plural, printable, shorten
from deckgen.pipeline.build import compile_project, package_path
from deckgen.render.render import plain_text
from deckgen.render.report_link import without_report_link
from deckgen.workflow.baseline import Baseline, BaselineChoice

_CONTEXT_WORDS = 4
"""Unchanged words kept on each side of a change in a word diff."""


@dataclass(frozen=True)
class ShippedNote:
    """A note as a release shipped it."""

    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck: str | None = None
    """The deck its first card was in; None when unknown."""


def last_release(baseline: Baseline) -> dict[str, ShippedNote] | None:
    """Fields and tags of every note the last release shipped, by guid; None for a first
    release."""
    content = baseline.content
    if content is None:
        return None
    decks: dict[str, str] = {}
    for guid, _, deck_name, _ in content.cards:  # by guid, then card number
        decks.setdefault(guid, deck_name)
    return {
        guid: ShippedNote(note.field_list, note.tag_list, decks.get(guid))
        for guid, note in content.notes.items()
    }


def changes_since(
    cards_dir: Path, *, now: int, packages_dir: Path, baseline: BaselineChoice, report: Report
) -> str:
    """Release notes of every deck for what changed since its last release (see
    workflow/baseline.py)."""
    compiled = compile_project(cards_dir, now=now, report=report, packages_dir=packages_dir)
    notes = []
    for deck, previous in zip(compiled, baseline.resolve(cards_dir, compiled), strict=True):
        since = "first release" if previous.path is None else f"changes since {previous.label}"
        notes.append(
            release_notes(
                deck,
                last_release(previous),
                title=f"{deck.spec.name}: {since}",
                package_name=package_path(packages_dir, deck.spec.folder).name,
            )
        )
    return "\n".join(notes)


@dataclass(frozen=True)
class Changes:
    """The notes a release adds, changes and retires, each in card id order."""

    added: tuple[Note, ...]
    changed: tuple[tuple[Note, ShippedNote], ...]
    """Each with its version in the last release."""
    retired: tuple[Note, ...]


def changes(deck: CompiledDeck, previous: dict[str, ShippedNote] | None) -> Changes:
    """What students of ``previous`` (None: nothing yet) get from ``deck``."""
    shipped = previous or {}
    added: list[Note] = []
    changed: list[tuple[Note, ShippedNote]] = []
    retired: list[Note] = []
    for note in sorted(deck.notes, key=lambda n: n.card_id):
        old = shipped.get(note.guid)
        if RETIRED_TAG in note.tags:
            if old is None or RETIRED_TAG not in old.tags:
                retired.append(note)
        elif old is None:
            added.append(note)
        elif (without_report_link(old.fields), sorted(old.tags)) != (
            without_report_link(note.fields),
            sorted(note.tags),
        ):
            changed.append((note, old))
    return Changes(tuple(added), tuple(changed), tuple(retired))


def release_notes(
    deck: CompiledDeck, previous: dict[str, ShippedNote] | None, *, title: str, package_name: str
) -> str:
    """Markdown: the cards added, changed (with a word diff) and retired since ``previous``,
    then how a student imports the update."""
    since = changes(deck, previous)
    shipped = previous or {}
    added = [_entry(note.card_id, _summary(note)) for note in since.added]
    # A new answer reaches a student's copy at once, but Anki keeps the card's schedule: one
    # learnt long ago may not come back for months. These come first, with how to relearn.
    relearn = [
        _changed(note, old) for note, old in since.changed if _studied_text_changed(note, old)
    ]
    changed = [
        _changed(note, old)
        for note, old in since.changed
        if without_report_link(old.fields) != without_report_link(note.fields)
        and not _studied_text_changed(note, old)
    ] + _retagged([(note, old) for note, old in since.changed])
    retired = [
        # The note now ships as a notice: name the card by what students knew.
        _entry(note.card_id, shorten(plain_text(old.fields[0])))
        if (old := shipped.get(note.guid))
        else _entry(note.card_id, _summary(note))
        for note in since.retired
    ]
    lines = [f"## {markdown_text(title)}", ""]
    sections = (
        (_RELEARN, relearn),
        ("Added", added),
        ("Changed", changed),
        ("Retired", retired),
    )
    for heading, entries in sections:
        if entries:
            lines += [f"### {heading}", "", *entries, ""]
    if not (added or changed or retired or relearn):
        lines += ["No card changed.", ""]
    steps = [f"Download {markdown_code(package_name)}."]
    renamed = _renamed_subdecks(deck, shipped)
    if renamed:
        steps.append(
            "Before importing, rename these subdecks in Anki (deck list → gear → **Rename**), "
            "so that your cards and this release's new ones share one subdeck (Anki never moves "
            "your cards): "
            + ", ".join(
                f"{markdown_code(_within(deck, old))} → {markdown_code(_within(deck, new))}"
                for old, new in renamed
            )
            + "."
        )
    steps += [
        "In Anki, choose **File → Import…** and pick the file.",
        "Keep the default options and click **Import**. Your review history stays, and so do "
        "your own edits to cards this release does not change.",
    ]
    if relearn:
        steps.append(
            f"Cards under **{_RELEARN}** keep your schedule, so one you know well may not come "
            "back for a long time: to learn the new answer now, find it in **Browse** and "
            "choose **Cards → Reset…** (Forget in older Anki)."
        )
    if retired:
        steps.append(
            "Retired: these cards now show a retirement notice; delete them in Anki with "
            f"**Browse** → {markdown_code(f'tag:{RETIRED_TAG}')}."
        )
    lines += ["### How to update", ""]
    lines += [f"{number}. {step}" for number, step in enumerate(steps, start=1)]
    return "\n".join(lines) + "\n"


def _within(deck: CompiledDeck, deck_name: str) -> str:
    """A subdeck's name as a student sees it under the deck (``1 Anatomy``)."""
    return deck_name.removeprefix(f"{deck.spec.name}::")


_RELEARN = "Answers changed: relearn these"
_NOT_STUDIED = frozenset({"Extra", "Source", "Back Extra", "Comments", "Header"})
"""Fields a student reads but does not answer: a change there needs no relearning."""


def _studied_text_changed(note: Note, old: ShippedNote) -> bool:
    """Whether a field the student answers (question, answer, cloze, masks) changed."""
    return any(
        before != after
        for name, before, after in zip(
            note.notetype.fields,
            without_report_link(old.fields),
            without_report_link(note.fields),
            strict=False,
        )
        if name not in _NOT_STUDIED
    )


def _renamed_subdecks(deck: CompiledDeck, shipped: dict[str, ShippedNote]) -> list[tuple[str, str]]:
    """Subdecks whose every note students have moved to one other subdeck: renaming it in
    Anki before the import keeps each topic in one subdeck."""
    moves: dict[str, set[str]] = {}
    for note in deck.notes:
        old = shipped.get(note.guid)
        if old is not None and old.deck is not None and RETIRED_TAG not in note.tags:
            moves.setdefault(old.deck, set()).add(note.deck_name)
    return sorted(
        (old, new.pop()) for old, new in moves.items() if len(new) == 1 and old not in new
    )


def _entry(card_id: str, summary: str) -> str:
    """A card's list item: its id and a line of plain text saying what it is."""
    return f"- {markdown_code(card_id)}: {markdown_text(summary)}"


def _summary(note: Note) -> str:
    """A note in one line: its first field, or for image occlusion what it is and its header
    (its first field is the masks' coordinates)."""
    if note.notetype.original_stock_kind is None:
        return shorten(plain_text(note.fields[0]))
    header = plain_text(note.fields[2])
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


def _retagged(changed: list[tuple[Note, ShippedNote]]) -> list[str]:
    """Cards whose only change is their tags, one entry per tag change: renaming a tag on a
    whole topic is one line, not one per card."""
    groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[tuple[Note, ShippedNote]]] = {}
    for note, old in changed:
        if without_report_link(old.fields) == without_report_link(note.fields):
            tags = (
                tuple(sorted(set(note.tags) - set(old.tags))),
                tuple(sorted(set(old.tags) - set(note.tags))),
            )
            groups.setdefault(tags, []).append((note, old))
    return [
        f"- tags of {plural(len(cards), 'card')}: {_tag_change(*tags)} "
        f"({', '.join(markdown_code(note.card_id) for note, _ in cards)})"
        if len(cards) > 1
        else _changed(*cards[0])
        for tags, cards in groups.items()
    ]


def _tag_change(added: tuple[str, ...], removed: tuple[str, ...]) -> str:
    return " ".join(
        [f"**{markdown_text(tag)}**" for tag in added]
        + [f"~~{markdown_text(tag)}~~" for tag in removed]
    )


def _changed(note: Note, old: ShippedNote) -> str:
    parts = []
    fields = zip(
        note.notetype.fields,
        without_report_link(old.fields),
        without_report_link(note.fields),
        strict=False,
    )
    for name, before, after in fields:
        if before != after and note.notetype.original_stock_kind and name == "Occlusion":
            parts.append(f"  - {name}: {_masks_changed(before, after)}")
        elif before != after:
            diff = word_diff(plain_text(before), plain_text(after))
            parts.append(f"  - {markdown_text(name)}: {diff or '(formatting or images)'}")
    added_tags = tuple(sorted(set(note.tags) - set(old.tags)))
    removed_tags = tuple(sorted(set(old.tags) - set(note.tags)))
    if added_tags or removed_tags:
        parts.append(f"  - tags: {_tag_change(added_tags, removed_tags)}")
    return "\n".join([_entry(note.card_id, _summary(note)), *parts])


def word_diff(before: str, after: str) -> str:
    """The changed words, ``~~removed~~ **added**``, with a little unchanged context, as
    Markdown (the words escaped)."""
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
            pieces.append(markdown_text(" ".join(words)))
            continue
        if i2 > i1:
            pieces.append(f"~~{markdown_text(' '.join(old[i1:i2]))}~~")
        if j2 > j1:
            pieces.append(f"**{markdown_text(' '.join(new[j1:j2]))}**")
    return " ".join(pieces) if any(tag != "equal" for tag, *_ in opcodes) else ""


# ASCII punctuation that Markdown (CommonMark and GitHub's) acts on inside a line: emphasis,
# code, links, tables, headings' closing #, math ($); ':' of '://' and '.' of 'www.' start
# GitHub's autolinks. A backslash makes each one literal.
_MARKDOWN_ACTIVE = re.compile(r"[\\`*_~\[\]|#$]|:(?=//)|(?<=www)\.", re.IGNORECASE)
_HTML_ACTIVE = re.compile(r"&(?=#?\w+;)|<(?=[A-Za-z/!?])|^>")
"""Only what could start an entity ('&amp;'), a tag, comment or autolink ('<b', '</', '<!',
'<?', '<http') or a block quote: 'Travell & Simons' and 'a < 5 mm' stay as written."""
_HTML_ENTITY = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_BLOCK_START = re.compile(r"^(\d*)([-+=.)])")
"""What would open a list, a heading underline or a numbered list at the start of a line."""
_REFERENCE = re.compile(r"(?<=[@#])(?=[A-Za-z0-9])")
"""Between '@' or '#' and a name or number: GitHub links @mentions and #123 in the rendered
text itself, after any escape is gone, so only a character in between stops it."""
_WORD_JOINER = "\u2060"
_BACKTICKS = re.compile(r"`+")


def markdown_text(text: str) -> str:
    """Untrusted text as Markdown that renders as exactly this text on one line, inert: no
    HTML, link, image, comment, mention, heading or list, wherever in a line it is put.

    Control, bidi and zero-width characters are shown escaped, as on a terminal, and line
    breaks become spaces. A word joiner (invisible) follows '@' and '#' before a name."""
    line = _one_line(text)
    escaped = _MARKDOWN_ACTIVE.sub(lambda match: "\\" + match.group(), line)
    escaped = _BLOCK_START.sub(r"\1\\\2", escaped, count=1)
    escaped = _HTML_ACTIVE.sub(lambda match: _HTML_ENTITY[match.group()], escaped)
    return _REFERENCE.sub(_WORD_JOINER, escaped)


def markdown_code(text: str) -> str:
    """Untrusted text as a Markdown code span: shown literally, whatever backticks it holds."""
    line = _one_line(text)
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(line)), default=0) + 1)
    padding = " " if line.startswith("`") or line.endswith("`") else ""
    return f"{fence}{padding}{line}{padding}{fence}"


def _one_line(text: str) -> str:
    return printable(" ".join(text.split()))
