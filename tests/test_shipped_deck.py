"""The deck shipped in cards/ builds cleanly, matches the committed package and imports whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from anki_engine import StudentCollection
from conftest import run_deckgen

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(REPO)
    return REPO


def test_shipped_cards_check_without_warnings(in_repo: Path) -> None:
    result = run_deckgen("check")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.endswith("; 0 errors, 0 warnings\n")


def test_committed_packages_are_up_to_date(in_repo: Path) -> None:
    result = run_deckgen("build", "--check")
    assert result.exit_code == 0, result.output


def test_shipped_package_imports_with_every_image(
    in_repo: Path, student: StudentCollection
) -> None:
    packages = sorted((REPO / "decks").glob("*.apkg"))
    assert packages
    for package in packages:
        log = student.import_package(package)
        assert len(log.new) > 0
    assert student.unresolved_images() == []
    assert all(note.tags for note in student.notes().values())
