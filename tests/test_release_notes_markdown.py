"""Release notes quote untrusted card text: rendered as Markdown (CommonMark by markdown-it,
GitHub's own cmark-gfm), it stays plain text, never HTML, links, images, comments or
@mentions."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import cmarkgfm
import pytest
import yaml
from cmarkgfm.cmark import Options
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from conftest import FIRST_BUILD_TIME, run_deckgen
from deckgen.diagnostics import printable
from deckgen.workflow.changelog import markdown_code, markdown_text

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

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.add(tag)
        self.attributes.extend(name for name, _ in attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


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
    assert not _REFERENCE.search("".join(page.text)), rendered
    return text


# Every place the notes put quoted text: list item, heading, diff markers, nested item.
CONTEXTS = ["- {}", "## {}", "- `id`: {}", "  - Answer: ~~{}~~ **{}**", "{}"]


@pytest.mark.parametrize("render", RENDERERS)
@pytest.mark.parametrize("context", CONTEXTS)
@given(
    text=st.text(
        st.one_of(
            st.sampled_from(list("\\`*_~[]()!<>&#@$:/.|-+=1 \n\t\"'w")),
            st.characters(codec="utf-8"),
        ),
        max_size=40,
    )
)
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

    result = run_deckgen("changelog")

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    notes = result.stdout
    assert "### Added" in notes and "### Changed" in notes and "### Retired" in notes
    assert "4. Retired: these cards now show a retirement notice" in notes
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

    notes = run_deckgen("changelog").stdout

    assert "### Changed" in notes
    assert "Retired" not in notes
