"""The shipped deck's retired cards, seen by both kinds of student through Anki's engine.

A new student who imports the release and studies every new card never sees a retired card's
old text; a student upgrading from either of the last two releases keeps every note, card and
review, sees the retirement notice on each retired card, and gets no duplicate.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from anki_engine import StudentCollection
from deckgen.anki.package_reader import read_package
from deckgen.anki.retire import RETIRED_SUBDECK, RETIRED_TAG
from helpers import REPO

RELEASE = REPO / "decks" / "gluteus-medius.apkg"
FIXTURES = REPO / "tests" / "fixtures"
PREVIOUS_RELEASES = [
    FIXTURES / "gluteus-medius-e5aada0.apkg",
    # decks/gluteus-medius.apkg as shipped at 4735d38: retired cards with their old text.
    FIXTURES / "gluteus-medius-4735d38.apkg",
]
TOP_DECK = "Gluteus medius trigger points"
_TAGS = re.compile(r"<[^>]*>")


def _announced() -> str:
    """How the notices name the release that retired them: the shipped deck's version once it
    has one (its first release announced every retirement), "in this release" before."""
    version = re.search(
        r"^version: (\S+)$", (REPO / "cards/gluteus-medius/deck.yaml").read_text(), re.M
    )
    return f"in release {version.group(1)}" if version else "in this release"


ANNOUNCED = _announced()


def text_of(field: str) -> str:
    return " ".join(html.unescape(_TAGS.sub(" ", field)).split())


def old_texts() -> dict[str, list[str]]:
    """The question and answer every retired note last had while live, by guid, from the
    older releases: those no live card also shows (a retired duplicate shares its question)."""
    release = read_package(RELEASE, within=RELEASE.parent).notes
    retired = {guid for guid, note in release.items() if RETIRED_TAG in note.tag_list}
    live = "\n".join(
        text_of(field)
        for note in release.values()
        if RETIRED_TAG not in note.tag_list
        for field in note.field_list
    )
    texts: dict[str, list[str]] = {}
    for package in PREVIOUS_RELEASES:
        for guid, note in read_package(package, within=package.parent).notes.items():
            if guid in retired and RETIRED_TAG not in note.tag_list:
                # Question and answer, or a cloze's text; not the extra and the source.
                own = note.field_list[:2] if len(note.field_list) == 4 else note.field_list[:1]
                texts[guid] = [text_of(f) for f in own if text_of(f) not in live]
    assert set(texts) == retired, "every retired note was live in one of the releases"
    assert sum(map(len, texts.values())) > len(retired), "most old texts are the note's own"
    return texts


def allow_every_new_card(student: StudentCollection) -> None:
    """The deck's defaults, except that all new cards come today instead of 20 a day (the
    review limit, 200 by default, caps new cards too, so it is lifted as well)."""
    for config in student.col.decks.all_config():
        config["new"]["perDay"] = 9999
        config["rev"]["perDay"] = 9999
        student.col.decks.update_config(config)


def test_a_new_student_studying_every_new_card_never_sees_old_text(
    student: StudentCollection,
) -> None:
    texts = old_texts()
    student.import_package(RELEASE)
    allow_every_new_card(student)
    student.col.decks.select(student.col.decks.id_for_name(TOP_DECK))
    first_served: dict[int, bool] = {}  # whether each card is a notice, in serving order
    while (card := student.col.sched.getCard()) is not None:
        out = card.render_output()
        shown = text_of(out.question_text) + " " + text_of(out.answer_text)
        note = card.note()
        first_served.setdefault(card.id, RETIRED_TAG in note.tags)
        assert not any(old in shown for ts in texts.values() for old in ts), shown
        if RETIRED_TAG in note.tags:
            assert "Retired card" in shown and "tag:deckgen::retired" in shown
            assert student.col.decks.name(card.did) == f"{TOP_DECK}::{RETIRED_SUBDECK}"
        student.col.sched.answerCard(card, 3)
    assert len(first_served) == len(student.col.find_cards("")), "every card was served"
    assert any(first_served.values())
    # Anki lists the notices' subdeck last, and serves a deck's own cards before it.
    (top,) = student.col.decks.deck_tree().children
    assert top.children[-1].name == RETIRED_SUBDECK
    assert list(first_served.values())[: len(first_served) // 2] == [False] * (
        len(first_served) // 2
    )


@pytest.mark.parametrize("previous", PREVIOUS_RELEASES, ids=lambda p: p.stem)
def test_a_student_upgrading_keeps_history_and_sees_the_notice(
    previous: Path, student: StudentCollection
) -> None:
    texts = old_texts()
    student.import_package(previous)
    student.study_everything(TOP_DECK)
    notes_before = {guid: (note.id, note.mod) for guid, note in student.notes().items()}
    cards_before = student.card_ids()
    reviews_before = student.review_count()
    reviewed_before = student.reviewed_cards()

    log = student.import_package(RELEASE)

    notes_after = student.notes()
    assert {guid: cards_before[guid] for guid in cards_before} == {
        guid: student.card_ids()[guid] for guid in cards_before
    }, "no card of the student's is lost or replaced"
    assert student.review_count() == reviews_before
    assert student.reviewed_cards() == reviewed_before
    assert len(notes_after) == len(notes_before) + len(log.new), "no note lost"
    shipped = set(read_package(RELEASE, within=RELEASE.parent).notes)
    assert set(notes_after) == set(notes_before) | shipped, "no second copy of any note"
    assert not log.conflicting
    retired = [note for note in notes_after.values() if RETIRED_TAG in note.tags]
    assert {note.guid for note in retired} == set(texts)
    for note in retired:
        if note.guid not in notes_before:
            continue  # retired before this student's release: they never had it
        note_id, mod = notes_before[note.guid]
        assert note.id == note_id and note.mod > mod, "updated in place, with a newer time"
        assert note.tags == [RETIRED_TAG]
        for card in note.cards():
            out = card.render_output()
            shown = text_of(out.question_text) + " " + text_of(out.answer_text)
            assert "Retired card" in shown and f"removed from this deck {ANNOUNCED}" in shown
            assert "tag:deckgen::retired" in shown
            assert not any(old in shown for old in texts[note.guid])
