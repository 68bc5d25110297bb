"""Body maps: a card's ``bodymap:`` data, checked into a ``BodymapSpec``.

A referral card is written as data (regions, trigger points, landmarks, muscles) and its
picture is drawn from that data at build time (``bodymap_draw``), so the two can never drift
apart. The same data always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace

from deckgen.bodymap.atlas import (
    FRAME_HEIGHT,
    FRAME_WIDTH,
    LANDMARKS,
    REGIONS,
    VIEWS,
    Point,
    region_centre,
)
from deckgen.bodymap.muscles import MUSCLES
from deckgen.diagnostics import Location, Report, did_you_mean
from deckgen.source.yamlnodes import Mapping, Node, Scalar, Sequence, describe, report_unknown_keys

SIDES = ("right", "left")
FRAMES = ("auto", "full", "pelvis")
PATTERNS = ("referral", "radicular")
MIRRORED_VIEWS = ("posterior", "anterior")
"""The views that draw both sides of the body, so a zone can be mirrored onto the other."""

_MAP_KEYS = {
    "view",
    "side",
    "essential",
    "spillover",
    "trigger_points",
    "landmarks",
    "muscles",
    "title",
    "frame",
    "label_regions",
    "both_sides",
    "pattern",
}
_KEYS = _MAP_KEYS | {"field", "reveal", "panels"}
_PANEL_KEYS = {"field", "reveal", "panels", "title"}
_TRIGGER_POINT_KEYS = {"label", "at"}
_MAX_PANELS = 3


@dataclass(frozen=True)
class TriggerPoint:
    label: str
    at: Point
    """Where the mark goes, in the right-side frame (mirrored for the left side)."""


@dataclass(frozen=True)
class MapSpec:
    """One drawn map: a view of one side with its zones, marks and muscles."""

    view: str
    side: str
    essential: tuple[str, ...]
    spillover: tuple[str, ...]
    trigger_points: tuple[TriggerPoint, ...]
    landmarks: tuple[str, ...]
    muscles: tuple[str, ...] = ()
    title: str | None = None
    frame: str = "auto"
    """'auto': framed on what the map shows, with body around it; 'full': the whole figure."""
    label_regions: bool = False
    """Name each shaded region in the margin (and outline it), as in an atlas."""
    both_sides: tuple[str, ...] = ()
    """Shaded regions drawn on the other side too, mirrored (a zone that crosses the spine)."""
    pattern: str = "referral"
    """'referral': trigger-point zones (essential and spillover); 'radicular': one nerve
    root's typical distribution, named so in the legend."""
    show_trigger_points: bool = True
    """False on the question side of a reveal pair: the map is framed and laid out as with
    its trigger points, so the answer's picture is the question's plus the marks."""

    @property
    def shown_points(self) -> tuple[TriggerPoint, ...]:
        return self.trigger_points if self.show_trigger_points else ()

    def alt_text(self) -> str:
        def names(items: Iterable[str]) -> str:
            return ", ".join(name.replace("-", " ") for name in items)

        parts = [f"{self.title}: " if self.title else ""]
        parts.append(f"{self.view} view, {self.side} side.")
        if self.essential and self.pattern == "radicular":
            parts.append(f" Typical distribution: {names(self.essential)}.")
        elif self.essential:
            parts.append(f" Essential pain zone: {names(self.essential)}.")
        if self.spillover:
            parts.append(f" Spillover zone: {names(self.spillover)}.")
        if self.both_sides:
            parts.append(f" On both sides: {names(self.both_sides)}.")
        if self.muscles:
            parts.append(f" Muscles drawn: {names(self.muscles)}.")
        if self.shown_points:
            labels = ", ".join(tp.label for tp in self.shown_points)
            parts.append(f" Trigger points: {labels}.")
        return "".join(parts)


@dataclass(frozen=True)
class Placement:
    """A picture as it is added to one card field."""

    field: str
    spec: BodymapSpec
    revealed_later: bool = False
    """The question's map of a reveal pair: the answer side shows it again, with its
    trigger points, in its own field."""


@dataclass(frozen=True)
class BodymapSpec:
    """A checked ``bodymap:``: one map, or two or three side-by-side panels."""

    panels: tuple[MapSpec, ...]
    field: str
    """The card field (as the author names it) the picture is added to."""
    location: Location
    title: str | None = None
    """The title over the whole picture (a single map's title is its panel's)."""
    reveal_field: str | None = None
    """With ``reveal``: the field that gets the map with its trigger points; ``field`` then
    gets it without them."""

    def alt_text(self) -> str:
        """What the picture shows, for screen readers and for when it cannot be shown."""
        lead = f"{self.title}. " if self.title else ""
        return "Body map. " + lead + " ".join(panel.alt_text() for panel in self.panels)

    def placements(self) -> tuple[Placement, ...]:
        """The pictures and the fields they go in: one, or a question/answer pair."""
        if self.reveal_field is None:
            return (Placement(self.field, self),)
        hidden = tuple(replace(panel, show_trigger_points=False) for panel in self.panels)
        return (
            Placement(
                self.field, replace(self, panels=hidden, reveal_field=None), revealed_later=True
            ),
            Placement(self.reveal_field, replace(self, reveal_field=None)),
        )


def parse_bodymap(
    node: Node, *, fields: tuple[str, ...], default_field: str, report: Report
) -> BodymapSpec | None:
    """Check a card's ``bodymap:`` node; ``fields`` are the fields the picture may go in
    (question side first, then answer side)."""
    if not isinstance(node, Mapping):
        report.error(node.location, f"'bodymap' must be a mapping of keys, not {describe(node)}")
        return None
    errors_before = report.error_count
    panels_node = node.get("panels")
    report_unknown_keys(node, _PANEL_KEYS if panels_node else _KEYS, "a bodymap", report)
    reveal = _flag(node, "reveal", report)
    if reveal:
        question_side = fields[0]
        field = _choice(node, "field", (question_side,), question_side, report)
    else:
        field = _choice(node, "field", fields, default_field, report)
    title = _optional_text(node, "title", report)
    panels: list[MapSpec | None] = []
    if panels_node is None:
        panels.append(_map(node, report))
    elif not isinstance(panels_node, Sequence) or not 2 <= len(panels_node.items) <= _MAX_PANELS:
        found = (
            f"it has {len(panels_node.items)}"
            if isinstance(panels_node, Sequence)
            else f"not {describe(panels_node)}"
        )
        report.error(
            panels_node.location, f"'panels' must be a list of 2 to {_MAX_PANELS} maps; {found}"
        )
    else:
        for item in panels_node.items:
            if isinstance(item, Mapping):
                report_unknown_keys(item, _MAP_KEYS, "a bodymap panel", report)
                panels.append(_map(item, report))
            else:
                report.error(item.location, f"a panel is a mapping of keys, not {describe(item)}")
    checked = [panel for panel in panels if panel is not None]
    if reveal and not any(panel.trigger_points for panel in checked):
        report.error(
            node.location,
            "'reveal: true' shows the trigger points on the answer side only; "
            "this map has no trigger points to reveal",
        )
    if field is None or report.error_count > errors_before or len(checked) != len(panels):
        return None
    return BodymapSpec(
        panels=tuple(checked),
        field=field,
        location=node.location,
        title=title if panels_node is not None else None,
        reveal_field=fields[1] if reveal else None,
    )


def _map(node: Mapping, report: Report) -> MapSpec | None:
    errors_before = report.error_count
    view = _choice(node, "view", tuple(VIEWS), None, report)
    side = _choice(node, "side", SIDES, "right", report)
    frame = _choice(node, "frame", FRAMES, "auto", report)
    pattern = _choice(node, "pattern", PATTERNS, "referral", report)
    label_regions = _flag(node, "label_regions", report)
    essential = _names(node, "essential", REGIONS, "region", report)
    spillover = _names(node, "spillover", REGIONS, "region", report)
    landmarks = _names(node, "landmarks", LANDMARKS, "landmark", report)
    muscles = _names(node, "muscles", MUSCLES, "muscle", report)
    both_sides = _names(node, "both_sides", REGIONS, "region", report)
    title = _optional_text(node, "title", report)
    points = _trigger_points(node.get("trigger_points"), report)
    if not essential and not spillover and not points and not muscles:
        report.error(
            node.location,
            "a bodymap needs at least one essential or spillover region, trigger point or muscle",
        )
    if (
        view is None
        or side is None
        or frame is None
        or pattern is None
        or report.error_count > errors_before
    ):
        return None
    for name, location in essential + spillover:
        if view not in REGIONS[name].cells:
            report.error(location, _not_in_view("region", name, REGIONS[name].cells, view))
    for name, location in landmarks:
        if view not in LANDMARKS[name].points:
            report.error(location, _not_in_view("landmark", name, LANDMARKS[name].points, view))
    for name, location in muscles:
        if view not in MUSCLES[name].shapes:
            report.error(location, _not_in_view("muscle", name, MUSCLES[name].shapes, view))
    both = {name for name, _ in essential} & {name for name, _ in spillover}
    for name, location in spillover:
        if name in both:
            report.error(location, f"region '{name}' is both essential and spillover: pick one")
    shaded = {name for name, _ in essential + spillover}
    for name, location in both_sides:
        if view not in MIRRORED_VIEWS:
            report.error(
                location,
                f"'both_sides' mirrors a zone onto the other side, which the {view} view does "
                f"not show; use the {' or '.join(MIRRORED_VIEWS)} view",
            )
            break
        if name not in shaded:
            report.error(
                location,
                f"'both_sides' lists '{name}', which this map does not shade: "
                "add it to 'essential' or 'spillover'",
            )
    if pattern == "radicular" and spillover:
        report.error(
            spillover[0][1],
            "a radicular map shades one zone, the nerve root's typical distribution: "
            "list its regions under 'essential'",
        )
    resolved_points = []
    for label, at in points:
        position = _position(at, view, report)
        if position is not None:
            resolved_points.append(TriggerPoint(label, position))
    if report.error_count > errors_before:
        return None
    return MapSpec(
        view=view,
        side=side,
        essential=tuple(name for name, _ in essential),
        spillover=tuple(name for name, _ in spillover),
        trigger_points=tuple(resolved_points),
        landmarks=tuple(name for name, _ in landmarks),
        muscles=tuple(name for name, _ in muscles),
        title=title,
        frame=frame,
        label_regions=label_regions,
        both_sides=tuple(name for name, _ in both_sides),
        pattern=pattern,
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


def _optional_text(mapping: Mapping, key: str, report: Report) -> str | None:
    node = mapping.get(key)
    return _text(node, key, report) if node is not None else None


def _flag(mapping: Mapping, key: str, report: Report) -> bool:
    node = mapping.get(key)
    if node is None:
        return False
    if isinstance(node, Scalar) and node.text in ("true", "false"):
        return node.text == "true"
    report.error(node.location, f"'{key}' must be true or false, not {describe(node)}")
    return False


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
            f"{did_you_mean(text, choices)}"
            + (
                "; with 'reveal: true' the map without trigger points goes on the question side"
                if key == "field" and mapping.get("reveal") is not None
                else ""
            ),
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
                f"the {kind}s are listed in docs/bodymaps.md and by 'deckgen schema'",
            )
        else:
            names.append((item.text, item.location))
    return names


def _trigger_points(node: Node | None, report: Report) -> list[tuple[str, Node]]:
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
            points.append((label, at_node))
    return points


def _fraction(node: Node | None) -> float | None:
    if not isinstance(node, Scalar):
        return None
    try:
        value = float(node.text)
    except ValueError:
        return None
    return value if 0 <= value <= 1 else None


def _position(at: Node, view: str, report: Report) -> Point | None:
    """A trigger point's place: a landmark, the middle of a region, a point on a muscle or
    between two landmarks, or [x, y] in percent of the right-side frame."""
    if isinstance(at, Scalar):
        if at.text in LANDMARKS and view in LANDMARKS[at.text].points:
            return LANDMARKS[at.text].points[view]
        if at.text in REGIONS and view in REGIONS[at.text].cells:
            return region_centre(REGIONS[at.text], view)
        report.error(
            at.location,
            f"trigger point 'at: {at.text}' is not a landmark or region drawn in the {view} "
            f"view{did_you_mean(at.text, [*LANDMARKS, *REGIONS])}; or give [x, y] in percent",
        )
        return None
    if isinstance(at, Mapping):
        return _anatomical_position(at, view, report)
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
        "trigger point 'at' must be a landmark, a region, {muscle: ..., across: ..., along: ...}, "
        "{between: [landmark, landmark], fraction: ...}, or [x, y] with both in 0-100 "
        "(percent of the whole right-side figure's width and height; mirrored for side: left)",
    )
    return None


def _anatomical_position(at: Mapping, view: str, report: Report) -> Point | None:
    if at.get("muscle") is not None:
        report_unknown_keys(at, {"muscle", "across", "along"}, "a muscle position", report)
        muscle = at.get("muscle")
        name = _text(muscle, "muscle", report) if muscle is not None else None
        across, along = _fraction(at.get("across")), _fraction(at.get("along"))
        if name not in MUSCLES or view not in MUSCLES[name].shapes:
            report.error(
                at.location,
                f"muscle '{name}' is not drawn in the {view} view"
                f"{did_you_mean(name or '', MUSCLES)}",
            )
        elif across is None or along is None:
            report.error(
                at.location,
                "a muscle position needs 'across' and 'along', each from 0 to 1 "
                f"(across: {MUSCLES[name].across}; along: origin 0 to insertion 1)",
            )
        else:
            return MUSCLES[name].shapes[view].point(across, along)
        return None
    if at.get("between") is not None:
        report_unknown_keys(at, {"between", "fraction"}, "a position between landmarks", report)
        ends = at.get("between")
        fraction = _fraction(at.get("fraction"))
        names = (
            [item.text for item in ends.items if isinstance(item, Scalar)]
            if isinstance(ends, Sequence)
            else []
        )
        known = [n for n in names if n in LANDMARKS and view in LANDMARKS[n].points]
        if len(names) != 2 or len(known) != 2 or fraction is None:
            report.error(
                at.location,
                "'between' takes two landmarks drawn in the "
                f"{view} view and a 'fraction' from 0 (the first) to 1 (the second)",
            )
            return None
        (x0, y0), (x1, y1) = (LANDMARKS[n].points[view] for n in known)
        return (x0 + fraction * (x1 - x0), y0 + fraction * (y1 - y0))
    report.error(
        at.location,
        "a trigger point position mapping needs 'muscle' (with across, along) or 'between' "
        "(with fraction)",
    )
    return None
