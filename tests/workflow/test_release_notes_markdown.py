"""Release notes quote untrusted card text: rendered as Markdown (CommonMark by markdown-it,
GitHub's own cmark-gfm), it stays plain text, never HTML, links, images, comments or
@mentions."""

from __future__ import annotations

import dataclasses
import html
import re
from html.parser import HTMLParser
from pathlib import Path

import cmarkgfm
import pytest
import yaml
from cmarkgfm.cmark import Options
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from conftest import FIRST_BUILD_TIME, run_deckgen
from deckgen.anki.compiled import CompiledDeck
from deckgen.diagnostics import Report, printable, shorten
from deckgen.pipeline.build import compile_project
from deckgen.workflow.changelog import ShippedNote, markdown_code, markdown_text, release_notes

NOTES_ELEMENTS = {"h2", "h3", "ul", "ol", "li", "p", "code", "strong", "del", "s"}
"""The elements the notes' own Markdown makes: headings, lists, ids, word diffs."""
_WORD_JOINER = "\u2060"
_REFERENCE = re.compile(r"[@#][A-Za-z0-9]")
"""What GitHub turns into a mention or an issue link in rendered text."""


def commonmark(markdown: str) -> str:
    renderer = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    return renderer.render(markdown)


def github(markdown: str) -> str:
    # Raw HTML allowed, so the escaping is what is tested, not GitHub's own filter.
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


RENDERERS = [commonmark, github]


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: set[str] = set()
        self.attributes: list[str] = []
        self.comments: list[str] = []
        self.text: list[str] = []
        self.prose: list[str] = []
        """Text outside code, where GitHub links @mentions and #123."""
        self._in_code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.add(tag)
        self.attributes.extend(name for name, _ in attrs)
        self._in_code += tag == "code"

    def handle_endtag(self, tag: str) -> None:
        self._in_code -= tag == "code"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if not self._in_code:
            self.prose.append(data)


def parsed(rendered: str) -> _Page:
    page = _Page()
    page.feed(rendered)
    page.close()
    return page


def assert_inert(rendered: str) -> str:
    """The rendered notes' text, after checking they hold nothing but the notes' own markup."""
    page = parsed(rendered)
    assert page.elements <= NOTES_ELEMENTS, rendered
    assert page.attributes == [] and page.comments == [], rendered
    text = "".join(page.text).replace(_WORD_JOINER, "")
    assert not _REFERENCE.search("".join(page.prose)), rendered
    return text


# Every place the notes put quoted text: list item, heading, diff markers, nested item.
CONTEXTS = ["- {}", "## {}", "- `id`: {}", "  - Answer: ~~{}~~ **{}**", "{}"]


MARKUP = [
    "<b>", "</b>", "<img src=x onerror=alert(1)>", "<!--", "-->", "<https://e.example>",
    "[x](https://e.example)", "![i](https://e.example/p.png)", "[x]: https://e.example",
    "@octocat", "#12", "https://e.example", "www.e.example", "a@b.example", "*em*", "_em_",
    "**", "`code`", "``", "~~del~~", "$x$", "&amp;", "&lt;", "&#60;", "\\", "\\*", "1. ",
    "2) ", "- ", "+ ", "# ", "> ", "=", "---", "|", "| a | b |", "\n", "    ", "\u202e",
]  # fmt: skip
"""Fragments of every Markdown and HTML construct, so that examples combine them often."""
CARD_TEXT = st.lists(
    st.one_of(st.sampled_from(MARKUP), st.text(st.characters(codec="utf-8"), max_size=4)),
    max_size=12,
).map("".join)


@pytest.mark.parametrize("render", RENDERERS)
@pytest.mark.parametrize("context", CONTEXTS)
@given(text=CARD_TEXT)
def test_any_card_text_renders_as_itself_and_nothing_else(
    render: object, context: str, text: str
) -> None:
    assert callable(render)
    quoted = markdown_text(text)
    text_shown = assert_inert(render(context.format(quoted, quoted)))
    expected = printable(" ".join(text.split())).replace(_WORD_JOINER, "")
    assert expected in text_shown


@pytest.mark.parametrize("render", RENDERERS)
@given(text=st.text(st.sampled_from(list("`a <>@#\\* ")), max_size=20))
def test_code_spans_show_any_text_literally(render: object, text: str) -> None:
    assert callable(render)
    page = parsed(render(f"- {markdown_code(text)}"))
    line = printable(" ".join(text.split()))
    if line:
        assert page.elements <= {"ul", "li", "code"}
        assert "".join(page.text).strip() == line


HOSTILE_TEXT = {
    "html": (
        r"'\<img src=https://evil.example/pixel.png onerror=alert(1)\> \<script\>x\</script\>'",
        "<img src=https://evil.example/pixel.png onerror=alert(1)> <script>x</script>",
    ),
    "entities": ('"&lt;iframe srcdoc=x&gt;"', "<iframe srcdoc=x>"),
    "link": (
        '"&#91;click&#93;(https://evil.example) !&#91;x&#93;(https://e.example/t.png)"',
        "[click](https://evil.example) ![x](https://e.example/t.png)",
    ),
    "comment": (r'"before &lt;!-- hides the rest"', "before <!-- hides the rest"),
    "mention": ('"ping @octocat about #12 a@evil.example"', "ping @octocat about #12"),
    "autolink": ('"see https://evil.example and www.evil.example"', "see https://evil.example"),
    "math": ('"costs $5 or $6"', "costs $5 or $6"),
    "bidi": ('"abc \\u202Eevil"', "abc \\u202eevil"),
}


def hostile_project(root: Path, *, answer: str) -> None:
    deck = root / "cards" / "hostile"
    deck.mkdir(parents=True, exist_ok=True)
    (deck / "deck.yaml").write_text(
        yaml.safe_dump({"name": "<img src=x> @octocat [a](https://evil.example)", "id": "h"})
    )
    lines = ["cards:"]
    for card_id, (question, _) in HOSTILE_TEXT.items():
        lines += [f"  - id: {card_id}", f"    question: {question}", f"    answer: {answer}"]
    (deck / "cards.yaml").write_text("\n".join(lines) + "\n")


def test_hostile_card_text_in_every_section_stays_text(
    empty_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile_project(empty_project, answer="plain")
    assert run_deckgen("build").exit_code == 0
    # Every card changes (hostile words in the diff), one is retired, others are added.
    hostile_project(empty_project, answer=HOSTILE_TEXT["html"][0])
    cards = empty_project / "cards/hostile/cards.yaml"
    cards.write_text(cards.read_text().replace("  - id: math\n", "  - id: math-again\n"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 60))

    result = run_deckgen("changelog", "--against", "decks")

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    notes = result.stdout
    assert (
        "### Added" in notes
        and "### Answers changed: relearn these" in notes
        and "### Retired" in notes
    )
    assert "5. Retired: these cards now show a retirement notice" in notes
    for render in RENDERERS:
        shown = assert_inert(render(notes))
        for _, visible in HOSTILE_TEXT.values():
            assert visible in shown, (render.__name__, visible)
        assert "<img src=x> @octocat [a](https://evil.example): changes since" in shown


def test_the_retired_step_appears_only_when_something_was_retired(
    empty_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile_project(empty_project, answer="plain")
    assert run_deckgen("build").exit_code == 0
    hostile_project(empty_project, answer="changed")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 60))

    notes = run_deckgen("changelog", "--against", "decks").stdout

    assert "### Answers changed: relearn these" in notes
    assert "Retired" not in notes


@pytest.fixture(scope="module")
def compiled_deck(tmp_path_factory: pytest.TempPathFactory) -> CompiledDeck:
    root = tmp_path_factory.mktemp("notes")
    deck = root / "cards" / "d"
    deck.mkdir(parents=True)
    (deck / "deck.yaml").write_text("name: D\nid: d\n")
    (deck / "c.yaml").write_text(
        "cards:\n"
        "  - {id: added, question: Q, answer: A}\n"
        "  - {id: changed, question: Q, answer: A}\n"
    )
    (compiled,) = compile_project(
        root / "cards", now=FIRST_BUILD_TIME, report=Report(), packages_dir=root / "decks"
    )
    return compiled


_VISIBLE = CARD_TEXT.filter(lambda text: text.strip() != "")
_TAG = st.text(st.characters(exclude_categories=("Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(question=_VISIBLE, answer=_VISIBLE, card_id=_VISIBLE, tag=_TAG)
def test_release_notes_show_any_card_text_as_itself(
    compiled_deck: CompiledDeck, question: str, answer: str, card_id: str, tag: str
) -> None:
    """Whatever a card (or a hostile lock's retired id or tag) holds, the rendered notes show
    it as plain text and hold no element but their own."""
    added, changed = sorted(compiled_deck.notes, key=lambda note: note.card_id)
    notes = (
        dataclasses.replace(added, card_id=card_id, fields=(html.escape(question), "A")),
        dataclasses.replace(changed, fields=("Q", html.escape(answer)), tags=(tag,)),
    )
    previous = {changed.guid: ShippedNote(("Q", "before"), ())}
    markdown = release_notes(
        dataclasses.replace(compiled_deck, notes=notes),
        previous,
        title=question,
        package_name=card_id,
    )
    for render in RENDERERS:
        shown = assert_inert(render(markdown))
        for written in (
            shorten(" ".join(question.split())),
            " ".join(answer.split()),
            " ".join(card_id.split()),
            tag,
        ):
            assert printable(written).replace(_WORD_JOINER, "") in shown, written
