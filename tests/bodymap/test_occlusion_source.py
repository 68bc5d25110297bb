"""Occlusion cards as authors write them: `check` explains every mistake at its place, and
stats, changelog and the Occlusion field's text say what the cards are."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIRST_BUILD_TIME, run_deckgen
from deckgen.anki.occlusion import card_keys, occlusion_field, read_occlusion_field
from deckgen.bodymap.occlusion import Mask, MaskGroup
from deckgen.diagnostics import Location, Report
from deckgen.pipeline.build import compile_project
from deckgen.pipeline.filestage import compile_file
from helpers import REPO

MAP = """\
    bodymap:
      view: posterior
      muscles: [gluteus-medius]
      landmarks: [psis, iliac-crest, sacrum]
"""


def check(project: Path, cards: str, deck: str = "name: IO\nid: io\n") -> list[str]:
    folder = project / "cards" / "io"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "deck.yaml").write_text(deck)
    (folder / "cards.yaml").write_text("source: S\ncards:\n" + cards)
    (folder / "pic.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300"></svg>\n'
    )
    result = run_deckgen("check", "cards")
    return result.stderr.splitlines()


@pytest.mark.parametrize(
    ("cards", "expected"),
    [
        (
            f"  - id: a\n    type: occlusion\n{MAP}    hide:\n      landmarks: [psiss]\n",
            "cards/io/cards.yaml:10:19: error: unknown landmark 'psiss' on this map (did you mean "
            "'psis'?); the map draws: psis, iliac-crest, sacrum",
        ),
        (
            f"  - id: a\n    type: occlusion\n{MAP}    hide:\n      trigger_points: all\n",
            "cards/io/cards.yaml:10:23: error: the map draws no trigger points",
        ),
        (
            f"  - id: a\n    type: occlusion\n{MAP}    hide:\n      zones: [sacrum]\n",
            "cards/io/cards.yaml:10:15: error: unknown zone 'sacrum' on this map; the map draws: "
            "none; zones are named only with 'label_regions: true'",
        ),
        (
            f"  - id: a\n    type: occlusion\n{MAP}    hide:\n      landmarks: [[], psis]\n",
            "cards/io/cards.yaml:10:19: error: an empty group hides nothing: name what to hide",
        ),
        (
            f"  - id: a\n    type: occlusion\n{MAP}    hide:\n      landmark: all\n",
            "cards/io/cards.yaml:10:7: error: unknown key 'landmark' in 'hide' (did you mean "
            "'landmarks'?); allowed: landmarks, muscles, trigger_points, zones",
        ),
        (
            f"  - id: a\n    type: occlusion\n{MAP}    hide:\n      landmarks: [psis, psis]\n",
            "cards/io/cards.yaml:10:25: error: landmark 'psis' is already hidden at "
            "cards/io/cards.yaml:10:19: hide each label once",
        ),
        (
            "  - id: a\n    type: occlusion\n    image: pic.svg\n    masks:\n"
            "      - rect: {left: 0.8, top: 0.1, width: 0.3, height: 0.1}\n",
            "cards/io/cards.yaml:7:15: error: the rect runs off the image (it reaches 1.1 of "
            "the image; 1 is the right or bottom edge): move or shrink it",
        ),
        (
            "  - id: a\n    type: occlusion\n    image: pic.svg\n    masks:\n"
            "      - ellipse: {left: 0.5, top: 0.5, rx: 0.1, ry: 2}\n",
            "cards/io/cards.yaml:7:53: error: 'ry' must be a number from 0 to 1 (a fraction of "
            "the image), not the text '2'",
        ),
        (
            "  - id: a\n    type: occlusion\n    image: pic.svg\n    masks:\n      - group: []\n",
            "cards/io/cards.yaml:7:16: error: an empty group hides nothing: list its shapes, e.g. "
            "group: [{rect: {...}}, {ellipse: {...}}]",
        ),
        (
            "  - id: a\n    type: occlusion\n    image: pic.svg\n    masks:\n"
            "      - circle: {left: 0.5}\n",
            "cards/io/cards.yaml:7:9: error: unknown mask shape 'circle'; shapes are rect, "
            "ellipse, polygon",
        ),
        (
            "  - id: a\n    type: occlusion\n    image: pic.svg\n    masks:\n"
            "      - polygon: [[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]]\n",
            "cards/io/cards.yaml:7:18: error: the polygon has no area: its points lie on one line",
        ),
        (
            "  - id: a\n    type: occlusion\n    image: pic.svg\n    hide: {landmarks: all}\n",
            "cards/io/cards.yaml:6:11: error: 'hide' names labels of a body map; on your own "
            "image give 'masks:' as fractions of the image",
        ),
        (
            "  - id: a\n    type: occlusion\n    mode: hide-some\n    image: pic.svg\n"
            "    masks: [{rect: {left: 0, top: 0, width: 0.5, height: 0.5}}]\n",
            "cards/io/cards.yaml:5:11: error: 'mode' must be hide-one or hide-all, not the text "
            "'hide-some' (did you mean 'hide-one'?)",
        ),
        (
            "  - id: a\n    type: occlusion\n    question: Q\n    image: pic.svg\n"
            "    masks: [{rect: {left: 0, top: 0, width: 0.5, height: 0.5}}]\n",
            "cards/io/cards.yaml:5:15: error: card 'a' is an occlusion card and takes no "
            "'question': the picture is the question; put text in 'header' (above it) or "
            "'extra' (below the answer)",
        ),
        (
            "  - id: a\n    type: occlusion\n    header: H\n",
            "cards/io/cards.yaml:3:5: error: card 'a' is an occlusion card: give it either a "
            "'bodymap' (deckgen draws it and masks what 'hide' names) or an 'image' with 'masks'",
        ),
        (
            "  - id: a\n    question: Q\n    answer: A\n    hide: {landmarks: all}\n",
            "cards/io/cards.yaml:6:11: error: 'hide' belongs to occlusion cards: add 'type: "
            "occlusion' to card 'a'",
        ),
        (
            f"  - id: a\n    type: occlusion\n{MAP}      reveal: true\n"
            "    hide: {landmarks: all}\n",
            "cards/io/cards.yaml:9:15: error: an occlusion card hides its own labels: drop "
            "'reveal' (the masks do that)",
        ),
    ],
)
def test_check_explains_each_mistake_at_its_place(
    empty_project: Path, cards: str, expected: str
) -> None:
    problems = check(empty_project, cards)
    assert expected in problems, problems


def test_deck_mask_colours_are_checked(empty_project: Path) -> None:
    card = "  - id: a\n    type: occlusion\n    image: pic.svg\n    masks: [{rect: {left: 0, top: 0, width: 0.5, height: 0.5}}]\n"  # noqa: E501
    problems = check(empty_project, card, "name: IO\nid: io\nmask_colours: {guess: red}\n")
    assert (
        "cards/io/deck.yaml:3:23: error: 'guess' must be a colour written #rrggbb in quotes "
        "(YAML reads # as a comment), e.g. guess: '#0072b2', not the text 'red'"
    ) in problems


def test_the_occlusion_field_reads_back_as_written() -> None:
    here = Location(Path("x.yaml"), 1, 1)
    groups = (
        MaskGroup("a", (Mask("rect", 0.1, 0.25, 0.3, 0.05),), here),
        MaskGroup(
            "b",
            (
                Mask("ellipse", 0.5, 0.5, rx=0.1, ry=0.12345),
                Mask("polygon", 0.1, 0.2, points=((0.1, 0.2), (0.3, 0.4), (0.2, 0.6))),
            ),
            here,
        ),
    )
    text = occlusion_field(groups, hide_all=True)
    assert text.split("<br>")[:2] == [
        "{{c1::image-occlusion:rect:left=0.1:top=0.25:width=0.3:height=0.05:oi=1}}",
        "{{c2::image-occlusion:ellipse:left=0.5:top=0.5:rx=0.1:ry=0.1235:oi=1}}",
    ]
    assert read_occlusion_field(text) == {
        1: [Mask("rect", 0.1, 0.25, 0.3, 0.05)],
        2: [
            Mask("ellipse", 0.5, 0.5, rx=0.1, ry=0.1235),
            Mask("polygon", 0.1, 0.2, points=((0.1, 0.2), (0.3, 0.4), (0.2, 0.6))),
        ],
    }


def test_stats_and_changelog_name_occlusion_cards(
    empty_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cards = (
        "  - id: photo\n    type: occlusion\n    header: Name the bone\n    image: pic.svg\n"
        "    masks:\n      - rect: {left: 0.1, top: 0.1, width: 0.3, height: 0.2}\n"
        "      - rect: {left: 0.5, top: 0.5, width: 0.3, height: 0.2}\n"
    )
    assert not check(empty_project, cards)
    assert run_deckgen("build").exit_code == 0
    stats = run_deckgen("stats", "cards").stdout
    assert "image occlusion: 1 notes, 2 cards, 2 masks" in stats
    assert "  occlusion      1      2" in stats

    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 60))
    (empty_project / "cards/io/cards.yaml").write_text(
        (empty_project / "cards/io/cards.yaml")
        .read_text()
        .replace("left: 0.5, top: 0.5", "left: 0.6, top: 0.5")
        + "      - rect: {left: 0.1, top: 0.7, width: 0.3, height: 0.2}\n"
    )
    changelog = run_deckgen("changelog", "cards", "--against", "decks").stdout
    assert (
        "- `photo`: image occlusion, 3 cards: Name the bone\n"
        "  - Occlusion: new masks for card 3; moved masks for card 2\n"
    ) in changelog


def test_an_author_label_cannot_break_out_of_its_mask(empty_project: Path) -> None:
    label = "T}}<b>:\\\\x"
    cards = (
        "  - id: a\n    type: occlusion\n    bodymap:\n      view: posterior\n"
        "      muscles: [gluteus-medius]\n      trigger_points:\n"
        f"        - {{label: '{label}', at: psis}}\n"
        "    hide: {trigger_points: all}\n"
    )
    assert not check(empty_project, cards)
    assert run_deckgen("build").exit_code == 0
    (deck,) = compile_project(
        empty_project / "cards", now=FIRST_BUILD_TIME, report=Report(), packages_dir=Path("decks")
    )
    (note,) = deck.notes
    field = note.fields[0]
    assert field.count("{{") == field.count("}}") == 1 and "<b>" not in field
    assert card_keys(field) == {1: "trigger_points.T%7D%7D%3Cb%3E%3A%5C%5Cx"}
    assert len(note.card_ords) == 1


def test_the_documented_example_builds_into_one_card_per_trigger_point(
    empty_project: Path,
) -> None:
    page = (REPO / "docs/occlusion.md").read_text(encoding="utf-8")
    after_marker = page.split("<!-- occlusion-example -->", 1)[1]
    example = after_marker.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert "(occlusion.png)" in after_marker.split("\n#", 1)[0]
    folder = empty_project / "cards" / "example"
    folder.mkdir()
    (folder / "deck.yaml").write_text("name: Example\nid: example\n")
    (folder / "cards.yaml").write_text("cards:\n" + example)
    result = run_deckgen("build", "cards")
    assert result.exit_code == 0, result.output
    assert "(1 note, 3 cards, 1 image)" in result.output


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-5, max_value=5),
    st.sampled_from(["all", "psis", "sacrum", "TrP1", "rect", "hide-all", "0.5", "}}", ":"]),
    st.text(max_size=8),
)
_KEYS = ["landmarks", "trigger_points", "muscles", "zones", "rect", "ellipse", "polygon",
         "group", "left", "top", "width", "height", "rx", "ry"]  # fmt: skip
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(_KEYS), inner, max_size=4),
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hide=_VALUES, masks=_VALUES, mode=_SCALARS, own_image=st.booleans())
def test_any_occlusion_keys_give_cards_or_located_errors_never_a_crash(
    tmp_path_factory: pytest.TempPathFactory,
    hide: object,
    masks: object,
    mode: object,
    own_image: bool,
) -> None:
    folder = tmp_path_factory.mktemp("deck")
    (folder / "pic.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"></svg>\n'
    )
    card: dict[str, object] = {"id": "a", "type": "occlusion", "mode": mode}
    if own_image:
        card |= {"image": "pic.svg", "masks": masks}
    else:
        card |= {
            "bodymap": {"view": "posterior", "muscles": ["gluteus-medius"],
                        "landmarks": ["psis", "sacrum"],
                        "trigger_points": [{"label": "TrP1", "at": "psis"}]},
            "hide": hide,
        }  # fmt: skip
    path = folder / "cards.yaml"
    path.write_text(yaml.safe_dump({"source": "S", "cards": [card]}))

    compiled = compile_file(path, deck_folder=folder, deck_tags=())

    errors = [d for d in compiled.diagnostics if d.severity.value == "error"]
    assert all(d.location.path == path and d.location.line for d in errors)
    for rendered in compiled.cards:
        assert not errors
        assert rendered.card_ords and rendered.fields[0].count("{{") == rendered.fields[0].count(
            "}}"
        )
