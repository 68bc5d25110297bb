"""End to end through Anki's own import engine: the promise that re-imports update in place."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from pathlib import Path

import pytest

from anki_engine import StudentCollection
from conftest import FIRST_BUILD_TIME, run_deckgen
from deckgen.anki.identity import note_guid
from deckgen.anki.notetypes import NOTETYPES
from deckgen.values import CardKind

PACKAGE = Path("decks/demo.apkg")
TOP_DECK = "Demo::Gluteus medius"


def build_ok(*args: str) -> None:
    result = run_deckgen("build", *args)
    assert result.exit_code == 0, result.output


def guid(card_id: str) -> str:
    return note_guid("demo-gm", card_id)


def test_first_import_gives_every_note_card_tag_deck_and_image(
    project: Path, student: StudentCollection
) -> None:
    build_ok()
    log = student.import_package(project / PACKAGE)

    assert len(log.new) == 6
    notes = student.notes()
    assert set(notes) == {
        guid(card_id)
        for card_id in ("origin", "insertion", "nerve", "action", "layers", "referral-low-back")
    }
    cards_per_note = {
        card_id: len(notes[guid(card_id)].card_ids())
        for card_id in ("origin", "nerve", "action", "layers")
    }
    assert cards_per_note == {"origin": 1, "nerve": 1, "action": 2, "layers": 2}

    insertion = notes[guid("insertion")]
    assert insertion.note_type()["name"] == "deckgen Basic"
    assert insertion["Question"] == "Where does gluteus medius insert?"
    assert insertion["Answer"] == "Greater trochanter of the femur."
    assert insertion["Source"] == "Standard anatomy text"
    assert sorted(insertion.tags) == ["anatomy", "demo"]
    assert student.deck_names_of(insertion) == [f"{TOP_DECK}::Anatomy"]

    referral = notes[guid("referral-low-back")]
    assert sorted(referral.tags) == ["demo", "referral"]
    assert student.deck_names_of(referral) == [f"{TOP_DECK}::Referral"]
    assert referral["Source"] == "Travell &amp; Simons, vol. 2, gluteus medius chapter"

    assert notes[guid("nerve")].note_type()["name"] == "deckgen Type in the answer"
    assert notes[guid("layers")].note_type()["name"] == "deckgen Cloze"
    assert "{{c2::gluteus medius}}" in notes[guid("layers")]["Text"]

    assert student.unresolved_images() == []
    assert len(list(student.media_folder().glob("deckgen-*"))) == 3
    top = student.col.decks.by_name(TOP_DECK)
    assert top is not None and "small deck" in top["desc"]


def test_upgrade_updates_in_place_and_keeps_history(
    project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_ok()
    first = student.import_package(project / PACKAGE)
    assert len(first.new) == 6
    student.study_everything(TOP_DECK)
    all_cards = {card_id for ids in student.card_ids().values() for card_id in ids}
    assert len(all_cards) == 8 and student.reviewed_cards() == all_cards
    reviews_before = student.review_count()
    card_ids_before = student.card_ids()
    note_ids_before = {g: n.id for g, n in student.notes().items()}

    # A student's own edit to a note the author does not touch must survive the upgrade.
    layers = student.notes()[guid("layers")]
    layers["Extra"] = "my mnemonic"
    student.col.update_note(layers)

    deck = project / "cards/demo"
    anatomy = (deck / "anatomy.yaml").read_text()
    anatomy = anatomy.replace("Greater trochanter of the femur.", "Lateral greater trochanter.")
    # Move 'nerve' out of anatomy.yaml into a new file.
    nerve_block = anatomy[anatomy.index("  - id: nerve") : anatomy.index("  - id: action")]
    anatomy = anatomy.replace(nerve_block, "")
    (deck / "anatomy.yaml").write_text(anatomy)
    (deck / "nerves.yaml").write_text(
        "deck: Anatomy\nsource: Standard anatomy text\ntags: [anatomy]\ncards:\n"
        + nerve_block
        + "  - id: nerve-root\n"
        "    question: Which spinal roots feed the superior gluteal nerve?\n"
        "    answer: L4, L5 and S1.\n"
    )
    patterns = deck / "referral/patterns.yaml"
    patterns.write_text(patterns.read_text().replace("tags: [referral]", "tags: [referral, trp]"))
    new_svg = (deck / "images/pelvis.svg").read_bytes().replace(b"#c33", b"#36c")
    (deck / "images/pelvis.svg").write_bytes(new_svg)

    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 3600))
    build_ok()
    second = student.import_package(project / PACKAGE)

    notes = student.notes()
    assert len(second.new) == 1 and len(notes) == 7, "only the added card is new"
    assert len(second.conflicting) == 0
    updated = {entry.id.nid for entry in second.updated}
    assert updated == {
        note_ids_before[guid(c)] for c in ("origin", "insertion", "referral-low-back")
    }
    # Anki logs notes it found but left alone (not newer) as "duplicate": the untouched ones.
    assert {entry.id.nid for entry in second.duplicate} == {
        note_ids_before[guid(c)] for c in ("nerve", "action", "layers")
    }
    assert {g: n.id for g, n in notes.items() if g in note_ids_before} == note_ids_before
    assert {g: ids for g, ids in student.card_ids().items() if g in card_ids_before} == (
        card_ids_before
    )
    assert student.review_count() == reviews_before
    assert not any(name.endswith("+") for name in student.notetype_names())

    assert notes[guid("insertion")]["Answer"] == "Lateral greater trochanter."
    assert sorted(notes[guid("referral-low-back")].tags) == ["demo", "referral", "trp"]
    assert notes[guid("nerve")]["Answer"] == "Superior gluteal nerve"
    assert notes[guid("nerve-root")]["Answer"] == "L4, L5 and S1."
    assert notes[guid("layers")]["Extra"] == "my mnemonic"

    new_image = f"deckgen-{hashlib.sha256(new_svg).hexdigest()[:24]}.svg"
    assert f'src="{new_image}"' in notes[guid("origin")]["Answer"]
    assert (student.media_folder() / new_image).read_bytes() == new_svg
    assert student.unresolved_images() == []

    # A rebuild with no change, even at a later time, writes the same bytes.
    package_bytes = (project / PACKAGE).read_bytes()
    lock_bytes = (deck / "deck.lock").read_bytes()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 7200))
    build_ok()
    assert (project / PACKAGE).read_bytes() == package_bytes
    assert (deck / "deck.lock").read_bytes() == lock_bytes
    assert run_deckgen("build", "--check").exit_code == 0


def test_renaming_the_deck_keeps_note_identity(
    project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_ok()
    student.import_package(project / PACKAGE)
    before = {g: n.id for g, n in student.notes().items()}
    deck_file = project / "cards/demo/deck.yaml"
    deck_file.write_text(deck_file.read_text().replace("Gluteus medius", "Glute med"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 60))
    build_ok()
    log = student.import_package(project / PACKAGE)
    assert len(log.new) == 0
    assert {g: n.id for g, n in student.notes().items()} == before


def test_a_changed_template_updates_the_notetype_in_place(
    project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_ok()
    student.import_package(project / PACKAGE)
    basic = NOTETYPES[CardKind.BASIC]
    monkeypatch.setitem(
        NOTETYPES, CardKind.BASIC, dataclasses.replace(basic, css=basic.css + ".new { }\n")
    )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 60))
    # A deckgen with other templates has other sources, so its cache (keyed by them) starts
    # afresh; a notetype patched in this process leaves the sources alone: start it afresh.
    shutil.rmtree(project / "cards" / ".deckgen-cache")
    build_ok()
    log = student.import_package(project / PACKAGE)
    assert len(log.new) == 0 and len(log.conflicting) == 0
    notetype = student.col.models.get(basic.id)  # type: ignore[arg-type]
    assert notetype is not None and notetype["css"].endswith(".new { }\n")
    assert not any(name.endswith("+") for name in student.notetype_names())
