"""Image occlusion in the preview: the masks Anki's reviewer paints, drawn as static SVG.

Anki's reviewer reads the hidden ``<div class="cloze" data-shape=...>`` elements of a card and
paints them on a canvas over the picture with a script (ts/routes/image-occlusion/review.ts).
The preview page runs no card scripts, so the same elements are drawn here as an SVG laid
over the picture, in the same order and colours: the card's own masks (``cloze``), the others
when the card hides all (``cloze-inactive`` with ``oi=1``), and the revealed masks' outlines
on the back (``cloze-highlight``).
"""

from __future__ import annotations

import html
import re

_SETUP_SCRIPT = re.compile(
    r"<script>\s*try \{\s*anki\.imageOcclusion\.setup\(\);.*?</script>", re.DOTALL
)
_CANVAS = '<canvas id="image-occlusion-canvas"></canvas>'
_SHAPE = re.compile(
    r'<div class="(cloze|cloze-inactive|cloze-highlight)" data-ordinal="\d+" ([^>]*)>'
)
_DATA = re.compile(r'data-([A-Za-z]+)="([^"]*)"')
_PAINT = {
    "cloze": 'fill="var(--active-shape-color)" stroke="#212121"',
    "cloze-inactive": 'fill="var(--inactive-shape-color)" stroke="#212121"',
    "cloze-highlight": 'fill="none" stroke="#d55e00" stroke-width="2"',
}

OVERLAY_CSS = """\
#image-occlusion-container { position: relative; display: inline-block; max-width: 100%; }
#image-occlusion-container img { display: block; max-width: 100%; height: auto; }
#image-occlusion-container .dg-io-masks { position: absolute; left: 0; top: 0;
  width: 100%; height: 100%; }
"""

TOGGLE_SCRIPT = """\
for (const card of document.querySelectorAll(".card")) {
  const masks = card.querySelector(".dg-io-masks");
  const toggle = card.querySelector("#toggle");
  if (!masks || !toggle) continue;
  if (card.querySelector('[data-occludeinactive="1"]')) {
    toggle.addEventListener("click", () => { masks.hidden = !masks.hidden; });
  } else {
    toggle.hidden = true;
  }
}
"""


def occlusion_overlay(card_html: str) -> str:
    """An image occlusion card's HTML with its masks drawn over the picture and Anki's
    setup script (which needs Anki's reviewer) left out; other cards are returned as they are."""
    if _CANVAS not in card_html:
        return card_html
    shapes = [(kind, dict(_DATA.findall(data))) for kind, data in _SHAPE.findall(card_html)]
    drawn = []
    for wanted in ("cloze", "cloze-inactive", "cloze-highlight"):  # the reviewer's order
        for kind, data in shapes:
            if kind != wanted or (kind == "cloze-inactive" and data.get("occludeInactive") != "1"):
                continue
            element = _svg_shape(data)
            if element:
                drawn.append(element.replace("/>", f" {_PAINT[kind]}/>", 1))
    overlay = (
        '<svg id="image-occlusion-canvas" class="dg-io-masks" viewBox="0 0 1 1" '
        'preserveAspectRatio="none" aria-hidden="true">' + "".join(drawn) + "</svg>"
    )
    return _SETUP_SCRIPT.sub("", card_html.replace(_CANVAS, overlay))


def _svg_shape(data: dict[str, str]) -> str | None:
    """One mask in the overlay's unit square (fractions of the picture, as Anki stores them)."""
    try:
        left, top = float(data.get("left", "0")), float(data.get("top", "0"))
        shape = data.get("shape")
        if shape == "rect":
            width, height = float(data["width"]), float(data["height"])
            return _element("rect", x=left, y=top, width=width, height=height)
        if shape == "ellipse":
            rx, ry = float(data["rx"]), float(data["ry"])
            return _element("ellipse", cx=left + rx, cy=top + ry, rx=rx, ry=ry)
        if shape == "polygon":
            points = [tuple(map(float, pair.split(","))) for pair in data["points"].split()]
            # Anki draws a polygon moved so that its top-left corner sits at left, top.
            dx = left - min(x for x, _ in points)
            dy = top - min(y for _, y in points)
            text = " ".join(f"{x + dx:.4f},{y + dy:.4f}" for x, y in points)
            return f'<polygon points="{html.escape(text)}" vector-effect="non-scaling-stroke"/>'
    except (KeyError, ValueError):
        return None
    return None


def _element(name: str, **numbers: float) -> str:
    attributes = " ".join(f'{key}="{value:.4f}"' for key, value in numbers.items())
    return f'<{name} {attributes} vector-effect="non-scaling-stroke"/>'
