"""Resource bounds that need too much input to hit at their real size in a unit test: the
bound is lowered, and the check, its message and its place are what is tested."""

from __future__ import annotations

from pathlib import Path

import pytest

from deckgen.diagnostics import Report
from deckgen.source import validate
from deckgen.source.validate import load_decks


def write_deck(root: Path, cards: str) -> Path:
    deck = root / "cards/d"
    deck.mkdir(parents=True)
    (deck / "deck.yaml").write_text("name: D\nid: d\n")
    (deck / "c.yaml").write_text(cards)
    return root / "cards"


def errors(cards_dir: Path) -> list[str]:
    report = Report()
    load_decks(cards_dir, report)
    return [
        f"{d.location.path.name}:{d.location.line}: {d.message}"
        for d in report.sorted()
        if d.severity.value == "error"
    ]


def test_a_deck_with_too_many_cards_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(validate, "MAX_CARDS_PER_DECK", 3)
    cards = "cards:\n" + "".join(f"  - {{id: c{i}, question: Q, answer: A}}\n" for i in range(4))
    assert errors(write_deck(tmp_path, cards)) == [
        "deck.yaml:1: deck has 4 cards; a deck may hold at most 3: split it into several decks"
    ]


def test_markdown_work_is_budgeted_per_file_and_reported_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(validate, "MAX_MARKUP_WORK_PER_FILE", 100)
    field = "[" * 5 + "a" * 5  # 5 markers x 10 characters = 50
    cards = "cards:\n" + "".join(
        f"  - id: c{i}\n    question: '{field}'\n    answer: A\n" for i in range(4)
    )
    assert errors(write_deck(tmp_path, cards)) == [
        "c.yaml:9: the fields of this file hold too much Markdown to render in reasonable time "
        "(markers times length over 100): split the file, or its longest marker-heavy fields",
    ]
