"""Draws the body-map gallery of docs/bodymaps.md into docs/: run `python docs/gallery.py`.

One picture per view names every region (dashed outlines) and every landmark; the others
show one new bodymap key each. tests/test_bodymap_docs.py checks the files are current.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from deckgen.bodymap.atlas import (
    LANDMARKS,
    REGION_GROUPS,
    REGION_OVERLAYS,
    REGIONS,
    VIEWS,
    region_centre,
)
from deckgen.bodymap.draw import render_pictures
from deckgen.bodymap.muscles import MUSCLES
from deckgen.bodymap.spec import BodymapSpec, MapSpec, TriggerPoint
from deckgen.diagnostics import Location

DOCS = Path(__file__).parent
_WHERE = Location(DOCS / "gallery.py", 1, 1)
_HIP_LEVEL = 216  # the gallery splits each view at the gluteal fold


def fine_regions(view: str) -> list[str]:
    """The regions of a view that no other region of it contains or overlaps."""
    return [
        name
        for name, region in REGIONS.items()
        if view in region.cells and name not in REGION_GROUPS | REGION_OVERLAYS
    ]


def atlas_sheets(view: str) -> tuple[BodymapSpec, BodymapSpec]:
    """The trunk and hip, and the lower limb: two pictures, each at its own scale."""
    regions = fine_regions(view)
    upper = [r for r in regions if region_centre(REGIONS[r], view)[1] < _HIP_LEVEL]
    lower = [r for r in regions if r not in upper and not r.endswith(("-upper", "-lower"))]
    lower += [r for r in regions if r.endswith("-lower") and r not in upper]
    marks = [name for name, mark in LANDMARKS.items() if view in mark.points]
    high = [m for m in marks if LANDMARKS[m].points[view][1] < _HIP_LEVEL + 20]

    def panel(title: str, names: list[str], landmarks: list[str]) -> MapSpec:
        return MapSpec(
            view=view,
            side="right",
            essential=(),
            spillover=tuple(names),
            trigger_points=(),
            landmarks=tuple(landmarks),
            title=title,
            label_regions=True,
        )

    upper_thigh = [r for r in regions if r.endswith("-upper") and r not in upper]
    return (
        BodymapSpec(
            panels=(panel("Trunk and hip", upper + upper_thigh, high),),
            field="answer",
            location=_WHERE,
        ),
        BodymapSpec(
            panels=(
                panel(
                    "Lower limb",
                    [r for r in lower if r not in upper_thigh],
                    [m for m in marks if m not in high],
                ),
            ),
            field="answer",
            location=_WHERE,
        ),
    )


def examples() -> dict[str, BodymapSpec]:
    def one(**values: object) -> BodymapSpec:
        return BodymapSpec(panels=(MapSpec(**values),), field="answer", location=_WHERE)  # type: ignore[arg-type]

    medius = MUSCLES["gluteus-medius"].shapes["lateral"]
    posterior = MUSCLES["gluteus-medius"].shapes["posterior"]
    trps_posterior = tuple(
        TriggerPoint(f"TrP{n}", posterior.point(across, along))
        for n, across, along in ((1, 0.2, 0.15), (2, 0.5, 0.2), (3, 0.95, 0.15))
    )
    trps = (
        TriggerPoint("TrP1", medius.point(0.2, 0.15)),
        TriggerPoint("TrP2", medius.point(0.5, 0.2)),
        TriggerPoint("TrP3", medius.point(0.95, 0.15)),
    )
    reveal = replace(
        one(
            view="lateral",
            side="right",
            essential=(),
            spillover=(),
            trigger_points=trps,
            landmarks=("asis", "psis"),
            muscles=("gluteus-medius",),
            title="Gluteus medius",
        ),
        reveal_field="answer",
        field="question",
    ).placements()
    return {
        "bodymap-reveal-question": reveal[0].spec,
        "bodymap-reveal-answer": reveal[1].spec,
        "bodymap-panels": BodymapSpec(
            panels=(
                MapSpec(
                    view="lateral",
                    side="right",
                    essential=("buttock-upper", "lateral-hip"),
                    spillover=("posterior-thigh-upper", "lateral-thigh-upper"),
                    trigger_points=(trps[1],),
                    landmarks=(),
                    title="Gluteus medius TrP2",
                ),
                MapSpec(
                    view="lateral",
                    side="right",
                    essential=("buttock-lower", "lateral-thigh"),
                    spillover=("lateral-leg", "ankle"),
                    trigger_points=(),
                    landmarks=(),
                    muscles=("gluteus-minimus",),
                    title="Gluteus minimus",
                ),
            ),
            field="answer",
            location=_WHERE,
        ),
        "bodymap-overlays": BodymapSpec(
            panels=(
                MapSpec(
                    view="posterior",
                    side="right",
                    essential=("lumbosacral",),
                    spillover=("sacrum-half", "lateral-knee"),
                    trigger_points=(),
                    landmarks=(),
                    title="Regions drawn over others",
                    label_regions=True,
                    frame="full",
                ),
            ),
            field="answer",
            location=_WHERE,
        ),
        "bodymap-both-sides": one(
            view="posterior",
            side="right",
            essential=("posterior-iliac-crest", "lumbosacral"),
            spillover=(),
            both_sides=("lumbosacral",),
            trigger_points=(trps_posterior[2],),
            landmarks=("iliac-crest", "sacrum"),
            muscles=("gluteus-medius", "gluteus-maximus"),
            title="Both sides, two muscles",
            frame="pelvis",
        ),
        "bodymap-radicular": one(
            view="posterior",
            side="right",
            pattern="radicular",
            essential=("posterior-thigh", "calf", "ankle", "foot"),
            spillover=(),
            trigger_points=(),
            landmarks=(),
            title="S1 radicular pain",
        ),
        "bodymap-full": one(
            view="posterior",
            side="left",
            essential=("buttock-lower", "posterior-thigh"),
            spillover=("calf",),
            trigger_points=(),
            landmarks=("ischial-tuberosity",),
            title="Full figure, left side",
            frame="full",
        ),
    }


def pictures() -> dict[str, bytes]:
    """Every gallery file by name: one per picture, panels numbered."""
    specs = {
        f"bodymap-{view}-{number}": sheet
        for view in VIEWS
        for number, sheet in enumerate(atlas_sheets(view), start=1)
    } | examples()
    found = {}
    for name, spec in specs.items():
        drawn = render_pictures(spec)
        for number, svg in enumerate(drawn, start=1):
            found[f"{name}-{number}.svg" if len(drawn) > 1 else f"{name}.svg"] = svg
    return found


if __name__ == "__main__":
    for name, data in pictures().items():
        (DOCS / name).write_bytes(data)
    sys.stdout.write(f"wrote {len(pictures())} pictures to {DOCS}\n")
