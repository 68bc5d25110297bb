"""Image occlusion: a card's ``hide:`` or ``masks:`` checked, and the masks' geometry.

On a body map the author names what to hide (landmarks, trigger points, muscles, labelled
zones) and the masks come from the same laid-out geometry the picture was drawn with
(``bodymap_draw.Drawing``), so a mask can never drift off its label. On an author's own image
the masks are given as fractions of the image. Each group of masks becomes one card; groups are
numbered: on a body map each hidden label keeps its card number across releases
(``anki.occlusion.keep_card_numbers``); on an own image in the order written (add new masks
last), as Anki keeps a card's history by its number.
"""

from __future__ import annotations

import math
import re
import struct
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deckgen.bodymap.layout import Box
from deckgen.diagnostics import Location, Report, did_you_mean
from deckgen.source.yamlnodes import Mapping, Node, Scalar, Sequence, describe, report_unknown_keys

if TYPE_CHECKING:  # the body-map modules load on first use, as in cards/validate.py
    from deckgen.bodymap.spec import BodymapSpec, MapSpec

MODES = ("hide-one", "hide-all")
"""hide-one: only the card's own masks cover the picture; hide-all: every mask covers it and
the card's own ones are the ones to guess (Anki's "hide all, guess one", ``oi=1``)."""
HIDE_KINDS = {
    "landmarks": "landmark",
    "trigger_points": "trigger point",
    "muscles": "muscle",
    "zones": "zone",
}
SHAPES = ("rect", "ellipse", "polygon")
PHONE_WIDTH = 360
"""CSS pixels across a small phone: the width the picture is judged at for tapping."""
FINGERTIP = 44
"""CSS pixels: the smallest target a finger hits reliably (Apple's and Google's guidance)."""
_LEGEND_SWATCH = 30
"""The legend's swatch sits this far left of its text (``bodymap_draw._legend``)."""
_SHAPE_KEYS = {"rect": ("left", "top", "width", "height"), "ellipse": ("left", "top", "rx", "ry")}
_MAX_POLYGON_POINTS = 200


@dataclass(frozen=True)
class Mask:
    """One shape covering part of the picture; every number is a fraction of the image's
    width (x) or height (y), as Anki stores it."""

    shape: str
    """'rect', 'ellipse' or 'polygon'."""
    left: float
    top: float
    width: float = 0.0
    """rect only."""
    height: float = 0.0
    """rect only."""
    rx: float = 0.0
    """ellipse only: half its width."""
    ry: float = 0.0
    """ellipse only: half its height."""
    points: tuple[tuple[float, float], ...] = ()
    """polygon only."""

    def bounds(self) -> tuple[float, float, float, float]:
        """The box around the mask: left, top, right, bottom."""
        if self.shape == "rect":
            return (self.left, self.top, self.left + self.width, self.top + self.height)
        if self.shape == "ellipse":
            return (self.left, self.top, self.left + 2 * self.rx, self.top + 2 * self.ry)
        xs = [x for x, _ in self.points]
        ys = [y for _, y in self.points]
        return (min(xs), min(ys), max(xs), max(ys))


@dataclass(frozen=True)
class MaskGroup:
    """The masks of one card: hidden together, guessed together."""

    what: str
    """What they hide, for messages and the preview (e.g. 'landmark PSIS')."""
    masks: tuple[Mask, ...]
    location: Location
    key: str | None = None
    """What they hide, stable across releases (``landmarks.psis``): the card keeps its number,
    and so its history, wherever the label moves in the lists. None for masks on an
    author's image, which are numbered in the order written."""


@dataclass(frozen=True)
class HideGroup:
    """Labels of one kind hidden on one card, as named in ``hide:``."""

    kind: str
    """A key of ``HIDE_KINDS``."""
    names: tuple[str, ...]
    location: Location

    @property
    def key(self) -> str:
        """What the card hides, whatever the order it is listed in. A trigger point's label
        is the author's text: percent-encoded, so nothing in it can end the cloze (``}}``),
        split its properties (``:``) or become markup."""
        names = "+".join(urllib.parse.quote(name, safe="-._") for name in sorted(self.names))
        return f"{self.kind}.{names}"


@dataclass(frozen=True)
class MaskColours:
    """A deck's own mask colours (``mask_colours:`` in deck.yaml), as ``#rrggbb``."""

    guess: str | None = None
    """The masks a card asks about."""
    other: str | None = None
    """The other masks, shown with ``mode: hide-all``."""


_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


def parse_mask_colours(node: Node, report: Report) -> MaskColours | None:
    """A deck.yaml's ``mask_colours: {guess: '#rrggbb', other: '#rrggbb'}``."""
    if not isinstance(node, Mapping):
        report.error(
            node.location,
            "'mask_colours' must be a mapping like {guess: '#0072b2', other: '#f0e442'}, "
            f"not {describe(node)}",
        )
        return None
    report_unknown_keys(node, {"guess", "other"}, "'mask_colours'", report)
    colours: dict[str, str] = {}
    for key in ("guess", "other"):
        value = node.get(key)
        if value is None:
            continue
        if isinstance(value, Scalar) and _COLOUR.fullmatch(value.text):
            colours[key] = value.text.lower()
        else:
            report.error(
                value.location,
                f"'{key}' must be a colour written #rrggbb in quotes (YAML reads # as a "
                f"comment), e.g. {key}: '#0072b2', not {describe(value)}",
            )
            return None
    return MaskColours(**colours)


@dataclass(frozen=True)
class OcclusionSpec:
    """A checked occlusion card's masks: named labels of its body map, or shapes."""

    hide: tuple[HideGroup, ...]
    """Body map only."""
    masks: tuple[MaskGroup, ...]
    """Own image only."""
    hide_all: bool
    location: Location


def parse_occlusion(
    mapping: Mapping, *, bodymap: BodymapSpec | None, has_image: bool, report: Report
) -> OcclusionSpec | None:
    """Check the occlusion keys of a card (``hide`` on a body map, ``masks`` on an image,
    ``mode``); None when they are wrong (reported)."""
    errors_before = report.error_count
    mode = _mode(mapping, report)
    hide_node, masks_node = mapping.get("hide"), mapping.get("masks")
    hide: tuple[HideGroup, ...] = ()
    masks: tuple[MaskGroup, ...] = ()
    if bodymap is not None:
        if masks_node is not None:
            report.error(
                masks_node.location,
                "'masks' are for your own image; on a body map name what to hide with "
                "'hide:' (e.g. hide: {landmarks: all})",
            )
        if hide_node is None:
            report.error(
                mapping.location,
                "an occlusion card on a body map needs 'hide:', e.g. hide: {landmarks: all}",
            )
        else:
            hide = _hide(hide_node, bodymap, report)
    elif has_image:
        if hide_node is not None:
            report.error(
                hide_node.location,
                "'hide' names labels of a body map; on your own image give 'masks:' as "
                "fractions of the image",
            )
        if masks_node is None:
            report.error(
                mapping.location,
                "an occlusion card on an image needs 'masks:', e.g. "
                "masks: [{rect: {left: 0.1, top: 0.2, width: 0.3, height: 0.1}}]",
            )
        else:
            masks = _mask_groups(masks_node, report)
    if mode is None or report.error_count > errors_before:
        return None
    return OcclusionSpec(hide, masks, mode == "hide-all", mapping.location)


def _mode(mapping: Mapping, report: Report) -> str | None:
    node = mapping.get("mode")
    if node is None:
        return "hide-one"
    if isinstance(node, Scalar) and node.text in MODES:
        return node.text
    text = node.text if isinstance(node, Scalar) else ""
    report.error(
        node.location,
        f"'mode' must be {' or '.join(MODES)}, not {describe(node)}{did_you_mean(text, MODES)}",
    )
    return None


# --- hide: labels of a body map -------------------------------------------------------------


def drawn_names(bodymap: BodymapSpec, kind: str) -> list[str]:
    """What the map draws of one kind of ``hide:``, in the map's order, each once."""
    names: dict[str, None] = {}
    for panel in bodymap.panels:
        names.update(dict.fromkeys(_panel_names(panel, kind)))
    return list(names)


def _panel_names(panel: MapSpec, kind: str) -> Iterable[str]:
    if kind == "landmarks":
        return panel.landmarks
    if kind == "trigger_points":
        return (tp.label for tp in panel.shown_points)
    if kind == "muscles":
        return panel.muscles
    return (*panel.essential, *panel.spillover) if panel.label_regions else ()


def _hide(node: Node, bodymap: BodymapSpec, report: Report) -> tuple[HideGroup, ...]:
    if not isinstance(node, Mapping):
        report.error(
            node.location,
            f"'hide' must be a mapping like {{landmarks: [psis, asis]}}, not {describe(node)}",
        )
        return ()
    errors_before = report.error_count
    report_unknown_keys(node, set(HIDE_KINDS), "'hide'", report)
    groups: list[HideGroup] = []
    for key_node in node.key_nodes():
        kind = key_node.text
        value = node.get(kind)
        if kind not in HIDE_KINDS or value is None:
            continue
        drawn = drawn_names(bodymap, kind)
        if isinstance(value, Scalar) and value.text == "all":
            if not drawn:
                report.error(value.location, _nothing_drawn(kind))
            groups.extend(HideGroup(kind, (name,), value.location) for name in drawn)
            continue
        if not isinstance(value, Sequence) or not value.items:
            report.error(
                value.location,
                f"'{kind}' must be 'all' or a non-empty list of names (a list inside it hides "
                f"several on one card), not {describe(value)}",
            )
            continue
        for item in value.items:
            members = item.items if isinstance(item, Sequence) else [item]
            if not members:
                report.error(item.location, "an empty group hides nothing: name what to hide")
                continue
            names = [_drawn_name(member, kind, drawn, report) for member in members]
            if all(name is not None for name in names):
                groups.append(HideGroup(kind, tuple(n for n in names if n), item.location))
    seen: dict[tuple[str, str], Location] = {}
    for group in groups:
        for name in group.names:
            if (group.kind, name) in seen:
                report.error(
                    group.location,
                    f"{HIDE_KINDS[group.kind]} '{name}' is already hidden at "
                    f"{seen[(group.kind, name)]}: hide each label once",
                )
            seen.setdefault((group.kind, name), group.location)
    if not groups and report.error_count == errors_before:
        report.error(node.location, "'hide' hides nothing: name at least one label")
    return tuple(groups)


def _nothing_drawn(kind: str) -> str:
    if kind == "zones":
        return "the map names no zones: add 'label_regions: true' to hide zone names"
    return f"the map draws no {kind.replace('_', ' ')}"


def _drawn_name(node: Node, kind: str, drawn: list[str], report: Report) -> str | None:
    if not isinstance(node, Scalar):
        report.error(node.location, f"a name to hide must be text, not {describe(node)}")
        return None
    if node.text in drawn:
        return node.text
    what = HIDE_KINDS[kind]
    shown = ", ".join(drawn) if drawn else "none"
    hint = (
        "; zones are named only with 'label_regions: true'" if kind == "zones" and not drawn else ""
    )
    report.error(
        node.location,
        f"unknown {what} '{node.text}' on this map{did_you_mean(node.text, drawn)}; the map "
        f"draws: {shown}{hint}",
    )
    return None


def describe_hidden(group: HideGroup) -> str:
    from deckgen.bodymap.atlas import LANDMARKS
    from deckgen.bodymap.muscles import MUSCLES

    what = HIDE_KINDS[group.kind]
    labels = [LANDMARKS[n].label if group.kind == "landmarks" else n for n in group.names]
    labels = [MUSCLES[n].label if group.kind == "muscles" else n for n in labels]
    return f"{what} {', '.join(labels)}"


# --- masks: shapes on an author's image -----------------------------------------------------


def _mask_groups(node: Node, report: Report) -> tuple[MaskGroup, ...]:
    if not isinstance(node, Sequence) or not node.items:
        report.error(
            node.location,
            "'masks' must be a non-empty list of shapes (rect, ellipse, polygon) or "
            f"groups, not {describe(node)}",
        )
        return ()
    groups = []
    for number, item in enumerate(node.items, start=1):
        if isinstance(item, Mapping) and item.get("group") is not None:
            report_unknown_keys(item, {"group"}, "a mask group", report)
            members = item.get("group")
            if not isinstance(members, Sequence) or not members.items:
                assert members is not None
                report.error(
                    members.location,
                    "an empty group hides nothing: list its shapes, e.g. "
                    "group: [{rect: {...}}, {ellipse: {...}}]",
                )
                continue
            shapes = [_mask(member, report) for member in members.items]
        else:
            shapes = [_mask(item, report)]
        if all(shape is not None for shape in shapes):
            groups.append(MaskGroup(f"mask {number}", tuple(s for s in shapes if s), item.location))
    return tuple(groups)


def _mask(node: Node, report: Report) -> Mask | None:
    if not isinstance(node, Mapping) or len(node.entries) != 1:
        report.error(
            node.location,
            "a mask is one shape: {rect: {left, top, width, height}}, {ellipse: {left, top, "
            f"rx, ry}} or {{polygon: [[x, y], ...]}}, not {describe(node)}",
        )
        return None
    (key_node,) = node.key_nodes()
    shape, value = key_node.text, node.get(key_node.text)
    assert value is not None
    if shape not in SHAPES:
        report.error(
            key_node.location,
            f"unknown mask shape '{shape}'{did_you_mean(shape, SHAPES)}; shapes are "
            f"{', '.join(SHAPES)}",
        )
        return None
    if shape == "polygon":
        return _polygon(value, report)
    keys = _SHAPE_KEYS[shape]
    if not isinstance(value, Mapping):
        report.error(
            value.location,
            f"a {shape} is a mapping of {', '.join(keys)}, each a fraction of the image, "
            f"not {describe(value)}",
        )
        return None
    report_unknown_keys(value, set(keys), f"a {shape}", report)
    numbers = {key: _number(value, key, shape, report) for key in keys}
    checked = {key: number for key, number in numbers.items() if number is not None}
    if len(checked) != len(keys):
        return None
    if shape == "rect":
        mask = Mask("rect", checked["left"], checked["top"], checked["width"], checked["height"])
    else:
        mask = Mask("ellipse", checked["left"], checked["top"], rx=checked["rx"], ry=checked["ry"])
    return mask if _on_image(mask, value.location, report) else None


def _number(mapping: Mapping, key: str, shape: str, report: Report) -> float | None:
    node = mapping.get(key)
    if node is None:
        report.error(mapping.location, f"a {shape} needs '{key}' (a fraction of the image)")
        return None
    value = _fraction(node)
    if value is None:
        report.error(
            node.location,
            f"'{key}' must be a number from 0 to 1 (a fraction of the image), not {describe(node)}",
        )
    return value


def _fraction(node: Node) -> float | None:
    if not isinstance(node, Scalar):
        return None
    try:
        value = float(node.text)
    except ValueError:
        return None
    return value if math.isfinite(value) and 0 <= value <= 1 else None


def _polygon(node: Node, report: Report) -> Mask | None:
    points = []
    if isinstance(node, Sequence) and 3 <= len(node.items) <= _MAX_POLYGON_POINTS:
        for item in node.items:
            pair = item.items if isinstance(item, Sequence) else []
            xy = [_fraction(value) for value in pair]
            if len(xy) != 2 or xy[0] is None or xy[1] is None:
                report.error(
                    item.location,
                    f"a polygon point is [x, y], each from 0 to 1, not {describe(item)}",
                )
                return None
            points.append((xy[0], xy[1]))
    else:
        report.error(
            node.location,
            f"a polygon is a list of 3 to {_MAX_POLYGON_POINTS} points [x, y] (fractions of "
            f"the image), not {describe(node)}",
        )
        return None
    xs, ys = [x for x, _ in points], [y for _, y in points]
    mask = Mask("polygon", min(xs), min(ys), points=tuple(points))
    twice_area = sum(
        x0 * y1 - x1 * y0
        for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True)
    )
    if abs(twice_area) < 1e-9:
        report.error(node.location, "the polygon has no area: its points lie on one line")
        return None
    return mask


def _on_image(mask: Mask, location: Location, report: Report) -> bool:
    left, top, right, bottom = mask.bounds()
    if right <= left or bottom <= top:
        report.error(location, f"the {mask.shape} has no area: give it a width and a height")
        return False
    if right > 1 or bottom > 1:
        report.error(
            location,
            f"the {mask.shape} runs off the image (it reaches {max(right, bottom):.4g} of the "
            "image; 1 is the right or bottom edge): move or shrink it",
        )
        return False
    return True


# --- geometry: masks over what a body map drew ----------------------------------------------


def bodymap_mask_groups(
    spec: OcclusionSpec,
    bodymap: BodymapSpec,
    *,
    width: float,
    height: float,
    shapes: Iterable[tuple[str, str, Box]],
    muscles: Iterable[tuple[str, tuple[tuple[float, float], ...]]],
) -> tuple[MaskGroup, ...]:
    """The masks over the labels ``spec.hide`` names, from the drawing's laid-out
    ``shapes`` (kind, owner, box) and ``muscles`` (owner, outline) in picture pixels."""
    boxes: dict[str, list[Box]] = {}
    for kind, owner, box in shapes:
        # A trigger point's cross stays: where it is shows, its name is what is asked.
        if kind in ("label", "legend"):
            boxes.setdefault(owner, []).append(box)
    outlines = dict(muscles)
    min_width = FINGERTIP * max(width, PHONE_WIDTH) / PHONE_WIDTH
    # Every label mask of the card as wide as its widest: a mask as long as its label would
    # tell "greater trochanter" from "PSIS" by its length alone.
    hidden = [
        owner
        for group in spec.hide
        for name in group.names
        for panel in bodymap.panels
        for owner in _owners(group.kind, name, panel)
        if owner in boxes and not owner.startswith("legend-")
    ]
    label_width = max([min_width, *(_union(boxes[o]).x1 - _union(boxes[o]).x0 for o in hidden)])
    groups = []
    for group in spec.hide:
        masks: list[Mask] = []
        for name in group.names:
            for panel in bodymap.panels:  # one: an occlusion map is one picture
                for owner in _owners(group.kind, name, panel):
                    if owner.startswith("muscle-") and owner in outlines:
                        masks.append(_polygon_mask(outlines[owner], width, height))
                    elif owner in boxes:
                        box = _union(boxes[owner])
                        wide = label_width
                        if owner.startswith("legend-"):
                            box = Box(box.x0 - _LEGEND_SWATCH, box.y0, box.x1, box.y1)
                            wide = min_width
                        masks.append(_rect_mask(_widened(box, wide, width), width, height))
        groups.append(MaskGroup(describe_hidden(group), _unique(masks), group.location, group.key))
    return tuple(groups)


def _owners(kind: str, name: str, panel: MapSpec) -> list[str]:
    """The owners (``bodymap_draw``'s names) of what shows ``name`` on one panel."""
    from deckgen.bodymap.muscles import MUSCLES

    if kind == "landmarks" and name in panel.landmarks:
        return [f"landmark-{name}"]
    if kind == "trigger_points":
        return [f"trigger-point-{i}" for i, tp in enumerate(panel.shown_points) if tp.label == name]
    if kind == "muscles" and name in panel.muscles:
        # The legend names the muscle too; hidden with it, or it would give the answer away.
        return [f"muscle-{name}", f"legend-{MUSCLES[name].label}"]
    if kind == "zones" and panel.label_regions and name in (*panel.essential, *panel.spillover):
        return [f"region-name-{name}"]
    return []


def _unique(masks: list[Mask]) -> tuple[Mask, ...]:
    """A legend shared by two panels is masked once."""
    return tuple(dict.fromkeys(masks))


def _union(boxes: list[Box]) -> Box:
    return Box(
        min(b.x0 for b in boxes),
        min(b.y0 for b in boxes),
        max(b.x1 for b in boxes),
        max(b.y1 for b in boxes),
    )


def _widened(box: Box, min_width: float, limit: float) -> Box:
    """A label's box made at least a fingertip wide (on a phone), about its middle and kept
    on the picture: labels are short and stacked, so width is where the room is."""
    if box.x1 - box.x0 >= min_width:
        return box
    middle = (box.x0 + box.x1) / 2
    x0 = min(max(middle - min_width / 2, 0.0), max(limit - min_width, 0.0))
    return Box(x0, box.y0, min(x0 + min_width, limit), box.y1)


def _floor(value: float) -> float:
    return max(math.floor(value * 10_000) / 10_000, 0.0)


def _ceil(value: float) -> float:
    return min(math.ceil(value * 10_000) / 10_000, 1.0)


def _rect_mask(box: Box, width: float, height: float) -> Mask:
    """A rectangle over ``box`` (picture pixels), rounded outwards to Anki's four decimals
    so it still covers all of it."""
    left, top = _floor(box.x0 / width), _floor(box.y0 / height)
    right, bottom = _ceil(box.x1 / width), _ceil(box.y1 / height)
    return Mask("rect", left, top, round(right - left, 4), round(bottom - top, 4))


def _polygon_mask(outline: tuple[tuple[float, float], ...], width: float, height: float) -> Mask:
    points = tuple(
        (round(min(max(x / width, 0.0), 1.0), 4), round(min(max(y / height, 0.0), 1.0), 4))
        for x, y in outline
    )
    return Mask("polygon", min(x for x, _ in points), min(y for _, y in points), points=points)


def css_size(mask: Mask, *, image_width: float, image_height: float) -> tuple[float, float]:
    """The mask's width and height in CSS pixels when the picture is shown on a phone
    ``PHONE_WIDTH`` wide (a narrower picture is shown at its own size)."""
    shown_width = min(image_width, PHONE_WIDTH)
    shown_height = image_height * shown_width / image_width
    left, top, right, bottom = mask.bounds()
    return ((right - left) * shown_width, (bottom - top) * shown_height)


_SVG_SIZE = re.compile(
    rb"<svg\b[^>]*?\swidth=\"([\d.]+)(?:px)?\"[^>]*?\sheight=\"([\d.]+)(?:px)?\""
)


def image_size(data: bytes) -> tuple[float, float] | None:
    """The width and height in CSS pixels of a PNG, GIF or SVG (with width and height in
    pixels); None for other images, which the tap-size check then leaves alone."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
    elif data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
    elif match := _SVG_SIZE.search(data[:4096]):
        width, height = float(match.group(1)), float(match.group(2))
    else:
        return None
    return (float(width), float(height)) if width > 0 and height > 0 else None
