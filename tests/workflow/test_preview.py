"""The preview shows what Anki shows: checked against Anki's engine and in a real Chromium."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page

from anki_engine import StudentCollection
from conftest import FIRST_BUILD_TIME, FIXTURES, run_deckgen
from deckgen.anki.cardrender import render_cards
from deckgen.anki.retire import RETIRED_TAG as RETIRED
from deckgen.diagnostics import Report
from deckgen.pipeline.build import compile_project
from deckgen.workflow.preview import write_preview
from helpers import REPO


@dataclass(frozen=True)
class Built:
    """A cards folder built into a package and imported into a fresh Anki collection."""

    cards_dir: Path
    package: Path
    anki_cards: dict[tuple[str, int], tuple[str, str]]
    """(card id, ord) -> (question, answer) as Anki's engine renders them."""
    retired: set[str]
    """Card ids of the notes Anki holds tagged retired."""
    preview: Path


def build_and_import(
    source: Path, folder: Path, student_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> Built:
    shutil.copytree(source, folder / "cards")
    monkeypatch.chdir(folder)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME))
    assert run_deckgen("build", "cards", "-o", "decks").exit_code == 0
    result = run_deckgen("preview", "cards", "-o", "preview")
    assert result.exit_code == 0, result.output
    (package,) = (folder / "decks").glob("*.apkg")
    compiled = compile_project(
        folder / "cards", now=FIRST_BUILD_TIME, report=Report(), packages_dir=Path("decks")
    )
    card_ids = {  # retired notes included: students get them, and the preview shows them
        note.guid: note.card_id for deck in compiled for note in deck.notes
    }
    student = StudentCollection(student_folder)
    try:
        student.import_package(package)
        anki_cards = {}
        retired = {card_ids[note.guid] for note in student.notes().values() if RETIRED in note.tags}
        for card_id in student.col.find_cards(""):
            card = student.col.get_card(card_id)
            output = card.render_output()
            anki_cards[(card_ids[card.note().guid], card.ord)] = (
                output.question_text,
                output.answer_text,
            )
    finally:
        student.close()
    return Built(folder / "cards", package, anki_cards, retired, folder / "preview" / "index.html")


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield build_and_import(
            REPO / "cards",
            tmp_path_factory.mktemp("shipped"),
            tmp_path_factory.mktemp("student"),
            monkeypatch,
        )


@pytest.mark.parametrize("source", [REPO / "cards", FIXTURES / "sample" / "cards"])
def test_cards_render_exactly_as_ankis_engine_renders_them(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "student").mkdir()
    built = build_and_import(source, tmp_path / "project", tmp_path / "student", monkeypatch)
    compiled = compile_project(
        built.cards_dir, now=FIRST_BUILD_TIME, report=Report(), packages_dir=Path("decks")
    )
    ours = {
        (note.card_id, card.ord): (card.question, card.answer)
        for deck in compiled
        for note in deck.notes
        for card in render_cards(note.notetype, note.fields)
    }
    assert set(ours) == set(built.anki_cards)
    for key, rendered in built.anki_cards.items():
        assert ours[key] == rendered, key


def test_every_summary_counts_the_notes_and_cards_anki_creates(shipped: Built) -> None:
    notes = {card_id for card_id, _ in shipped.anki_cards}
    retired_cards = sum(1 for card_id, _ in shipped.anki_cards if card_id in shipped.retired)
    counts = (
        f"{len(notes) - len(shipped.retired)} notes, "
        f"{len(shipped.anki_cards) - retired_cards} cards; "
        f"{len(shipped.retired)} retired notes, {retired_cards} cards"
    )
    assert shipped.retired, "the shipped deck retires cards: both counts are checked"
    assert f"checked 1 deck, {counts};" in run_deckgen("check", str(shipped.cards_dir)).stdout
    assert f": {counts}\n" in run_deckgen("stats", str(shipped.cards_dir)).stdout
    preview = run_deckgen("preview", str(shipped.cards_dir), "-o", str(shipped.preview.parent))
    assert f"({counts}, " in preview.stdout


def test_math_becomes_mathml_and_type_in_cards_get_a_box(
    empty_project: Path,
) -> None:
    deck = empty_project / "cards/math"
    deck.mkdir()
    (deck / "deck.yaml").write_text("name: Math\nid: math\n")
    (deck / "cards.yaml").write_text(
        "cards:\n"
        "  - id: square\n"
        "    type: typein\n"
        "    question: What is \\(x^2\\) for x = 3?\n"
        "    answer: '9'\n"
        "  - id: broken\n"
        "    question: Broken \\(x^\\)\n"
        "    answer: kept as source\n"
    )
    compiled = compile_project(
        empty_project / "cards", now=FIRST_BUILD_TIME, report=Report(), packages_dir=Path("decks")
    )
    site = write_preview(compiled, empty_project / "preview")
    page = site.index.read_text()
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">' in page
    assert "\\(x^2\\)" not in page
    assert '<input type="text" class="dg-typeans"' in page
    assert '<code class="dg-typeans">9</code>' in page
    assert '<code class="dg-math-error">\\(x^\\)</code>' in page
    assert "[[type:" not in page


@dataclass
class LoadedPage:
    page: Page
    errors: list[str]


@pytest.fixture
def page(browser: Browser, shipped: Built) -> Iterator[LoadedPage]:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"failed: {request.url}"))
    page.goto(shipped.preview.as_uri())
    page.wait_for_load_state("load")
    yield LoadedPage(page, errors)
    page.close()


def test_one_element_per_card_anki_creates(page: LoadedPage, shipped: Built) -> None:
    shown = page.page.eval_on_selector_all(
        ".dg-card", "cards => cards.map(c => [c.dataset.cardId, Number(c.dataset.cardOrd)])"
    )
    assert len(shown) == len(shipped.anki_cards) > 0
    assert {(card_id, ord_) for card_id, ord_ in shown} == set(shipped.anki_cards)


def test_retired_cards_are_marked_retired(page: LoadedPage, shipped: Built) -> None:
    marked = page.page.eval_on_selector_all(
        ".dg-card.dg-retired", "cards => cards.map(c => c.dataset.cardId)"
    )
    assert set(marked) == shipped.retired
    assert len(marked) == sum(1 for card_id, _ in shipped.anki_cards if card_id in shipped.retired)
    badge = page.page.locator(".dg-retired .dg-retired-badge").first
    assert badge.is_visible() and badge.inner_text() == "Retired"
    unmarked = page.page.locator(".dg-card:not(.dg-retired) .dg-retired-badge")
    assert unmarked.count() == 0


def test_every_image_loads_and_the_console_stays_clean(page: LoadedPage) -> None:
    images = page.page.eval_on_selector_all(
        "img", "images => images.map(i => [i.getAttribute('src'), i.complete && i.naturalWidth])"
    )
    assert len(images) > 17  # every referral card's map, plus the layers picture
    assert [src for src, width in images if not width] == []
    assert page.errors == []


def test_typing_in_the_search_box_filters_the_cards(page: LoadedPage, shipped: Built) -> None:
    total = len(shipped.anki_cards)
    visible = ".dg-card:not([hidden])"
    page.page.fill("#dg-search", "TrP2")
    texts = page.page.eval_on_selector_all(visible, "cards => cards.map(c => c.textContent)")
    assert 0 < len(texts) < total
    assert all("trp2" in text.lower() for text in texts)
    assert page.page.inner_text("#dg-count") == f"{len(texts)} of {total} cards"
    page.page.fill("#dg-search", "")
    assert page.page.locator(visible).count() == total


def test_a_tag_filter_keeps_only_cards_with_the_tag(page: LoadedPage, shipped: Built) -> None:
    page.page.click('.dg-tag[data-tag="topic::red_flags"]')
    tags = page.page.eval_on_selector_all(
        ".dg-card:not([hidden])", "cards => cards.map(c => c.dataset.tags)"
    )
    assert 0 < len(tags) < len(shipped.anki_cards)
    assert all("topic::red_flags" in tag.split() for tag in tags)


def test_night_switch_changes_the_card_background(page: LoadedPage) -> None:
    script = "getComputedStyle(document.querySelector('.dg-card .card')).backgroundColor"
    assert page.page.evaluate(script) == "rgb(255, 255, 255)"
    page.page.check("#dg-night")
    assert page.page.evaluate(script) == "rgb(30, 30, 30)"


def test_phone_switch_narrows_the_cards(page: LoadedPage) -> None:
    page.page.check("#dg-phone")
    width = page.page.evaluate("document.querySelector('.dg-card').getBoundingClientRect().width")
    assert width <= 390


def test_print_puts_question_and_answer_side_by_side(page: LoadedPage) -> None:
    page.page.emulate_media(media="print")
    assert page.page.is_hidden(".dg-controls")
    front, back = (
        page.page.locator(f".dg-card >> nth=0 >> .{side}").bounding_box()
        for side in ("dg-front", "dg-back")
    )
    assert front is not None and back is not None
    assert front["y"] == back["y"] and front["x"] < back["x"]


def test_type_in_card_shows_an_input_box_and_links_to_its_source(page: LoadedPage) -> None:
    typein = page.page.locator('.dg-card:has(.dg-kind:text("Type in the answer"))')
    assert typein.count() >= 1
    assert typein.first.locator(".dg-front input.dg-typeans").count() == 1
    assert typein.first.locator(".dg-back input").count() == 0
    link = typein.first.locator("a.dg-where")
    href = link.get_attribute("href") or ""
    # Relative, so the link works when the site is moved or shared and leaks no folder.
    assert not href.startswith(("file:", "/")) and href.endswith(".yaml")
    target = link.evaluate("a => a.href")
    assert target.startswith("file://") and Path(target.removeprefix("file://")).is_file()
    assert re.fullmatch(r"cards/[\w/-]+\.yaml:\d+:\d+", link.inner_text())


def test_on_a_phone_the_sides_stack_and_the_controls_scroll_away_without_any_toggle(
    browser: Browser, shipped: Built
) -> None:
    """At 390 px, as a phone opens the page: front above back at full width, the controls
    scroll off instead of covering a fifth of the screen, and a card's id is shown and can
    be searched."""
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(shipped.preview.as_uri())
    assert page.locator("#dg-phone").is_checked() is False
    card = page.locator(".dg-card").first
    front = card.locator(".dg-front").bounding_box()
    back = card.locator(".dg-back").bounding_box()
    assert front is not None and back is not None
    assert back["y"] >= front["y"] + front["height"] - 1 and back["width"] > 300
    page.evaluate("window.scrollTo(0, 3000)")
    controls = page.locator(".dg-controls").bounding_box()
    assert controls is not None and controls["y"] + controls["height"] <= 0
    card_id = card.get_attribute("data-card-id") or ""
    assert card.locator(".dg-id").inner_text() == card_id
    page.fill("#dg-search", card_id)
    shown = page.locator(".dg-card:not([hidden])")
    assert shown.count() >= 1
    assert all(
        card_id in (shown.nth(i).get_attribute("data-card-id") or "") for i in range(shown.count())
    )
    page.close()


def test_screenshot_is_kept(page: LoadedPage, tmp_path_factory: pytest.TempPathFactory) -> None:
    page.page.evaluate("document.querySelector('.dg-card:has(img)').scrollIntoView()")
    page.page.evaluate("window.scrollBy(0, -120)")
    target = tmp_path_factory.getbasetemp() / "preview-screenshot.png"
    page.page.screenshot(path=str(target))
    assert target.stat().st_size > 10_000
    print(f"preview screenshot: {target}")
    if os.environ.get("DECKGEN_UPDATE_SCREENSHOT"):  # refreshes the picture in the docs
        shutil.copyfile(target, REPO / "docs" / "preview.png")
