"""Anki's image occlusion, natively: the notetype's templates and the Occlusion field's text.

Anki (23.10+, AnkiDroid 2.17+) treats a cloze notetype as its built-in Image Occlusion when
its JSON carries ``originalStockKind: 6`` and its fields are tagged 0-4 (Occlusion, Image,
Header, Back Extra, Comments); it finds the fields by tag. Named exactly "Image Occlusion" a
package's copy would arrive as "Image Occlusion+", so deckgen's has a name of its own (measured
with Anki's engine: ../shared/ANKI.md). The templates are Anki's stock ones, as its engine
writes them; the CSS adds deckgen's source line and colour-blind-safe mask colours.
"""

from __future__ import annotations

import re

from deckgen.bodymap.occlusion import Mask, MaskColours, MaskGroup
from deckgen.cards.cloze import MAX_CLOZE_NUMBER, card_number

ORIGINAL_STOCK_KIND = 6
"""``OriginalStockKind.ImageOcclusion`` in Anki's notetype protobuf."""
FIELDS = ("Occlusion", "Image", "Header", "Back Extra", "Comments")
"""Anki finds each by its tag, the field's index here."""

FRONT_TEMPLATE = """\
{{#Header}}<div>{{Header}}</div>{{/Header}}
<div style="display: none">{{cloze:Occlusion}}</div>
<div id="err"></div>
<div id="image-occlusion-container">
    {{Image}}
    <canvas id="image-occlusion-canvas"></canvas>
</div>
<script>
try {
    anki.imageOcclusion.setup();
} catch (exc) {
    document.getElementById("err").innerHTML = `Error loading image occlusion. Is your Anki \
version up to date?<br><br>${exc}`;
}
</script>
"""
BACK_TEMPLATE = (
    FRONT_TEMPLATE
    + """
<div><button id="toggle">Toggle Masks</button></div>
{{#Back Extra}}<div>{{Back Extra}}</div>{{/Back Extra}}
"""
)

CSS_VARIABLES = """\
#image-occlusion-canvas {
    --inactive-shape-color: var(--deckgen-mask-other, #56b4e9);
    --active-shape-color: var(--deckgen-mask-guess, #e69f00);
    --inactive-shape-border: 1px #212121;
    --active-shape-border: 1px #212121;
    --highlight-shape-color: #e69f0000;
    --highlight-shape-border: 2px #d55e00;
}
"""
"""Anki's stock variables with Okabe and Ito's orange (the mask to guess) and sky blue (the
others), which stay apart for every common colour-vision deficiency; Anki's own red and yellow
do not. A deck's ``mask_colours`` set ``--deckgen-mask-guess`` / ``--deckgen-mask-other``
(``with_deck_colours``)."""


def with_deck_colours(header: str, colours: MaskColours) -> str:
    """The Header field led by a deck's mask colours: the notetype (and its CSS) is shared by
    every deck, so a deck's own colours travel in its notes. Header, as the one field the
    template always shows above the picture."""
    rules = "".join(
        f"--deckgen-mask-{name}:{colour};"
        for name, colour in (("guess", colours.guess), ("other", colours.other))
        if colour is not None
    )
    return f"<style>#image-occlusion-canvas{{{rules}}}</style>{header}" if rules else header


_VALUE_ESCAPE = re.compile(r"([:\\])")
_SHAPE = re.compile(
    r"\{\{c(\d+)::image-occlusion:(rect|ellipse|polygon)((?::(?:\\.|[^:}\\])*)*)\}\}"
)
_PROPERTY = re.compile(r":((?:\\.|[^:\\])*)")


def _number(value: float) -> str:
    """A fraction as Anki's mask editor writes one: at most four decimals, no trailing zeros."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _escape(value: str) -> str:
    """``:`` separates a shape's properties and ``\\`` escapes; a value holding them is
    escaped (deckgen writes only numbers, but the rule is Anki's, not the numbers')."""
    return _VALUE_ESCAPE.sub(r"\\\1", value)


def _properties(mask: Mask) -> list[tuple[str, str]]:
    place = [("left", _number(mask.left)), ("top", _number(mask.top))]
    if mask.shape == "rect":
        return [*place, ("width", _number(mask.width)), ("height", _number(mask.height))]
    if mask.shape == "ellipse":
        return [*place, ("rx", _number(mask.rx)), ("ry", _number(mask.ry))]
    points = " ".join(f"{_number(x)},{_number(y)}" for x, y in mask.points)
    return [*place, ("points", points)]


KEY_PROPERTY = "deckgen"
"""A shape property naming what its card hides. Anki keeps properties it does not know in the
field and leaves them out of the reviewer's HTML; deckgen reads them back from the last
shipped package to keep each label's card number."""


def occlusion_field(groups: tuple[MaskGroup, ...], *, hide_all: bool) -> str:
    """The Occlusion field: each group's shapes under one cloze number, in order, each shape
    followed by ``<br>`` as Anki's mask editor writes them."""
    out = []
    for number, group in enumerate(groups, start=1):
        for mask in group.masks:
            properties = _properties(mask) + ([("oi", "1")] if hide_all else [])
            if group.key is not None:
                properties.append((KEY_PROPERTY, group.key))
            text = "".join(f":{key}={_escape(value)}" for key, value in properties)
            out.append(f"{{{{c{number}::image-occlusion:{mask.shape}{text}}}}}<br>")
    return "".join(out)


def _values(properties: str) -> dict[str, str]:
    values = {}
    for prop in _PROPERTY.findall(properties):
        key, _, value = prop.partition("=")
        values[key] = re.sub(r"\\(.)", r"\1", value)
    return values


def card_keys(text: str) -> dict[int, str]:
    """What each card of an Occlusion field hides (``MaskGroup.key``), by cloze number."""
    keys = {}
    for match in _SHAPE.finditer(text):
        key = _values(match.group(3)).get(KEY_PROPERTY)
        # A package is untrusted: a number Anki makes no card for is no card's.
        number = card_number(match.group(1))
        if key is not None and number is not None:
            keys[number] = key
    return keys


def keep_card_numbers(text: str, shipped: str) -> str:
    """``text`` with each card numbered as in ``shipped`` (the same note's Occlusion field as
    last shipped) when it hides the same label, and new labels numbered after every number
    shipped: Anki keeps a card's history by its number, so a label listed in another place,
    or a label added before others, leaves every student's cards where they were."""
    keys = card_keys(text)
    before: dict[str, int] = {}
    for number, key in card_keys(shipped).items():
        before.setdefault(key, number)
    if not keys or not before:
        return text
    renumbered: dict[int, int] = {}
    taken: set[int] = set()
    for number, key in sorted(keys.items()):
        kept = before.get(key)
        if kept is not None and kept not in taken:
            renumbered[number] = kept
            taken.add(kept)
    next_number = max([*before.values(), *taken]) + 1
    for number in sorted(keys):
        if number not in renumbered:
            if next_number > MAX_CLOZE_NUMBER:
                return text  # no numbers left: as written, rather than cards Anki never makes
            renumbered[number] = next_number
            next_number += 1

    def replace(match: re.Match[str]) -> str:
        number = card_number(match.group(1))
        new = renumbered.get(number, number) if number is not None else match.group(1)
        return f"{{{{c{new}::image-occlusion:{match.group(2)}{match.group(3)}}}}}"

    return _SHAPE.sub(replace, text)


def read_occlusion_field(text: str) -> dict[int, list[Mask]]:
    """The masks of an Occlusion field by cloze number (the reverse of ``occlusion_field``),
    for lint and the preview; shapes deckgen does not write are left out."""
    groups: dict[int, list[Mask]] = {}
    for match in _SHAPE.finditer(text):
        values = _values(match.group(3))
        try:
            mask = _mask(match.group(2), values)
        except (KeyError, ValueError):
            continue
        groups.setdefault(int(match.group(1)), []).append(mask)
    return groups


def _mask(shape: str, values: dict[str, str]) -> Mask:
    left, top = float(values["left"]), float(values["top"])
    if shape == "rect":
        return Mask(shape, left, top, float(values["width"]), float(values["height"]))
    if shape == "ellipse":
        return Mask(shape, left, top, rx=float(values["rx"]), ry=float(values["ry"]))
    points = tuple(
        (float(x), float(y)) for x, y in (pair.split(",") for pair in values["points"].split())
    )
    return Mask(shape, left, top, points=points)


def hides_all(text: str) -> bool:
    """Whether the field's masks are "hide all, guess one"."""
    return ":oi=1" in text
