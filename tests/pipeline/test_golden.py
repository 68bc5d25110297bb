"""Rendered bytes are part of the contract: changing the HTML of an unchanged card gives the
note a new time and overwrites what students edited. tests/fixtures/golden holds a small deck
covering Markdown, tables, math, images, raw HTML and sanitising; rendered.json is what
deckgen rendered from it before the hardening of issue 7, and must stay so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import FIRST_BUILD_TIME, FIXTURES
from deckgen.diagnostics import Report
from deckgen.pipeline.build import compile_project

GOLDEN = FIXTURES / "golden"


def test_rendered_fields_match_the_golden_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOLDEN)
    report = Report()
    decks = compile_project(
        Path("cards"), now=FIRST_BUILD_TIME, report=report, packages_dir=Path("decks")
    )
    rendered = {
        deck.spec.name: {
            "description": deck.description,
            "notes": {note.card_id: list(note.fields) for note in deck.notes},
        }
        for deck in decks
    }
    expected = json.loads((GOLDEN / "rendered.json").read_text(encoding="utf-8"))
    assert rendered == expected
    assert report.error_count == 0
