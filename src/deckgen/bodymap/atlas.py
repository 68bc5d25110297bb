"""The drawing data behind body maps: each view's body surface, tiled into cells, and the
regions and landmarks named on it.

Every view is drawn in a 360 x 640 frame (x to the right, y down), for the body's RIGHT side:
- posterior: seen from behind, so the right side is on the viewer's right;
- anterior: seen from the front, so the right side is on the viewer's left;
- lateral: the right side seen in profile, facing the viewer's right.
A map of the left side mirrors the frame (x -> 360 - x).

Proportions follow the segment lengths of a standard adult figure as fractions of stature H
(Drillis & Contini 1966, as tabulated in D. A. Winter, "Biomechanics and Motor Control of
Human Movement", ch. 4): greater trochanter 0.530 H, knee 0.285 H, ankle 0.039 H, hip width
0.191 H, foot length 0.152 H; the iliac crest (0.59 H) and gluteal fold (0.47 H) are from the
same figure's surface landmarks. So the crest-to-fold distance (0.12 H) is well under the
fold-to-knee distance (0.19 H). The frame shows the body from just above the waist (0.70 H)
to the floor, at 881 frame units per H.

The surface of each view is a grid of quadrilateral cells that share their corners. A region
is a set of cells, so any set of neighbouring regions has a single outline (see
``zone_outlines``) and shades as one continuous zone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

FRAME_WIDTH = 360
FRAME_HEIGHT = 640
_UNITS_PER_STATURE = 881.4

Point = tuple[float, float]
Cell = tuple[str, int, int]
"""(part, band, column): part is 'trunk', 'leg' (the side drawn) or 'other-leg'."""


def level(height: float) -> float:
    """The frame y of a height above the floor, in fractions of stature."""
    return round(630 - _UNITS_PER_STATURE * height, 1)


# Heights (fractions of stature) of the rows of the grids, top to bottom.
_TRUNK_LEVELS = (0.70, 0.63, 0.595, 0.565, 0.53, 0.50, 0.47)
_LEG_LEVELS = (0.47, 0.42, 0.38, 0.33, 0.305, 0.285, 0.26, 0.20, 0.12, 0.07, 0.039, 0.0)

# Front and back views, the body's right half: per trunk row, the distance from the midline
# to the column borders (midline strip, paraspinal or inguinal strip, middle, outer edge).
_TRUNK_COLUMNS = (
    (0, 24, 38, 46, 68),
    (0, 24, 38, 45, 66),
    (0, 24, 38, 50, 74),
    (0, 26, 38, 54, 80),
    (0, 20, 34, 57, 84),
    (0, 14, 28, 56, 82),
    (0, 10, 22, 53, 78),
)
# Per leg row: inner and outer edge, as distances from the midline.
_LEG_EDGES = (
    (0, 78),
    (6, 76),
    (8, 72),
    (12, 66),
    (15, 63),
    (16, 62),
    (16, 62),
    (14, 66),
    (20, 56),
    (24, 52),
    (24, 50),
    (23, 51),
)
_LEG_FRACTIONS = (0.0, 0.128, 0.282, 0.679, 1.0)  # the top leg row meets the trunk's columns

# The profile: per row (heights as in the trunk and leg rows, then the foot), the back and
# the front of the body.
_PROFILE = (
    (0.70, 140, 250),
    (0.63, 140, 252),
    (0.595, 134, 250),
    (0.565, 124, 248),
    (0.53, 114, 244),
    (0.50, 112, 238),
    (0.47, 118, 232),
    (0.42, 136, 228),
    (0.38, 142, 224),
    (0.33, 150, 218),
    (0.305, 155, 216),
    (0.285, 158, 214),
    (0.26, 160, 209),
    (0.20, 154, 206),
    (0.12, 166, 200),
    (0.07, 172, 198),
    (0.039, 172, 204),
    (0.02, 166, 262),
    (0.0, 168, 300),
)
_PROFILE_FRACTIONS = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class Grid:
    """Rows of points; cell (band, column) lies between rows band, band+1 and points
    column, column+1 of each."""

    part: str
    rows: tuple[tuple[Point, ...], ...]

    def cell(self, band: int, column: int) -> tuple[Point, ...]:
        top, bottom = self.rows[band], self.rows[band + 1]
        return (top[column], top[column + 1], bottom[column + 1], bottom[column])

    def cells(self) -> list[Cell]:
        return [
            (self.part, band, column)
            for band in range(len(self.rows) - 1)
            for column in range(len(self.rows[0]) - 1)
        ]


@dataclass(frozen=True)
class Region:
    """A named area that a referral zone can shade."""

    name: str
    description: str
    """What the name means, for the docs (docs/bodymaps.md) and for authors."""
    cells: dict[str, frozenset[Cell]]
    """By view name: the cells of the surface grid the region covers."""


@dataclass(frozen=True)
class Landmark:
    name: str
    label: str
    points: dict[str, Point]
    """By view name."""


@dataclass(frozen=True)
class View:
    name: str
    grids: tuple[Grid, ...]
    details: tuple[tuple[Point, ...], ...]
    """Open curves drawn inside the silhouette (spine furrow, folds, creases) so the figure
    reads as a body."""

    def cell_shape(self, cell: Cell) -> tuple[Point, ...]:
        grid = next(grid for grid in self.grids if grid.part == cell[0])
        return grid.cell(cell[1], cell[2])

    def cells(self) -> list[Cell]:
        return [cell for grid in self.grids for cell in grid.cells()]

    def outline(self) -> tuple[Point, ...]:
        """The silhouette: the outline of all cells (one loop: the legs join the trunk)."""
        (loop,) = zone_outlines(self, self.cells())
        return loop


def _front_or_back(right_on_left: bool) -> tuple[Grid, ...]:
    """The posterior surface, or with ``right_on_left`` the anterior one: the trunk grid and
    a grid for each leg (the side drawn and the other)."""
    sign = -1 if right_on_left else 1

    def x(offset: float, right: bool) -> float:
        return 180 + (sign if right else -sign) * offset

    trunk_rows = []
    for height, columns in zip(_TRUNK_LEVELS, _TRUNK_COLUMNS, strict=True):
        xs = sorted({x(offset, right) for offset in columns for right in (True, False)})
        trunk_rows.append(tuple((px, level(height)) for px in xs))
    legs = []
    for part, right in (("leg", True), ("other-leg", False)):
        rows = []
        for index, (height, (inner, outer)) in enumerate(zip(_LEG_LEVELS, _LEG_EDGES, strict=True)):
            if index == 0:  # the gluteal fold, shared with the trunk
                offsets: Iterable[float] = _TRUNK_COLUMNS[-1]
            else:
                offsets = (inner + f * (outer - inner) for f in _LEG_FRACTIONS)
            rows.append(tuple(sorted((x(offset, right), level(height)) for offset in offsets)))
        legs.append(Grid(part, tuple(rows)))
    return (Grid("trunk", tuple(trunk_rows)), *legs)


def _profile() -> Grid:
    rows = []
    for height, back, front in _PROFILE:
        rows.append(tuple((back + f * (front - back), level(height)) for f in _PROFILE_FRACTIONS))
    return Grid("trunk", tuple(rows))


CRESTS: dict[str, tuple[Point, ...]] = {
    "posterior": ((250, 112), (220, 100), (194, 120)),
    "lateral": ((130, 128), (180, 100), (240, 128)),
}
"""The iliac crest of the side drawn, where the figure shows it: gluteus medius and minimus
arise below it, so they are drawn clipped to it."""

VIEWS: dict[str, View] = {
    "posterior": View(
        "posterior",
        _front_or_back(right_on_left=False),
        (
            ((180, 16), (180, 60), (180, 110)),  # lumbar spine furrow
            ((180, 150), (180, 190), (180, 214)),  # gluteal cleft
            ((112, 212), (140, 220), (172, 216)),  # left gluteal fold
            ((248, 212), (220, 220), (188, 216)),  # right gluteal fold
            ((124, 376), (138, 380), (152, 376)),  # left knee crease
            ((236, 376), (222, 380), (208, 376)),  # right knee crease
            ((110, 112), (140, 100), (166, 120)),  # left iliac crest
            CRESTS["posterior"],  # right iliac crest
        ),
    ),
    "anterior": View(
        "anterior",
        _front_or_back(right_on_left=True),
        (
            ((180, 52), (178, 56), (180, 60), (182, 56), (180, 52)),  # navel
            ((114, 140), (144, 172), (172, 200)),  # right inguinal crease
            ((246, 140), (216, 172), (188, 200)),  # left inguinal crease
            ((130, 362), (142, 356), (154, 362), (154, 378), (142, 384), (130, 378), (130, 362)),
            ((230, 362), (218, 356), (206, 362), (206, 378), (218, 384), (230, 378), (230, 362)),
        ),
    ),
    "lateral": View(
        "lateral",
        (_profile(),),
        (
            CRESTS["lateral"],  # iliac crest
            ((122, 212), (146, 222), (170, 218)),  # gluteal fold
            ((206, 372), (213, 364), (220, 372)),  # patella
            ((240, 196), (230, 204), (222, 208)),  # groin crease
        ),
    ),
}


def _block(part: str, bands: Iterable[int], columns: Iterable[int]) -> frozenset[Cell]:
    columns = tuple(columns)
    return frozenset((part, band, column) for band in bands for column in columns)


def _trunk(bands: Iterable[int], columns: Iterable[int], view: str) -> frozenset[Cell]:
    """Trunk cells of the drawn side by column 0 (midline strip) to 3 (outer edge); the
    drawn side is the right half of the posterior grid and the left half of the anterior."""
    if view == "lateral":
        return _block("trunk", bands, columns)
    drawn = [4 + c if view == "posterior" else 3 - c for c in columns]
    return _block("trunk", bands, drawn)


def _leg(bands: Iterable[int], columns: Iterable[int], view: str) -> frozenset[Cell]:
    """Leg cells of the drawn side by column 0 (inner, or back in profile) to 3 (outer, or
    front in profile); leg band 0 starts at the gluteal fold."""
    if view == "lateral":
        return _block("trunk", (6 + band for band in bands), columns)
    drawn = list(columns) if view == "posterior" else [3 - c for c in columns]
    return _block("leg", bands, drawn)


_TRUNK_BANDS = range(6)
# The knee is two bands, above and below the joint line. The thigh's regions reach down to
# the line and the leg's up to it (the popliteal fossa is bounded by the hamstrings above and
# the heads of gastrocnemius below), so a band from thigh to calf runs unbroken even when
# the knee itself is not named.
_THIGH = (0, 1, 2, 3, 4)
_THIGH_LOWER = (2, 3, 4)
_KNEE = (4, 5)
_LOWER_LEG = (5, 6, 7, 8)


def _region(name: str, description: str, **views: frozenset[Cell]) -> Region:
    return Region(name, description, dict(views))


def _union(*parts: frozenset[Cell]) -> frozenset[Cell]:
    return frozenset().union(*parts)


P, A, L = "posterior", "anterior", "lateral"
REGIONS: dict[str, Region] = {
    region.name: region
    for region in (
        _region(
            "low-back",
            "the lumbar area beside the spine, from the waist down to the sacrum (for muscles "
            "that refer higher than the belt line)",
            posterior=_union(_trunk((0, 1), (0, 1, 2), P), _trunk((2,), (0,), P)),
            lateral=_trunk((0, 1), (0,), L),
        ),
        _region(
            "lumbosacral",
            "the lower lumbar area beside the spine, from the belt line down to the crest, and "
            "the sacrum below it",
            posterior=_union(
                _trunk((1,), (0, 1), P), _trunk((2,), (0,), P), _trunk((3, 4, 5), (0,), P)
            ),
            lateral=_trunk((1,), (0,), L),
        ),
        _region(
            "flank",
            "the side of the waist above the iliac crest",
            posterior=_trunk((0, 1), (3,), P),
            anterior=_trunk((0, 1), (3,), A),
            lateral=_trunk((0, 1), (1, 2), L),
        ),
        _region(
            "lower-abdomen",
            "the belly below the navel",
            anterior=_trunk((0, 1, 2), (0, 1, 2), A),
            lateral=_trunk((0, 1), (3,), L),
        ),
        _region(
            "posterior-iliac-crest",
            "a band along the back half of the iliac crest",
            posterior=_trunk((2,), (1, 2, 3), P),
            lateral=_trunk((2,), (0, 1), L),
        ),
        _region(
            "anterior-iliac-crest",
            "the front of the iliac crest, around the ASIS",
            anterior=_trunk((2,), (3,), A),
            lateral=_trunk((2,), (3,), L),
        ),
        _region(
            "sacrum",
            "the flat triangle at the base of the spine, between the buttocks",
            posterior=_union(
                _trunk((3, 4, 5), (0,), P), _block("trunk", (3, 4, 5), (3,))
            ),
        ),
        _region(
            "sacrum-half",
            "the half of the sacrum on the side drawn",
            posterior=_trunk((3, 4, 5), (0,), P),
        ),
        _region(
            "sacroiliac-joint",
            "beside the sacrum, over the joint between sacrum and ilium",
            posterior=_trunk((3, 4), (1,), P),
        ),
        _region(
            "buttock-upper",
            "the upper buttock, below the iliac crest",
            posterior=_trunk((3, 4), (2,), P),
            lateral=_trunk((3, 4), (0, 1), L),
        ),
        _region(
            "buttock-lower",
            "the lower buttock, down to the gluteal fold",
            posterior=_trunk((5,), (1, 2, 3), P),
            lateral=_trunk((5,), (0, 1), L),
        ),
        _region(
            "lateral-hip",
            "the side of the hip between iliac crest and greater trochanter",
            posterior=_trunk((3,), (3,), P),
            anterior=_trunk((3,), (3,), A),
            lateral=_trunk((2, 3), (2,), L),
        ),
        _region(
            "greater-trochanter",
            "over the bony point at the outer top of the thigh",
            posterior=_trunk((4,), (3,), P),
            anterior=_trunk((4, 5), (3,), A),
            lateral=_trunk((4, 5), (2,), L),
        ),
        _region(
            "groin",
            "the crease between thigh and lower abdomen (the front of the hip in profile)",
            anterior=_trunk((3, 4, 5), (1, 2), A),
            lateral=_trunk((3, 4, 5), (3,), L),
        ),
        _region(
            "pubis",
            "over the pubic bone, at the midline above the genitals",
            anterior=_union(_trunk((3, 4, 5), (0,), A), _block("trunk", (3, 4, 5), (4,))),
        ),
        _region(
            "posterior-thigh",
            "the back of the thigh",
            posterior=_leg(_THIGH, (1, 2), P),
            lateral=_leg(_THIGH, (0,), L),
        ),
        _region(
            "posterior-thigh-upper",
            "the upper half of the back of the thigh",
            posterior=_leg((0, 1), (1, 2), P),
            lateral=_leg((0, 1), (0,), L),
        ),
        _region(
            "posterior-thigh-lower",
            "the lower half of the back of the thigh",
            posterior=_leg(_THIGH_LOWER, (1, 2), P),
            lateral=_leg(_THIGH_LOWER, (0,), L),
        ),
        _region(
            "lateral-thigh",
            "the outer side of the thigh",
            posterior=_leg(_THIGH, (3,), P),
            anterior=_leg(_THIGH, (3,), A),
            lateral=_leg(_THIGH, (1, 2), L),
        ),
        _region(
            "lateral-thigh-upper",
            "the upper half of the outer side of the thigh",
            posterior=_leg((0, 1), (3,), P),
            anterior=_leg((0, 1), (3,), A),
            lateral=_leg((0, 1), (1, 2), L),
        ),
        _region(
            "lateral-thigh-lower",
            "the lower half of the outer side of the thigh",
            posterior=_leg(_THIGH_LOWER, (3,), P),
            anterior=_leg(_THIGH_LOWER, (3,), A),
            lateral=_leg(_THIGH_LOWER, (1, 2), L),
        ),
        _region(
            "anterior-thigh",
            "the front of the thigh",
            anterior=_leg(_THIGH, (1, 2), A),
            lateral=_leg(_THIGH, (3,), L),
        ),
        _region(
            "medial-thigh",
            "the inner side of the thigh",
            posterior=_leg(_THIGH, (0,), P),
            anterior=_leg(_THIGH, (0,), A),
        ),
        _region(
            "knee",
            "the knee (its back in the posterior view)",
            posterior=_leg(_KNEE, range(4), P),
            anterior=_leg(_KNEE, range(4), A),
            lateral=_leg(_KNEE, range(4), L),
        ),
        _region(
            "lateral-knee",
            "the outer side of the knee",
            posterior=_leg(_KNEE, (3,), P),
            anterior=_leg(_KNEE, (3,), A),
            lateral=_leg(_KNEE, (1, 2), L),
        ),
        _region(
            "calf",
            "the back of the lower leg",
            posterior=_leg(_LOWER_LEG, (0, 1, 2), P),
            lateral=_leg(_LOWER_LEG, (0,), L),
        ),
        _region(
            "lateral-leg",
            "the outer side of the lower leg",
            posterior=_leg(_LOWER_LEG, (3,), P),
            anterior=_leg(_LOWER_LEG, (3,), A),
            lateral=_leg(_LOWER_LEG, (1, 2), L),
        ),
        _region(
            "shin",
            "the front of the lower leg",
            anterior=_leg(_LOWER_LEG, (1, 2), A),
            lateral=_leg(_LOWER_LEG, (3,), L),
        ),
        _region(
            "medial-leg",
            "the inner side of the lower leg",
            anterior=_leg(_LOWER_LEG, (0,), A),
        ),
        _region(
            "ankle",
            "the ankle",
            posterior=_leg((9,), range(4), P),
            anterior=_leg((9,), range(4), A),
            lateral=_leg((9,), range(4), L),
        ),
        _region(
            "foot",
            "the foot (the heel in the posterior view)",
            posterior=_leg((10,), range(4), P),
            anterior=_leg((10,), range(4), A),
            lateral=_leg((10, 11), range(4), L),
        ),
    )
}

REGION_GROUPS = {"posterior-thigh", "lateral-thigh"}
"""Regions that are the union of finer ones (an upper and a lower half)."""

REGION_OVERLAYS = {"lumbosacral", "sacrum-half", "lateral-knee"}
"""Regions drawn over others, for referral zones that follow neither's borders: the gallery
shows them on a sheet of their own."""

FIXED_FRAMES: dict[str, dict[str, tuple[float, float, float, float]]] = {
    "pelvis": {
        "posterior": (80, 44, 280, 324),
        "anterior": (80, 44, 280, 324),
        "lateral": (90, 44, 290, 324),
    },
}
"""Named frames (x0, y0, x1, y1 of the right-side frame): maps that must not differ in size,
such as the recognise-the-zone cards, share one whatever they shade. ``pelvis`` runs from
above the belt line to the upper thigh and shows both sides of the pelvis."""


def mirror_cells(view: str, cells: Iterable[Cell]) -> frozenset[Cell]:
    """The same cells on the other side of the body (posterior and anterior views): the
    grids are symmetric about the midline, so a mirrored cell is the mirror image of its
    cell."""
    mirrored_cells = set()
    for part, band, column in cells:
        if part == "trunk":
            columns = len(VIEWS[view].grids[0].rows[0]) - 1
            mirrored_cells.add(("trunk", band, columns - 1 - column))
        else:
            other = "other-leg" if part == "leg" else "leg"
            mirrored_cells.add((other, band, 3 - column))
    return frozenset(mirrored_cells)

LANDMARKS: dict[str, Landmark] = {
    landmark.name: landmark
    for landmark in (
        Landmark(
            "iliac-crest",
            "iliac crest",
            {"posterior": (240, 104), "anterior": (112, 106), "lateral": (180, 101)},
        ),
        Landmark("psis", "PSIS", {"posterior": (200, 132), "lateral": (130, 128)}),
        Landmark("asis", "ASIS", {"anterior": (120, 134), "lateral": (242, 134)}),
        Landmark("sacrum", "sacrum", {"posterior": (180, 160)}),
        Landmark("coccyx", "coccyx", {"posterior": (180, 198)}),
        Landmark(
            "greater-trochanter",
            "greater trochanter",
            {"posterior": (258, 163), "anterior": (100, 163), "lateral": (182, 166)},
        ),
        Landmark("ischial-tuberosity", "ischial tuberosity", {"posterior": (200, 208)}),
        Landmark("pubic-symphysis", "pubic symphysis", {"anterior": (180, 196)}),
        Landmark("patella", "patella", {"anterior": (142, 370), "lateral": (212, 370)}),
        Landmark("fibular-head", "fibular head", {"lateral": (166, 394)}),
        Landmark("lateral-malleolus", "lateral malleolus", {"lateral": (188, 596)}),
    )
}


def mirrored(points: Iterable[Point]) -> tuple[Point, ...]:
    return tuple((FRAME_WIDTH - x, y) for x, y in points)


def on_side(point: Point, side: str) -> Point:
    """A right-side frame point, placed for the side drawn."""
    return point if side == "right" else (FRAME_WIDTH - point[0], point[1])


def landmark_point(landmark: Landmark, view: str, side: str) -> Point:
    return on_side(landmark.points[view], side)


def zone_outlines(view: View, cells: Iterable[Cell]) -> list[tuple[Point, ...]]:
    """The outline loops of a set of cells: the edges that only one of the cells has, chained.

    Neighbouring cells share their corner points exactly, so the edges between them cancel
    and adjacent regions come out as a single loop. Deterministic: loops start at their
    smallest point and are listed in order of that point.
    """
    edges: Counter[tuple[Point, Point]] = Counter()
    directed: dict[Point, list[Point]] = {}
    shapes = [view.cell_shape(cell) for cell in sorted(set(cells))]
    for shape in shapes:
        for a, b in zip(shape, shape[1:] + shape[:1], strict=True):
            if a != b:
                edges[(min(a, b), max(a, b))] += 1
    for shape in shapes:
        for a, b in zip(shape, shape[1:] + shape[:1], strict=True):
            if a != b and edges[(min(a, b), max(a, b))] == 1:
                directed.setdefault(a, []).append(b)
    for targets in directed.values():
        targets.sort()
    loops = []
    while directed:
        start = min(directed)
        loop = [start]
        point = start
        while True:
            targets = directed[point]
            following = targets.pop(0)
            if not targets:
                del directed[point]
            if following == start:
                break
            loop.append(following)
            point = following
        loops.append(tuple(loop))
    return loops


def centroid(points: tuple[Point, ...]) -> Point:
    """The centre of the area a shape encloses (not the mean of its points, which crowd
    where the outline bends)."""
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    return (cx / (3 * area), cy / (3 * area))


def region_centre(region: Region, view: str) -> Point:
    """The area-weighted centre of a region's cells (right-side frame)."""
    total = sx = sy = 0.0
    for cell in sorted(region.cells[view]):
        shape = VIEWS[view].cell_shape(cell)
        area = abs(_area(shape))
        cx, cy = centroid(shape) if _area(shape) else shape[0]
        total += area
        sx += cx * area
        sy += cy * area
    return (sx / total, sy / total)


def _area(points: tuple[Point, ...]) -> float:
    return sum(
        x0 * y1 - x1 * y0
        for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True)
    ) / 2
