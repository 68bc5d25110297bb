"""The per-file stage: one card file in, its rendered cards and diagnostics out."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from deckgen.anki.identity import DeckIdentity
from deckgen.diagnostics import Report, Severity
from deckgen.pipeline import filestage
from deckgen.pipeline.compiled_file import CompiledFile
from deckgen.pipeline.filestage import compile_file
from deckgen.render import render as render_module
from deckgen.render.render import render_field
from helpers import write_deck_folder


def test_a_shared_source_is_rendered_once_and_warned_about_on_every_card(
    tmp_path: Path,
) -> None:
    deck = tmp_path / "deck"
    deck.mkdir()
    card_file = deck / "cards.yaml"
    card_file.write_text(
        "source: 'Travell <script>x</script> & Simons'\n"
        "cards:\n"
        "  - {id: a, question: Q1, answer: A1}\n"
        "  - {id: b, question: Q2, answer: A2}\n"
        "  - {id: c, question: Q3, answer: A3, source: Own *book*}\n"
    )
    compiled = compile_file(card_file, deck_folder=deck, deck_tags=("t",))

    alone = Report()
    shared = render_field(
        "Travell <script>x</script> & Simons",
        location=compiled.diagnostics[0].location,
        card_folder=deck,
        media=None,
        report=alone,
    )
    assert [card.fields[3] for card in compiled.cards] == [
        shared.html,
        shared.html,
        "Own <em>book</em>",
    ]
    assert [str(d) for d in compiled.diagnostics] == [str(d) for d in alone.diagnostics] * 2
    assert compile_file(card_file, deck_folder=deck, deck_tags=("t",)) == compiled


# Fields of every kind the per-file stage renders differently: plain sentences (the
# shortcut), a plain one Anki would read as media markup, Markdown, HTML the sanitiser cuts
# (a warning, or a side left blank: an error), images found, missing and repeated.
_FIELDS = [
    "What does the aorta do?",
    'The "short" head {of it}: 3.5 cm',
    "a::sound:b.mp3",
    "The **heart** pumps",
    "Travell <script>x</script> & Simons",
    "<script>only this</script>",
    "![x](missing.png)",
    "![p](pelvis.svg) and the pelvis",
    "[sound:x.mp3]",
    "\\(x^2\\) squared",
]
_PICTURE = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"/>\n'


def _compiled_both_ways(deck: Path, card_file: Path) -> tuple[CompiledFile, CompiledFile]:
    """The file compiled as a build does, and with every field through markdown-it, the
    sanitiser and the per-text bookkeeping (no plain-sentence shortcut anywhere)."""
    identity = DeckIdentity("d", None)
    shortcut = compile_file(card_file, deck_folder=deck, deck_tags=("t",), identity=identity)
    with (
        mock.patch.object(filestage, "plain_field_html", lambda markdown: None),
        mock.patch.object(render_module, "_is_plain_text", lambda text: False),
    ):
        full = compile_file(card_file, deck_folder=deck, deck_tags=("t",), identity=identity)
    return shortcut, full


def test_the_plain_field_shortcut_compiles_what_the_full_path_compiles(tmp_path: Path) -> None:
    cards = [
        {"id": f"q{i}", "question": question, "answer": answer}
        for i, (question, answer) in enumerate(zip(_FIELDS, reversed(_FIELDS), strict=True))
    ]
    cards += [
        {"id": "own-source", "question": _FIELDS[0], "answer": _FIELDS[1], "source": _FIELDS[1]},
        {"id": "both", "type": "reversed", "question": _FIELDS[0], "answer": _FIELDS[5]},
        {"id": "cloze", "cloze": "The {{c1::aorta}} and {{c2::x::sound:y}}", "extra": _FIELDS[6]},
        {"id": "io", "type": "occlusion", "image": "pelvis.svg", "header": _FIELDS[0],
         "extra": _FIELDS[4], "masks": [{"rect": {"left": 0.1, "top": 0.1, "width": 0.2,
                                                  "height": 0.2}}]},
        {"id": "io-missing", "type": "occlusion", "image": "gone.svg", "header": _FIELDS[3],
         "masks": [{"rect": {"left": 0.1, "top": 0.1, "width": 0.2, "height": 0.2}}]},
    ]  # fmt: skip
    text = json.dumps({"source": _FIELDS[4], "cards": cards})  # JSON is YAML
    deck = write_deck_folder(tmp_path, {"cards.yaml": text, "pelvis.svg": _PICTURE})
    shortcut, full = _compiled_both_ways(deck, deck / "cards.yaml")
    assert shortcut == full
    # Guards against a comparison of nothing: both paths made cards, errors and warnings.
    severities = {d.severity for d in shortcut.diagnostics}
    assert severities == {Severity.ERROR, Severity.WARNING}
    assert [card.fields[0] for card in shortcut.cards[:2]] == [_FIELDS[0], _FIELDS[1]]
    assert any(card.media for card in shortcut.cards)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(_FIELDS), st.sampled_from(_FIELDS)), max_size=6),
    st.one_of(st.none(), st.sampled_from(_FIELDS)),
)
def test_any_mix_of_fields_compiles_the_same_with_and_without_the_shortcut(
    pairs: list[tuple[str, str]], file_source: str | None
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        cards = [{"id": f"c{i}", "question": q, "answer": a} for i, (q, a) in enumerate(pairs)]
        content: dict[str, object] = {"cards": cards}
        if file_source is not None:
            content["source"] = file_source
        deck = write_deck_folder(
            Path(folder), {"cards.yaml": json.dumps(content), "pelvis.svg": _PICTURE}
        )
        shortcut, full = _compiled_both_ways(deck, deck / "cards.yaml")
        assert shortcut == full
