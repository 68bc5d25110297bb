"""deck.yaml's `report_url`: every card's back links to it with the deck, card id and release
filled in, URL-encoded; checked where written; a release re-stamps no note for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from anki_engine import StudentCollection
from conftest import FIRST_BUILD_TIME, run_deckgen

DECK = Path("cards/demo")
PACKAGE = Path("decks/demo.apkg")
URL = "https://example.org/report?deck={deck}&card={card}&release={release}#form"


def set_report_url(project: Path, value: str) -> None:
    deck_yaml = project / DECK / "deck.yaml"
    deck_yaml.write_text(deck_yaml.read_text() + f"report_url: {value}\n")


def ok(*args: str) -> str:
    result = run_deckgen(*args)
    assert result.exit_code == 0, result.output
    return result.output


def answer_of(student: StudentCollection, card_id: str) -> str:
    from deckgen.anki.identity import note_guid

    note = student.notes()[note_guid("demo-gm", card_id)]
    return str(note.cards()[0].answer())


def test_every_back_links_to_the_report_url_filled_in(
    project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_report_url(project, f'"{URL}"')
    ok("release", "1.0.0", "--first")

    student.import_package(project / PACKAGE)

    expected = (
        '<a href="https://example.org/report?deck=Demo%3A%3AGluteus%20medius&amp;card=insertion'
        '&amp;release=1.0.0#form" rel="noopener noreferrer">Report a problem with this card</a>'
    )
    assert expected in answer_of(student, "insertion")
    for note in student.notes().values():
        for card in note.cards():
            assert "Report a problem with this card" in card.answer()
            assert "Report a problem" not in card.question()
    preview = project / "site"
    ok("preview", "-o", str(preview))
    assert expected in (preview / "index.html").read_text()

    # A release names itself in new students' links, but changes no card for anyone.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 86_400))
    ok("release", "patch")
    log = student.import_package(project / PACKAGE)
    assert len(log.updated) == 0 and len(log.new) == 0
    notes = (project / DECK / "CHANGELOG.md").read_text()
    assert "1.0.1 (2023-11-15)\n\nNo card changed." in notes


def test_adding_a_report_url_reaches_every_student_once(
    project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok("build")
    student.import_package(project / PACKAGE)
    set_report_url(project, f'"{URL}"')
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 60))
    ok("build")

    log = student.import_package(project / PACKAGE)

    assert len(log.updated) == len(student.notes()) == 6
    assert "release=unreleased#form" in answer_of(student, "origin")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("javascript:alert(1)", "'report_url' must start with http:// or https:// and name a host"),
        ("ftp://example.org/{card}", "'report_url' must start with http:// or https://"),
        (
            '"https://example.org/{cardid}"',
            "'report_url' may hold only the placeholders {deck}, {card} and {release} "
            "(not {cardid})",
        ),
        ('"https://example.org/a b"', "'report_url' must be a URL without spaces"),
        (
            '"https://example.org/\\"onmouseover=x"',
            "'report_url' must be a URL without spaces, quotes",
        ),
        ("[https://example.org]", "'report_url' must be a URL, not a list"),
    ],
)
def test_a_bad_report_url_is_reported_where_it_is(project: Path, value: str, message: str) -> None:
    set_report_url(project, value)

    result = run_deckgen("check")

    assert result.exit_code == 1
    assert f"cards/demo/deck.yaml:5:13: error: {message}" in result.output


def test_without_a_report_url_cards_carry_no_link(project: Path) -> None:
    ok("preview", "-o", "site")
    assert "Report a problem" not in (project / "site/index.html").read_text()
