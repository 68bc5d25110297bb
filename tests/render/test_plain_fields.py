"""The shortcuts that most fields take through render.py, against the full path: a plain
sentence answered without markdown-it, the sanitiser or the diagnostics' bookkeeping
(``plain_field_html``), a sentence with ``**strong**`` words without markdown-it
(``_emphasis_paragraph``), and Anki's media markup left alone where there is none to find
(``inert_av_markup``). Same bytes, same images, same diagnostics."""

from __future__ import annotations

from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deckgen.render import render as render_module
from deckgen.render.render import inert_av_markup, plain_field_html
from helpers import rendered_field

# Plain words and what is plain to Markdown but not to Anki (a cloze hint reading
# 'sound:'), which the shortcut must take or leave exactly right, mixed with everything that
# means something to Markdown, HTML or the text checks (which it must leave to the full path).
_PLAIN_PIECES = [
    "What is it?", "gluteus medius", '"short" head', "3.5 cm", "1", "(side-lying)", "{{c1::x}}",
    "{{c1::x::sound:a.mp3}}", "::", "sound:", "anki:", "SOUND:", ":", "{", "}", " ", "é", "😀",
]  # fmt: skip
_OTHER_PIECES = [
    "1. ", "# ", "> ", "- ", "+ ", "=", "*", "**", "_", "`", "~~", "|", "[", "]", "![x](a.png)",
    "<b>", "</p>", "&", "&amp;", "&#91;", "\\", "\\(x\\)", "\\[y\\]", "latex]", "$]",
    "[sound:a.mp3]", "  ", "\t", "\n", "\r\n", "\u00a0", "\u200b", "\u2028", "\ufeff", "\x0b",
    "\x1f", "\ud800",
]  # fmt: skip
_EMPHASIS_PIECES = [
    "**heart**", "*heart*", "**left side**", "**3 cm**", "**é**", "**", "*", "***", " **", "** ",
    " *", "* ", "x", "é", "٣", "😀", "_", "'", ".", ",", ")", "(", ":", "?", "!", "-",
]  # fmt: skip
_field = st.lists(
    st.one_of(
        st.sampled_from(_PLAIN_PIECES),
        st.sampled_from(_PLAIN_PIECES),
        st.sampled_from(_EMPHASIS_PIECES),
        st.sampled_from(_OTHER_PIECES),
        st.text(max_size=3),
    ),
    max_size=8,
).map("".join)


@settings(max_examples=800, deadline=None)
@given(_field)
def test_a_field_the_shortcut_takes_renders_as_the_full_path_renders_it(markdown: str) -> None:
    """Whatever the shortcut answers is what markdown-it and the sanitiser make of the
    field, with no image and no diagnostic; and render_field gives the same with or without
    the shortcut."""
    shortcut = plain_field_html(markdown)
    with_shortcut = rendered_field(markdown)
    with mock.patch.object(render_module, "plain_field_html", lambda markdown: None):
        without = rendered_field(markdown)
    with (
        mock.patch.object(render_module, "_is_plain_text", lambda text: False),
        mock.patch.object(render_module, "_emphasis_paragraph", lambda text: None),
    ):
        through_markdown_it = rendered_field(markdown)
    assert with_shortcut == without == through_markdown_it
    if shortcut is not None:
        assert with_shortcut == (shortcut, [], [])


@pytest.mark.parametrize(
    ("field", "html"),
    [
        ("What is it?", "What is it?"),
        ('  The "short" head {of it}: 3.5 cm  ', 'The "short" head {of it}: 3.5 cm'),
        ("a: sound:x", "a: sound:x"),
        ("a::sound:x", None),  # a cloze hint's separator: inert_av_markup looks at it
        ("a **b**", None),
        ("1. item", None),
        ("a\u00a0b", None),
        ("a\x1fb", None),
        (" \x1f", None),  # stripped, it would be empty; the control character is refused
        ("a\ud800", None),  # a lone surrogate: plain to Markdown, refused by the text check
        ("", None),
    ],
)
def test_the_shortcut_takes_plain_sentences_only(field: str, html: str | None) -> None:
    # Guards the property above against a shortcut that is never (or always) taken.
    assert plain_field_html(field) == html


_STARS_AND_WORDS = st.lists(st.sampled_from(["*", "**", "a", " ", ".", "_"]), max_size=10)
"""Few pieces, so that every way of placing stars next to words comes up."""


@settings(max_examples=1500, deadline=None)
@given(
    st.one_of(
        _STARS_AND_WORDS,
        st.lists(st.one_of(st.sampled_from(_EMPHASIS_PIECES), st.text(max_size=2)), max_size=8),
    )
)
def test_strong_words_are_what_markdown_it_makes_of_them(pieces: list[str]) -> None:
    text = "".join(pieces).strip()  # as render_field passes it
    shortcut = render_module._emphasis_paragraph(text)
    assert shortcut is None or shortcut == render_module.markdown_engine().render(text)


@pytest.mark.parametrize(
    ("field", "taken"),
    [
        ("What does the **heart** do (case 5)?", True),
        ('**The "left" side** and *this*.', True),
        ("**a** **b**", True),
        ("**a**b", False),  # closes and could open: CommonMark's rule of three
        ("x**a**", False),
        ("** a**", False),
        ("**a *b***", False),
        ("- **a**", False),
        ("**a_b**", False),
        ("*a**", False),
        ("**a*", False),
        ("plain", False),
    ],
)
def test_the_emphasis_shortcut_takes_strong_words_in_sentences_only(
    field: str, taken: bool
) -> None:
    assert (render_module._emphasis_paragraph(field) is not None) is taken


_MARKUP_PIECES = [
    "[", "]", "[sound:", "[SOUND:", "[anki:tts lang=en]", "[latex]", "[$]", "[$$]", "::",
    ":", "sound:", "Sound:", "anki:", "latex]", "$]", "$$]", "{{c1::", "{{c2::x::", "}}",
    "\\(", "\\)", "\\[", "\\]", "<b>", "</b>", '<a title="', '">', "&#91;", "x", " ",
]  # fmt: skip


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(_MARKUP_PIECES), max_size=10).map("".join))
def test_media_markup_is_left_alone_early_only_where_the_full_scan_changes_nothing(
    card_html: str,
) -> None:
    assert inert_av_markup(card_html) == render_module._inert_av_markup(card_html)
