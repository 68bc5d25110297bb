"""The preview's occlusion masks in a real Chromium: each card's mask covers the pixels of the
label it hides, and no other label's, on every occlusion card of the shipped deck."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from conftest import FIRST_BUILD_TIME
from deckgen.bodymap.atlas import LANDMARKS
from deckgen.bodymap.muscles import MUSCLES
from deckgen.diagnostics import Report
from deckgen.pipeline.build import compile_project
from deckgen.workflow.preview import write_preview
from helpers import REPO

HIDE_ALL: set[str] = set()
"""The shipped cards in 'hide-all' mode: every label the note hides is masked on each of its
cards, so a card's other masks cover the other hidden labels (and only those)."""
GUESS = (0xE6, 0x9F, 0x00)
"""The mask to guess, as the notetype's CSS colours it."""

Box = tuple[float, float, float, float]

# Every label of the picture with its text and its box as Chromium lays it out, in the SVG's
# own pixels (its viewBox is its size).
_LABELS_JS = """
() => Array.from(document.querySelectorAll("g.landmark text, g.trigger-point text, "
  + "g.region-name text, g.legend text:not(.caption)")).map(text => {
    const box = text.getBBox();
    return [text.textContent, box.x, box.y, box.x + box.width, box.y + box.height];
})
"""
_FRONT_JS = """
article => {
  const front = article.querySelector(".dg-front .card");
  const image = front.querySelector("#image-occlusion-container img");
  const rect = (el) => {
    const r = el.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom];
  };
  return {
    side: rect(front),
    image: rect(image),
    natural: [image.naturalWidth, image.naturalHeight],
    source: image.getAttribute("src"),
    masks: Array.from(front.querySelectorAll(".dg-io-masks > *")).map(rect),
  };
}
"""


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[str]]]:
    """The shipped deck's preview, and for each occlusion card the label text each of its
    cards asks for (by card ordinal)."""
    folder = tmp_path_factory.mktemp("occlusion-preview")
    report = Report()
    compiled = compile_project(
        REPO / "cards", now=FIRST_BUILD_TIME, report=report, packages_dir=REPO / "decks"
    )
    assert not report.error_count
    write_preview(compiled, folder)
    hidden = {}
    for deck in compiled:
        for card, _ in deck.written_cards():
            if card.occlusion is None or card.bodymap is None:
                continue
            labels = []
            for group in card.occlusion.hide:
                (name,) = group.names
                labels.append(
                    {
                        "landmarks": lambda n: LANDMARKS[n].label,
                        "muscles": lambda n: MUSCLES[n].label,
                    }.get(group.kind, lambda n: n)(name)
                )
            hidden[card.id] = labels
            if card.occlusion.hide_all:
                HIDE_ALL.add(card.id)
    assert len(hidden) >= 3, "the landmark notes of both views and the trigger-point note"
    return folder, hidden


def labels_of(page: Page, folder: Path, source: str) -> list[tuple[str, Box]]:
    page.goto((folder / source).as_uri())
    found: list[list[Any]] = page.evaluate(_LABELS_JS)
    return [(text, (x0, y0, x1, y1)) for text, x0, y0, x1, y1 in found]


def on_page(box: Box, image: Box, natural: tuple[float, float]) -> Box:
    """A box in the picture's pixels, where the picture is shown on the page."""
    sx = (image[2] - image[0]) / natural[0]
    sy = (image[3] - image[1]) / natural[1]
    return (
        image[0] + box[0] * sx,
        image[1] + box[1] * sy,
        image[0] + box[2] * sx,
        image[1] + box[3] * sy,
    )


def contains(outer: Box, inner: Box, slack: float = 0.5) -> bool:
    return (
        outer[0] <= inner[0] + slack
        and outer[1] <= inner[1] + slack
        and outer[2] >= inner[2] - slack
        and outer[3] >= inner[3] - slack
    )


def overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def ink_pixels(shot: Image.Image, box: Box, origin: Box) -> list[tuple[int, int]]:
    """The dark pixels (a label's text) of a screenshot inside ``box`` (page coordinates)."""
    left, top = int(box[0] - origin[0]), int(box[1] - origin[1])
    right, bottom = int(box[2] - origin[0]) + 1, int(box[3] - origin[1]) + 1
    return [
        (x, y)
        for x in range(max(left, 0), min(right, shot.width))
        for y in range(max(top, 0), min(bottom, shot.height))
        if sum(shot.getpixel((x, y))) < 3 * 110
    ]


def near(colour: tuple[int, int, int], target: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 6 for a, b in zip(colour, target, strict=True))


def test_each_mask_covers_its_label_and_no_other(
    browser: Browser, preview: tuple[Path, dict[str, list[str]]]
) -> None:
    folder, hidden = preview
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    checked = 0
    for card_id, texts in sorted(hidden.items()):
        page.goto((folder / "index.html").as_uri())
        articles = page.query_selector_all(f'article.dg-card[data-card-id="{card_id}"]')
        assert len(articles) == len(texts)
        fronts = []
        for article in articles:
            article.scroll_into_view_if_needed()
            front = article.evaluate(_FRONT_JS)
            side = article.query_selector(".dg-front .card")
            assert side is not None
            masked = Image.open(io.BytesIO(side.screenshot())).convert("RGB")
            article.evaluate(
                "a => a.querySelector('.dg-front .dg-io-masks').style.display = 'none'"
            )
            bare = Image.open(io.BytesIO(side.screenshot())).convert("RGB")
            fronts.append((int(article.get_attribute("data-card-ord") or -1), front, masked, bare))
        labels = labels_of(page, folder, fronts[0][1]["source"])
        for ord_, front, masked, bare in fronts:
            wanted = texts[ord_]
            natural = tuple(front["natural"])
            boxes = {text: on_page(box, front["image"], natural) for text, box in labels}
            assert wanted in boxes, (card_id, wanted, list(boxes))
            masks = [tuple(mask) for mask in front["masks"]]
            assert masks, card_id
            assert any(contains(mask, boxes[wanted]) for mask in masks), (card_id, wanted)
            # Labels this card leaves visible: the others of a hide-one note, the labels a
            # note does not hide at all.
            shown = {
                t for t in boxes if t != wanted and (card_id not in HIDE_ALL or t not in texts)
            }
            for text, box in boxes.items():
                if text in shown:
                    assert not any(overlaps(mask, box) for mask in masks), (card_id, wanted, text)
            # In the pixels: every pixel of the hidden label's text is under the mask (its
            # colour, or its outline at the edge); every other label's text is untouched.
            origin = tuple(front["side"])
            ink = ink_pixels(bare, boxes[wanted], origin)
            assert len(ink) > 20, wanted
            for x, y in ink:
                page_x, page_y = origin[0] + x + 0.5, origin[1] + y + 0.5
                inside = [m for m in masks if contains(m, (page_x, page_y, page_x, page_y))]
                assert inside, (wanted, (page_x, page_y))
                deep = any(
                    m[0] + 1.5 <= page_x <= m[2] - 1.5 and m[1] + 1.5 <= page_y <= m[3] - 1.5
                    for m in inside
                )
                assert not deep or near(masked.getpixel((x, y)), GUESS), (wanted, (x, y))
            for text, box in boxes.items():
                if text in shown:
                    for x, y in ink_pixels(bare, box, origin):
                        assert masked.getpixel((x, y)) == bare.getpixel((x, y)), (wanted, text)
                elif text != wanted:  # hidden too, in the other masks' colour, not the guess's
                    for x, y in ink_pixels(bare, box, origin):
                        assert not near(masked.getpixel((x, y)), GUESS), (wanted, text)
            checked += 1
    assert checked == sum(len(texts) for texts in hidden.values())
    page.close()


def test_screenshot_for_the_readme(
    browser: Browser,
    preview: tuple[Path, dict[str, list[str]]],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder, _ = preview
    page = browser.new_page(viewport={"width": 900, "height": 620})
    page.goto((folder / "index.html").as_uri())
    page.evaluate("document.querySelector('.dg-controls').hidden = true")  # it is sticky
    article = page.query_selector(
        'article.dg-card[data-card-id="occlusion-trigger-points"][data-card-ord="1"]'
    )
    assert article is not None
    target = tmp_path_factory.getbasetemp() / "occlusion-screenshot.png"
    article.screenshot(path=str(target))
    assert target.stat().st_size > 10_000
    if os.environ.get("DECKGEN_UPDATE_SCREENSHOT"):  # refreshes the picture in the docs
        shutil.copyfile(target, REPO / "docs" / "occlusion.png")
    page.close()


def test_a_deck_paints_masks_in_its_own_colours(browser: Browser, tmp_path: Path) -> None:
    deck = tmp_path / "cards" / "io"
    deck.mkdir(parents=True)
    (deck / "deck.yaml").write_text(
        "name: IO\nid: io\nmask_colours: {guess: '#0072b2', other: '#f0e442'}\n"
    )
    (deck / "pic.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300">'
        '<rect width="400" height="300" fill="#ffffff"/></svg>\n'
    )
    (deck / "cards.yaml").write_text(
        "cards:\n  - id: photo\n    type: occlusion\n    image: pic.svg\n    mode: hide-all\n"
        "    masks:\n      - rect: {left: 0.1, top: 0.1, width: 0.3, height: 0.3}\n"
        "      - rect: {left: 0.6, top: 0.6, width: 0.3, height: 0.3}\n"
    )
    report = Report()
    compiled = compile_project(
        tmp_path / "cards", now=FIRST_BUILD_TIME, report=report, packages_dir=tmp_path / "decks"
    )
    assert not report.error_count
    write_preview(compiled, tmp_path / "preview")
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto((tmp_path / "preview" / "index.html").as_uri())
    article = page.query_selector('article.dg-card[data-card-ord="0"]')
    assert article is not None
    front = article.evaluate(_FRONT_JS)
    side = article.query_selector(".dg-front .card")
    assert side is not None
    shot = Image.open(io.BytesIO(side.screenshot())).convert("RGB")
    image, origin = front["image"], front["side"]

    def colour_at(x: float, y: float) -> tuple[int, int, int]:
        """The pixel at a point of the picture given in fractions."""
        page_x = image[0] + x * (image[2] - image[0])
        page_y = image[1] + y * (image[3] - image[1])
        pixel: tuple[int, int, int] = shot.getpixel(
            (int(page_x - origin[0]), int(page_y - origin[1]))
        )
        return pixel

    assert near(colour_at(0.25, 0.25), (0x00, 0x72, 0xB2))  # the card's own mask
    assert near(colour_at(0.75, 0.75), (0xF0, 0xE4, 0x42))  # the other, hidden too
    assert near(colour_at(0.5, 0.5), (0xFF, 0xFF, 0xFF))  # the picture between them
    page.close()
