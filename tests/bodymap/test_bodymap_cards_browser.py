"""Body maps inside cards, as Anki shows them, in Chromium: night mode, phones, reveal cards.

Every card of the shipped deck that has a body map is rendered with the notetype's CSS and
the card HTML Anki makes of it (``cardrender``), then measured from the pixels: the contrast of
every label, legend text and legend mark against what surrounds it, in each of the four
combinations of Anki's night mode (the ``nightMode`` class) and the system's colour scheme;
the size text comes out at on a 360-pixel phone; how panels sit; what a reveal card's answer
side shows.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from pathlib import Path

import defusedxml.ElementTree
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from conftest import FIRST_BUILD_TIME
from deckgen.anki.cardrender import render_cards
from deckgen.anki.notetypes import CSS
from deckgen.bodymap.draw import LEGEND_SIZE, Drawing, drawings
from deckgen.diagnostics import Report
from deckgen.pipeline.build import compile_project
from deckgen.render.media import media_name
from helpers import REPO

_HALO = 2.0
_MIN_TEXT_PX = 11
_TEXT_CONTRAST = 4.5
"""WCAG AA for text; legend marks need 3 (non-text contrast)."""
_MARK_CONTRAST = 3.0


@dataclass(frozen=True)
class CardSide:
    card_id: str
    side: str
    html: str


@dataclass(frozen=True)
class Shipped:
    sides: tuple[CardSide, ...]
    drawings: dict[str, Drawing]
    """Every body-map picture the deck ships, by its media name."""
    folder: Path


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Shipped:
    folder = tmp_path_factory.mktemp("cards")
    compiled = compile_project(
        REPO / "cards", now=FIRST_BUILD_TIME, report=Report(), packages_dir=REPO / "decks"
    )
    sides = []
    pictures: dict[str, Drawing] = {}
    for deck in compiled:
        for card, note in deck.written_cards():
            if card.bodymap is None or card.occlusion is not None:
                continue  # an occlusion card's picture is its Image field, masked
            for placement in card.bodymap.placements():
                for drawing in drawings(placement.spec):
                    pictures[media_name(drawing.svg, "svg")] = drawing
            for faces in render_cards(note.notetype, note.fields):
                sides.append(CardSide(card.id, "front", faces.question))
                sides.append(CardSide(card.id, "back", faces.answer))
    for name, drawing in pictures.items():
        (folder / name).write_bytes(drawing.svg)
        # The same picture with its texts' fill and its legend marks taken away: what lies
        # under them, to measure them against.
        (folder / f"bare-{name}").write_bytes(
            drawing.svg.replace(
                b"</style>",
                b"\ntext{fill-opacity:0!important}"
                b".legend path,.legend .cross{visibility:hidden!important}</style>",
            )
        )
    assert len(pictures) >= 20, "the shipped deck draws its referral maps"
    return Shipped(tuple(sides), pictures, folder)


def card_page(sides: tuple[CardSide, ...], *, night: bool, bare: bool = False) -> str:
    """Each card side as Anki's reviewer shows it: the notetype's CSS, the card's HTML in an
    element of class ``card``, and Anki's ``nightMode`` class on the body in night mode."""
    blocks = []
    for number, side in enumerate(sides):
        body = side.html.replace('src="deckgen-', 'src="bare-deckgen-') if bare else side.html
        blocks.append(
            f'<div class="card card1" id="side{number}" data-card="{html.escape(side.card_id)}" '
            f'data-side="{side.side}">{body}</div>'
        )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><style>{CSS}\n"
        ".card { margin: 0 0 24px; }</style></head>"
        f"<body class='{'nightMode' if night else ''}' style='margin:8px'>"
        + "".join(blocks)
        + "</body></html>"
    )


def show(
    browser: Browser, shipped: Shipped, page_html: str, *, width: int, dark_system: bool
) -> Page:
    page = browser.new_page(
        viewport={"width": width, "height": 800},
        color_scheme="dark" if dark_system else "light",
    )
    target = shipped.folder / f"page-{width}-{int(dark_system)}.html"
    target.write_text(page_html, encoding="utf-8")
    page.goto(target.as_uri())
    page.wait_for_load_state("load")
    return page


def visible_images(page: Page) -> list[dict[str, object]]:
    found: list[dict[str, object]] = page.eval_on_selector_all(
        ".deckgen-bodymap img",
        """images => images.filter(i => i.offsetParent !== null).map(i => {
            const r = i.getBoundingClientRect();
            const side = i.closest('.card');
            return {name: i.getAttribute('src').replace(/^bare-/, ''), x: r.left + scrollX,
                    y: r.top + scrollY, width: r.width, height: r.height,
                    natural: i.naturalWidth, card: side.dataset.card, side: side.dataset.side};
        })""",
    )
    return found


def full_screenshot(page: Page) -> Image.Image:
    return Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")


def luminance(rgb: tuple[int, int, int]) -> float:
    def linear(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = luminance(a), luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def measured_contrast(
    drawn: Image.Image, bare: Image.Image, box: tuple[float, float, float, float]
) -> float | None:
    """The contrast of what is drawn in ``box`` against what lies under it: over the pixels
    it changes, the 90th percentile (the anti-aliased edges of a glyph are fainter than its
    stem). None when nothing there changed: the text or mark is not drawn at all."""
    x0, y0, x1, y1 = (round(v) for v in box)
    ratios = []
    for y in range(max(y0, 0), min(y1, drawn.height)):
        for x in range(max(x0, 0), min(x1, drawn.width)):
            a, b = drawn.getpixel((x, y)), bare.getpixel((x, y))
            assert isinstance(a, tuple) and isinstance(b, tuple)
            if sum(abs(p - q) for p, q in zip(a, b, strict=True)) > 24:
                ratios.append(contrast(a[:3], b[:3]))
    if not ratios:
        return None
    ratios.sort()
    return ratios[int(0.9 * (len(ratios) - 1))]


def things_to_read(drawing: Drawing) -> list[tuple[str, str, tuple[float, float, float, float]]]:
    """Every text (label, title, legend, caption) and every legend mark of a picture, with
    its box in the picture's pixels."""
    found = []
    for shape in drawing.shapes:
        if shape.kind not in ("label", "title", "legend"):
            continue
        box = shape.box
        found.append(("text", shape.owner, (box.x0, box.y0, box.x1, box.y1)))
        if shape.owner.startswith("legend-"):
            text_x = box.x0 + _HALO
            baseline = box.y1 - _HALO - 0.24 * LEGEND_SIZE
            found.append(
                ("mark", shape.owner, (text_x - 30, baseline - 12, text_x - 8, baseline + 3))
            )
    return found


@pytest.mark.parametrize("night", [False, True], ids=["day", "night"])
@pytest.mark.parametrize("dark_system", [False, True], ids=["light-system", "dark-system"])
def test_every_map_text_and_legend_mark_stands_out_in_all_four_combinations(
    browser: Browser, shipped: Shipped, night: bool, dark_system: bool
) -> None:
    backs = tuple(side for side in shipped.sides if side.side == "back")
    pages = [
        show(
            browser,
            shipped,
            card_page(backs, night=night, bare=bare),
            width=900,
            dark_system=dark_system,
        )
        for bare in (False, True)
    ]
    try:
        images = visible_images(pages[0])
        drawn, bare = (full_screenshot(page) for page in pages)
    finally:
        for page in pages:
            page.close()
    weakest: dict[str, float] = {"text": 99.0, "mark": 99.0}
    problems = []
    for image in images:
        drawing = shipped.drawings[str(image["name"])]
        scale = float(image["width"]) / drawing.width  # type: ignore[arg-type]
        left, top = float(image["x"]), float(image["y"])  # type: ignore[arg-type]
        for kind, owner, (x0, y0, x1, y1) in things_to_read(drawing):
            box = (left + x0 * scale, top + y0 * scale, left + x1 * scale, top + y1 * scale)
            ratio = measured_contrast(drawn, bare, box)
            needed = _TEXT_CONTRAST if kind == "text" else _MARK_CONTRAST
            if ratio is None or ratio < needed:
                problems.append(f"{image['card']}: {owner} ({kind}) contrast {ratio}")
            else:
                weakest[kind] = min(weakest[kind], ratio)
    print(f"night={night} dark_system={dark_system}: weakest contrast {weakest}")
    assert len(images) >= 20
    assert problems == [], "\n".join(problems)


def test_map_colours_follow_ankis_night_mode_not_the_system(
    browser: Browser, shipped: Shipped
) -> None:
    """The nightMode class changes how every map looks; the system's colour scheme changes
    nothing (an image cannot see the class, so the card's CSS adapts it)."""
    backs = tuple(side for side in shipped.sides if side.side == "back")[:6]
    shots = {}
    for night in (False, True):
        for dark_system in (False, True):
            page = show(
                browser,
                shipped,
                card_page(backs, night=night),
                width=900,
                dark_system=dark_system,
            )
            image = visible_images(page)[0]
            box = (
                image["x"],
                image["y"],
                float(image["x"]) + float(image["width"]),  # type: ignore[arg-type]
                float(image["y"]) + float(image["height"]),  # type: ignore[arg-type]
            )
            shots[(night, dark_system)] = full_screenshot(page).crop(
                tuple(round(float(v)) for v in box)  # type: ignore[arg-type]
            )
            page.close()
    assert shots[(False, False)].tobytes() == shots[(False, True)].tobytes()
    assert shots[(True, False)].tobytes() == shots[(True, True)].tobytes()
    assert shots[(False, False)].tobytes() != shots[(True, False)].tobytes()
    day_paper = shots[(False, False)].getpixel((3, shots[(False, False)].height // 2))
    night_paper = shots[(True, False)].getpixel((3, shots[(True, False)].height // 2))
    assert isinstance(day_paper, tuple) and isinstance(night_paper, tuple)
    assert luminance(night_paper) < 0.8 * luminance(day_paper), "dimmed in night mode"


def test_no_map_text_is_under_11_pixels_on_a_360_pixel_phone(
    browser: Browser, shipped: Shipped
) -> None:
    page = show(
        browser, shipped, card_page(shipped.sides, night=False), width=360, dark_system=False
    )
    try:
        images = visible_images(page)
    finally:
        page.close()
    smallest = {}
    for image in images:
        svg = shipped.drawings[str(image["name"])].svg
        sizes = [
            float(t.get("font-size") or 0)
            for t in defusedxml.ElementTree.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")
        ]
        shown = min(sizes) * float(image["width"]) / int(image["natural"])  # type: ignore[arg-type]
        smallest[f"{image['card']} {image['side']}"] = shown
    print(f"smallest text on a 360-px phone: {min(smallest.values()):.1f} px")
    assert len(smallest) >= 20
    assert {k: v for k, v in smallest.items() if v < _MIN_TEXT_PX} == {}


@pytest.mark.parametrize(("width", "stacked"), [(360, True), (900, False)])
def test_panels_stack_on_a_phone_and_sit_side_by_side_when_there_is_room(
    browser: Browser, shipped: Shipped, width: int, stacked: bool
) -> None:
    sides = tuple(s for s in shipped.sides if s.card_id == "referral-trp1-vs-trp3")
    page = show(browser, shipped, card_page(sides, night=False), width=width, dark_system=False)
    try:
        first, second = (i for i in visible_images(page) if i["side"] == "back")
    finally:
        page.close()
    assert first["width"] == second["width"], "one scale"
    if stacked:
        assert float(second["y"]) >= float(first["y"]) + float(first["height"])  # type: ignore[arg-type]
    else:
        assert first["y"] == second["y"]


def test_a_reveal_cards_answer_side_shows_its_map_once(browser: Browser, shipped: Shipped) -> None:
    recognise = tuple(s for s in shipped.sides if s.card_id.endswith("-recognise"))
    page = show(browser, shipped, card_page(recognise, night=False), width=900, dark_system=False)
    try:
        images = visible_images(page)
    finally:
        page.close()
    assert len(recognise) == 6
    for side in recognise:
        shown = [i for i in images if i["card"] == side.card_id and i["side"] == side.side]
        assert len(shown) == 1, (side.card_id, side.side)
    # The three recognise cards' pictures are framed alike, so their size gives nothing away.
    # Nor does the answer side's: the revealed map is the question's plus its mark.
    assert len({(i["width"], i["height"]) for i in images}) == 1
