"""Drawing a checked body map as standalone SVGs (one per map): zones, muscles, marks, labels.

Each map is framed on what it shows, scaled up to fit a phone-width picture, and its labels
placed one by one where they hit nothing already placed (``bodymap_layout``). The SVG's
parts carry documented classes (``zone-essential``, ``zone-spillover``, ``muscle``,
``trigger-point``, ``landmark``, ``label``, ``legend``, ``title``) and its colours live in
one style sheet. The picture brings its own light paper and has no dark variant: night mode
is the card's business (``anki.notetypes``), since an image cannot see Anki's class.
"""

from __future__ import annotations

import html
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from deckgen.bodymap.atlas import (
    CRESTS,
    FIXED_FRAMES,
    FRAME_HEIGHT,
    FRAME_WIDTH,
    LANDMARKS,
    REGIONS,
    VIEWS,
    Cell,
    Point,
    View,
    landmark_point,
    mirror_cells,
    mirrored,
    on_side,
    region_centre,
    zone_outlines,
)
from deckgen.bodymap.layout import (
    FONT,
    Box,
    Shape,
    collide,
    collisions,
    text_box,
    text_width,
)
from deckgen.bodymap.muscles import MUSCLES
from deckgen.bodymap.spec import BodymapSpec, MapSpec

LABEL_SIZE = 17
TITLE_SIZE = 20
LEGEND_SIZE = 16
CAPTION_SIZE = 16
MIN_TEXT_SIZE = min(LABEL_SIZE, TITLE_SIZE, LEGEND_SIZE, CAPTION_SIZE)
MAX_WIDTH = 460
"""A picture's widest: on a 360-pixel phone (a card about 344 pixels wide) it then shows at
0.75 of its size or more, so no text comes out under 12 pixels, and under 11 even in a card
with some 15 pixels more padding on each side."""
_MIN_FIGURE_WIDTH = 180
_CROWDED = 36
"""Trigger points closer than this (frame units) are labelled in the margin with leader
lines: beside their marks, a label could sit nearer another point's mark than its own."""
_HALO = 2.0
_FIGURE_WIDTH = 300
_FIGURE_HEIGHT = 470
_MAX_SCALE = 2.2
_CONTEXT = 34
"""Frame units of body shown around what a map is about."""
_MIN_CROP = (150, 170)
_EDGE = 6
_LINE_GAP = 22
_CROSS = 7
_DOT = 4

_STYLE = """
.paper{fill:#fbf8f5;stroke:#d9cfc7;stroke-width:1px}
.skin{fill:#f5e6da}
.outline{fill:none;stroke:#5b4a42;stroke-width:2.2px;stroke-linejoin:round}
.detail{fill:none;stroke:#9c8576;stroke-width:1.3px;stroke-linecap:round}
.zone-essential{fill:#c62828;fill-opacity:.82}
.region{fill:none;stroke:#6d4c41;stroke-width:1.2px;stroke-dasharray:4 3}
.stipple-ground{fill:#fbd3c4}
.stipple-dot{fill:#c62828}
.legend .zone-spillover{stroke:#c62828;stroke-width:1.5px}
.muscle path.belly{fill-opacity:.3;stroke-width:1.4px}
.muscle path.fibres{fill:none;stroke-opacity:.6;stroke-width:.8px}
.muscle-beneath{fill:none;stroke-width:1.6px;stroke-dasharray:5 3}
.trigger-point .halo{stroke:#ffffff;stroke-width:6px;stroke-linecap:round}
.trigger-point .cross{stroke:#111111;stroke-width:3px;stroke-linecap:round}
.trigger-point .leader{fill:none;stroke:#111111;stroke-width:1.3px}
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
.legend .caption{fill:#4a4a4a}
""".strip()
"""The picture's colours. It has no dark variant: an image cannot see Anki's night-mode
class, and the system's colour scheme is not Anki's, so the picture brings its own light
paper and the card's style dims it in night mode (``anki.notetypes``)."""


def _muscle_style() -> str:
    """Each muscle's own colour, for its drawing and its legend swatch alike."""
    return "\n".join(
        f'[data-muscle="{name}"] .belly{{fill:{m.colour};stroke:{m.outline}}}'
        f'[data-muscle="{name}"] .fibres,.muscle-beneath[data-muscle="{name}"]'
        f"{{stroke:{m.outline}}}"
        for name, m in MUSCLES.items()
    )


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
    """The cells the named regions cover, on both sides for those in ``both_sides``."""
    cells: set[Cell] = set()
    for name in names:
        own = REGIONS[name].cells[panel.view]
        cells |= own
        if name in panel.both_sides:
            cells |= mirror_cells(panel.view, own)
    return frozenset(cells)


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
    if panel.frame in FIXED_FRAMES:
        x0, y0, x1, y1 = FIXED_FRAMES[panel.frame][panel.view]
        if panel.side == "left":
            x0, x1 = FRAME_WIDTH - x1, FRAME_WIDTH - x0
        return Box(x0, y0, x1, y1)
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
    """A map laid out as one picture."""

    width: float = 0.0
    height: float = 0.0
    margins: tuple[float, float] = (0.0, 0.0)
    """Left and right of the figure, in pixels."""
    scale: float = 0.0
    """Pixels per frame unit."""
    parts: list[str] = field(default_factory=list)
    shapes: list[Shape] = field(default_factory=list)
    frame: _Frame | None = None
    """Where the figure was drawn; what image occlusion needs to mask a muscle."""


def _free(shapes: list[Shape], candidate: list[Shape]) -> bool:
    return not any(collide(a, b) for a in candidate for b in shapes)


@dataclass(frozen=True)
class _Shared:
    """What the panels of one body map share, so they come out at one size and scale."""

    legend: tuple[MapSpec, ...]
    """The maps the legend lists the contents of: all the panels."""
    scale: float | None = None
    margins: tuple[float, float] = (0.0, 0.0)
    size: tuple[float, float] = (0.0, 0.0)


def _layout_panel(
    panel: MapSpec, shared: _Shared, *, roomy: bool, capped: bool = True, index: int = 0
) -> _Panel:
    """One map laid out as a picture, with ``capped`` at most ``MAX_WIDTH`` wide; ``roomy``
    gives both margins room for any label, for maps whose labels do not all fit in their
    nearer margin."""
    out = _Panel()
    legend_panels = shared.legend
    area = crop(panel)
    area_width, area_height = area.x1 - area.x0, area.y1 - area.y0
    anchors = _anchors(panel)
    natural = min(_FIGURE_WIDTH / area_width, _FIGURE_HEIGHT / area_height, _MAX_SCALE)
    on_left = _margin_sides(anchors, area, area_height * natural)
    margins = {
        side: max(
            [
                text_width(anchor.text, LABEL_SIZE, bold=anchor.kind == "trigger-point") + 24
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
    left_margin = max(margins[True], trp_room, _EDGE * 2, shared.margins[0])
    right_margin = max(margins[False], trp_room, _EDGE * 2, shared.margins[1])
    out.margins = (left_margin, right_margin)
    figure_width = (
        max(_MIN_FIGURE_WIDTH, min(_FIGURE_WIDTH, MAX_WIDTH - left_margin - right_margin))
        if capped
        else _FIGURE_WIDTH
    )
    scale = min(
        figure_width / area_width, _FIGURE_HEIGHT / area_height, _MAX_SCALE, shared.scale or 9.0
    )
    title_lines = _wrap(panel.title or "", TITLE_SIZE, MAX_WIDTH - 2 * _EDGE)
    top = 8.0 + len(title_lines) * (TITLE_SIZE + 6) + (6 if title_lines else 0)
    frame = _Frame(area, round(scale, 4), left_margin, top)
    out.scale = frame.scale
    caption = f"{panel.view} view, {panel.side} side"
    # Pictures in one fixed frame must not differ in size: their legends keep room for every
    # kind of item, whichever they list (a reveal card's question lists no trigger point).
    fixed = any(p.frame in FIXED_FRAMES for p in legend_panels)
    every_item = _legend_items(legend_panels, every_kind=fixed)
    out.width = max(
        shared.size[0],
        left_margin + frame.width + right_margin,
        *(text_width(line, TITLE_SIZE, bold=True) + 2 * _EDGE for line in title_lines),
        text_width(caption, CAPTION_SIZE) + 2 * _EDGE,
        max((_item_width(text) for _, text in every_item), default=0) + 2 * _EDGE,
    )
    # Centre the figure when a long title, caption or legend widens the panel.
    frame = _Frame(
        area, frame.scale, (out.width - frame.width - right_margin + left_margin) / 2, top
    )
    out.frame = frame
    figure_bottom = top + frame.height
    caption_baseline = figure_bottom + CAPTION_SIZE + 8
    for number, line in enumerate(title_lines):
        baseline = 8.0 + TITLE_SIZE + number * (TITLE_SIZE + 6)
        out.shapes.append(
            Shape(
                "title",
                f"title{index}-{number}",
                text_box(
                    out.width / 2,
                    baseline,
                    line,
                    TITLE_SIZE,
                    anchor="middle",
                    bold=True,
                    halo=_HALO,
                ),
            )
        )
        out.parts.append(
            f'<text class="title" x="{_number(out.width / 2)}" y="{_number(baseline)}" '
            f'font-size="{TITLE_SIZE}" text-anchor="middle">{html.escape(line)}</text>'
        )
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
    legend, legend_shapes, bottom = _legend(
        _legend_items(legend_panels), out.width, caption_baseline + 10
    )
    if fixed:
        _, _, room = _legend(every_item, out.width, caption_baseline + 10)
        bottom = max(bottom, room)
    out.parts.extend(legend)
    out.shapes.extend(legend_shapes)
    out.height = max(bottom + 6, shared.size[1])
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


def _wrap(text: str, size: float, width: float) -> list[str]:
    """Words into lines no wider than ``width`` (bold), for a title longer than a picture."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", size, bold=True) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


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
    drawn = sorted(panel.muscles, key=lambda n: (MUSCLES[n].depth, n))
    bellies = {}
    crest = _crest_clip(panel) if panel.view in CRESTS else None
    if crest is not None:
        parts.append(f'<clipPath id="crest{index}"><path d="{crest}"/></clipPath>')
    for name in drawn:
        shape = MUSCLES[name].shapes[panel.view]
        belly = smooth_path(_sided(shape.outline(), panel.side), closed=False) + "Z"
        bellies[name] = belly
        fibres = "".join(
            f"M{_number(a[0])} {_number(a[1])}L{_number(b[0])} {_number(b[1])}"
            for a, b in (_sided(pair, panel.side) for pair in shape.fibres(9))
        )
        parts.append(
            f'<g class="muscle" data-muscle="{name}"{_below_crest(name, crest, index)}>'
            f'<clipPath id="m{index}-{name}"><path d="{belly}"/></clipPath>'
            f'<path class="belly" d="{belly}" vector-effect="non-scaling-stroke"/>'
            f'<path class="fibres" d="{fibres}" clip-path="url(#m{index}-{name})" '
            'vector-effect="non-scaling-stroke"/></g>'
        )
    # A deeper muscle stays visible where a superficial one covers it: its outline, dashed,
    # over the superficial muscle (gluteus medius under the posterior third of maximus).
    for deep in drawn:
        for cover in drawn:
            if MUSCLES[cover].depth > MUSCLES[deep].depth:
                parts.append(
                    f'<g{_below_crest(deep, crest, index)}><path class="muscle-beneath" '
                    f'data-muscle="{deep}" d="{bellies[deep]}" '
                    f'clip-path="url(#m{index}-{cover})" vector-effect="non-scaling-stroke"/></g>'
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


def _crest_clip(panel: MapSpec) -> str:
    """The area below the iliac crest (and level with its ends beyond them)."""
    points = tuple(sorted(_sided(CRESTS[panel.view], panel.side)))
    curve = smooth_path(points, closed=False)
    (_, first), (_, last) = points[0], points[-1]
    return (
        f"M0 {_number(first)}L{curve[1:]}L{FRAME_WIDTH} {_number(last)}"
        f"L{FRAME_WIDTH} {FRAME_HEIGHT}L0 {FRAME_HEIGHT}Z"
    )


def _below_crest(name: str, crest: str | None, index: int) -> str:
    return f' clip-path="url(#crest{index})"' if crest and MUSCLES[name].below_crest else ""


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
                f"trigger-point-{number}",
                Box(x - _CROSS - 2, y - _CROSS - 2, x + _CROSS + 2, y + _CROSS + 2),
            )
        )
    # On the question side of a reveal the trigger points' margin labels are left out, but
    # their room in the margins is kept, so the two sides are framed alike.
    anchors = [a for a in anchors if a.kind != "trigger-point" or panel.show_trigger_points]
    dots = {}
    for anchor in anchors:
        x, y = frame.place(anchor.at)
        dots[anchor.owner] = (x, y)
        if anchor.kind != "trigger-point":
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

    leadered: dict[str, tuple[float, float, str, Point]] = {}
    for anchor in sorted(anchors, key=key):
        x, y = dots[anchor.owner]
        nearer = nearer_left(anchor)
        bold = anchor.kind == "trigger-point"
        best = None
        # The nearer margin first; in a roomy layout, the other one too.
        for step, left in (
            (step, left)
            for left in ((nearer,) if on_left is not None else (nearer, not nearer))
            for step in range(0, 2 * int(figure_bottom / 6) + 2)
        ):
            text_x = _EDGE + _HALO if left else out.width - _EDGE - _HALO
            text_anchor = "start" if left else "end"
            width = text_width(anchor.text, LABEL_SIZE, bold=bold)
            inner = text_x + width + 4 if left else text_x - width - 4
            offset = (step + 1) // 2 * 6 * (1 if step % 2 else -1)
            baseline = y + 5 + offset
            if baseline - LABEL_SIZE < 0 or baseline + 6 > figure_bottom + 2:
                continue
            box = text_box(
                text_x,
                baseline,
                anchor.text,
                LABEL_SIZE,
                anchor=text_anchor,
                bold=bold,
                halo=_HALO,
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
        if bold:
            leadered[anchor.owner] = (text_x, baseline, text_anchor, end)
            continue
        out.parts.append(
            f'<g class="{anchor.kind}" data-{anchor.kind.split("-")[0]}="{anchor.name}">'
            f'<path d="M{_number(x)} {_number(y)}L{_number(end[0])} {_number(end[1])}"/>'
            f'<circle cx="{_number(x)}" cy="{_number(y)}" r="{_DOT}"/>'
            f'<text class="label" x="{_number(text_x)}" y="{_number(baseline)}" '
            f'font-size="{LABEL_SIZE}" text-anchor="{text_anchor}">'
            f"{html.escape(anchor.text)}</text></g>"
        )
    for number, (x, y, label) in enumerate(crosses):
        owner = f"trigger-point-{number}"
        leader_path = ""
        if owner in leadered:
            text_x, baseline, text_anchor, end = leadered[owner]
            start = _clear_of_mark((x, y), end)[0]
            leader_path = (
                f'<path class="leader" d="M{_number(start[0])} {_number(start[1])}'
                f'L{_number(end[0])} {_number(end[1])}"/>'
            )
        else:
            box, text_x, baseline, text_anchor = _place_trp_label(
                label, x, y, owner, out, figure_top, figure_bottom
            )
            out.shapes.append(Shape("label", owner, box))
        size = 2 * _CROSS
        cross = (
            f"M{_number(x - _CROSS)} {_number(y - _CROSS)}l{size} {size}m0 {-size}l{-size} {size}"
        )
        out.parts.append(
            f'<g class="trigger-point"><path class="halo" d="{cross}"/>'
            f'<path class="cross" d="{cross}"/>{leader_path}'
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
    """'landmark', 'region-name', or 'trigger-point' (crowded marks, labelled in the
    margin)."""
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
    on_left = {anchor.owner: anchor.at[0] <= middle for anchor in anchors}
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
    if _crowded(panel):
        anchors.extend(
            _Anchor("trigger-point", str(number), tp.label, on_side(tp.at, panel.side))
            for number, tp in enumerate(panel.trigger_points)
        )
    return anchors


def _crowded(panel: MapSpec) -> bool:
    """Whether two of the map's trigger points are close enough for their labels to be
    read as each other's."""
    points = [tp.at for tp in panel.trigger_points]
    return any(math.dist(a, b) < _CROWDED for i, a in enumerate(points) for b in points[i + 1 :])


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
    label: str, x: float, y: float, owner: str, out: _Panel, top: float, bottom: float
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
                if _free(out.shapes, [Shape("label", owner, box)]):
                    return box, text_x + dx, baseline + dy, anchor
    box = text_box(x + gap, y - 4, label, LABEL_SIZE, anchor="start", bold=True, halo=_HALO)
    return box, x + gap, y - 4, "start"


def _legend_items(
    panels: tuple[MapSpec, ...], *, every_kind: bool = False
) -> list[tuple[str, str]]:
    """What the legend lists: what the maps draw; with ``every_kind``, every kind of item
    such a map could draw (to keep room for them)."""
    items: list[tuple[str, str]] = []
    referral = [p for p in panels if p.pattern == "referral"]
    if any(p.essential for p in referral) or (every_kind and referral):
        items.append(("essential", "essential zone"))
    if any(p.spillover for p in referral) or (every_kind and referral):
        items.append(("spillover", "spillover zone"))
    if any(p.essential for p in panels if p.pattern == "radicular"):
        items.append(("essential", "typical distribution"))
    if any(p.shown_points for p in panels) or every_kind:
        items.append(("trigger-point", "trigger point"))
    for name in sorted({m for p in panels for m in p.muscles}):
        items.append((f"muscle:{name}", MUSCLES[name].label))
    return items


def _item_width(text: str) -> float:
    return 30 + text_width(text, LEGEND_SIZE) + 18


def _legend(
    items: list[tuple[str, str]], width: float, top: float
) -> tuple[list[str], list[Shape], float]:
    """Legend items, wrapped into rows; returns the bottom."""
    parts: list[str] = []
    shapes: list[Shape] = []
    x, baseline = float(_EDGE), top + LEGEND_SIZE
    for kind, text in items:
        item_width = _item_width(text)
        if x + item_width > width - _EDGE and x > _EDGE:
            x, baseline = _EDGE, baseline + _LINE_GAP
        corner = f"M{_number(x)} {_number(baseline - 12)}"
        kind, _, muscle = kind.partition(":")
        swatch = {
            "essential": f'<path class="zone-essential" d="{corner}h22v15h-22z"/>',
            "spillover": f'<path class="zone-spillover" d="{corner}h22v15h-22z" '
            'fill="url(#stipple)"/>',
            "trigger-point": f'<g class="trigger-point"><path class="cross" '
            f'd="{corner}m5 1l12 12m0 -12l-12 12"/></g>',
            "muscle": f'<g class="muscle" data-muscle="{muscle}">'
            f'<path class="belly" d="{corner}h22v15h-22z"/>'
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


def drawings(spec: BodymapSpec) -> tuple[Drawing, ...]:
    """One picture per map: panels are separate pictures of one size and scale (the
    smallest scale of any, the widest margins), with one legend for all, so a card can set
    them side by side or stack them on a phone. Panels with one frame (``frame: pelvis``)
    come out alike to the pixel."""
    shared = _Shared(spec.panels)
    if len(spec.panels) > 1:
        first = [_laid_out(panel, shared) for panel in spec.panels]
        shared = replace(
            shared,
            scale=min(p.scale for p in first),
            margins=(max(p.margins[0] for p in first), max(p.margins[1] for p in first)),
        )
        second = [_laid_out(panel, shared) for panel in spec.panels]
        shared = replace(shared, size=(max(p.width for p in second), max(p.height for p in second)))
    return tuple(_picture(_laid_out(panel, shared), panel, spec) for panel in spec.panels)


def _laid_out(panel: MapSpec, shared: _Shared) -> _Panel:
    """The first layout without collisions: in the nearer margins, in either margin, then,
    for a map with more labels than a phone-width picture can hold, wider."""
    for capped, roomy in ((True, False), (True, True), (False, False), (False, True)):
        laid_out = _layout_panel(panel, shared, roomy=roomy, capped=capped)
        if not collisions(laid_out.shapes):
            break
    return laid_out


def draw(spec: BodymapSpec) -> Drawing:
    """The picture of a one-map body map."""
    (drawing,) = drawings(spec)
    return drawing


def _picture(laid_out: _Panel, map_: MapSpec, spec: BodymapSpec) -> Drawing:
    width, height = math.ceil(laid_out.width), math.ceil(laid_out.height)
    title = map_.title or spec.title or "Body map"
    document = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="map-title map-desc" '
        f'font-family="{FONT}">',
        f'<title id="map-title">{html.escape(title)}</title>',
        f'<desc id="map-desc">{html.escape(picture_alt_text(spec, map_))}</desc>',
        f"<style>{_STYLE}\n{_muscle_style()}</style>",
        "<defs>",
        _stipple("stipple", ""),
        "</defs>",
        f'<rect class="paper" x=".5" y=".5" width="{width - 1}" height="{height - 1}" rx="8"/>',
        '<g class="panel">',
        *laid_out.parts,
        "</g>",
        "</svg>",
    ]
    svg = ("\n".join(document) + "\n").encode("utf-8")
    return Drawing(svg, width, height, tuple(laid_out.shapes), _drawn_muscles(map_, laid_out))


def _drawn_muscles(map_: MapSpec, panel: _Panel) -> tuple[tuple[str, tuple[Point, ...]], ...]:
    """The outline of each muscle of a laid-out picture, in picture pixels: what image
    occlusion masks when a muscle is hidden. Labels and marks need nothing more, their boxes
    are in ``Drawing.shapes``."""
    if panel.frame is None:
        return ()
    frame = panel.frame
    return tuple(
        (
            f"muscle-{name}",
            tuple(
                frame.place(p) for p in _sided(MUSCLES[name].shapes[map_.view].outline(), map_.side)
            ),
        )
        for name in map_.muscles
    )


def picture_alt_text(spec: BodymapSpec, map_: MapSpec) -> str:
    """What one picture shows, for screen readers: the map, and which panel it is."""
    if len(spec.panels) == 1:
        return spec.alt_text()
    lead = f"{spec.title}. " if spec.title else ""
    number = spec.panels.index(map_) + 1
    return f"Body map. {lead}Panel {number} of {len(spec.panels)}. {map_.alt_text()}"


def render_pictures(spec: BodymapSpec) -> tuple[bytes, ...]:
    """The body map as standalone SVG documents, one per map."""
    return tuple(drawing.svg for drawing in drawings(spec))
