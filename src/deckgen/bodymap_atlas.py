"""The drawing data behind body maps: outlines, regions and landmarks of the lower body.

Every view is drawn in a 360 x 640 frame (x to the right, y down), for the body's RIGHT side:
- posterior: seen from behind, so the right side is on the viewer's right;
- anterior: seen from the front, so the right side is on the viewer's left;
- lateral: the right side seen in profile, facing the viewer's right.
A map of the left side mirrors the frame (x -> 360 - x). Shapes are lists of points through
which a smooth closed curve is drawn; regions are clipped to the body outline when drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

FRAME_WIDTH = 360
FRAME_HEIGHT = 640

Point = tuple[float, float]


@dataclass(frozen=True)
class Region:
    """A named area that a referral zone can shade."""

    name: str
    description: str
    """What the name means, for the README and for authors."""
    shapes: dict[str, tuple[Point, ...]]
    """By view name: the points of a smooth closed outline in that view."""


@dataclass(frozen=True)
class Landmark:
    name: str
    label: str
    points: dict[str, Point]
    """By view name."""


@dataclass(frozen=True)
class View:
    name: str
    outline: tuple[Point, ...]
    """The body's silhouette, a smooth closed curve."""
    details: tuple[tuple[Point, ...], ...]
    """Open curves drawn inside the silhouette (spine furrow, folds, creases) so the figure
    reads as a body."""


def _mirror_closed_half(half: list[Point]) -> tuple[Point, ...]:
    """A silhouette symmetric about x = 180 from its left half (top to crotch)."""
    right = [(FRAME_WIDTH - x, y) for x, y in reversed(half[:-1])]
    return (*half, *right)


_POSTERIOR_HALF: list[Point] = [
    (118, 18), (114, 48), (110, 78), (102, 112), (94, 150), (89, 185), (88, 212),
    (90, 250), (95, 300), (101, 350), (106, 392), (108, 420), (105, 448), (103, 482),
    (109, 530), (119, 572), (121, 594), (116, 612), (122, 628), (146, 629), (151, 614),
    (148, 593), (151, 560), (159, 500), (160, 468), (157, 440), (159, 418), (164, 378),
    (170, 330), (176, 298), (180, 291),
]

_ANTERIOR_HALF: list[Point] = [
    (118, 18), (114, 48), (110, 78), (103, 112), (95, 150), (90, 185), (88, 212),
    (90, 250), (96, 300), (102, 350), (106, 392), (110, 420), (107, 448), (106, 482),
    (111, 530), (120, 572), (122, 594), (114, 612), (110, 630), (150, 632), (152, 614),
    (148, 593), (151, 560), (158, 500), (159, 468), (156, 440), (158, 418), (163, 378),
    (169, 330), (175, 290), (180, 280),
]

_LATERAL_OUTLINE: tuple[Point, ...] = (
    (142, 18), (246, 18), (250, 60), (256, 110), (254, 160), (248, 205), (250, 245),
    (242, 300), (232, 350), (222, 392), (222, 422), (212, 448), (212, 500), (205, 560),
    (202, 590), (222, 606), (258, 618), (266, 630), (164, 632), (160, 612), (166, 588),
    (166, 560), (150, 500), (146, 470), (150, 440), (154, 410), (146, 360), (128, 300),
    (112, 262), (108, 225), (116, 180), (132, 140), (144, 100), (140, 60),
)

VIEWS: dict[str, View] = {
    "posterior": View(
        "posterior",
        _mirror_closed_half(_POSTERIOR_HALF),
        (
            ((180, 22), (180, 70), (180, 120)),  # lumbar spine furrow
            ((180, 205), (180, 250), (180, 288)),  # gluteal cleft
            ((112, 268), (140, 276), (172, 274)),  # left gluteal fold
            ((248, 268), (220, 276), (188, 274)),  # right gluteal fold
            ((116, 424), (133, 428), (152, 424)),  # left knee crease
            ((244, 424), (227, 428), (208, 424)),  # right knee crease
            ((108, 118), (140, 106), (170, 128)),  # left iliac crest
            ((252, 118), (220, 106), (190, 128)),  # right iliac crest
        ),
    ),
    "anterior": View(
        "anterior",
        _mirror_closed_half(_ANTERIOR_HALF),
        (
            ((180, 60), (178, 64), (180, 68), (182, 64), (180, 60)),  # navel
            ((108, 150), (140, 220), (174, 270)),  # right inguinal crease
            ((252, 150), (220, 220), (186, 270)),  # left inguinal crest line
            (
                (122, 410),
                (134, 402),
                (146, 410),
                (146, 428),
                (134, 436),
                (122, 428),
                (122, 410),
            ),  # right patella
            (
                (238, 410),
                (226, 402),
                (214, 410),
                (214, 428),
                (226, 436),
                (238, 428),
                (238, 410),
            ),  # left patella
        ),
    ),
    "lateral": View(
        "lateral",
        _LATERAL_OUTLINE,
        (
            ((136, 138), (180, 110), (236, 148)),  # iliac crest
            ((126, 262), (150, 268), (168, 262)),  # gluteal fold
            ((208, 420), (215, 412), (222, 420)),  # patella
            ((246, 248), (236, 258), (226, 262)),  # groin crease
        ),
    ),
}


def _mirrored(points: tuple[Point, ...]) -> tuple[Point, ...]:
    return tuple(on_side(point, "left") for point in points)


REGIONS: dict[str, Region] = {
    region.name: region
    for region in (
        Region(
            "low-back",
            "the lumbar area at the belt line, beside the spine",
            {
                "posterior": ((186, 58), (236, 56), (244, 96), (232, 112), (190, 116)),
                "lateral": ((144, 40), (176, 40), (178, 104), (146, 104)),
            },
        ),
        Region(
            "posterior-iliac-crest",
            "a band along the back half of the iliac crest",
            {
                "posterior": (
                    (194, 132),
                    (214, 118),
                    (240, 110),
                    (258, 114),
                    (260, 128),
                    (240, 126),
                    (216, 134),
                    (198, 148),
                ),
                "lateral": ((134, 134), (158, 118), (186, 108), (190, 122), (162, 130), (140, 148)),
            },
        ),
        Region(
            "sacrum",
            "the flat triangle at the base of the spine, between the buttocks",
            {"posterior": ((160, 132), (200, 132), (188, 190), (180, 208), (172, 190))},
        ),
        Region(
            "sacroiliac-joint",
            "beside the sacrum, over the joint between sacrum and ilium",
            {"posterior": ((196, 138), (206, 140), (210, 166), (204, 190), (196, 184))},
        ),
        Region(
            "buttock-upper",
            "the upper buttock, below the iliac crest",
            {
                "posterior": (
                    (204, 150),
                    (236, 134),
                    (262, 136),
                    (268, 176),
                    (244, 198),
                    (208, 196),
                ),
                "lateral": ((126, 156), (160, 140), (184, 146), (184, 192), (150, 200), (122, 198)),
            },
        ),
        Region(
            "buttock-lower",
            "the lower buttock, down to the gluteal fold",
            {
                "posterior": (
                    (186, 206),
                    (230, 200),
                    (262, 214),
                    (262, 256),
                    (228, 272),
                    (188, 264),
                ),
                "lateral": ((112, 210), (160, 206), (166, 256), (122, 262)),
            },
        ),
        Region(
            "lateral-hip",
            "the side of the hip between iliac crest and greater trochanter",
            {
                "posterior": ((258, 132), (268, 140), (272, 196), (262, 204), (260, 168)),
                "lateral": ((186, 140), (226, 142), (232, 198), (190, 206)),
                "anterior": ((102, 132), (92, 140), (88, 196), (98, 204), (100, 168)),
            },
        ),
        Region(
            "greater-trochanter",
            "over the bony point at the outer top of the thigh",
            {
                "posterior": ((262, 202), (272, 204), (274, 226), (264, 230), (258, 216)),
                "lateral": ((172, 214), (194, 214), (198, 238), (174, 242)),
                "anterior": ((98, 202), (88, 204), (86, 226), (96, 230), (102, 216)),
            },
        ),
        Region(
            "posterior-thigh",
            "the back of the thigh",
            {
                "posterior": (
                    (192, 292),
                    (224, 284),
                    (258, 282),
                    (256, 396),
                    (230, 404),
                    (206, 400),
                ),
                "lateral": ((122, 268), (152, 272), (162, 398), (158, 404), (144, 340), (130, 300)),
            },
        ),
        Region(
            "posterior-thigh-upper",
            "the upper half of the back of the thigh",
            {
                "posterior": ((192, 292), (224, 284), (258, 282), (257, 338), (226, 344),
                              (198, 338)),
                "lateral": ((124, 268), (152, 272), (156, 330), (141, 334), (131, 300)),
            },
        ),
        Region(
            "lateral-thigh-upper",
            "the upper half of the outer side of the thigh",
            {
                "lateral": ((158, 256), (214, 256), (210, 330), (164, 330)),
                "anterior": ((92, 246), (110, 248), (113, 330), (104, 332), (97, 300)),
            },
        ),
        Region(
            "lateral-thigh",
            "the outer side of the thigh",
            {
                "lateral": ((158, 256), (214, 256), (206, 398), (166, 398)),
                "anterior": ((92, 246), (110, 248), (116, 392), (110, 398), (103, 350), (97, 300)),
            },
        ),
        Region(
            "anterior-thigh",
            "the front of the thigh",
            {
                "anterior": ((110, 244), (160, 284), (158, 396), (134, 398), (112, 396)),
                "lateral": ((218, 258), (244, 248), (228, 350), (214, 398), (206, 398)),
            },
        ),
        Region(
            "medial-thigh",
            "the inner side of the thigh",
            {"anterior": ((162, 292), (174, 296), (166, 360), (158, 396), (154, 392))},
        ),
        Region(
            "groin",
            "the crease between thigh and lower abdomen",
            {"anterior": ((112, 200), (142, 228), (172, 268), (164, 282), (132, 250), (108, 216))},
        ),
        Region(
            "knee",
            "the knee (its back in the posterior view)",
            {
                "posterior": ((208, 408), (246, 408), (250, 432), (208, 434)),
                "anterior": ((114, 404), (154, 404), (152, 438), (114, 438)),
                "lateral": ((160, 404), (216, 404), (214, 438), (160, 438)),
            },
        ),
        Region(
            "calf",
            "the back of the lower leg",
            {
                "posterior": (
                    (204, 446),
                    (254, 446),
                    (256, 500),
                    (242, 542),
                    (214, 542),
                    (202, 496),
                ),
                "lateral": ((152, 446), (170, 446), (174, 540), (164, 544), (152, 500)),
            },
        ),
        Region(
            "lateral-leg",
            "the outer side of the lower leg",
            {"lateral": ((172, 446), (204, 446), (198, 568), (176, 568))},
        ),
        Region(
            "shin",
            "the front of the lower leg",
            {
                "anterior": ((122, 446), (150, 446), (148, 570), (128, 570)),
                "lateral": ((204, 446), (212, 446), (204, 572), (198, 572)),
            },
        ),
        Region(
            "ankle",
            "the ankle",
            {
                "posterior": ((212, 584), (240, 584), (240, 606), (212, 606)),
                "anterior": ((120, 584), (148, 584), (148, 606), (120, 606)),
                "lateral": ((170, 582), (200, 582), (202, 604), (170, 604)),
            },
        ),
        Region(
            "foot",
            "the foot",
            {
                "anterior": ((114, 610), (150, 610), (150, 630), (112, 630)),
                "lateral": ((172, 608), (222, 610), (258, 620), (262, 630), (168, 630)),
            },
        ),
    )
}

LANDMARKS: dict[str, Landmark] = {
    landmark.name: landmark
    for landmark in (
        Landmark(
            "iliac-crest",
            "iliac crest",
            {"posterior": (244, 112), "anterior": (104, 118), "lateral": (186, 110)},
        ),
        Landmark("psis", "PSIS", {"posterior": (198, 140), "lateral": (136, 140)}),
        Landmark("asis", "ASIS", {"anterior": (106, 150), "lateral": (238, 150)}),
        Landmark("sacrum", "sacrum", {"posterior": (180, 160)}),
        Landmark("coccyx", "coccyx", {"posterior": (180, 212)}),
        Landmark(
            "greater-trochanter",
            "greater trochanter",
            {"posterior": (268, 214), "anterior": (92, 214), "lateral": (184, 228)},
        ),
        Landmark("ischial-tuberosity", "ischial tuberosity", {"posterior": (206, 262)}),
        Landmark("pubic-symphysis", "pubic symphysis", {"anterior": (180, 268)}),
        Landmark("patella", "patella", {"anterior": (134, 419), "lateral": (216, 420)}),
        Landmark("fibular-head", "fibular head", {"lateral": (176, 448)}),
        Landmark("lateral-malleolus", "lateral malleolus", {"lateral": (186, 594)}),
    )
}


def region_shape(region: Region, view: str, side: str) -> tuple[Point, ...]:
    shape = region.shapes[view]
    return shape if side == "right" else _mirrored(shape)


def on_side(point: Point, side: str) -> Point:
    """A right-side frame point, placed for the side drawn."""
    return point if side == "right" else (FRAME_WIDTH - point[0], point[1])


def landmark_point(landmark: Landmark, view: str, side: str) -> Point:
    return on_side(landmark.points[view], side)


def view_outline(view: View, side: str) -> tuple[Point, ...]:
    # Only the profile is asymmetric; the front and back silhouettes mirror onto themselves.
    return view.outline if side == "right" or view.name != "lateral" else _mirrored(view.outline)


def view_details(view: View, side: str) -> tuple[tuple[Point, ...], ...]:
    if side == "right" or view.name != "lateral":
        return view.details
    return tuple(_mirrored(curve) for curve in view.details)


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
