"""Retired cards: a card deleted from the sources reaches students tagged, keeping its history,
until a release that announced it lets it go; a card whose id comes back is live again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anki_engine import StudentCollection
from conftest import FIRST_BUILD_TIME, run_deckgen
from deckgen.anki.identity import note_guid

PACKAGE = Path("decks/demo.apkg")
DECK = Path("cards/demo")
TOP_DECK = "Demo::Gluteus medius"
NERVE = (
    "  - id: nerve\n"
    "    type: typein\n"
    "    question: Which nerve supplies gluteus medius?\n"
    "    answer: Superior gluteal nerve\n"
)


def build_at(monkeypatch: pytest.MonkeyPatch, offset: int) -> str:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + offset))
    result = run_deckgen("build")
    assert result.exit_code == 0, result.output
    return result.output


def delete_nerve(project: Path) -> None:
    anatomy = project / DECK / "anatomy.yaml"
    assert NERVE in anatomy.read_text()
    anatomy.write_text(anatomy.read_text().replace(NERVE, ""))


def lock(project: Path) -> dict[str, object]:
    document: dict[str, object] = json.loads((project / DECK / "deck.lock").read_text())
    return document


def test_a_deleted_card_arrives_tagged_with_its_history_and_comes_back_untagged(
    project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_at(monkeypatch, 0)
    assert "retired" not in lock(project), "no retired section while nothing is retired"
    student.import_package(project / PACKAGE)
    student.study_everything(TOP_DECK)
    nerve = note_guid("demo-gm", "nerve")
    cards_before = student.card_ids()[nerve]
    reviews_before = student.review_count()
    fields_before = list(student.notes()[nerve].fields)

    delete_nerve(project)
    build_at(monkeypatch, 3600)
    log = student.import_package(project / PACKAGE)

    note = student.notes()[nerve]
    assert len(log.new) == 0 and [entry.id.nid for entry in log.updated] == [note.id]
    assert sorted(note.tags) == ["anatomy", "deckgen::retired", "demo"]
    assert list(note.fields) == fields_before, "content stays as last shipped"
    assert student.card_ids()[nerve] == cards_before
    assert student.review_count() == reviews_before
    assert student.col.find_notes("tag:deckgen::retired") == [note.id]
    retired = lock(project)["retired"]
    assert isinstance(retired, dict) and list(retired) == ["nerve"]
    assert retired["nerve"]["announced_in"] is None
    assert retired["nerve"]["mod"] == FIRST_BUILD_TIME + 3600

    # Later builds ship it from the lock alone, unchanged: nothing to re-import.
    (project / PACKAGE).unlink()
    build_at(monkeypatch, 7200)
    assert len(student.import_package(project / PACKAGE).updated) == 0

    anatomy = project / DECK / "anatomy.yaml"
    anatomy.write_text(anatomy.read_text() + NERVE)
    build_at(monkeypatch, 10_800)
    log = student.import_package(project / PACKAGE)

    note = student.notes()[nerve]
    assert [entry.id.nid for entry in log.updated] == [note.id]
    assert sorted(note.tags) == ["anatomy", "demo"]
    assert student.card_ids()[nerve] == cards_before
    assert "retired" not in lock(project)
    assert lock(project)["notes"]["nerve"]["mod"] == FIRST_BUILD_TIME + 10_800  # type: ignore[index]


def test_drop_retired_after_stops_shipping_cards_a_release_announced(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_at(monkeypatch, 0)
    delete_nerve(project)
    build_at(monkeypatch, 3600)
    lock_path = project / DECK / "deck.lock"
    lock_path.write_text(
        lock_path.read_text().replace('"announced_in": null', '"announced_in": "1.1.0"')
    )
    deck_yaml = project / DECK / "deck.yaml"

    deck_yaml.write_text(deck_yaml.read_text() + "drop_retired_after: 1.0.0\n")
    build_at(monkeypatch, 7200)
    assert list(lock(project)["retired"]) == ["nerve"]  # type: ignore[call-overload]

    deck_yaml.write_text(deck_yaml.read_text().replace("1.0.0", "1.1.0"))
    output = build_at(monkeypatch, 10_800)
    assert "(5 notes," in output
    assert "retired" not in lock(project)
    assert "nerve" not in lock(project)["notes"]  # type: ignore[operator]


def test_a_deletion_without_the_previous_package_is_a_warning(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_at(monkeypatch, 0)
    (project / PACKAGE).unlink()
    delete_nerve(project)

    output = build_at(monkeypatch, 3600)

    assert (
        "cards/demo/deck.yaml:1:1: warning: card 'nerve' was deleted, but decks/demo.apkg does "
        "not hold its last shipped version, so it cannot ship as retired: students keep their "
        "copy without the retired tag (build from the previous release's package to retire it, "
        "or restore the card)"
    ) in output
    assert "retired" not in lock(project)


def test_a_damaged_retired_entry_in_the_lock_is_an_error_and_writes_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_at(monkeypatch, 0)
    delete_nerve(project)
    build_at(monkeypatch, 3600)
    lock_path = project / DECK / "deck.lock"
    lock_path.write_text(
        lock_path.read_text().replace(
            '"type": "typein"\n    }\n  }\n}', '"type": "essay"\n    }\n  }\n}'
        )
    )
    damaged = lock_path.read_bytes()
    package = (project / PACKAGE).read_bytes()

    result = run_deckgen("build")

    assert result.exit_code == 1
    assert result.output.startswith(
        "cards/demo/deck.lock: error: lock file is damaged: retired card 'nerve' does not fit a "
        "deckgen notetype (type 'essay', 4 fields); restore it from version control\n"
    )
    assert lock_path.read_bytes() == damaged and (project / PACKAGE).read_bytes() == package
