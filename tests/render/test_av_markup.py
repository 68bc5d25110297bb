"""Anki's media markup in card text ([sound:...], [anki:tts ...], [latex]) reaches students
as text: Anki's engine finds no audio or text-to-speech tag and makes no LaTeX image on any
card, and shows the text."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from anki_engine import StudentCollection
from conftest import run_deckgen
from deckgen.render.render import inert_av_markup

CARDS = [
    {"id": "plain", "question": "Play [sound:x.mp3] now", "answer": "ok"},
    {"id": "tts", "question": "Say", "answer": "[anki:tts lang=en_US]hello[/anki:tts]"},
    {"id": "entity", "question": "&#91;sound:entity.mp3]", "answer": "&lbrack;anki:tts lang=en]x"},
    {"id": "upper", "question": "[SOUND:upper.mp3] [Anki:play:q:0]", "answer": "ok"},
    {"id": "math", "question": r"\([sound:math.mp3]\)", "answer": "ok"},
    {"id": "title", "question": '[link](https://a.example "[sound:title.mp3]")', "answer": "ok"},
    {"id": "code", "question": "`[sound:code.mp3]`", "answer": "ok", "type": "reversed"},
    {"id": "typein", "question": "Type", "answer": "[sound:typed.mp3]", "type": "typein"},
    {"id": "hint", "cloze": "It is {{c1::loud::sound:hint.mp3}} and {{c2::x::anki:tts lang=en]y}}"},
    {"id": "inside", "cloze": "It is {{c1::[sound:inside.mp3]}}"},
    {
        "id": "latex",
        "question": "[latex]\\\\input{/etc/passwd}[/latex] [$]x[/$]",
        "answer": "[$$]y[/$$]",
    },
    {"id": "latex-hint", "cloze": "{{c1::x::latex]z[/latex}} {{c2::$$]w[/$$}}"},
    # Anki writes a cloze inside MathJax without a span: '[' + content would be the markup.
    {
        "id": "in-math",
        "cloze": "\\([{{c1::sound:m.mp3}}]\\) {{c2::y}} \\([{{c3::x::anki:tts lang=en]}}\\)",
    },
    # The markup split across a cloze's edge: Anki's answer joins it.
    {"id": "split", "cloze": "\\([{{c1::s}}ound:split.mp3]\\) {{c2::y}}"},
    # Anki strips tags inside a cloze field's MathJax (here opened by \\( and closed by \\]).
    {"id": "stripped", "cloze": "\\\\( [<b></b>sound:s.mp3] \\\\] {{c1::y}}"},
    {"id": "split-hint", "cloze": "\\([s{{c1::ou::h}}nd:x.mp3]\\) {{c2::y}}"},
]


def test_media_markup_reaches_students_as_text_and_never_plays(
    empty_project: Path, student: StudentCollection
) -> None:
    deck = empty_project / "cards" / "d"
    deck.mkdir()
    (deck / "deck.yaml").write_text("name: D\nid: d\n")
    (deck / "c.yaml").write_text(json.dumps({"cards": CARDS}))

    result = run_deckgen("build")

    assert result.exit_code == 0, result.output
    assert (
        result.output.count("Anki's media markup ([sound:...], [anki:...] or [latex]) is") == 18
    )  # one per field
    student.import_package(empty_project / "decks" / "d.apkg")
    shown = []
    cards = [student.col.get_card(card_id) for card_id in student.col.find_cards("")]
    assert len(cards) == 23
    for card in cards:
        assert card.question_av_tags() == [] and card.answer_av_tags() == []
        assert "[anki:play" not in card.question() + card.answer()
        assert "latex-" not in card.question() + card.answer(), "no LaTeX image"
        shown.append(html.unescape(card.answer()))
    text = "\n".join(shown)
    for written in [
        "Play [sound:x.mp3] now",
        "[anki:tts lang=en_US]hello[/anki:tts]",
        "[sound:entity.mp3]",
        "[sound:math.mp3]",
        "[sound:inside.mp3]",
    ]:
        assert written in text
    questions = "\n".join(html.unescape(card.question()) for card in cards)
    assert "[sound:hint.mp3]" in questions, "a cloze hint shows as written"


@pytest.fixture(scope="module")
def anki_collection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudentCollection]:
    collection = StudentCollection(tmp_path_factory.mktemp("av"))
    yield collection
    collection.close()


AV_FRAGMENTS = [
    "[", "{{c1::", "{{c2::", "::", "}}", "s", "ound:", "sound:", "so", "und:", "a", "nki:",
    "anki:", "tts lang=en]", "[/anki:tts]", "hi", "x.mp3]", "[sound:x.mp3]", "\\(", "\\)",
    "\\[", "\\]", "<b>", "</b>", "<i></i>",
    "latex]", "[latex]x[/latex]", "[/latex]", "$]", "$$]", "[$]", "[/$]",
]  # fmt: skip
"""Pieces of Anki's media markup and of cloze syntax, to be joined every which way."""


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(AV_FRAGMENTS), min_size=2, max_size=10).map("".join))
@example("{{c1::a::[sound:x.mp3]}}")  # in a hint, which a revealed answer drops
@example("\\([{{c1::s}}ound:x.mp3]\\)")  # joined by Anki's span-less cloze in MathJax
@example("{{c1::x::sound:x.mp3]}}")  # Anki's own bracket before the hint
@example("\\( [<b></b>sound:x.mp3] \\] {{c1::y}}")  # tags stripped in a cloze's MathJax
@example("\\({{c1::x::<b>s</b>ound:x.mp3]}}\\)")  # and in a hint there
def test_no_cloze_text_plays_once_made_inert(anki_collection: StudentCollection, text: str) -> None:
    """Whatever way media markup is split across clozes, hints and MathJax, Anki's engine
    finds no audio on any card of the field deckgen writes."""
    col = anki_collection.col
    notetype = col.models.by_name("Cloze")
    assert notetype is not None
    note = col.new_note(notetype)
    note["Text"] = inert_av_markup(text)
    col.add_note(note, col.decks.id("Default"))
    for card in note.cards():
        assert card.question_av_tags() == [] and card.answer_av_tags() == [], note["Text"]
        assert "latex-" not in card.question() + card.answer(), note["Text"]
