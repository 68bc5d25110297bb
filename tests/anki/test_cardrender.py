"""Anki's template language as cardrender implements it, beyond what the shipped deck uses.

tests/workflow/test_preview.py compares every card of the shipped deck with Anki's own engine; these
cases cover the parts of the language no shipped notetype happens to use.
"""

from __future__ import annotations

import pytest

from conftest import FIXTURES
from deckgen.anki.cardrender import card_ords, cloze_numbers, render_cards
from deckgen.anki.notetypes import NOTETYPES, Notetype, Template
from deckgen.values import CardKind
from helpers import REPO


def notetype(question: str, answer: str) -> Notetype:
    return Notetype(
        CardKind.BASIC, 1, "t", ("Front", "Back"), (Template("T", question, answer),), "", False
    )


def test_inverted_and_nested_sections() -> None:
    template = notetype(
        "{{Front}}{{^Back}} (no back){{/Back}}{{#Front}}{{#Back}} [both]{{/Back}}{{/Front}}",
        "{{FrontSide}}|{{Back}}",
    )
    (filled,) = render_cards(template, ("Q", "A"))
    assert (filled.question, filled.answer) == ("Q [both]", "Q [both]|A")
    (empty_back,) = render_cards(template, ("Q", "<br> <div></div>"))
    assert empty_back.question == "Q (no back)"


def test_a_blank_front_makes_no_card() -> None:
    assert render_cards(notetype("{{Back}}", "{{Front}}"), ("Q", " ")) == []


def test_cloze_hints_numbers_and_gaps() -> None:
    cloze = NOTETYPES[CardKind.CLOZE]
    text = "{{c1::Ilium::bone}} and {{c3::sacrum}}"
    assert cloze_numbers(text) == [1, 3]
    first, third = render_cards(cloze, (text, "", ""))
    assert (first.ord, third.ord) == (0, 2)
    assert first.question == (
        '<span class="cloze" data-cloze="Ilium" data-ordinal="1">[bone]</span> and '
        '<span class="cloze-inactive" data-ordinal="3">sacrum</span>'
    )
    assert card_ords(cloze, (text, "{{c2::in extra}}", "")) == (0, 2)  # only the Text field counts


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("{{Missing}}", "unknown field 'Missing'"),
        ("{{#Front}}x", "unclosed section {{#Front}}"),
        ("{{/Front}}", "unbalanced section {{/Front}}"),
        ("{{hint:Front}}", "filter 'hint' is not supported"),
    ],
)
def test_templates_deckgen_cannot_render_are_refused(question: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("}", r"\}")):
        render_cards(notetype(question, "{{Back}}"), ("Q", "A"))


def test_card_ords_agree_with_rendering_the_cards() -> None:
    """card_ords skips the answers for speed; it must still find what render_cards makes."""
    from deckgen.diagnostics import Report
    from deckgen.pipeline.build import compile_project

    repo = REPO
    decks = compile_project(
        repo / "cards", now=0, report=Report(), packages_dir=repo / "decks"
    ) + compile_project(
        FIXTURES / "sample" / "cards", now=0, report=Report(), packages_dir=repo / "decks"
    )
    notes = [note for deck in decks for note in deck.notes]
    assert {note.notetype.kind for note in notes} == set(NOTETYPES)
    for note in notes:
        assert card_ords(note.notetype, note.fields) == tuple(
            card.ord for card in render_cards(note.notetype, note.fields)
        )
    blank_front = ("", "an answer", "", "")
    assert card_ords(NOTETYPES[CardKind.BASIC], blank_front) == ()
    assert card_ords(NOTETYPES[CardKind.REVERSED], blank_front) == (1,)


def test_only_clozes_deckgen_would_ship_make_cards() -> None:
    """A retired card from a hand-edited lock may hold clozes deckgen refuses in card files:
    they make no card (and a number of thousands of digits is no crash)."""
    huge = "{{c" + "9" * 5000 + "::x}}"
    text = f"{huge} {{{{c0::a}}}} {{{{c501::b}}}} {{{{c2::}}}} {{{{c007::c}}}} {{{{c500::d}}}}"
    assert cloze_numbers(text) == [7, 500]
    assert card_ords(NOTETYPES[CardKind.CLOZE], (text, "", "")) == (6, 499)
