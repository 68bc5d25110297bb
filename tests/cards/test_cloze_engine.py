"""deckgen's cloze rules, checked against Anki's own engine: every cloze deckgen refuses is one
from which Anki's importer makes no card, and the ones it accepts give a card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anki_engine import StudentCollection
from conftest import run_deckgen
from deckgen.anki.identity import note_guid
from deckgen.pipeline import filestage
from helpers import write_deck_folder

# Anki's importer makes no card from these (found with the engine, pinned here).
NO_CARD = {
    "zero": "{{c0::x}}",
    "double-zero": "{{c00::x}}",
    "empty": "{{c1::}}",
    "emptied-by-sanitising": "{{c1::<!-- x -->}}",
    "only-in-a-comment": "a <!-- {{c1::x}} -->",
    "only-in-a-script": "a <script>{{c1::x}}</script>",
}
A_CARD = {
    "one": "{{c1::x}}",
    "leading-zero": "{{c01::x}}",
    "leading-zeros": "{{c0001::x}}",
    "highest": "{{c500::x}}",
    "with-hint": "{{c1::x::hint}}",
    "image-only": "{{c1::![p](p.svg)}}",
}
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'


def write_deck(root: Path) -> None:
    cards = "".join(
        f"  - id: {name}\n    cloze: {json.dumps(text)}\n"
        for name, text in {**NO_CARD, **A_CARD}.items()
    )
    write_deck_folder(root, {"p.svg": SVG, "c.yaml": "cards:\n" + cards})


def test_refused_clozes_are_those_anki_makes_no_card_from(
    empty_project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_deck(empty_project)
    checked = run_deckgen("check")
    assert checked.exit_code == 1
    refused = {name for name in {**NO_CARD, **A_CARD} if f"card '{name}' " in checked.stderr}
    assert refused == set(NO_CARD)

    # Build without the check to see what Anki's engine makes of every one of them.
    monkeypatch.setattr(filestage, "cloze_problem", lambda rendered: None)
    built = run_deckgen("build")
    assert built.exit_code == 0, built.output
    student.import_package(empty_project / "decks/d.apkg")
    cards = student.card_ids()
    made = {name for name in {**NO_CARD, **A_CARD} if cards[note_guid("d", name)]}
    assert made == set(A_CARD)
