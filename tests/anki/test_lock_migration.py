"""Locks of format 1 and 2 fingerprinted notes with their deck, so renaming a subdeck
re-stamped every note in it, and each student's import overwrote their own edits to those
notes while moving nothing (Anki never moves a student's cards on import). Fingerprints are
now without the deck, and a lock of the old formats is read so that the change of formula,
and a subdeck renamed at the same time, re-stamp nothing that did not change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anki_engine import StudentCollection
from conftest import FIRST_BUILD_TIME, run_deckgen
from deckgen.anki.identity import LOCK_FORMAT, fingerprint_with_deck, note_guid
from deckgen.anki.package_reader import read_package

LOCK = Path("cards/demo/deck.lock")
PACKAGE = Path("decks/demo.apkg")


def as_format_1(project: Path) -> dict[str, int]:
    """Rewrite the project's lock as deckgen wrote it before (format 1: every note
    fingerprinted with the deck its cards are in); returns each note's time."""
    content = read_package(project / PACKAGE, within=project / "decks")
    decks = {guid: deck for guid, _, deck, _ in content.cards}
    document = json.loads((project / LOCK).read_text())
    for card_id, entry in document["notes"].items():
        guid = note_guid("demo-gm", card_id)
        note = content.notes[guid]
        entry["fingerprint"] = fingerprint_with_deck(
            guid=guid,
            notetype_id=note.notetype_id,
            fields=note.field_list,
            tags=note.tag_list,
            deck=decks[guid],
        )
    document["format"] = 1
    (project / LOCK).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    return {card_id: entry["mod"] for card_id, entry in document["notes"].items()}


def test_renaming_a_subdeck_with_an_old_lock_restamps_only_real_edits(
    project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_deckgen("build").exit_code == 0
    before = as_format_1(project)
    student.import_package(project / PACKAGE)
    own_edit = student.notes()[note_guid("demo-gm", "referral-low-back")]
    own_edit["Extra"] = "my own mnemonic"
    student.col.update_note(own_edit)

    patterns = project / "cards/demo/referral/patterns.yaml"
    patterns.write_text(patterns.read_text().replace("deck: Referral", "deck: 5 Referral", 1))
    anatomy = project / "cards/demo/anatomy.yaml"
    anatomy.write_text(anatomy.read_text().replace("Greater trochanter", "The greater trochanter"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 86_400))
    result = run_deckgen("build")
    assert result.exit_code == 0, result.output

    lock = json.loads((project / LOCK).read_text())
    assert lock["format"] == LOCK_FORMAT
    after = {card_id: entry["mod"] for card_id, entry in lock["notes"].items()}
    restamped = {card_id for card_id in before if after[card_id] != before[card_id]}
    assert restamped == {"insertion"}, "only the edited note; the moved ones are no edit"

    log = student.import_package(project / PACKAGE)
    assert len(log.updated) == 1 and not log.new
    assert student.notes()[note_guid("demo-gm", "referral-low-back")]["Extra"] == (
        "my own mnemonic"
    ), "the student's own edit of a moved note survives"

    # The next build, from the lock just written (format 3), changes nothing more.
    assert run_deckgen("build", "--check").exit_code == 0


def test_verify_finds_no_overwritten_edit_after_a_subdeck_rename(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_deckgen("build").exit_code == 0
    as_format_1(project)
    (project / "previous.apkg").write_bytes((project / PACKAGE).read_bytes())
    patterns = project / "cards/demo/referral/patterns.yaml"
    patterns.write_text(patterns.read_text().replace("deck: Referral", "deck: 5 Referral", 1))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 86_400))

    result = run_deckgen("verify", "--against", "previous.apkg")

    assert result.exit_code == 0, result.output
    assert "overwrites-edits" not in result.output
