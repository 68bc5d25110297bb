"""Body maps: a card's ``bodymap:`` data, checked, and drawn as a trigger-point chart (SVG).

A referral card is written as data (regions, trigger points, landmarks) and its picture is
drawn from that data at build time, so the two can never drift apart. The same data always
gives the same bytes.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from deckgen.bodymap_atlas import (
    FRAME_HEIGHT,
    FRAME_WIDTH,
    LANDMARKS,
    REGIONS,
    VIEWS,
    Point,
    centroid,
    landmark_point,
    on_side,
    region_shape,
    view_details,
    view_outline,
)
from deckgen.diagnostics import Location, Report, did_you_mean
from deckgen.yamlsource import Mapping, Node, Scalar, Sequence, describe, report_unknown_keys

SIDES = ("right", "left")

_KEYS = {"view", "side", "field", "essential", "spillover", "trigger_points", "landmarks", "title"}
_TRIGGER_POINT_KEYS = {"label", "at"}

# Drawing constants. The frame sits between two label margins, under an optional title.
_MARGIN = 60
WIDTH = FRAME_WIDTH + 2 * _MARGIN
_TITLE_HEIGHT = 34
_LEGEND_HEIGHT = 78
_FONT = "Helvetica, Arial, sans-serif"
_INK = "#2b2b2b"
_SKIN = "#f5e6da"
_OUTLINE = "#5b4a42"
_DETAIL = "#9c8576"
_ESSENTIAL = "#c62828"
_SPILLOVER_DOT = "#c62828"
_SPILLOVER_BACKGROUND = "#fbd3c4"
_LANDMARK = "#1f4e79"
_LABEL_SIZE = 15
_LABEL_GAP = 19


def label_width(text: str) -> float:
    """A generous estimate of a label's width: the font is the reader's, so it is not known."""
    return len(text) * _LABEL_SIZE * 0.56


@dataclass(frozen=True)
class TriggerPoint:
    label: str
    at: Point
    """Where the mark goes, in the right-side frame (mirrored for the left side)."""


@dataclass(frozen=True)
class BodymapSpec:
    """A checked ``bodymap:``."""

    view: str
    side: str
    field: str
    """The card field (as the author names it) the picture is added to."""
    essential: tuple[str, ...]
    spillover: tuple[str, ...]
    trigger_points: tuple[TriggerPoint, ...]
    landmarks: tuple[str, ...]
    title: str | None
    location: Location

    def alt_text(self) -> str:
        """What the picture shows, for screen readers and for when it cannot be shown."""

        def names(regions: Iterable[str]) -> str:
            return ", ".join(name.replace("-", " ") for name in regions)

        parts = [f"Body map, {self.view} view, {self.side} side."]
        if self.essential:
            parts.append(f"Essential pain zone: {names(self.essential)}.")
        if self.spillover:
            parts.append(f"Spillover zone: {names(self.spillover)}.")
        if self.trigger_points:
            parts.append(f"Trigger points: {', '.join(tp.label for tp in self.trigger_points)}.")
        return " ".join(parts)


def parse_bodymap(
    node: Node, *, fields: tuple[str, ...], default_field: str, report: Report
) -> BodymapSpec | None:
    """Check a card's ``bodymap:`` node; ``fields`` are the fields the picture may go in."""
    if not isinstance(node, Mapping):
        report.error(node.location, f"'bodymap' must be a mapping of keys, not {describe(node)}")
        return None
    errors_before = report.error_count
    report_unknown_keys(node, _KEYS, "a bodymap", report)
    view = _choice(node, "view", tuple(VIEWS), None, report)
    side = _choice(node, "side", SIDES, "right", report)
    field = _choice(node, "field", fields, default_field, report)
    essential = _names(node, "essential", REGIONS, "region", report)
    spillover = _names(node, "spillover", REGIONS, "region", report)
    landmarks = _names(node, "landmarks", LANDMARKS, "landmark", report)
    title_node = node.get("title")
    title = _text(title_node, "title", report) if title_node is not None else None
    points = _trigger_points(node.get("trigger_points"), report)
    if not essential and not spillover and not points:
        report.error(
            node.location,
            "a bodymap needs at least one essential or spillover region or trigger point",
        )
    if view is None or side is None or field is None or report.error_count > errors_before:
        return None
    for name, location in essential + spillover:
        if view not in REGIONS[name].shapes:
            report.error(location, _not_in_view("region", name, REGIONS[name].shapes, view))
    for name, location in landmarks:
        if view not in LANDMARKS[name].points:
            report.error(location, _not_in_view("landmark", name, LANDMARKS[name].points, view))
    both = {name for name, _ in essential} & {name for name, _ in spillover}
    for name, location in spillover:
        if name in both:
            report.error(location, f"region '{name}' is both essential and spillover: pick one")
    resolved_points = []
    for label, at, location in points:
        position = _position(at, view, location, report)
        if position is not None:
            resolved_points.append(TriggerPoint(label, position))
    if report.error_count > errors_before:
        return None
    return BodymapSpec(
        view=view,
        side=side,
        field=field,
        essential=tuple(name for name, _ in essential),
        spillover=tuple(name for name, _ in spillover),
        trigger_points=tuple(resolved_points),
        landmarks=tuple(name for name, _ in landmarks),
        title=title,
        location=node.location,
    )


def _not_in_view(kind: str, name: str, views: Iterable[str], view: str) -> str:
    return (
        f"{kind} '{name}' is not drawn in the {view} view; it is drawn in: "
        f"{', '.join(sorted(views))}"
    )


def _text(node: Node, key: str, report: Report) -> str | None:
    if isinstance(node, Scalar) and node.text.strip():
        return node.text.strip()
    report.error(node.location, f"'{key}' must be non-empty text, not {describe(node)}")
    return None


def _choice(
    mapping: Mapping, key: str, choices: tuple[str, ...], default: str | None, report: Report
) -> str | None:
    node = mapping.get(key)
    if node is None:
        if default is None:
            report.error(mapping.location, f"a bodymap has no '{key}' ({' or '.join(choices)})")
        return default
    text = _text(node, key, report)
    if text is None:
        return None
    if text not in choices:
        report.error(
            node.location,
            f"bodymap {key} '{text}' is not one of {', '.join(choices)}"
            f"{did_you_mean(text, choices)}",
        )
        return None
    return text


def _names(
    mapping: Mapping, key: str, vocabulary: Collection[str], kind: str, report: Report
) -> list[tuple[str, Location]]:
    node = mapping.get(key)
    if node is None:
        return []
    if not isinstance(node, Sequence):
        report.error(node.location, f"'{key}' must be a list of {kind} names, not {describe(node)}")
        return []
    names = []
    for item in node.items:
        if not isinstance(item, Scalar):
            report.error(item.location, f"a {kind} name must be text, not {describe(item)}")
        elif item.text not in vocabulary:
            report.error(
                item.location,
                f"unknown {kind} '{item.text}'{did_you_mean(item.text, vocabulary)}; "
                f"the {kind}s are listed in the README",
            )
        else:
            names.append((item.text, item.location))
    return names


def _trigger_points(node: Node | None, report: Report) -> list[tuple[str, Node, Location]]:
    if node is None:
        return []
    if not isinstance(node, Sequence):
        report.error(node.location, f"'trigger_points' must be a list, not {describe(node)}")
        return []
    points = []
    for item in node.items:
        if not isinstance(item, Mapping):
            report.error(
                item.location,
                "a trigger point is a mapping like {label: TrP1, at: psis}, "
                f"not {describe(item)}",
            )
            continue
        report_unknown_keys(item, _TRIGGER_POINT_KEYS, "a trigger point", report)
        label_node, at_node = item.get("label"), item.get("at")
        if label_node is None or at_node is None:
            report.error(item.location, "a trigger point needs 'label' and 'at'")
            continue
        label = _text(label_node, "label", report)
        if label is not None:
            points.append((label, at_node, item.location))
    return points


def _position(at: Node, view: str, location: Location, report: Report) -> Point | None:
    """A trigger point's place: a landmark, the middle of a region, or [x, y] in percent."""
    if isinstance(at, Scalar):
        if at.text in LANDMARKS and view in LANDMARKS[at.text].points:
            return LANDMARKS[at.text].points[view]
        if at.text in REGIONS and view in REGIONS[at.text].shapes:
            return centroid(REGIONS[at.text].shapes[view])
        report.error(
            at.location,
            f"trigger point 'at: {at.text}' is not a landmark or region drawn in the {view} "
            f"view{did_you_mean(at.text, [*LANDMARKS, *REGIONS])}; or give [x, y] in percent",
        )
        return None
    if isinstance(at, Sequence) and len(at.items) == 2:
        try:
            x, y = (float(item.text) for item in at.items if isinstance(item, Scalar))
        except ValueError:
            pass
        else:
            if 0 <= x <= 100 and 0 <= y <= 100:
                return (x / 100 * FRAME_WIDTH, y / 100 * FRAME_HEIGHT)
    report.error(
        at.location,
        "trigger point 'at' must be a landmark, a region, or [x, y] with both in 0-100 "
        "(percent of the figure's width and height)",
    )
    return None


# --- drawing -------------------------------------------------------------------------------


def _number(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _smooth_path(points: tuple[Point, ...], *, closed: bool) -> str:
    """A Catmull-Rom curve through ``points`` as SVG cubic Béziers."""
    count = len(points)

    def at(index: int) -> Point:
        if closed:
            return points[index % count]
        return points[min(max(index, 0), count - 1)]

    commands = [f"M{_number(points[0][0])} {_number(points[0][1])}"]
    for i in range(count if closed else count - 1):
        p0, p1, p2, p3 = at(i - 1), at(i), at(i + 1), at(i + 2)
        c1 = (p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6)
        c2 = (p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6)
        commands.append("C" + " ".join(_number(v) for v in (*c1, *c2, *p2)))
    if closed:
        commands.append("Z")
    return "".join(commands)


@dataclass(frozen=True)
class _Label:
    text: str
    anchor: Point
    """The landmark the label's leader line points at (frame coordinates)."""
    y: float
    """The label's text baseline, after stacking."""
    on_left: bool


def landmark_labels(spec: BodymapSpec) -> list[_Label]:
    """Landmark labels in the margins, stacked so that none overlaps another."""
    anchors = [
        (landmark_point(LANDMARKS[name], spec.view, spec.side), LANDMARKS[name].label)
        for name in spec.landmarks
    ]
    labels = []
    for on_left in (True, False):
        margin = [anchor for anchor in anchors if (anchor[0][0] < FRAME_WIDTH / 2) == on_left]
        previous = float("-inf")
        for (x, y), text in sorted(margin, key=lambda item: (item[0][1], item[0][0], item[1])):
            baseline = max(y + 5, previous + _LABEL_GAP)
            labels.append(_Label(text, (x, y), baseline, on_left))
            previous = baseline
    return labels


def render_bodymap(spec: BodymapSpec) -> bytes:
    """The map as a standalone SVG document."""
    top = _TITLE_HEIGHT if spec.title else 10
    height = top + FRAME_HEIGHT + _LEGEND_HEIGHT
    outline = _smooth_path(view_outline(VIEWS[spec.view], spec.side), closed=True)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="{_FONT}">',
        f"<title>{html.escape(spec.alt_text())}</title>",
        "<defs>",
        f'<clipPath id="body"><path d="{outline}"/></clipPath>',
        '<pattern id="stipple" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" fill="{_SPILLOVER_BACKGROUND}"/>'
        f'<circle cx="3" cy="3" r="1.4" fill="{_SPILLOVER_DOT}"/></pattern>',
        "</defs>",
        # An opaque background keeps contrast in Anki's night mode.
        f'<rect width="{WIDTH}" height="{height}" rx="14" fill="#ffffff"/>',
    ]
    if spec.title:
        parts.append(
            f'<text x="{WIDTH / 2:g}" y="24" text-anchor="middle" font-size="18" '
            f'font-weight="bold" fill="{_INK}">{html.escape(spec.title)}</text>'
        )
    parts.append(f'<g transform="translate({_MARGIN} {top})">')
    parts.append(f'<path d="{outline}" fill="{_SKIN}"/>')
    parts.append('<g clip-path="url(#body)">')
    for name in spec.spillover:
        shape = _smooth_path(region_shape(REGIONS[name], spec.view, spec.side), closed=True)
        parts.append(
            f'<path class="spillover" data-region="{name}" d="{shape}" fill="url(#stipple)"/>'
        )
    for name in spec.essential:
        shape = _smooth_path(region_shape(REGIONS[name], spec.view, spec.side), closed=True)
        parts.append(
            f'<path class="essential" data-region="{name}" d="{shape}" fill="{_ESSENTIAL}"/>'
        )
    parts.append("</g>")
    for curve in view_details(VIEWS[spec.view], spec.side):
        parts.append(
            f'<path d="{_smooth_path(curve, closed=False)}" fill="none" '
            f'stroke="{_DETAIL}" stroke-width="1.4" stroke-linecap="round"/>'
        )
    parts.append(
        f'<path d="{outline}" fill="none" stroke="{_OUTLINE}" stroke-width="2.4" '
        'stroke-linejoin="round"/>'
    )
    parts.extend(_landmark_marks(spec))
    parts.extend(_trigger_point_marks(spec))
    parts.append("</g>")
    parts.extend(_legend(spec, top + FRAME_HEIGHT + 8))
    parts.append("</svg>")
    return ("\n".join(parts) + "\n").encode("utf-8")


def _landmark_marks(spec: BodymapSpec) -> list[str]:
    marks = []
    for label in landmark_labels(spec):
        x, y = label.anchor
        # Labels hug the outer edge of the picture; the leader line runs to the text's inner end.
        text_x = 8 - _MARGIN if label.on_left else FRAME_WIDTH + _MARGIN - 8
        width = label_width(label.text)
        line_end = text_x + width + 4 if label.on_left else text_x - width - 4
        marks.append(
            f'<path d="M{_number(x)} {_number(y)}L{_number(line_end)} {_number(label.y - 5)}" '
            f'stroke="{_LANDMARK}" stroke-width="1" fill="none"/>'
            f'<circle cx="{_number(x)}" cy="{_number(y)}" r="3.5" fill="{_LANDMARK}"/>'
            f'<text x="{_number(text_x)}" y="{_number(label.y)}" font-size="{_LABEL_SIZE}" '
            f'fill="{_LANDMARK}" text-anchor="{"start" if label.on_left else "end"}">'
            f"{html.escape(label.text)}</text>"
        )
    return marks


def _trigger_point_marks(spec: BodymapSpec) -> list[str]:
    marks = []
    for point in spec.trigger_points:
        x, y = on_side(point.at, spec.side)
        cross = (
            f"M{_number(x - 7)} {_number(y - 7)}L{_number(x + 7)} {_number(y + 7)}"
            f"M{_number(x + 7)} {_number(y - 7)}L{_number(x - 7)} {_number(y + 7)}"
        )
        marks.append(
            f'<path d="{cross}" stroke="#ffffff" stroke-width="6" stroke-linecap="round"/>'
            f'<path class="trigger-point" d="{cross}" stroke="#111111" stroke-width="3" '
            'stroke-linecap="round"/>'
            f'<text x="{_number(x + 10)}" y="{_number(y - 9)}" font-size="15" '
            'font-weight="bold" fill="#111111" stroke="#ffffff" stroke-width="3" '
            f'paint-order="stroke">{html.escape(point.label)}</text>'
        )
    return marks


def _legend(spec: BodymapSpec, top: float) -> list[str]:
    y = top + 14
    items = [
        f'<rect x="24" y="{_number(y - 12)}" width="22" height="16" fill="{_ESSENTIAL}"/>'
        f'<text x="52" y="{_number(y + 1)}" font-size="15" fill="{_INK}">essential zone</text>',
        f'<rect x="176" y="{_number(y - 12)}" width="22" height="16" fill="url(#stipple)" '
        f'stroke="{_SPILLOVER_DOT}" stroke-width="0.8"/>'
        f'<text x="204" y="{_number(y + 1)}" font-size="15" fill="{_INK}">spillover zone</text>',
        f'<path d="M332 {_number(y - 10)}l12 12m0 -12l-12 12" stroke="#111111" '
        'stroke-width="3" stroke-linecap="round"/>'
        f'<text x="352" y="{_number(y + 1)}" font-size="15" fill="{_INK}">trigger point</text>',
        f'<text x="{WIDTH / 2:g}" y="{_number(y + 30)}" font-size="13" text-anchor="middle" '
        f'fill="#666666">{spec.view} view, {spec.side} side</text>',
    ]
    return items
