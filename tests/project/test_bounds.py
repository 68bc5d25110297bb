"""Resource bounds that need too much input to hit at their real size in a unit test: the
bound is lowered, and the check, its message and its place are what is tested."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from anki_engine import StudentCollection
from conftest import run_deckgen
from deckgen.anki.identity import MAX_TIME
from deckgen.cards import validate
from deckgen.cards.validate import load_decks
from deckgen.diagnostics import DeckgenError, Report
from deckgen.pipeline.cache import CACHE_DIR
from deckgen.source.versions import BUMPS, Version, parse_version
from deckgen.workflow.schema import schema
from helpers import write_deck_folder


def write_deck(root: Path, cards: str) -> Path:
    return write_deck_folder(root, {"c.yaml": cards}).parent


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


# --- numbers bounded where they enter --------------------------------------------------------


def _deck_yaml(root: Path, extra: str) -> Path:
    deck = root / "cards/demo/deck.yaml"
    deck.write_text(deck.read_text() + extra)
    return deck


@pytest.mark.parametrize(
    "version", ["1" * 5000 + ".0.0", "0.0." + "9" * 10, "1." + "2" * 4400 + ".3"]
)
def test_a_version_of_many_digits_is_an_error_at_its_line(project: Path, version: str) -> None:
    """Thousands of digits once crashed every command (Python refuses to convert them)."""
    deck = _deck_yaml(project, f"version: '{version}'\n")
    line = len(deck.read_text().splitlines())
    before = {path: path.read_bytes() for path in project.rglob("*") if path.is_file()}
    for command in ("check", "build", "lint", "stats", "changelog"):
        result = run_deckgen(command)
        assert result.exit_code == 1, (command, result.output)
        assert (
            f"cards/demo/deck.yaml:{line}:10: error: 'version' has a part longer than 9 digits: "
            "a version's major, minor and patch numbers are at most 999999999"
        ) in result.stderr, command
        assert "internal error" not in result.output
    assert {path: path.read_bytes() for path in project.rglob("*") if path.is_file()} == before


def test_the_largest_version_parts_parse_and_refuse_a_bump_past_them() -> None:
    largest = parse_version("999999999.999999999.999999999")
    assert largest == Version(999_999_999, 999_999_999, 999_999_999)
    assert parse_version("1.2.٣") is None, "ASCII digits only"
    for part in BUMPS:
        with pytest.raises(DeckgenError, match=f"cannot get a new {part} number: a part of a"):
            largest.bumped(part)
    assert Version(1, 999_999_998, 7).bumped("minor") == Version(1, 999_999_999, 0)


def test_a_release_past_the_largest_version_changes_nothing(project: Path) -> None:
    _deck_yaml(project, "version: 1.0.999999999\n")
    before = {path: path.read_bytes() for path in project.rglob("*") if path.is_file()}
    result = run_deckgen("release", "patch")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "deckgen: error: version 1.0.999999999 cannot get a new patch number: a part of a "
        "version has at most 9 digits; give the version to release (X.Y.Z)\n"
    )
    assert {path: path.read_bytes() for path in project.rglob("*") if path.is_file()} == before


def _lock_mods(deck: Path) -> dict[str, int]:
    lock = json.loads((deck / "deck.lock").read_text())
    return {card: entry["mod"] for card, entry in lock["notes"].items()}


def test_a_lock_at_the_latest_time_is_read_and_an_edit_past_it_refused(project: Path) -> None:
    """deckgen once gave an edit the time after MAX_TIME, wrote it, then rejected its own lock.
    Now writer and reader share the bound: the time written is readable, and an edit with no
    newer time left is an error naming the lock, with nothing written."""
    deck = project / "cards/demo"
    assert run_deckgen("build").exit_code == 0
    lock = json.loads((deck / "deck.lock").read_text())
    card_id = "insertion"  # a card with no extra yet
    lock["notes"][card_id]["mod"] = MAX_TIME
    (deck / "deck.lock").write_text(json.dumps(lock))
    assert run_deckgen("check").exit_code == 0, "the latest time is one deckgen reads"
    card_file = next(p for p in deck.glob("*.yaml") if f"id: {card_id}" in p.read_text())
    card_file.write_text(
        card_file.read_text().replace(f"id: {card_id}\n", f"id: {card_id}\n    extra: edited\n", 1)
    )
    before = {path: path.read_bytes() for path in project.rglob("*") if path.is_file()}
    result = run_deckgen("build")
    assert result.exit_code == 1, result.output
    assert (
        f"cards/demo/deck.lock: error: card '{card_id}' has the time {MAX_TIME} in deck.lock, "
        f"and the latest time deckgen writes is {MAX_TIME} (the end of year 9999): no newer "
        "time is left to ship the edit; restore deck.lock from version control"
    ) in result.stderr
    after = {path: path.read_bytes() for path in project.rglob("*") if path.is_file()}
    assert {p: d for p, d in after.items() if CACHE_DIR not in p.parts} == {
        p: d for p, d in before.items() if CACHE_DIR not in p.parts
    }


def test_a_build_at_the_latest_time_writes_a_lock_it_reads(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(MAX_TIME))
    assert run_deckgen("build").exit_code == 0
    assert set(_lock_mods(project / "cards/demo").values()) == {MAX_TIME}
    result = run_deckgen("build", "--check")
    assert result.exit_code == 0, result.output


# --- deck names Anki refuses -------------------------------------------------------------------


def _nested(parts: int, prefix: str = "P") -> str:
    return "::".join(f"{prefix}{number}" for number in range(parts))


@pytest.mark.parametrize(
    ("name", "subdeck", "message"),
    [
        (
            _nested(12),
            None,
            f"deck.yaml:1: deck name '{_nested(12)}' has 12 parts: Anki refuses a deck nested "
            "deeper than 11 parts; use fewer '::'",
        ),
        (
            "D",
            _nested(11, "S"),
            f"c.yaml:3: the cards of this file go to the deck 'D::{_nested(11, 'S')}' of 12 "
            "parts: Anki refuses a deck nested deeper than 11 parts; shorten the file's 'deck' "
            "or the deck's name",
        ),
        (
            _nested(6),
            _nested(6, "S"),
            f"c.yaml:3: the cards of this file go to the deck '{_nested(6)}::{_nested(6, 'S')}' "
            "of 12 parts: Anki refuses a deck nested deeper than 11 parts; shorten the file's "
            "'deck' or the deck's name",
        ),
        (
            "A :: B",
            None,
            "deck.yaml:1: deck name 'A :: B' has spaces around a part: Anki removes them; write "
            "'Part::Subpart'",
        ),
        (
            "D",
            "a:::b",
            "c.yaml:1: deck name 'a:::b' has a ':' next to '::': Anki drops it; separate parts "
            "with exactly '::'",
        ),
        ("D", "a::b:", "c.yaml:1: deck name 'a::b:' has a ':' next to '::'"),
    ],
)
def test_deck_names_anki_would_refuse_or_change_are_errors(
    tmp_path: Path, name: str, subdeck: str | None, message: str
) -> None:
    deck_key = f"deck: '{subdeck}'\n" if subdeck else ""
    cards = write_deck(tmp_path, deck_key + "cards:\n  - {id: a, question: Q, answer: A}\n")
    (cards / "d/deck.yaml").write_text(f"name: '{name}'\nid: d\n")
    found = errors(cards)
    assert len(found) == 1 and found[0].startswith(message), found


def test_the_deepest_deck_name_allowed_imports_into_anki(
    empty_project: Path, student: StudentCollection
) -> None:
    """Measured with Anki's engine: the bound is Anki's, not a guess."""
    deck = empty_project / "cards/d"
    deck.mkdir()
    (deck / "deck.yaml").write_text(f"name: '{_nested(5)}'\nid: d\n")
    (deck / "c.yaml").write_text(
        f"deck: '{_nested(6, 'S')}'\ncards:\n  - {{id: a, question: Q, answer: A}}\n"
    )
    assert run_deckgen("build").exit_code == 0
    student.import_package(empty_project / "decks/d.apkg")
    (note,) = student.notes().values()
    assert student.deck_names_of(note) == [f"{_nested(5)}::{_nested(6, 'S')}"]


# --- body maps ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["trigger_points", "landmarks"])
@pytest.mark.parametrize("panels", [False, True], ids=["one map", "in a panel"])
def test_a_map_with_too_many_marks_is_refused_before_layout(
    tmp_path: Path, key: str, panels: bool
) -> None:
    entry = "{label: T, at: psis}" if key == "trigger_points" else "psis"
    marks = f"{key}: [{', '.join([entry] * 13)}]"
    a_map = f"{{view: posterior, essential: [sacrum], {marks}}}"
    bodymap = (
        f"{{panels: [{a_map}, {{view: posterior, essential: [sacrum]}}]}}" if panels else a_map
    )
    cards = write_deck(
        tmp_path, f"cards:\n  - {{id: a, question: Q, answer: A, bodymap: {bodymap}}}\n"
    )
    assert errors(cards) == [
        f"c.yaml:2: '{key}' has 13 entries; a map may have at most 12: spread them over "
        "several maps (panels or cards)"
    ]
    twelve = (tmp_path / "cards/d/c.yaml").read_text().replace(f"{entry}, ", "", 1)
    (tmp_path / "cards/d/c.yaml").write_text(twelve)
    assert errors(cards) == []
    schema_errors = [
        error.message
        for error in Draft202012Validator(schema("cards")).iter_errors(
            yaml.safe_load(twelve.replace(f"[{entry}", f"[{entry}, {entry}"))
        )
    ]
    assert any("is too long" in message for message in schema_errors), schema_errors
