"""Muscles a body map can draw: each is an origin line and an insertion line on the atlas frame.

The muscle's outline runs along the origin and back along the insertion; its fibres join
matching points of the two lines. The same two lines let an author place a trigger point by
anatomy: ``across`` goes from the first to the last point of each line, ``along`` from origin
(0) to insertion (1). Coordinates are in the right-side frame of ``bodymap_atlas``, traced
over standard atlas plates of the hip muscles at the figure's proportions.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from deckgen.bodymap.atlas import Point


@dataclass(frozen=True)
class MuscleShape:
    origin: tuple[Point, ...]
    """The attachment the fibres start from, ordered as ``across`` runs."""
    insertion: tuple[Point, ...]
    """The attachment they end at, in the same order."""

    def outline(self) -> tuple[Point, ...]:
        return (*self.origin, *reversed(self.insertion))

    def point(self, across: float, along: float) -> Point:
        """The point ``along`` of the way down the fibre that starts ``across`` the origin."""
        start, end = _at(self.origin, across), _at(self.insertion, across)
        return (start[0] + along * (end[0] - start[0]), start[1] + along * (end[1] - start[1]))

    def fibres(self, count: int) -> list[tuple[Point, Point]]:
        return [
            (self.point(f, 0.0), self.point(f, 1.0))
            for f in ((i + 0.5) / count for i in range(count))
        ]


@dataclass(frozen=True)
class Muscle:
    name: str
    label: str
    depth: int
    """0 deepest; deeper muscles are drawn first, so a superficial one covers them
    translucently."""
    across: str
    """What ``across: 0`` and ``across: 1`` mean, for the docs (docs/bodymaps.md)."""
    shapes: dict[str, MuscleShape]
    """By view name, for the views in which the muscle is visible."""
    colour: str
    """Its fill and legend swatch, from the Okabe-Ito palette, which stays distinct under
    the common colour-vision deficiencies; no two muscles drawn in one view share one."""
    outline: str
    """A darker shade of the colour, for the outline and fibres."""
    below_crest: bool = False
    """Arises from the ilium below the iliac crest: drawn clipped to the crest."""


def _line(*points: Point) -> tuple[Point, ...]:
    return points


def _at(line: tuple[Point, ...], fraction: float) -> Point:
    """The point ``fraction`` of the way along a polyline, by length."""
    lengths = [
        ((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2) ** 0.5 for a, b in itertools.pairwise(line)
    ]
    total = sum(lengths)
    if total == 0:
        return line[0]
    remaining = fraction * total
    for (a, b), length in zip(itertools.pairwise(line), lengths, strict=True):
        if remaining <= length and length > 0:
            t = remaining / length
            return (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
        remaining -= length
    return line[-1]


MUSCLES: dict[str, Muscle] = {
    muscle.name: muscle
    for muscle in (
        Muscle(
            "quadratus-lumborum",
            "quadratus lumborum",
            0,
            "from the spine (0) to its outer edge (1)",
            {
                "posterior": MuscleShape(
                    _line((194, 14), (222, 14)), _line((198, 112), (230, 104))
                ),
            },
            colour="#56b4e9",
            outline="#1f6f9c",
        ),
        Muscle(
            "piriformis",
            "piriformis",
            0,
            "from its upper (0) to its lower border (1)",
            {
                "posterior": MuscleShape(
                    _line((194, 146), (190, 174)), _line((254, 156), (254, 164))
                ),
            },
            colour="#cc79a7",
            outline="#8c3d69",
        ),
        Muscle(
            "gluteus-minimus",
            "gluteus minimus",
            0,
            "from back (0) to front (1)",
            {
                "posterior": MuscleShape(
                    _line((212, 130), (232, 118), (250, 122)), _line((252, 156), (258, 158))
                ),
                "lateral": MuscleShape(
                    _line((152, 130), (186, 116), (226, 132)), _line((180, 164), (196, 164))
                ),
            },
            colour="#009e73",
            outline="#00664a",
            below_crest=True,
        ),
        Muscle(
            "gluteus-medius",
            "gluteus medius",
            1,
            "from back, near the sacrum (0), to front, near the ASIS (1)",
            {
                "posterior": MuscleShape(
                    _line((204, 124), (222, 108), (244, 104), (256, 114)),
                    _line((254, 160), (262, 160)),
                ),
                "lateral": MuscleShape(
                    _line((136, 120), (170, 103), (206, 104), (236, 124)),
                    _line((174, 164), (194, 162)),
                ),
            },
            colour="#0072b2",
            outline="#004f7c",
            below_crest=True,
        ),
        Muscle(
            "tensor-fasciae-latae",
            "tensor fasciae latae",
            1,
            "from back (0) to front (1)",
            {
                "lateral": MuscleShape(
                    _line((232, 128), (244, 138)), _line((210, 236), (220, 238))
                ),
                "anterior": MuscleShape(
                    _line((112, 132), (120, 138)), _line((102, 238), (110, 238))
                ),
            },
            colour="#f0e442",
            outline="#7a7100",
        ),
        Muscle(
            "gluteus-maximus",
            "gluteus maximus",
            2,
            "from its upper (0) to its lower border (1)",
            {
                # Its upper border runs from the crest, where the posterior gluteal line
                # meets it, down to the greater trochanter, so it covers the posterior third
                # of gluteus medius (Gray's Anatomy, gluteal region).
                "posterior": MuscleShape(
                    _line((216, 108), (204, 120), (196, 140), (190, 170), (184, 200)),
                    _line((262, 162), (264, 176), (262, 198), (258, 226)),
                ),
                "lateral": MuscleShape(
                    _line((168, 104), (134, 122), (118, 160), (116, 200)),
                    _line((182, 160), (180, 180), (180, 206), (180, 236)),
                ),
            },
            colour="#e69f00",
            outline="#8f6300",
        ),
    )
}
