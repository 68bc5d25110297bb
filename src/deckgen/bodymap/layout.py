"""Geometry for laying out a body map's labels: text extents, boxes, segments, collisions.

Every label, mark and leader line of a map is recorded as a ``Shape`` in picture pixels, so
the drawing can place each new label where it hits nothing already placed, and the tests can
count collisions over any map.
"""

from __future__ import annotations

from dataclasses import dataclass

FONT = "Helvetica, Arial, 'Liberation Sans', sans-serif"

# Advance widths of Helvetica/Arial (and the metric-compatible Liberation Sans) in 1/1000 em.
# The reader's font is not known; these are the common ones, and a wider fallback covers
# characters not listed.
_WIDTHS = {
    **dict.fromkeys("ijl'", 222),
    **dict.fromkeys(" ftI./,:;!", 278),
    **dict.fromkeys("r-()", 333),
    **dict.fromkeys("ckvxyzsJ", 500),
    **dict.fromkeys("abdeghnopqu0123456789L", 556),
    **dict.fromkeys("FTZ", 611),
    **dict.fromkeys("ABEKPSVXY&", 667),
    **dict.fromkeys("wCDHNRU", 722),
    **dict.fromkeys("GOQ", 778),
    **dict.fromkeys("mM", 833),
    "W": 944,
}
_FALLBACK_WIDTH = 720
_BOLD = 1.1
_SAFETY = 1.04


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """The advance width of ``text``, a little generous so a real font's text fits inside."""
    em = sum(_WIDTHS.get(char, _FALLBACK_WIDTH) for char in text) / 1000
    return em * size * (_BOLD if bold else 1.0) * _SAFETY


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box) -> bool:
        return (
            self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1
        )

    def inside(self, width: float, height: float) -> bool:
        return self.x0 >= 0 and self.y0 >= 0 and self.x1 <= width and self.y1 <= height


def text_box(
    x: float,
    baseline: float,
    text: str,
    size: float,
    *,
    anchor: str,
    bold: bool = False,
    halo: float = 0.0,
) -> Box:
    """The box a text takes (ascender to descender, plus its halo)."""
    width = text_width(text, size, bold=bold)
    left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    return Box(
        left - halo,
        baseline - 0.78 * size - halo,
        left + width + halo,
        baseline + 0.24 * size + halo,
    )


@dataclass(frozen=True)
class Shape:
    """A laid-out thing: a box (text, mark) or a segment (leader line)."""

    kind: str
    """'label', 'title', 'legend', 'trigger-point', 'landmark' or 'leader'."""
    owner: str
    """Which item it belongs to; a label may touch its own mark and leader line."""
    box: Box
    segment: tuple[tuple[float, float], tuple[float, float]] | None = None


def _segment_hits_box(segment: tuple[tuple[float, float], tuple[float, float]], box: Box) -> bool:
    """Whether a segment passes through a box (Liang-Barsky clipping)."""
    (x0, y0), (x1, y1) = segment
    dx, dy = x1 - x0, y1 - y0
    low, high = 0.0, 1.0
    for p, q in ((-dx, x0 - box.x0), (dx, box.x1 - x0), (-dy, y0 - box.y0), (dy, box.y1 - y0)):
        if p == 0:
            if q <= 0:
                return False
        else:
            t = q / p
            if p < 0:
                low = max(low, t)
            else:
                high = min(high, t)
            if low >= high:
                return False
    return True


def _segments_meet(
    a: tuple[tuple[float, float], tuple[float, float]],
    b: tuple[tuple[float, float], tuple[float, float]],
) -> bool:
    def orientation(
        p: tuple[float, float], q: tuple[float, float], r: tuple[float, float]
    ) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    def within(p: tuple[float, float], q: tuple[float, float], r: tuple[float, float]) -> bool:
        """Whether r, on the line through p and q, lies between them."""
        return min(p[0], q[0]) <= r[0] <= max(p[0], q[0]) and min(p[1], q[1]) <= r[1] <= max(
            p[1], q[1]
        )

    d1, d2 = orientation(*b, a[0]), orientation(*b, a[1])
    d3, d4 = orientation(*a, b[0]), orientation(*a, b[1])
    if d1 * d2 < 0 and d3 * d4 < 0:
        return True
    # An end of one on the other: the lines touch, or lie along each other.
    return (
        (d1 == 0 and within(*b, a[0]))
        or (d2 == 0 and within(*b, a[1]))
        or (d3 == 0 and within(*a, b[0]))
        or (d4 == 0 and within(*a, b[1]))
    )


def collide(a: Shape, b: Shape) -> bool:
    """Whether two laid-out things overlap. A thing never collides with its own parts, and
    a trigger point may sit on a landmark (``at: psis`` puts it there); their labels,
    leader lines and every other pair must keep apart."""
    if a.owner == b.owner:
        return False
    if a.segment is not None and b.segment is not None:
        return _segments_meet(a.segment, b.segment)
    if a.segment is not None:
        return _segment_hits_box(a.segment, b.box)
    if b.segment is not None:
        return _segment_hits_box(b.segment, a.box)
    if a.kind in _POINT_MARKS and b.kind in _POINT_MARKS:
        return False
    return a.box.overlaps(b.box)


_POINT_MARKS = {"landmark", "trigger-point"}


def collisions(shapes: list[Shape]) -> list[tuple[Shape, Shape]]:
    """Every pair of things that overlap."""
    return [(a, b) for i, a in enumerate(shapes) for b in shapes[i + 1 :] if collide(a, b)]
