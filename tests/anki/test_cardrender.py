"""Anki's template language as cardrender implements it, beyond what the shipped deck uses.

tests/workflow/test_preview.py compares every card of the shipped deck with Anki's own engine; these
cases cover the parts of the language no shipped notetype happens to use.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import FIXTURES
from deckgen.anki import cardrender
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


def _fronts_rendered(notetype: Notetype, fields: tuple[str, ...]) -> tuple[int, ...]:
    """The full computation card_ords shortens: every template's question rendered, and
    the cards whose front is not empty."""
    by_name = dict(zip(notetype.fields, fields, strict=True))
    return tuple(
        ord_
        for ord_, template in enumerate(notetype.templates)
        if not cardrender._is_empty(
            cardrender._render(template.question, by_name, ord_, question_side=True, front="")
        )
    )


# What Anki counts as an empty field (spaces, line breaks, <br> and empty <div>s), what it
# does not, and pieces that make an empty-looking field only next to other text.
_FIELD_PIECES = [
    "", " ", "\n", "\t", "\u00a0", "\u200b", "<br>", "<br/>", "<BR />", "</br>", "<div>", "</div>",
    "<div/>", "<br", ">", "<", "b", "r", "div", "x", "Q?", "&nbsp;", "<b></b>", "<img src=a>",
]  # fmt: skip
_field = st.lists(st.sampled_from(_FIELD_PIECES), max_size=4).map("".join)
_QUESTIONS = [
    "{{Front}}", "{{Back}}", "{{ Front }}", "{{Front}} ", "<br>{{Front}}", "{{Front}}{{Back}}",
    "{{#Back}}{{Front}}{{/Back}}", "{{^Front}}{{Back}}{{/Front}}", "{{type:Back}}",
    "{{Front}}\n\n{{type:Back}}", "{{FrontSide}}", "{{#Front}}{{/Front}}", "x",
]  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(
    st.lists(st.sampled_from(_QUESTIONS), min_size=1, max_size=3),
    st.tuples(_field, _field),
)
def test_card_ords_finds_the_cards_rendering_every_front_finds(
    questions: list[str], fields: tuple[str, str]
) -> None:
    """A front that is one field is judged by that field alone, without rendering: the
    same cards as rendering every template's question, whatever the fields hold."""
    custom = Notetype(
        CardKind.BASIC,
        1,
        "t",
        ("Front", "Back"),
        tuple(Template(f"T{i}", question, "{{Back}}") for i, question in enumerate(questions)),
        "",
        False,
    )
    assert card_ords(custom, fields) == _fronts_rendered(custom, fields)
    for kind in (CardKind.BASIC, CardKind.REVERSED, CardKind.TYPEIN):
        shipped = NOTETYPES[kind]
        note = (*fields, *fields)
        assert card_ords(shipped, note) == _fronts_rendered(shipped, note)


def test_card_ords_skips_rendering_only_a_front_that_is_one_field() -> None:
    # Guards the property above against a shortcut that is never (or always) taken.
    assert cardrender._front_fields(NOTETYPES[CardKind.REVERSED]) == (0, 1)
    assert cardrender._front_fields(NOTETYPES[CardKind.TYPEIN]) == (None,)
    odd = notetype("{{ Front }}", "{{Back}}")
    assert cardrender._front_fields(odd) == (None,)
    with pytest.raises(ValueError, match="has 4 fields"):
        card_ords(NOTETYPES[CardKind.BASIC], ("Q", "A"))


def test_only_clozes_deckgen_would_ship_make_cards() -> None:
    """A retired card from a hand-edited lock may hold clozes deckgen refuses in card files:
    they make no card (and a number of thousands of digits is no crash)."""
    huge = "{{c" + "9" * 5000 + "::x}}"
    text = f"{huge} {{{{c0::a}}}} {{{{c501::b}}}} {{{{c2::}}}} {{{{c007::c}}}} {{{{c500::d}}}}"
    assert cloze_numbers(text) == [7, 500]
    assert card_ords(NOTETYPES[CardKind.CLOZE], (text, "", "")) == (6, 499)
