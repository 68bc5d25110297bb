"""Drawing a checked body map as a standalone SVG: zones, muscles, marks and labels.

Each map is framed on what it shows, scaled up, and its labels placed one by one where they
hit nothing already placed (``bodymap_layout``). The SVG's parts carry documented classes
(``zone-essential``, ``zone-spillover``, ``muscle``, ``trigger-point``, ``landmark``,
``label``, ``legend``, ``title``) and its colours live in one style sheet, with a dark
variant, so the picture suits day and night mode.
"""

from __future__ import annotations

import html
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from deckgen.render.bodymap import BodymapSpec, MapSpec
from deckgen.render.bodymap_atlas import (
    FRAME_HEIGHT,
    FRAME_WIDTH,
    LANDMARKS,
    REGIONS,
    VIEWS,
    Cell,
    Point,
    View,
    landmark_point,
    mirrored,
    on_side,
    region_centre,
    zone_outlines,
)
from deckgen.render.bodymap_layout import (
    FONT,
    Box,
    Shape,
    collide,
    collisions,
    text_box,
    text_width,
)
from deckgen.render.bodymap_muscles import MUSCLES

LABEL_SIZE = 17
TITLE_SIZE = 20
LEGEND_SIZE = 15
CAPTION_SIZE = 14
_HALO = 2.0
_FIGURE_WIDTH = 300
_FIGURE_HEIGHT = 470
_MAX_SCALE = 2.2
_CONTEXT = 34
"""Frame units of body shown around what a map is about."""
_MIN_CROP = (150, 170)
_EDGE = 6
_PANEL_GAP = 18
_LINE_GAP = 22
_CROSS = 7
_DOT = 4

_STYLE = """
.skin{fill:#f5e6da}
.outline{fill:none;stroke:#5b4a42;stroke-width:2.2px;stroke-linejoin:round}
.detail{fill:none;stroke:#9c8576;stroke-width:1.3px;stroke-linecap:round}
.zone-essential{fill:#c62828;fill-opacity:.82}
.region{fill:none;stroke:#6d4c41;stroke-width:1.2px;stroke-dasharray:4 3}
.stipple-ground{fill:#fbd3c4}
.stipple-dot{fill:#c62828}
.muscle path.belly{fill:#b0523d;fill-opacity:.22;stroke:#8e3b2a;stroke-width:1.2px}
.muscle path.fibres{fill:none;stroke:#8e3b2a;stroke-opacity:.55;stroke-width:.8px}
.trigger-point .halo{stroke:#ffffff;stroke-width:6px;stroke-linecap:round}
.trigger-point .cross{stroke:#111111;stroke-width:3px;stroke-linecap:round}
.landmark circle{fill:#1f4e79;stroke:#ffffff;stroke-width:1px}
.landmark path{fill:none;stroke:#1f4e79;stroke-width:1.2px}
.region-name circle{fill:#ffffff;stroke:#6d4c41;stroke-width:1.5px}
.region-name path{fill:none;stroke:#6d4c41;stroke-width:1px}
.region-name .label{fill:#4e342e}
text{font-family:Helvetica,Arial,'Liberation Sans',sans-serif;paint-order:stroke;
stroke:#ffffff;stroke-width:4px;stroke-linejoin:round}
.label{fill:#1f4e79}
.trigger-point .label{fill:#111111;font-weight:bold}
.title{fill:#2b2b2b;font-weight:bold}
.legend text{fill:#2b2b2b}
.legend .caption{fill:#555555}
@media (prefers-color-scheme: dark){
.outline{stroke:#e9d3c3}
text{stroke:#1d1d1d}
.trigger-point text{stroke:#ffffff}
.label{fill:#9cc9f5}
.skin{fill:#e3cfc0}
.title,.legend text{fill:#f2f2f2}
.legend .cross{stroke:#f2f2f2}
.legend .muscle .belly{fill:#e3cfc0;fill-opacity:1}
.legend .caption{fill:#c8c8c8}
.landmark circle{fill:#9cc9f5;stroke:#1d1d1d}
.landmark path{stroke:#9cc9f5}
.region-name path{stroke:#d7b8a8}
.region-name .label{fill:#f0d6c8}
}
""".strip()


def _number(value: float) -> str:
    text = f"{value:.1f}"
    if text == "-0.0":
        return "0"
    return text[:-2] if text.endswith(".0") else text


def smooth_path(points: tuple[Point, ...], *, closed: bool) -> str:
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


def _sided(points: Iterable[Point], side: str) -> tuple[Point, ...]:
    points = tuple(points)
    return points if side == "right" else mirrored(points)


def _outline_normals(view: View) -> dict[Point, Point]:
    """The outward unit normal at each point of the silhouette (right-side frame)."""
    loop = view.outline()
    normals = {}
    for i, point in enumerate(loop):
        before, after = loop[i - 1], loop[(i + 1) % len(loop)]
        dx, dy = after[0] - before[0], after[1] - before[1]
        length = math.hypot(dx, dy) or 1.0
        normals[point] = (dy / length, -dx / length)
    return normals


def zone_loops(view: View, cells: Iterable[Cell]) -> list[tuple[Point, ...]]:
    """A zone's outline loops (right-side frame), pushed past the silhouette where they run
    along it, so that clipping to the smooth silhouette leaves no sliver of skin."""
    normals = _outline_normals(view)
    loops = []
    for loop in zone_outlines(view, cells):
        loops.append(
            tuple(
                (x + 8 * normals[(x, y)][0], y + 8 * normals[(x, y)][1])
                if (x, y) in normals
                else (x, y)
                for x, y in loop
            )
        )
    return loops


def rounded(loop: tuple[Point, ...], passes: int = 3) -> tuple[Point, ...]:
    """A loop with its corners cut (Chaikin): a zone's edge comes out smooth, and a zone
    that covers a region still covers all of it but the corners. Points in the middle of a
    straight run are dropped first, so a corner rounds over the length of its sides, as a
    hand-drawn zone would."""
    loop = tuple(
        point
        for i, point in enumerate(loop)
        if not _collinear(loop[i - 1], point, loop[(i + 1) % len(loop)])
    )
    for _ in range(passes):
        cut: list[Point] = []
        for a, b in zip(loop, loop[1:] + loop[:1], strict=True):
            cut.append((0.75 * a[0] + 0.25 * b[0], 0.75 * a[1] + 0.25 * b[1]))
            cut.append((0.25 * a[0] + 0.75 * b[0], 0.25 * a[1] + 0.75 * b[1]))
        loop = tuple(cut)
    return loop


def _collinear(a: Point, b: Point, c: Point) -> bool:
    return abs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])) < 1e-6


def _polygon(points: tuple[Point, ...]) -> str:
    return "M" + "L".join(f"{_number(x)} {_number(y)}" for x, y in points) + "Z"


def zone_cells(panel: MapSpec, names: Iterable[str]) -> frozenset[Cell]:
    return frozenset().union(*(REGIONS[name].cells[panel.view] for name in names))


@dataclass(frozen=True)
class _Frame:
    """Where a map's frame lands in its panel: picture = (frame - crop origin) * scale +
    offset."""

    crop: Box
    scale: float
    left: float
    top: float

    def place(self, point: Point) -> Point:
        return (
            self.left + (point[0] - self.crop.x0) * self.scale,
            self.top + (point[1] - self.crop.y0) * self.scale,
        )

    @property
    def width(self) -> float:
        return (self.crop.x1 - self.crop.x0) * self.scale

    @property
    def height(self) -> float:
        return (self.crop.y1 - self.crop.y0) * self.scale


def crop(panel: MapSpec) -> Box:
    """The part of the frame a map shows: what it is about, with body around it."""
    if panel.frame == "full":
        return Box(0, 0, FRAME_WIDTH, FRAME_HEIGHT)
    view = VIEWS[panel.view]
    points: list[Point] = []
    for cell in sorted(zone_cells(panel, (*panel.essential, *panel.spillover))):
        points.extend(view.cell_shape(cell))
    points.extend(tp.at for tp in panel.trigger_points)
    points.extend(LANDMARKS[name].points[panel.view] for name in panel.landmarks)
    for name in panel.muscles:
        points.extend(MUSCLES[name].shapes[panel.view].outline())
    points = list(_sided(points, panel.side))
    x0 = min(x for x, _ in points) - _CONTEXT
    x1 = max(x for x, _ in points) + _CONTEXT
    y0 = min(y for _, y in points) - _CONTEXT
    y1 = max(y for _, y in points) + _CONTEXT
    x0, x1 = _at_least(x0, x1, _MIN_CROP[0], FRAME_WIDTH)
    y0, y1 = _at_least(y0, y1, _MIN_CROP[1], FRAME_HEIGHT)
    return Box(x0, y0, x1, y1)


def _at_least(low: float, high: float, size: float, limit: float) -> tuple[float, float]:
    """Widen [low, high] about its middle to ``size``, then keep it inside [0, limit]."""
    if high - low < size:
        middle = (low + high) / 2
        low, high = middle - size / 2, middle + size / 2
    low, high = max(low, 0.0), min(high, float(limit))
    return round(low, 1), round(high, 1)


@dataclass
class _Panel:
    """A map laid out in its own pixel space, before panels are put side by side."""

    width: float = 0.0
    height: float = 0.0
    parts: list[str] = field(default_factory=list)
    shapes: list[Shape] = field(default_factory=list)
    frame: _Frame | None = None
    """Where the figure was drawn; what image occlusion needs to mask a muscle."""


def _free(shapes: list[Shape], candidate: list[Shape]) -> bool:
    return not any(collide(a, b) for a in candidate for b in shapes)


def _layout_panel(panel: MapSpec, index: int, figure_width: float, *, roomy: bool) -> _Panel:
    """One map laid out; ``roomy`` gives both margins room for any label, for maps whose
    labels do not all fit in their nearer margin."""
    out = _Panel()
    area = crop(panel)
    scale = min(
        figure_width / (area.x1 - area.x0), _FIGURE_HEIGHT / (area.y1 - area.y0), _MAX_SCALE
    )
    anchors = _anchors(panel)
    on_left = _margin_sides(anchors, area, (area.y1 - area.y0) * scale)
    margins = {
        side: max(
            [
                text_width(anchor.text, LABEL_SIZE) + 24
                for anchor in anchors
                if on_left[anchor.owner] == side
            ],
            default=0.0,
        )
        for side in (True, False)
    }
    # Trigger-point labels sit beside their marks; keep room for one at either edge.
    trp_room = max(
        [text_width(tp.label, LABEL_SIZE, bold=True) + 16 for tp in panel.trigger_points],
        default=0.0,
    )
    if roomy:
        margins[True] = margins[False] = max(margins.values())
    left_margin = max(margins[True], trp_room, _EDGE * 2)
    right_margin = max(margins[False], trp_room, _EDGE * 2)
    top = 8.0
    if panel.title:
        out.shapes.append(
            Shape(
                "title",
                f"title{index}",
                text_box(0, 0, panel.title, TITLE_SIZE, anchor="start", bold=True),
            )
        )
        top += TITLE_SIZE + 12
    frame = _Frame(area, round(scale, 4), left_margin, top)
    out.width = max(
        left_margin + frame.width + right_margin,
        text_width(panel.title or "", TITLE_SIZE, bold=True) + 2 * _EDGE,
        text_width(f"{panel.view} view, {panel.side} side", CAPTION_SIZE) + 2 * _EDGE,
    )
    # Centre the figure when a long title or caption widens the panel.
    frame = _Frame(
        area, frame.scale, (out.width - frame.width - right_margin + left_margin) / 2, top
    )
    out.frame = frame
    figure_bottom = top + frame.height
    caption_baseline = figure_bottom + CAPTION_SIZE + 8
    out.height = caption_baseline + 6
    if panel.title:
        title_box = text_box(
            out.width / 2, top - 12, panel.title, TITLE_SIZE, anchor="middle", bold=True, halo=_HALO
        )
        out.shapes[-1] = Shape("title", f"title{index}", title_box)
        out.parts.append(
            f'<text class="title" x="{_number(out.width / 2)}" y="{_number(top - 12)}" '
            f'font-size="{TITLE_SIZE}" text-anchor="middle">{html.escape(panel.title)}</text>'
        )
    caption = f"{panel.view} view, {panel.side} side"
    out.parts.append(
        f'<g class="legend"><text class="caption" x="{_number(out.width / 2)}" '
        f'y="{_number(caption_baseline)}" font-size="{CAPTION_SIZE}" text-anchor="middle">'
        f"{caption}</text></g>"
    )
    out.shapes.append(
        Shape(
            "legend",
            f"caption{index}",
            text_box(
                out.width / 2, caption_baseline, caption, CAPTION_SIZE, anchor="middle", halo=_HALO
            ),
        )
    )
    out.parts.extend(_figure(panel, index, frame))
    sides = on_left if not roomy else None
    # Labels placed one by one, each clear of those before it, can box one in: a label pushed
    # past its neighbours leaves the next leader no way out. Another order usually has one;
    # top to bottom comes first, so a map it lays out cleanly never changes.
    fixed_shapes, fixed_parts = len(out.shapes), len(out.parts)
    best: tuple[int, list[Shape], list[str]] | None = None
    for order in _LABEL_ORDERS:
        del out.shapes[fixed_shapes:], out.parts[fixed_parts:]
        _marks(panel, frame, anchors, sides, out, order)
        clashes = len(collisions(out.shapes))
        if best is None or clashes < best[0]:
            best = (clashes, list(out.shapes), list(out.parts))
        if not clashes:
            break
    assert best is not None
    out.shapes[:], out.parts[:] = best[1], best[2]
    return out


def _stipple(name: str, transform: str) -> str:
    return (
        f'<pattern id="{name}" width="6" height="6" patternUnits="userSpaceOnUse"{transform}>'
        '<rect class="stipple-ground" width="6" height="6"/>'
        '<circle class="stipple-dot" cx="3" cy="3" r="1.3"/></pattern>'
    )


def _figure(panel: MapSpec, index: int, frame: _Frame) -> list[str]:
    """The body, its muscles and zones, clipped to the map's frame."""
    view = VIEWS[panel.view]
    outline = smooth_path(_sided(view.outline(), panel.side), closed=True)
    area = frame.crop
    transform = (
        f"translate({_number(frame.left)} {_number(frame.top)}) scale({frame.scale:g}) "
        f"translate({_number(-area.x0)} {_number(-area.y0)})"
    )
    parts = [
        "<defs>",
        f'<clipPath id="frame{index}"><rect x="{_number(area.x0)}" y="{_number(area.y0)}" '
        f'width="{_number(area.x1 - area.x0)}" height="{_number(area.y1 - area.y0)}"/></clipPath>',
        f'<clipPath id="body{index}"><path d="{outline}"/></clipPath>',
        # The stipple keeps its size on the page whatever the map's scale.
        _stipple(f"stipple{index}", f' patternTransform="scale({1 / frame.scale:.4g})"'),
        "</defs>",
        f'<g transform="{transform}" clip-path="url(#frame{index})">',
        f'<path class="skin" d="{outline}"/>',
        f'<g clip-path="url(#body{index})">',
    ]
    for name in sorted(panel.muscles, key=lambda n: (MUSCLES[n].depth, n)):
        shape = MUSCLES[name].shapes[panel.view]
        belly = smooth_path(_sided(shape.outline(), panel.side), closed=False) + "Z"
        fibres = "".join(
            f"M{_number(a[0])} {_number(a[1])}L{_number(b[0])} {_number(b[1])}"
            for a, b in (_sided(pair, panel.side) for pair in shape.fibres(9))
        )
        parts.append(
            f'<g class="muscle" data-muscle="{name}">'
            f'<clipPath id="m{index}-{name}"><path d="{belly}"/></clipPath>'
            f'<path class="belly" d="{belly}" vector-effect="non-scaling-stroke"/>'
            f'<path class="fibres" d="{fibres}" clip-path="url(#m{index}-{name})" '
            'vector-effect="non-scaling-stroke"/></g>'
        )
    # The spillover zone is the outline of both zones with the essential one cut out, so
    # where they meet they share one edge and never part at a seam.
    essential = zone_loops(view, zone_cells(panel, panel.essential))
    for kind, names, loops in (
        (
            "zone-spillover",
            panel.spillover,
            zone_loops(view, zone_cells(panel, (*panel.spillover, *panel.essential))) + essential,
        ),
        ("zone-essential", panel.essential, essential),
    ):
        if names:
            zone = "".join(_polygon(_sided(rounded(loop), panel.side)) for loop in loops)
            fill = f' fill="url(#stipple{index})"' if kind == "zone-spillover" else ""
            parts.append(
                f'<path class="{kind}" data-regions="{" ".join(names)}" d="{zone}" '
                f'fill-rule="evenodd"{fill}/>'
            )
    if panel.label_regions:
        for name in (*panel.essential, *panel.spillover):
            edge = "".join(
                _polygon(_sided(loop, panel.side))
                for loop in zone_loops(view, REGIONS[name].cells[panel.view])
            )
            parts.append(
                f'<path class="region" data-region="{name}" d="{edge}" '
                'vector-effect="non-scaling-stroke"/>'
            )
    parts.append("</g>")
    for curve in view.details:
        parts.append(
            f'<path class="detail" d="{smooth_path(_sided(curve, panel.side), closed=False)}" '
            'vector-effect="non-scaling-stroke"/>'
        )
    parts.append(f'<path class="outline" d="{outline}" vector-effect="non-scaling-stroke"/>')
    parts.append("</g>")
    return parts


def _marks(
    panel: MapSpec,
    frame: _Frame,
    anchors: list[_Anchor],
    on_left: dict[str, bool] | None,
    out: _Panel,
    order: str,
) -> None:
    """Trigger points and landmarks with their labels, each placed clear of the others, the
    labels in ``order`` (one of ``_LABEL_ORDERS``)."""
    crosses = []
    for number, tp in enumerate(panel.shown_points):
        x, y = frame.place(on_side(tp.at, panel.side))
        crosses.append((x, y, tp.label))
        out.shapes.append(
            Shape(
                "trigger-point",
                f"tp{number}",
                Box(x - _CROSS - 2, y - _CROSS - 2, x + _CROSS + 2, y + _CROSS + 2),
            )
        )
    dots = {}
    for anchor in anchors:
        x, y = frame.place(anchor.at)
        dots[anchor.owner] = (x, y)
        out.shapes.append(
            Shape("landmark", anchor.owner, Box(x - _DOT, y - _DOT, x + _DOT, y + _DOT))
        )
    figure_top = frame.top
    figure_bottom = frame.top + frame.height

    def nearer_left(anchor: _Anchor) -> bool:
        x = dots[anchor.owner][0]
        return x < out.width / 2 if on_left is None else on_left[anchor.owner]

    def key(anchor: _Anchor) -> tuple[float, float, str]:
        x, y = dots[anchor.owner]
        to_margin = x if nearer_left(anchor) else out.width - x
        if order.startswith("shuffled"):
            # Seeded by text, so the same map always gets the same order.
            return (random.Random(f"{order}:{anchor.owner}").random(), y, anchor.owner)
        return {
            "top-down": (y, x, anchor.owner),
            "bottom-up": (-y, x, anchor.owner),
            "nearest-first": (to_margin, y, anchor.owner),
            "farthest-first": (-to_margin, y, anchor.owner),
        }[order]

    for anchor in sorted(anchors, key=key):
        x, y = dots[anchor.owner]
        nearer = nearer_left(anchor)
        best = None
        # The nearer margin first; in a roomy layout, the other one too.
        for step, left in (
            (step, left)
            for left in ((nearer,) if on_left is not None else (nearer, not nearer))
            for step in range(0, 2 * int(figure_bottom / 6) + 2)
        ):
            text_x = _EDGE + _HALO if left else out.width - _EDGE - _HALO
            text_anchor = "start" if left else "end"
            width = text_width(anchor.text, LABEL_SIZE)
            inner = text_x + width + 4 if left else text_x - width - 4
            offset = (step + 1) // 2 * 6 * (1 if step % 2 else -1)
            baseline = y + 5 + offset
            if baseline - LABEL_SIZE < 0 or baseline + 6 > figure_bottom + 2:
                continue
            box = text_box(
                text_x, baseline, anchor.text, LABEL_SIZE, anchor=text_anchor, halo=_HALO
            )
            leader = _clear_of_mark((x, y), (inner, baseline - 5))
            candidate = [
                Shape("label", anchor.owner, box),
                Shape("leader", anchor.owner, _segment_box(leader), leader),
            ]
            if _free(out.shapes, candidate):
                best = (baseline, text_x, text_anchor, candidate)
                break
            if best is None:
                best = (baseline, text_x, text_anchor, candidate)
        assert best is not None
        baseline, text_x, text_anchor, candidate = best
        out.shapes.extend(candidate)
        end = candidate[1].segment[1] if candidate[1].segment else (x, y)
        out.parts.append(
            f'<g class="{anchor.kind}" data-{anchor.kind.split("-")[0]}="{anchor.name}">'
            f'<path d="M{_number(x)} {_number(y)}L{_number(end[0])} {_number(end[1])}"/>'
            f'<circle cx="{_number(x)}" cy="{_number(y)}" r="{_DOT}"/>'
            f'<text class="label" x="{_number(text_x)}" y="{_number(baseline)}" '
            f'font-size="{LABEL_SIZE}" text-anchor="{text_anchor}">'
            f"{html.escape(anchor.text)}</text></g>"
        )
    for number, (x, y, label) in enumerate(crosses):
        placed = _place_trp_label(label, x, y, number, out, figure_top, figure_bottom)
        box, text_x, baseline, text_anchor = placed
        out.shapes.append(Shape("label", f"tp{number}", box))
        size = 2 * _CROSS
        cross = (
            f"M{_number(x - _CROSS)} {_number(y - _CROSS)}l{size} {size}m0 {-size}l{-size} {size}"
        )
        out.parts.append(
            f'<g class="trigger-point"><path class="halo" d="{cross}"/>'
            f'<path class="cross" d="{cross}"/>'
            f'<text class="label" x="{_number(text_x)}" y="{_number(baseline)}" '
            f'font-size="{LABEL_SIZE}" text-anchor="{text_anchor}">{html.escape(label)}</text></g>'
        )


_LABEL_ORDERS = (
    "top-down",
    "bottom-up",
    "nearest-first",
    "farthest-first",
    *(f"shuffled-{n}" for n in range(8)),
)
"""Orders to place margin labels in, tried in turn until one lays out cleanly: the usual
ones first, then a few fixed shuffles for crowded maps none of those fit."""


@dataclass(frozen=True)
class _Anchor:
    """Something labelled in the margin: a landmark, or a region when regions are labelled."""

    kind: str
    """'landmark' or 'region'."""
    name: str
    text: str
    at: Point
    """Where its dot goes, in the frame of the side drawn."""

    @property
    def owner(self) -> str:
        return f"{self.kind}-{self.name}"


def _margin_sides(anchors: list[_Anchor], area: Box, height: float) -> dict[str, bool]:
    """Which margin each label goes in (True: left): the nearer one, unless it is full;
    then the labels nearest the middle move across."""
    middle = (area.x0 + area.x1) / 2
    capacity = max(1, int(height / (LABEL_SIZE + 5)))
    on_left = {anchor.owner: anchor.at[0] < middle for anchor in anchors}
    for side in (True, False):
        crowded = sorted(
            (a for a in anchors if on_left[a.owner] == side),
            key=lambda a: (abs(a.at[0] - middle), a.owner),
        )
        for anchor in crowded[: max(0, len(crowded) - capacity)]:
            if sum(1 for a in anchors if on_left[a.owner] != side) < capacity:
                on_left[anchor.owner] = not side
    return on_left


def _anchors(panel: MapSpec) -> list[_Anchor]:
    anchors = [
        _Anchor(
            "landmark",
            name,
            LANDMARKS[name].label,
            landmark_point(LANDMARKS[name], panel.view, panel.side),
        )
        for name in panel.landmarks
    ]
    if panel.label_regions:
        anchors.extend(
            _Anchor(
                "region-name",
                name,
                name.replace("-", " "),
                on_side(region_centre(REGIONS[name], panel.view), panel.side),
            )
            for name in (*panel.essential, *panel.spillover)
        )
    return anchors


def _clear_of_mark(start: Point, end: Point) -> tuple[Point, Point]:
    """A leader line less its first few pixels: a trigger point may sit on the landmark the
    line starts from (``at: psis``), and that is not a collision."""
    length = math.hypot(end[0] - start[0], end[1] - start[1])
    skip = min(_CROSS + 3, length) / length if length else 0.0
    return ((start[0] + skip * (end[0] - start[0]), start[1] + skip * (end[1] - start[1])), end)


def _segment_box(segment: tuple[Point, Point]) -> Box:
    (x0, y0), (x1, y1) = segment
    return Box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def _place_trp_label(
    label: str, x: float, y: float, number: int, out: _Panel, top: float, bottom: float
) -> tuple[Box, float, float, str]:
    """The first spot beside a trigger point's cross that is clear and inside the panel."""
    gap = _CROSS + 5
    candidates = [
        (x + gap, y - 4, "start"),
        (x - gap, y - 4, "end"),
        (x + gap, y + 16, "start"),
        (x - gap, y + 16, "end"),
        (x, y - gap - 4, "middle"),
        (x, y + gap + 14, "middle"),
        (x + gap, y - 20, "start"),
        (x - gap, y - 20, "end"),
    ]
    for radius in (0, 14, 28, 42, 56):
        for text_x, baseline, anchor in candidates:
            for dx, dy in ((0, 0), (radius, 0), (-radius, 0), (0, radius), (0, -radius)):
                if radius and (dx, dy) == (0, 0):
                    continue
                box = text_box(
                    text_x + dx,
                    baseline + dy,
                    label,
                    LABEL_SIZE,
                    anchor=anchor,
                    bold=True,
                    halo=_HALO,
                )
                if box.x0 < 0 or box.x1 > out.width or box.y0 < top - 4 or box.y1 > bottom:
                    continue
                if _free(out.shapes, [Shape("label", f"tp{number}", box)]):
                    return box, text_x + dx, baseline + dy, anchor
    box = text_box(x + gap, y - 4, label, LABEL_SIZE, anchor="start", bold=True, halo=_HALO)
    return box, x + gap, y - 4, "start"


def _legend_items(panels: tuple[MapSpec, ...]) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    if any(p.essential for p in panels):
        items.append(("essential", "essential zone"))
    if any(p.spillover for p in panels):
        items.append(("spillover", "spillover zone"))
    if any(p.shown_points for p in panels):
        items.append(("trigger-point", "trigger point"))
    for name in sorted({m for p in panels for m in p.muscles}):
        items.append(("muscle", MUSCLES[name].label))
    return items


def _item_width(text: str) -> float:
    return 30 + text_width(text, LEGEND_SIZE) + 18


def _legend(
    panels: tuple[MapSpec, ...], width: float, top: float
) -> tuple[list[str], list[Shape], float]:
    """Legend items for what the picture draws, wrapped into rows; returns the bottom."""
    items = _legend_items(panels)
    parts: list[str] = []
    shapes: list[Shape] = []
    x, baseline = float(_EDGE), top + LEGEND_SIZE
    for kind, text in items:
        item_width = _item_width(text)
        if x + item_width > width - _EDGE and x > _EDGE:
            x, baseline = _EDGE, baseline + _LINE_GAP
        corner = f"M{_number(x)} {_number(baseline - 12)}"
        swatch = {
            "essential": f'<path class="zone-essential" d="{corner}h22v15h-22z"/>',
            "spillover": f'<path class="zone-spillover" d="{corner}h22v15h-22z" '
            'fill="url(#stipple)"/>',
            "trigger-point": f'<g class="trigger-point"><path class="cross" '
            f'd="{corner}m5 1l12 12m0 -12l-12 12"/></g>',
            "muscle": f'<g class="muscle"><path class="belly" d="{corner}h22v15h-22z"/>'
            f'<path class="fibres" d="{corner}m4 15l14 -15"/></g>',
        }[kind]
        parts.append(
            f'<g class="legend">{swatch}<text x="{_number(x + 30)}" y="{_number(baseline)}" '
            f'font-size="{LEGEND_SIZE}">{html.escape(text)}</text></g>'
        )
        shapes.append(
            Shape(
                "legend",
                f"legend-{text}",
                text_box(x + 30, baseline, text, LEGEND_SIZE, anchor="start", halo=_HALO),
            )
        )
        x += item_width
    bottom = baseline + 8 if items else top
    return parts, shapes, bottom


@dataclass(frozen=True)
class Drawing:
    """A laid-out picture: its SVG and, for checking, every label, mark and leader line."""

    svg: bytes
    width: float
    height: float
    shapes: tuple[Shape, ...]
    muscles: tuple[tuple[str, tuple[Point, ...]], ...] = ()
    """Each drawn muscle's outline in picture pixels, by owner (``panel:muscle-name``)."""


def draw(spec: BodymapSpec) -> Drawing:
    figure_width = _FIGURE_WIDTH if len(spec.panels) == 1 else 230
    panels = []
    for number, map_ in enumerate(spec.panels):
        laid_out = _layout_panel(map_, number, figure_width, roomy=False)
        if collisions(laid_out.shapes):
            laid_out = _layout_panel(map_, number, figure_width, roomy=True)
        panels.append(laid_out)
    top = 0.0
    shapes: list[Shape] = []
    head: list[str] = []
    total_width = sum(p.width for p in panels) + _PANEL_GAP * (len(panels) - 1)
    widest_item = max((_item_width(text) for _, text in _legend_items(spec.panels)), default=0)
    total_width = max(total_width, widest_item + 2 * _EDGE)
    if spec.title:
        total_width = max(total_width, text_width(spec.title, TITLE_SIZE, bold=True) + 2 * _EDGE)
        baseline = TITLE_SIZE + 8
        head.append(
            f'<text class="title" x="{_number(total_width / 2)}" y="{baseline}" '
            f'font-size="{TITLE_SIZE}" text-anchor="middle">{html.escape(spec.title)}</text>'
        )
        shapes.append(
            Shape(
                "title",
                "picture-title",
                text_box(
                    total_width / 2,
                    baseline,
                    spec.title,
                    TITLE_SIZE,
                    anchor="middle",
                    bold=True,
                    halo=_HALO,
                ),
            )
        )
        top = baseline + 8
    body: list[str] = []
    muscles: list[tuple[str, tuple[Point, ...]]] = []
    x = (total_width - sum(p.width for p in panels) - _PANEL_GAP * (len(panels) - 1)) / 2
    for number, panel in enumerate(panels):
        body.append(f'<g class="panel" transform="translate({_number(x)} {_number(top)})">')
        body.extend(panel.parts)
        body.append("</g>")
        for shape in panel.shapes:
            moved = Box(shape.box.x0 + x, shape.box.y0 + top, shape.box.x1 + x, shape.box.y1 + top)
            segment = shape.segment
            if segment is not None:
                segment = (
                    (segment[0][0] + x, segment[0][1] + top),
                    (segment[1][0] + x, segment[1][1] + top),
                )
            shapes.append(Shape(shape.kind, f"{number}:{shape.owner}", moved, segment))
        muscles.extend(_drawn_muscles(spec.panels[number], panel, x, top, number))
        x += panel.width + _PANEL_GAP
    legend_top = top + max(p.height for p in panels) + 4
    legend, legend_shapes, bottom = _legend(spec.panels, total_width, legend_top)
    shapes.extend(legend_shapes)
    width, height = math.ceil(total_width), math.ceil(bottom + 6)
    title = spec.title or " / ".join(p.title for p in spec.panels if p.title) or "Body map"
    document = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="map-title map-desc" '
        f'font-family="{FONT}">',
        f'<title id="map-title">{html.escape(title)}</title>',
        f'<desc id="map-desc">{html.escape(spec.alt_text())}</desc>',
        f"<style>{_STYLE}</style>",
        "<defs>",
        _stipple("stipple", ""),
        "</defs>",
        *head,
        *body,
        *legend,
        "</svg>",
    ]
    svg = ("\n".join(document) + "\n").encode("utf-8")
    return Drawing(svg, width, height, tuple(shapes), tuple(muscles))


def _drawn_muscles(
    map_: MapSpec, panel: _Panel, left: float, top: float, number: int
) -> list[tuple[str, tuple[Point, ...]]]:
    """The outline of each muscle of a laid-out panel placed ``left``, ``top`` in the
    picture, in picture pixels: what image occlusion masks when a muscle is hidden. Labels
    and marks need nothing more, their boxes are in ``Drawing.shapes``."""
    if panel.frame is None:
        return []
    frame = panel.frame
    outlines = []
    for name in map_.muscles:
        outline = _sided(MUSCLES[name].shapes[map_.view].outline(), map_.side)
        placed = tuple((left + x, top + y) for x, y in (frame.place(p) for p in outline))
        outlines.append((f"{number}:muscle-{name}", placed))
    return outlines


def render_bodymap(spec: BodymapSpec) -> bytes:
    """The map as a standalone SVG document."""
    return draw(spec).svg
