"""Body maps as Chromium draws them, and as Anki imports them.

Texts are measured by the browser, not estimated; zones are checked on the rasterised
picture; a reveal pair and a comparison picture go through Anki's engine.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import json
import random
import re
from collections import deque
from pathlib import Path

import defusedxml.ElementTree
import pytest
from PIL import Image, ImageChops
from test_bodymap import render_bodymap, shipped_specs

from anki_engine import StudentCollection
from browser import run_page, screenshot
from conftest import FIRST_BUILD_TIME, run_deckgen
from deckgen.anki.identity import note_guid
from deckgen.bodymap.atlas import LANDMARKS, REGION_GROUPS, REGIONS, VIEWS, region_centre
from deckgen.bodymap.draw import Drawing, draw, render_pictures
from deckgen.bodymap.muscles import MUSCLES
from deckgen.bodymap.spec import BodymapSpec, MapSpec, TriggerPoint
from deckgen.diagnostics import Location
from helpers import REPO

SVG = "{http://www.w3.org/2000/svg}"
ESSENTIAL_ON_SKIN = (206, 74, 72)
"""The essential red at its opacity over the skin colour."""
_WHERE = Location(Path("cards.yaml"), 1, 1)

_MEASURE = """
<script>
const problems = [];
for (const holder of document.querySelectorAll('div.picture')) {
  const svg = holder.querySelector('svg');
  const frame = svg.getBoundingClientRect();
  const name = holder.dataset.name;
  const box = (element) => {
    const r = element.getBoundingClientRect();
    return {x0: r.left - frame.left, y0: r.top - frame.top,
            x1: r.right - frame.left, y1: r.bottom - frame.top,
            group: element.closest('g.landmark, g.trigger-point, g.region-name')};
  };
  const texts = [...svg.querySelectorAll('text')].map((t) => ({text: t.textContent, ...box(t)}));
  const marks = [...svg.querySelectorAll('g.landmark circle, g.region-name circle, ' +
                                          'g.panel g.trigger-point path.cross')].map(box);
  const overlap = (a, b) => Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0) > 0.5 &&
                            Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0) > 0.5;
  texts.forEach((a, i) => {
    if (a.x0 < -0.5 || a.y0 < -0.5 || a.x1 > frame.width + 0.5 || a.y1 > frame.height + 0.5) {
      problems.push(`${name}: "${a.text}" is not inside the picture`);
    }
    texts.slice(i + 1).forEach((b) => {
      if (overlap(a, b)) problems.push(`${name}: "${a.text}" overlaps "${b.text}"`);
    });
    marks.forEach((m) => {
      if (m.group !== a.group && overlap(a, m)) problems.push(`${name}: "${a.text}" covers a mark`);
    });
  });
}
document.body.setAttribute('data-problems', JSON.stringify(problems));
</script>
"""


_XML_DECLARATION = '<?xml version="1.0"?>'


def every_svg() -> dict[str, bytes]:
    """Every picture a student or reader sees: shipped images, shipped maps, the gallery."""
    pictures = {
        str(path.relative_to(REPO)): path.read_bytes()
        for path in sorted((REPO / "cards").glob("**/images/*.svg"))
    }
    for name, spec in shipped_specs():
        svgs = render_pictures(spec)
        pictures.update(
            (f"{name}-panel{n + 1}" if len(svgs) > 1 else name, svg) for n, svg in enumerate(svgs)
        )
    pictures.update(
        (str(path.relative_to(REPO)), path.read_bytes())
        for path in sorted((REPO / "docs").glob("*.svg"))
    )
    pictures.update(
        (f"generated-{n}-{k}", svg)
        for n, spec in enumerate(_random_maps())
        for k, svg in enumerate(render_pictures(spec))
    )
    return pictures


def _random_maps(count: int = 40) -> list[BodymapSpec]:
    """Maps with random contents (seeded), so real font metrics meet crowded layouts too."""
    chance = random.Random(8)
    maps = []
    for _ in range(count):
        panels = []
        for _ in range(chance.choice((1, 1, 2, 3))):
            view = chance.choice(sorted(VIEWS))
            regions = [n for n, r in REGIONS.items() if view in r.cells]
            marks = [n for n, m in LANDMARKS.items() if view in m.points]
            muscles = [n for n, m in MUSCLES.items() if view in m.shapes]
            chosen = chance.sample(regions, chance.randint(1, 4))
            places = [LANDMARKS[m].points[view] for m in marks]
            panels.append(
                MapSpec(
                    view=view,
                    side=chance.choice(("right", "left")),
                    essential=tuple(chosen[:2]),
                    spillover=tuple(chosen[2:]),
                    trigger_points=tuple(
                        TriggerPoint(f"TrP{i + 1}", chance.choice(places))
                        for i in range(chance.randint(0, 3))
                    ),
                    landmarks=tuple(chance.sample(marks, chance.randint(0, len(marks)))),
                    muscles=tuple(chance.sample(muscles, chance.randint(0, len(muscles)))),
                    title=chance.choice((None, "Gluteus medius TrP1")),
                    label_regions=chance.random() < 0.3,
                )
            )
        maps.append(BodymapSpec(panels=tuple(panels), field="answer", location=_WHERE))
    return maps


def test_every_text_of_every_svg_fits_and_overlaps_nothing(tmp_path: Path) -> None:
    pictures = every_svg()
    holders = "".join(
        f'<div class="picture" data-name="{html.escape(name)}">'
        f"{data.decode('utf-8').removeprefix(_XML_DECLARATION)}</div>"
        for name, data in pictures.items()
    )
    dom = run_page(f"<html><body>{holders}{_MEASURE}</body></html>", folder=tmp_path)
    found = re.search(r'data-problems="([^"]*)"', dom)
    assert found is not None, "the measuring script ran"
    assert json.loads(html.unescape(found.group(1))) == []
    assert len(pictures) >= 60


# --- zones on the rasterised picture -------------------------------------------------------


def _fine_regions(view: str) -> list[str]:
    return sorted(n for n, r in REGIONS.items() if view in r.cells and n not in REGION_GROUPS)


def _adjacent_pairs(view: str) -> list[tuple[str, str]]:
    """Pairs of regions that share a border (an edge of the cell grid)."""
    atlas = VIEWS[view]

    def edges(name: str) -> set[frozenset[tuple[float, float]]]:
        found = set()
        for cell in REGIONS[name].cells[view]:
            shape = atlas.cell_shape(cell)
            found.update(frozenset(pair) for pair in zip(shape, shape[1:] + shape[:1], strict=True))
        return found

    names = _fine_regions(view)
    return [
        (a, b)
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        if not REGIONS[a].cells[view] & REGIONS[b].cells[view] and edges(a) & edges(b)
    ]


def _map(view: str, side: str, essential: tuple[str, ...], at: TriggerPoint | None) -> BodymapSpec:
    panel = MapSpec(
        view=view,
        side=side,
        essential=essential,
        spillover=(),
        trigger_points=(at,) if at else (),
        landmarks=(),
        frame="full",
    )
    return BodymapSpec(panels=(panel,), field="answer", location=_WHERE)


def _cases() -> list[tuple[str, str, tuple[str, ...]]]:
    cases: list[tuple[str, str, tuple[str, ...]]] = []
    for view in sorted(VIEWS):
        for side in ("right", "left"):
            cases.append((view, side, ()))
            cases.extend((view, side, (name,)) for name in _fine_regions(view))
        cases.extend((view, "right", pair) for pair in _adjacent_pairs(view))
    return cases


def _marker(view: str, regions: tuple[str, ...]) -> TriggerPoint:
    """A mark at the region's centre (the blank map gets the same one, so layouts match)."""
    if len(regions) == 1:
        return TriggerPoint("·", region_centre(REGIONS[regions[0]], view))
    return TriggerPoint("·", (12, 600))  # off the body, in every view


@pytest.fixture(scope="module")
def rendered(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[tuple[str, str, tuple[str, ...]], tuple[Image.Image, BodymapSpec]]:
    """Every region alone, and every pair of neighbours, in one browser screenshot."""
    folder = tmp_path_factory.mktemp("zones")
    cases = _cases()
    specs = [_map(view, side, regions, _marker(view, regions)) for view, side, regions in cases]
    size = max(_drawn(s).width for s in specs), max(_drawn(s).height for s in specs)
    columns = 12
    cells = []
    for index, spec in enumerate(specs):
        # The creases drawn over the body would cut a zone's pixels apart; hide them here.
        svg = render_bodymap(spec).replace(b".detail{", b".detail{display:none;")
        (folder / f"map{index}.svg").write_bytes(svg)
        cells.append(
            f'<div style="width:{size[0]}px;height:{size[1]}px"><img src="map{index}.svg"></div>'
        )
    rows = -(-len(cases) // columns)
    page = (
        "<html><body style='margin:0;background:#fff'>"
        f"<div style='display:grid;grid-template-columns:repeat({columns},{size[0]}px)'>"
        + "".join(cells)
        + "</div></body></html>"
    )
    image = screenshot(page, width=columns * size[0], height=rows * size[1], folder=folder)
    return {
        case: (
            image.crop(
                (
                    (i % columns) * size[0],
                    (i // columns) * size[1],
                    (i % columns + 1) * size[0],
                    (i // columns + 1) * size[1],
                )
            ),
            specs[i],
        )
        for i, case in enumerate(cases)
    }


def _where(mask: Image.Image) -> set[tuple[int, int]]:
    width = mask.width
    return {(i % width, i // width) for i, value in enumerate(mask.tobytes()) if value}


def _essential(image: Image.Image, bottom: float) -> set[tuple[int, int]]:
    """Pixels of the figure (legend excluded) in the essential colour."""
    channels = image.crop((0, 0, image.width, int(bottom))).split()
    masks = [
        channel.point(lambda v, t=target: 255 if abs(v - t) <= 30 else 0)
        for channel, target in zip(channels, ESSENTIAL_ON_SKIN, strict=True)
    ]
    return _where(ImageChops.darker(ImageChops.darker(masks[0], masks[1]), masks[2]))


def _body(image: Image.Image, bottom: float) -> set[tuple[int, int]]:
    """Pixels of the figure where anything is drawn on the picture's light paper."""
    channels = image.crop((0, 0, image.width, int(bottom))).split()
    masks = [channel.point(lambda v: 255 if v < 240 else 0) for channel in channels]
    return _where(ImageChops.lighter(ImageChops.lighter(masks[0], masks[1]), masks[2]))


@functools.cache
def _drawn(spec: BodymapSpec) -> Drawing:
    return draw(spec)


def _figure_bottom(spec: BodymapSpec) -> float:
    return next(s.box.y0 for s in _drawn(spec).shapes if s.owner.endswith("caption0"))


@pytest.mark.parametrize(
    "case", [c for c in _cases() if len(c[2]) == 1], ids=lambda c: f"{c[0]}-{c[1]}-{c[2][0]}"
)
def test_each_region_is_shaded_where_it_lies_and_inside_the_body(
    rendered: dict[tuple[str, str, tuple[str, ...]], tuple[Image.Image, BodymapSpec]],
    case: tuple[str, str, tuple[str, ...]],
) -> None:
    image, spec = rendered[case]
    bottom = _figure_bottom(spec)
    shaded = _essential(image, bottom)
    assert len(shaded) > 30, "the region is visible"
    blank_image, blank_spec = rendered[(case[0], case[1], ())]
    assert not _essential(blank_image, bottom), "an empty map shades nothing"
    body = _body(blank_image, _figure_bottom(blank_spec))
    outside = [p for p in shaded if p not in body]
    assert len(outside) <= len(shaded) * 0.02, "the shading stays inside the body outline"
    cross = next(s.box for s in _drawn(spec).shapes if s.kind == "trigger-point")
    expected = ((cross.x0 + cross.x1) / 2, (cross.y0 + cross.y1) / 2)
    mean = (sum(x for x, _ in shaded) / len(shaded), sum(y for _, y in shaded) / len(shaded))
    assert abs(mean[0] - expected[0]) < 8 and abs(mean[1] - expected[1]) < 8


def _components(pixels: set[tuple[int, int]]) -> list[int]:
    """Sizes of the 8-connected groups of pixels, largest first."""
    left, sizes = set(pixels), []
    while left:
        queue = deque([left.pop()])
        size = 1
        while queue:
            x, y = queue.popleft()
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    if (x + dx, y + dy) in left:
                        left.remove((x + dx, y + dy))
                        queue.append((x + dx, y + dy))
                        size += 1
        sizes.append(size)
    return sorted(sizes, reverse=True)


@pytest.mark.parametrize(
    "case", [c for c in _cases() if len(c[2]) == 2], ids=lambda c: f"{c[0]}-{'+'.join(c[2])}"
)
def test_neighbouring_regions_shaded_together_form_one_area(
    rendered: dict[tuple[str, str, tuple[str, ...]], tuple[Image.Image, BodymapSpec]],
    case: tuple[str, str, tuple[str, ...]],
) -> None:
    image, spec = rendered[case]
    sizes = _components(_essential(image, _figure_bottom(spec)))
    assert sum(sizes[1:]) <= 0.01 * sizes[0], sizes[:5]


@pytest.mark.parametrize(
    "spec",
    [
        _map("lateral", "right", ("buttock-lower", "lateral-thigh", "lateral-leg", "ankle"), None),
        # Its posterior panel: the band from behind (the lateral panel shows the outer foot).
        dataclasses.replace(
            (radicular := dict(shipped_specs())["referral-contrast-radicular:answer"]),
            panels=radicular.panels[:1],
        ),
    ],
    ids=["lateral-band", "shipped-radicular"],
)
def test_a_band_from_thigh_to_ankle_runs_unbroken_past_the_knee(
    tmp_path: Path, spec: BodymapSpec
) -> None:
    """Thigh and leg regions meet at the knee's joint line, so a radicular band needs no
    'knee' to stay whole."""
    (tmp_path / "band.svg").write_bytes(
        render_bodymap(spec).replace(b".detail{", b".detail{display:none;")
    )
    drawing = _drawn(spec)
    image = screenshot(
        "<html><body style='margin:0'><img src='band.svg'></body></html>",
        width=int(drawing.width),
        height=int(drawing.height),
        folder=tmp_path,
    )
    sizes = _components(_essential(image, _figure_bottom(spec)))
    assert sum(sizes[1:]) <= 0.01 * sizes[0], sizes[:5]


# --- the shipped TrP1 map ----------------------------------------------------


def _trp1_picture(tmp_path: Path) -> tuple[Image.Image, BodymapSpec]:
    spec = dict(shipped_specs())["referral-trp1-pattern:answer"]
    drawing = draw(spec)
    (tmp_path / "trp1.svg").write_bytes(drawing.svg)
    image = screenshot(
        "<html><body style='margin:0'><img src='trp1.svg'></body></html>",
        width=int(drawing.width),
        height=int(drawing.height),
        folder=tmp_path,
    )
    return image, spec


def test_the_trp1_zones_span_a_third_of_the_picture(tmp_path: Path) -> None:
    image, spec = _trp1_picture(tmp_path)

    red, green, blue = image.crop((0, 0, image.width, int(_figure_bottom(spec)))).split()
    reddish = ImageChops.darker(ImageChops.subtract(red, green), ImageChops.subtract(red, blue))
    zone = _where(
        ImageChops.darker(
            reddish.point(lambda v: 255 if v > 30 else 0),
            red.point(lambda v: 255 if v > 150 else 0),
        )
    )
    xs = [x for x, _ in zone]
    ratio = (max(xs) - min(xs) + 1) / image.width
    print(f"TrP1 pattern map: zones span {ratio:.2f} of the picture's width")
    assert ratio >= 1 / 3


# --- through the build and Anki's engine ---------------------------------------------------


REVEAL_AND_PANELS = """\
cards:
  - id: which-trp
    question: Which gluteus medius trigger point refers here?
    answer: TrP2.
    bodymap:
      view: lateral
      reveal: true
      essential: [buttock-upper, lateral-hip]
      trigger_points:
        - {label: TrP2, at: {muscle: gluteus-medius, across: 0.5, along: 0.2}}
  - id: medius-or-minimus
    question: Medius or minimus?
    answer: Compare.
    bodymap:
      panels:
        - {view: lateral, title: Gluteus medius, essential: [buttock-upper, lateral-hip]}
        - {view: lateral, title: Gluteus minimus, essential: [lateral-thigh, lateral-leg]}
"""


def test_a_reveal_pair_and_a_comparison_import_with_their_pictures(
    empty_project: Path, student: StudentCollection
) -> None:
    deck = empty_project / "cards" / "maps"
    deck.mkdir()
    (deck / "deck.yaml").write_text("name: Maps\nid: maps\n")
    (deck / "cards.yaml").write_text(REVEAL_AND_PANELS)
    result = run_deckgen("build")
    assert result.exit_code == 0, result.output
    student.import_package(empty_project / "decks/maps.apkg")
    notes = student.notes()
    reveal = notes[note_guid("maps", "which-trp")]
    question = re.findall(r'<img src="([^"]+)"', reveal["Question"])
    answer = re.findall(r'<img src="([^"]+)"', reveal["Answer"])
    assert len(question) == 1 and len(answer) == 1 and question != answer
    media = student.media_folder()
    assert b"TrP2" not in (media / question[0]).read_bytes()
    assert b">TrP2</text>" in (media / answer[0]).read_bytes()
    panels = notes[note_guid("maps", "medius-or-minimus")]
    # Panels are separate pictures of one size, so a phone can stack them.
    medius, minimus = re.findall(r'<img src="([^"]+)"', panels["Answer"])
    pictures = [(media / name).read_bytes() for name in (medius, minimus)]
    assert b">Gluteus medius</text>" in pictures[0] and b">Gluteus minimus</text>" in pictures[1]
    sizes = {defusedxml.ElementTree.fromstring(svg).get("width") for svg in pictures}
    assert len(sizes) == 1
    assert student.unresolved_images() == []
    written = run_deckgen("maps", "cards", "-o", "preview")
    assert written.output == "wrote 4 body maps to preview\n"
    assert (empty_project / "preview/maps/which-trp-answer.svg").read_bytes() == (
        media / answer[0]
    ).read_bytes()
    assert (empty_project / "preview/maps/medius-or-minimus-panel2.svg").read_bytes() == (
        pictures[1]
    )


def test_a_card_with_a_bodymap_imports_with_its_picture(
    project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_deckgen("build").exit_code == 0
    student.import_package(project / "decks/demo.apkg")
    note = student.notes()[note_guid("demo-gm", "referral-low-back")]
    assert '<div class="deckgen-bodymap"><img src="deckgen-' in note["Answer"]
    assert 'alt="Body map. posterior view, right side.' in note["Answer"]
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
