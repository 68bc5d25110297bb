"""Image occlusion cards through Anki's own engine: recognised as Anki's image occlusion, one
card per mask group, masks where the hidden labels are drawn, re-imports in place."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from anki_engine import StudentCollection
from conftest import FIRST_BUILD_TIME, run_deckgen
from deckgen.anki import occlusion
from deckgen.anki.identity import note_guid
from deckgen.anki.notetypes import NOTETYPES
from deckgen.bodymap.draw import draw
from deckgen.bodymap.spec import parse_bodymap
from deckgen.diagnostics import Report
from deckgen.pipeline.build import compile_project
from deckgen.source.yamlsource import load_yaml
from deckgen.values import CardKind
from helpers import REPO, write_deck_folder

DECK = Path("cards/io")
PACKAGE = Path("decks/io.apkg")
HIDDEN = ["psis", "iliac-crest", "sacrum", "greater-trochanter"]
BODYMAP = """\
    bodymap:
      view: posterior
      muscles: [gluteus-medius]
      landmarks: [psis, iliac-crest, sacrum, greater-trochanter]
"""
CARDS = f"""\
source: Gray's Anatomy, 42nd ed., 2020, gluteal region
cards:
  - id: landmarks
    type: occlusion
    header: Name the hidden landmark
{BODYMAP}    hide:
      landmarks: all
    extra: Palpate them in order.
  - id: photo
    type: occlusion
    image: pelvis.svg
    mode: hide-all
    masks:
      - rect: {{left: 0.1, top: 0.1, width: 0.3, height: 0.2}}
      - group:
          - ellipse: {{left: 0.5, top: 0.5, rx: 0.1, ry: 0.1}}
          - polygon: [[0.1, 0.6], [0.3, 0.6], [0.2, 0.9]]
"""
PICTURE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300" viewBox="0 0 400 300">'
    '<rect width="400" height="300" fill="#eeeeee"/></svg>\n'
)
_ACTIVE = re.compile(r'<div class="cloze" data-ordinal="(\d+)" ([^>]*)>')
_DATA = re.compile(r'data-([A-Za-z]+)="([^"]*)"')


def write_deck(project: Path, cards: str = CARDS) -> None:
    files = {"cards.yaml": cards, "pelvis.svg": PICTURE}
    write_deck_folder(project, files, folder=DECK.name, deck_yaml="name: IO\nid: io-test\n")


def build(project: Path, monkeypatch: pytest.MonkeyPatch, *, at: int) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(at))
    result = run_deckgen("build")
    assert result.exit_code == 0, result.output


def active_masks(question: str) -> list[dict[str, str]]:
    """The masks a card asks about, as Anki's engine rendered them for its reviewer (with
    their cloze number as 'ordinal')."""
    return [
        {"ordinal": ordinal, **dict(_DATA.findall(data))}
        for ordinal, data in _ACTIVE.findall(question)
    ]


def label_boxes(bodymap: str = BODYMAP) -> dict[str, tuple[float, float, float, float]]:
    """Each landmark label's box on the test map, as fractions of the picture."""
    report = Report()
    source = Path("map.yaml")
    source.write_text(bodymap.replace("    bodymap:\n", "").replace("      ", ""))
    node = load_yaml(source, report)
    assert node is not None
    spec = parse_bodymap(node, fields=("image",), default_field="image", report=report)
    assert spec is not None and not report.diagnostics
    drawing = draw(spec)
    return {
        shape.owner.split("landmark-")[1]: (
            shape.box.x0 / drawing.width,
            shape.box.y0 / drawing.height,
            shape.box.x1 / drawing.width,
            shape.box.y1 / drawing.height,
        )
        for shape in drawing.shapes
        if shape.kind == "label" and "landmark-" in shape.owner
    }


def test_the_notetype_is_anki_image_occlusion_with_stock_templates(
    empty_project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_deck(empty_project)
    build(empty_project, monkeypatch, at=FIRST_BUILD_TIME)
    student.import_package(empty_project / PACKAGE)

    notes = student.notes()
    note = notes[note_guid("io-test", "landmarks")]
    response = student.col.get_image_occlusion_note(note.id)
    assert response.WhichOneof("value") == "note", response
    io_note = response.note
    assert sorted(occlusion.ordinal for occlusion in io_note.occlusions) == [1, 2, 3, 4]
    assert io_note.header == "Name the hidden landmark"
    assert io_note.back_extra.startswith("Palpate them in order.")
    assert "Gray" in io_note.back_extra
    assert not io_note.occlude_inactive
    photo = student.col.get_image_occlusion_note(notes[note_guid("io-test", "photo")].id).note
    assert photo.occlude_inactive
    groups = sorted(photo.occlusions, key=lambda group: group.ordinal)  # Anki's order varies
    assert [len(group.shapes) for group in groups] == [1, 2]
    assert [shape.shape for group in groups for shape in group.shapes] == [
        "rect",
        "ellipse",
        "polygon",
    ]
    # Its own name, no "+" copy; the templates are the stock ones a new collection holds.
    names = student.notetype_names()
    assert "deckgen Image Occlusion" in names and not any(name.endswith("+") for name in names)
    stock = student.col.models.by_name("Image Occlusion")
    assert stock is not None and stock["originalStockKind"] == occlusion.ORIGINAL_STOCK_KIND
    ours = note.note_type()
    assert ours is not None
    assert ours["originalStockKind"] == occlusion.ORIGINAL_STOCK_KIND
    assert [field["tag"] for field in ours["flds"]] == [0, 1, 2, 3, 4]
    assert [field["name"] for field in ours["flds"]] == [f["name"] for f in stock["flds"]]
    assert ours["tmpls"][0]["qfmt"] == stock["tmpls"][0]["qfmt"]
    assert ours["tmpls"][0]["afmt"] == stock["tmpls"][0]["afmt"]
    assert ours["id"] == NOTETYPES[CardKind.OCCLUSION].id


def test_one_card_per_mask_group_each_masking_the_label_it_hides(
    empty_project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_deck(empty_project)
    build(empty_project, monkeypatch, at=FIRST_BUILD_TIME)
    student.import_package(empty_project / PACKAGE)
    notes = student.notes()
    boxes = label_boxes()

    landmarks = notes[note_guid("io-test", "landmarks")]
    cards = sorted(landmarks.cards(), key=lambda card: card.ord)
    assert len(cards) == len(HIDDEN)
    for card, name in zip(cards, HIDDEN, strict=True):
        (mask,) = active_masks(card.render_output().question_text)
        assert mask["shape"] == "rect" and mask["ordinal"] == str(card.ord + 1)
        left, top = float(mask["left"]), float(mask["top"])
        right, bottom = left + float(mask["width"]), top + float(mask["height"])
        x0, y0, x1, y1 = boxes[name]
        # Covers its own label whole, at most four decimals rounding outwards ...
        assert left <= x0 and top <= y0 and right >= x1 and bottom >= y1, (name, mask)
        assert bottom - top <= (y1 - y0) + 0.0002
        # ... and no other label.
        for other, (a0, b0, a1, b1) in boxes.items():
            if other != name:
                assert a1 <= left or a0 >= right or b1 <= top or b0 >= bottom, (name, other)
    photo = notes[note_guid("io-test", "photo")]
    assert len(photo.cards()) == 2
    shapes = [
        [mask["shape"] for mask in active_masks(card.render_output().question_text)]
        for card in sorted(photo.cards(), key=lambda card: card.ord)
    ]
    assert shapes == [["rect"], ["ellipse", "polygon"]]
    first = active_masks(sorted(photo.cards(), key=lambda c: c.ord)[0].question())[0]
    assert (first["left"], first["top"], first["width"], first["height"]) == (
        "0.1",
        "0.1",
        "0.3",
        "0.2",
    )
    assert first["occludeInactive"] == "1"


def test_moving_a_mask_updates_in_place_and_adding_one_adds_one_card(
    empty_project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_deck(empty_project)
    build(empty_project, monkeypatch, at=FIRST_BUILD_TIME)
    student.import_package(empty_project / PACKAGE)
    answers = student.study_everything("IO")
    assert answers >= 6
    before = student.card_ids()
    reviewed = student.reviewed_cards()
    guid = note_guid("io-test", "photo")

    moved = CARDS.replace("{left: 0.1, top: 0.1, width: 0.3", "{left: 0.2, top: 0.1, width: 0.3")
    write_deck(empty_project, moved)
    build(empty_project, monkeypatch, at=FIRST_BUILD_TIME + 3600)
    log = student.import_package(empty_project / PACKAGE)

    assert len(log.updated) == 1 and not log.new and not log.conflicting
    assert student.card_ids() == before
    assert student.reviewed_cards() == reviewed
    assert student.review_count() == answers
    field = student.notes()[guid]["Occlusion"]
    assert "image-occlusion:rect:left=0.2:top=0.1:width=0.3:height=0.2:oi=1" in field

    added = moved.replace(
        "          - polygon: [[0.1, 0.6], [0.3, 0.6], [0.2, 0.9]]\n",
        "          - polygon: [[0.1, 0.6], [0.3, 0.6], [0.2, 0.9]]\n"
        "      - rect: {left: 0.6, top: 0.1, width: 0.2, height: 0.2}\n",
    )
    write_deck(empty_project, added)
    build(empty_project, monkeypatch, at=FIRST_BUILD_TIME + 7200)
    log = student.import_package(empty_project / PACKAGE)

    assert len(log.updated) == 1 and not log.new
    after = student.card_ids()
    assert len(after[guid]) == len(before[guid]) + 1
    assert set(before[guid]) < set(after[guid])
    assert {g: ids for g, ids in after.items() if g != guid} == {
        g: ids for g, ids in before.items() if g != guid
    }
    assert student.review_count() == answers


def test_verify_rehearses_an_occlusion_upgrade(
    empty_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_deck(empty_project)
    build(empty_project, monkeypatch, at=FIRST_BUILD_TIME)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 86_400))
    write_deck(
        empty_project,
        CARDS.replace("{left: 0.1, top: 0.1, width: 0.3", "{left: 0.2, top: 0.1, width: 0.3"),
    )

    result = run_deckgen("verify", "--against", "decks")  # the build students have

    assert result.exit_code == 0, result.output
    assert "1 updated, 1 unchanged" in result.output


def test_the_shipped_deck_teaches_landmarks_and_trigger_points_by_occlusion() -> None:
    """Landmarks on both views and the three trigger points; no muscles: Anki paints the
    other masks over the asked one, and the gluteal muscles overlap from behind."""
    repo = REPO
    report = Report()
    (deck,) = compile_project(
        repo / "cards", now=FIRST_BUILD_TIME, report=report, packages_dir=repo / "decks"
    )
    assert not report.error_count
    hidden: dict[str, set[str]] = {}
    for card, note in deck.written_cards():
        if card.occlusion is None:
            continue
        assert card.bodymap is not None and card.source is not None
        assert re.search(r"\b(19|20)\d\d\b", card.source.markdown), card.id
        assert len(note.card_ords) == len(card.occlusion.hide)
        for panel in card.bodymap.panels:
            for group in card.occlusion.hide:
                hidden.setdefault(f"{panel.view}:{group.kind}", set()).update(group.names)
    palpated = {"psis", "iliac-crest", "greater-trochanter"}
    assert palpated | {"sacrum"} <= hidden["posterior:landmarks"]
    assert palpated | {"asis"} <= hidden["lateral:landmarks"]
    assert "posterior:muscles" not in hidden
    assert hidden["posterior:trigger_points"] == {"TrP1", "TrP2", "TrP3"}


def masked_label(question: str, boxes: dict[str, tuple[float, float, float, float]]) -> str:
    """The one label whose box the card's own mask covers."""
    (mask,) = active_masks(question)
    left, top = float(mask["left"]), float(mask["top"])
    right, bottom = left + float(mask["width"]), top + float(mask["height"])
    (name,) = [
        name
        for name, (x0, y0, x1, y1) in boxes.items()
        if left <= x0 and top <= y0 and right >= x1 and bottom >= y1
    ]
    return name


def test_a_label_added_before_the_others_leaves_every_card_on_its_label(
    empty_project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_deck(empty_project)
    build(empty_project, monkeypatch, at=FIRST_BUILD_TIME)
    student.import_package(empty_project / PACKAGE)
    answers = student.study_everything("IO")
    note = student.notes()[note_guid("io-test", "landmarks")]
    before = {card.id: masked_label(card.question(), label_boxes()) for card in note.cards()}
    assert sorted(before.values()) == sorted(HIDDEN)

    # A landmark added first in the map's list, and the hidden ones listed in another order.
    bodymap = BODYMAP.replace("[psis, iliac-crest,", "[coccyx, sacrum, psis, iliac-crest,")
    bodymap = bodymap.replace("sacrum, greater-trochanter]", "greater-trochanter]")
    write_deck(empty_project, CARDS.replace(BODYMAP, bodymap))
    build(empty_project, monkeypatch, at=FIRST_BUILD_TIME + 3600)
    log = student.import_package(empty_project / PACKAGE)

    assert len(log.updated) == 1 and not log.new
    note = student.notes()[note_guid("io-test", "landmarks")]
    after = {card.id: masked_label(card.question(), label_boxes(bodymap)) for card in note.cards()}
    assert len(after) == len(before) + 1
    assert {card_id: after[card_id] for card_id in before} == before  # each on its label
    (added,) = set(after) - set(before)
    assert after[added] == "coccyx"
    assert student.review_count() == answers
    assert added not in student.reviewed_cards()
