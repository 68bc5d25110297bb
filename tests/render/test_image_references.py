"""An image reference that is not a file in the deck folder is an error naming the card,
whatever Markdown would otherwise have made of it (markdown-it leaves an image whose URL it
distrusts as literal text, which would ship silently)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anki_engine import StudentCollection
from conftest import run_deckgen
from helpers import write_deck_folder

NOT_LOCAL = "is not a file in the deck folder: deckgen ships only local images; copy it into"
REFERENCES = [
    ("file:///etc/passwd", NOT_LOCAL),
    ("FILE:///etc/passwd", NOT_LOCAL),
    ("<file:///etc/passwd>", NOT_LOCAL),
    ("javascript:alert(1)", NOT_LOCAL),
    ("vbscript:msgbox(1)", NOT_LOCAL),
    ("data:text/html;base64,PHNjcmlwdD4=", NOT_LOCAL),
    ("data:image/png;base64,iVBORw0KGgo=", NOT_LOCAL),
    ("https://e.example/track.png", NOT_LOCAL),
    ("//e.example/track.png", NOT_LOCAL),
    ("C:/Windows/x.png", NOT_LOCAL),
    ("/etc/passwd", "is an absolute path: write it relative to the card file"),
    ("../../outside.png", "lies outside the deck folder 'd': copy it into the deck folder"),
    ("../../../etc/passwd", "lies outside the deck folder 'd': copy it into the deck folder"),
]


def write_deck(root: Path, question: str) -> None:
    card = f"cards:\n  - id: a\n    question: {json.dumps(question)}\n    answer: A\n"
    write_deck_folder(root, {"c.yaml": card})
    (root / "outside.png").write_bytes(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(("reference", "problem"), REFERENCES, ids=[r for r, _ in REFERENCES])
def test_an_image_that_is_no_local_file_is_an_error_at_its_card(
    empty_project: Path, reference: str, problem: str
) -> None:
    write_deck(empty_project, f"What is shown? ![x]({reference}) end")
    result = run_deckgen("build")
    assert result.exit_code == 1 and "Traceback" not in result.output
    shown = reference.removeprefix("<").removesuffix(">")
    assert f"cards/d/c.yaml:3:15: error: image '{shown}' {problem}" in result.output
    assert not (empty_project / "decks").exists()


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "file:///etc/passwd", "data:text/html,x", "vbscript:x"]
)
def test_a_link_with_an_unsafe_url_warns_and_reaches_students_without_it(
    empty_project: Path, student: StudentCollection, link: str
) -> None:
    write_deck(empty_project, f"Read [this]({link}) and <{link}>")
    result = run_deckgen("build")
    assert result.exit_code == 0, result.output
    assert f"warning: removed link '{link}' (not allowed in cards)" in result.output
    student.import_package(empty_project / "decks" / "d.apkg")
    (card_id,) = student.col.find_cards("")
    question = student.col.get_card(card_id).question()
    assert "<a" in question and "href" not in question
