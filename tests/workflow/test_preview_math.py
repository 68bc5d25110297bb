"""Math in the preview is drawn as MathML that can only show text: hostile ``\\text{}``
contents, which Anki's MathJax shows as inert text, stay inert text in a real Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from latex2mathml.converter import convert
from playwright.sync_api import Browser

from conftest import FIRST_BUILD_TIME
from deckgen.diagnostics import Report
from deckgen.pipeline.build import compile_project
from deckgen.workflow.preview import MATHML_ATTRIBUTES, MATHML_ELEMENTS, write_preview

# (card id, question as written, the text the math's text run must show)
HOSTILE_MATH = [
    (
        "text-img",
        r"""\(\text{<img src=x onerror="window.__pwned='text-img'">}\)""",
        """<img src=x onerror="window.__pwned='text-img'">""",
    ),
    (
        "text-img-slashes",
        r"\(\text{<img/src='x'/onerror=window.__pwned='slashes'>}\)",
        "<img/src='x'/onerror=window.__pwned='slashes'>",
    ),
    (
        "mbox-script",
        r"""\(\mbox{<script>window.__pwned='mbox-script'</script>}\)""",
        "<script>window.__pwned='mbox-script'</script>",
    ),
    (
        "textbf-svg",
        r"\[\textbf{<svg/onload=window.__pwned='textbf-svg'></svg>}\]",
        "<svg/onload=window.__pwned='textbf-svg'></svg>",
    ),
    (
        "hbox-iframe",
        r"""\(\hbox{<iframe srcdoc="<script>parent.__pwned='hbox'</script>"></iframe>}\)""",
        """<iframe srcdoc="<script>parent.__pwned='hbox'</script>"></iframe>""",
    ),
    (
        "close-math",
        r"\(\text{</math><img/src='x'/onerror=window.__pwned='close-math'>}\)",
        "</math><img/src='x'/onerror=window.__pwned='close-math'>",
    ),
    (
        "named-entities",
        r"""\(\text{&lt;img src=x onerror="window.__pwned='named'"&gt;}\)""",
        """&lt;img src=x onerror="window.__pwned='named'"&gt;""",
    ),
    (
        "numeric-entities",
        r"""\(\text{&#60;img src=x onerror="window.__pwned='numeric'"&#x3E;}\)""",
        """&#60;img src=x onerror="window.__pwned='numeric'"&#x3E;""",
    ),
]


@pytest.fixture
def hostile_preview(empty_project: Path) -> Path:
    deck = empty_project / "cards" / "math"
    deck.mkdir()
    (deck / "deck.yaml").write_text("name: Math\nid: math\n")
    cards = [
        {"id": card_id, "question": question, "answer": "inert"}
        for card_id, question, _ in HOSTILE_MATH
    ]
    cards.append(
        {
            "id": "mathrm-tag",
            "question": r"""\(\mathrm{<b onmouseover="window.__pwned=1">}\)""",
            "answer": r"\(x < y \le z\)",
        }
    )
    cards.append(
        {
            "id": "in-attribute",
            "question": 'A [link](https://a.example "\\(\\text{x" onmouseover="window.__pwned=1"}'
            '\\) [[type:Answer]]")',
            "answer": "inert",
        }
    )
    (deck / "cards.yaml").write_text(yaml.safe_dump({"cards": cards}, allow_unicode=True))
    compiled = compile_project(  # raises if any card is refused: all of them ship
        empty_project / "cards", now=FIRST_BUILD_TIME, report=Report(), packages_dir=Path("decks")
    )
    return write_preview(compiled, empty_project / "preview").index


def test_the_converters_own_output_would_run_the_script(browser: Browser) -> None:
    """Why the preview writes the MathML itself: the converter copies text raw."""
    page = browser.new_page()
    try:
        # The converter turns spaces into no-break spaces; slashes separate attributes too.
        page.set_content(convert(r"\text{<img/src='x'/onerror=window.__pwned=1>}"))
        page.wait_for_function("window.__pwned === 1", timeout=5000)
    finally:
        page.close()


def test_hostile_math_text_shows_as_text_and_runs_nothing(
    hostile_preview: Path, browser: Browser
) -> None:
    page = browser.new_page()
    try:
        page.goto(hostile_preview.as_uri())
        page.wait_for_load_state("load")
        page.mouse.move(10, 10)
        page.wait_for_timeout(300)  # time for any load or error handler to have fired
        assert page.evaluate("typeof window.__pwned") == "undefined"
        active = page.eval_on_selector_all(
            ".dg-card .card *", "nodes => nodes.map(n => n.localName)"
        )
        assert {"img", "script", "svg", "iframe", "b", "input"}.isdisjoint(active)
        assert set(active) & MATHML_ELEMENTS >= {"math", "mtext", "mi", "mo"}
        attributes = page.eval_on_selector_all(
            ".dg-card math, .dg-card math *",
            "nodes => nodes.flatMap(n => Array.from(n.attributes, a => a.name))",
        )
        assert set(attributes) <= MATHML_ATTRIBUTES | {"xmlns"}
        for card_id, _, shown in HOSTILE_MATH:
            text = page.eval_on_selector(
                f'.dg-card[data-card-id="{card_id}"] .dg-front mtext',
                "node => node.textContent",
            )
            assert text.replace("\u00a0", " ") == shown, card_id
        # Math and type-in boxes are made between tags only: in an attribute they stay text.
        title = page.get_attribute('.dg-card[data-card-id="in-attribute"] .dg-front a', "title")
        assert title == '\\(\\text{x" onmouseover="window.__pwned=1"}\\) [[type:Answer]]'
        assert page.locator("[onmouseover]").count() == 0
        question, answer = page.eval_on_selector_all(
            '.dg-card[data-card-id="mathrm-tag"] .dg-back math',
            "nodes => nodes.map(n => n.textContent)",
        )
        assert question.startswith("<bonmouseover=")  # symbols and letters, as \\mathrm sets them
        assert answer == "x<y≤z"
    finally:
        page.close()
