"""Body maps: vocabulary and validation, determinism, and what the drawing really shows."""

from __future__ import annotations

import itertools
from pathlib import Path

import defusedxml.ElementTree
import pytest
from PIL import Image

from anki_engine import StudentCollection
from browser import screenshot
from conftest import FIRST_BUILD_TIME, run_deckgen
from deckgen.bodymap import WIDTH, BodymapSpec, TriggerPoint, landmark_labels, render_bodymap
from deckgen.bodymap_atlas import FRAME_HEIGHT, FRAME_WIDTH, LANDMARKS, REGIONS, VIEWS, centroid
from deckgen.diagnostics import Location, Report
from deckgen.identity import note_guid
from deckgen.validate import load_decks

SVG = "{http://www.w3.org/2000/svg}"
ESSENTIAL = (198, 40, 40)
_TOP = 10  # the frame's offset in a map without a title


def spec(**changes: object) -> BodymapSpec:
    values: dict[str, object] = {
        "view": "posterior",
        "side": "right",
        "field": "answer",
        "essential": ("posterior-iliac-crest",),
        "spillover": ("buttock-upper",),
        "trigger_points": (TriggerPoint("TrP1", (198, 140)),),
        "landmarks": ("iliac-crest",),
        "title": None,
        "location": Location(Path("cards.yaml"), 1, 1),
    }
    values.update(changes)
    return BodymapSpec(**values)  # type: ignore[arg-type]


def check_card(
    tmp_path: Path, bodymap_yaml: str, card: str = "question: Q\n    answer: A"
) -> list[str]:
    folder = tmp_path / "cards" / "deck"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "deck.yaml").write_text("name: D\nid: d\n")
    (folder / "cards.yaml").write_text(
        f"cards:\n  - id: map\n    {card}\n    bodymap:\n"
        + "".join(f"      {line}\n" for line in bodymap_yaml.splitlines())
    )
    report = Report()
    load_decks(tmp_path / "cards", report)
    return [f"{d.location.line}:{d.location.column}: {d.message}" for d in report.sorted()]


def test_a_valid_bodymap_checks_clean(tmp_path: Path) -> None:
    problems = check_card(
        tmp_path,
        "view: lateral\nside: left\nfield: question\nessential: [lateral-hip]\n"
        "spillover: [lateral-thigh, knee]\ntrigger_points:\n  - {label: TrP2, at: [55, 25]}\n"
        "  - {label: TrP3, at: greater-trochanter}\nlandmarks: [asis, greater-trochanter]\n"
        "title: Gluteus medius TrP2",
    )
    assert problems == []


@pytest.mark.parametrize(
    ("bodymap_yaml", "expected"),
    [
        (
            "view: posterior\nessential: [sacrum, buttok-upper]",
            "7:27: unknown region 'buttok-upper' (did you mean 'buttock-upper'?); "
            "the regions are listed in the README",
        ),
        (
            "view: posterior\nessential: [groin]",
            "7:19: region 'groin' is not drawn in the posterior view; it is drawn in: anterior",
        ),
        (
            "view: back\nessential: [sacrum]",
            "6:13: bodymap view 'back' is not one of posterior, anterior, lateral",
        ),
        ("essential: [sacrum]", "6:7: a bodymap has no 'view' (posterior or anterior or lateral)"),
        (
            "view: posterior\nside: both\nessential: [sacrum]",
            "7:13: bodymap side 'both' is not one of right, left",
        ),
        (
            "view: posterior\nessential: [sacrum]\nspillover: [sacrum]",
            "8:19: region 'sacrum' is both essential and spillover: pick one",
        ),
        (
            "view: posterior\nlandmarks: [asis]\nessential: [sacrum]",
            "7:19: landmark 'asis' is not drawn in the posterior view; it is drawn in: "
            "anterior, lateral",
        ),
        (
            "view: posterior\ntrigger_points:\n  - {label: TrP1, at: [120, 5]}",
            "8:29: trigger point 'at' must be a landmark, a region, or [x, y] with both in 0-100 "
            "(percent of the figure's width and height)",
        ),
        (
            "view: posterior\ntrigger_points:\n  - {label: TrP1, at: psys}",
            "8:29: trigger point 'at: psys' is not a landmark or region drawn in the posterior "
            "view (did you mean 'psis'?); or give [x, y] in percent",
        ),
        (
            "view: posterior",
            "6:7: a bodymap needs at least one essential or spillover region or trigger point",
        ),
        (
            "view: posterior\ncolour: red\nessential: [sacrum]",
            "7:7: unknown key 'colour' in a bodymap; allowed: essential, field, landmarks, side, "
            "spillover, title, trigger_points, view",
        ),
    ],
)
def test_bad_bodymaps_are_reported_with_their_place(
    tmp_path: Path, bodymap_yaml: str, expected: str
) -> None:
    assert expected in check_card(tmp_path, bodymap_yaml)


def test_a_cloze_card_takes_its_map_in_cloze_or_extra(tmp_path: Path) -> None:
    problems = check_card(
        tmp_path, "view: posterior\nfield: answer\nessential: [sacrum]", "cloze: '{{c1::x}}'"
    )
    assert "6:14: bodymap field 'answer' is not one of cloze, extra" in problems


def test_same_data_gives_identical_bytes_and_other_data_other_bytes() -> None:
    assert render_bodymap(spec()) == render_bodymap(spec())
    assert render_bodymap(spec()) != render_bodymap(spec(side="left"))
    assert render_bodymap(spec()) != render_bodymap(spec(essential=("sacrum",)))


def test_the_svg_is_well_formed_and_says_what_it_shows() -> None:
    root = defusedxml.ElementTree.fromstring(render_bodymap(spec(title="TrP1 & friends")))
    assert root.tag == f"{SVG}svg"
    paths = root.iter(f"{SVG}path")
    regions = {(p.get("class"), p.get("data-region")) for p in paths if p.get("data-region")}
    assert regions == {("essential", "posterior-iliac-crest"), ("spillover", "buttock-upper")}
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == (
        "Body map, posterior view, right side. Essential pain zone: posterior iliac crest. "
        "Spillover zone: buttock upper. Trigger points: TrP1."
    )
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "TrP1 &amp; friends" not in texts and "TrP1 & friends" in texts
    assert "iliac crest" in texts and "TrP1" in texts


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_landmark_labels_never_overlap(view: str) -> None:
    every_landmark = tuple(name for name, mark in LANDMARKS.items() if view in mark.points)
    for side in ("right", "left"):
        labels = landmark_labels(spec(view=view, side=side, landmarks=every_landmark))
        assert len(labels) == len(every_landmark)
        for margin in (True, False):
            baselines = sorted(label.y for label in labels if label.on_left == margin)
            assert all(b - a >= 17 for a, b in itertools.pairwise(baselines))
            assert all(0 < y < FRAME_HEIGHT for y in baselines)


# --- what the browser draws ---------------------------------------------------------------

_SCALE = 0.5
_CELL_WIDTH = int(WIDTH * _SCALE)
_CELL_HEIGHT = int((_TOP + FRAME_HEIGHT + 78) * _SCALE)


def _every_region_map() -> list[tuple[str, str, str | None]]:
    """(view, side, region) for every region in every view it is drawn in, plus blank maps."""
    cases: list[tuple[str, str, str | None]] = []
    for view in sorted(VIEWS):
        for side in ("right", "left"):
            cases.append((view, side, None))
            cases.extend(
                (view, side, name) for name, region in REGIONS.items() if view in region.shapes
            )
    return cases


@pytest.fixture(scope="module")
def rendered_grid(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[tuple[str, str, str | None], Image.Image]:
    """Every region drawn alone as an essential zone, all in one browser screenshot."""
    folder = tmp_path_factory.mktemp("maps")
    cases = _every_region_map()
    columns = 10
    cells = []
    for index, (view, side, region) in enumerate(cases):
        name = f"map{index}.svg"
        essential = (region,) if region else ()
        (folder / name).write_bytes(
            render_bodymap(
                spec(
                    view=view,
                    side=side,
                    essential=essential,
                    spillover=(),
                    trigger_points=(),
                    landmarks=(),
                )
            )
        )
        cells.append(f'<img src="{name}" width="{_CELL_WIDTH}" height="{_CELL_HEIGHT}">')
    rows = -(-len(cases) // columns)
    page = (
        "<html><body style='margin:0;line-height:0;background:#fff'>"
        f"<div style='display:grid;grid-template-columns:repeat({columns},{_CELL_WIDTH}px)'>"
        + "".join(cells)
        + "</div></body></html>"
    )
    image = screenshot(page, width=columns * _CELL_WIDTH, height=rows * _CELL_HEIGHT, folder=folder)
    return {
        case: image.crop(
            (
                (index % columns) * _CELL_WIDTH,
                (index // columns) * _CELL_HEIGHT,
                (index % columns + 1) * _CELL_WIDTH,
                (index // columns + 1) * _CELL_HEIGHT,
            )
        )
        for index, case in enumerate(cases)
    }


def _pixels(image: Image.Image, wanted: object) -> set[tuple[int, int]]:
    """Pixels of the figure's frame (legend excluded) for which ``wanted(rgb)`` holds."""
    frame_bottom = int((_TOP + FRAME_HEIGHT) * _SCALE)
    data = image.load()
    assert data is not None
    return {
        (x, y)
        for y in range(frame_bottom)
        for x in range(image.width)
        if wanted(data[x, y])  # type: ignore[operator]
    }


def _is_essential(rgb: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 24 for a, b in zip(rgb, ESSENTIAL, strict=True))


def _is_body(rgb: tuple[int, int, int]) -> bool:
    return min(rgb) < 250  # anything drawn: skin, outline, details


@pytest.mark.parametrize(
    ("view", "side", "region"), [case for case in _every_region_map() if case[2] is not None]
)
def test_each_region_is_shaded_where_it_lies_and_inside_the_body(
    rendered_grid: dict[tuple[str, str, str | None], Image.Image],
    view: str,
    side: str,
    region: str,
) -> None:
    image = rendered_grid[(view, side, region)]
    shaded = _pixels(image, _is_essential)
    assert len(shaded) > 20, "the region is visible"

    blank = rendered_grid[(view, side, None)]
    body = _pixels(blank, _is_body)
    assert not _pixels(blank, _is_essential), "a map with no regions shades nothing"
    outside = [p for p in shaded if p not in body]
    assert len(outside) <= len(shaded) * 0.02, "the shading stays inside the body outline"

    shape = REGIONS[region].shapes[view]
    expected_x, expected_y = centroid(shape)
    if side == "left":
        expected_x = FRAME_WIDTH - expected_x
    mean_x = sum(x for x, _ in shaded) / len(shaded) / _SCALE - (WIDTH - FRAME_WIDTH) / 2
    mean_y = sum(y for _, y in shaded) / len(shaded) / _SCALE - _TOP
    assert abs(mean_x - expected_x) < 15 and abs(mean_y - expected_y) < 15


# --- through the build and Anki's engine ---------------------------------------------------


def test_a_card_with_a_bodymap_imports_with_its_picture(
    project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_deckgen("build").exit_code == 0
    student.import_package(project / "decks/demo.apkg")
    note = student.notes()[note_guid("demo-gm", "referral-low-back")]
    assert '<div class="deckgen-bodymap"><img src="deckgen-' in note["Answer"]
    assert 'alt="Body map, posterior view, right side.' in note["Answer"]
    assert student.unresolved_images() == []
    first_answer = note["Answer"]

    patterns = project / "cards/demo/referral/patterns.yaml"
    patterns.write_text(
        patterns.read_text().replace(
            "spillover: [buttock-upper]", "spillover: [buttock-upper, buttock-lower]"
        )
    )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 60))
    assert run_deckgen("build").exit_code == 0
    student.import_package(project / "decks/demo.apkg")
    updated = student.notes()[note_guid("demo-gm", "referral-low-back")]
    assert updated["Answer"] != first_answer and "buttock lower" in updated["Answer"]
    assert student.unresolved_images() == []


def test_maps_command_writes_pictures_for_authors(project: Path) -> None:
    result = run_deckgen("maps", "cards", "-o", "preview")
    assert (result.exit_code, result.stdout) == (0, "wrote 1 body map to preview\n")
    picture = (project / "preview/demo/referral-low-back.svg").read_bytes()
    assert defusedxml.ElementTree.fromstring(picture).tag == f"{SVG}svg"
