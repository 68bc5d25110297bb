"""Retired cards: a card deleted from the sources reaches students as a retirement notice, on
the same note with its history, until a release that announced it lets it go; a card whose id
comes back is live again. No retired card's old text ever ships, whatever the lock holds."""

from __future__ import annotations

import json
import re
import sqlite3
import zipfile
from pathlib import Path

import pytest

from anki_engine import StudentCollection
from conftest import FIRST_BUILD_TIME, run_deckgen
from deckgen.anki.identity import LOCK_FORMAT, note_guid
from html_safety import executable_constructs

PACKAGE = Path("decks/demo.apkg")
DECK = Path("cards/demo")
TOP_DECK = "Demo::Gluteus medius"
RETIRED_DECK = "Demo::Gluteus medius::~ Retired - delete"
NERVE = (
    "  - id: nerve\n"
    "    type: typein\n"
    "    question: Which nerve supplies gluteus medius?\n"
    "    answer: Superior gluteal nerve\n"
)
LAYERS = (
    "  - id: layers\n"
    '    cloze: "From deep to superficial: {{c1::gluteus minimus}}, {{c2::gluteus medius}}."\n'
)
DELETE_HOW = "search <code>tag:deckgen::retired</code>"


def build_at(monkeypatch: pytest.MonkeyPatch, offset: int) -> str:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + offset))
    result = run_deckgen("build")
    assert result.exit_code == 0, result.output
    return result.output


def delete(project: Path, card: str) -> None:
    anatomy = project / DECK / "anatomy.yaml"
    assert card in anatomy.read_text()
    anatomy.write_text(anatomy.read_text().replace(card, ""))


def lock(project: Path) -> dict[str, object]:
    document: dict[str, object] = json.loads((project / DECK / "deck.lock").read_text())
    return document


def shown(student: StudentCollection, guid: str) -> list[str]:
    """Every side of every card of the note, as Anki's engine renders it (without the
    notetype's CSS, which it adds in a <style> element)."""
    note = student.notes()[guid]
    outputs = [card.render_output() for card in note.cards()]
    return [side for out in outputs for side in (out.question_text, out.answer_text)]


def test_a_deleted_card_becomes_a_notice_on_the_same_note_and_comes_back_live(
    project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_at(monkeypatch, 0)
    assert "retired" not in lock(project), "no retired section while nothing is retired"
    student.import_package(project / PACKAGE)
    student.study_everything(TOP_DECK)
    nerve = note_guid("demo-gm", "nerve")
    cards_before = student.card_ids()[nerve]
    decks_before = student.deck_names_of(student.notes()[nerve])
    reviews_before = student.review_count()

    delete(project, NERVE)
    build_at(monkeypatch, 3600)
    log = student.import_package(project / PACKAGE)

    note = student.notes()[nerve]
    assert len(log.new) == 0 and [entry.id.nid for entry in log.updated] == [note.id]
    assert note.tags == ["deckgen::retired"]
    assert student.card_ids()[nerve] == cards_before
    assert student.deck_names_of(note) == decks_before, "Anki never moves a student's cards"
    assert student.review_count() == reviews_before
    sides = shown(student, nerve)
    assert all("Retired card" in side and "in this release" in side for side in sides)
    assert any(DELETE_HOW in side for side in sides)
    assert not any("superior gluteal" in side or "Which nerve" in side for side in sides)
    retired = lock(project)["retired"]
    assert lock(project)["format"] == LOCK_FORMAT
    assert isinstance(retired, dict) and list(retired) == ["nerve"]
    assert set(retired["nerve"]) == {"announced_in", "cards", "fingerprint", "mod", "type"}
    assert retired["nerve"]["mod"] == FIRST_BUILD_TIME + 3600

    # Later builds ship it from the lock alone, unchanged: nothing to re-import.
    (project / PACKAGE).unlink()
    build_at(monkeypatch, 7200)
    assert len(student.import_package(project / PACKAGE).updated) == 0

    anatomy = project / DECK / "anatomy.yaml"
    anatomy.write_text(anatomy.read_text() + NERVE)
    build_at(monkeypatch, 10_800)
    log = student.import_package(project / PACKAGE)

    note = student.notes()[nerve]
    assert [entry.id.nid for entry in log.updated] == [note.id]
    assert sorted(note.tags) == ["anatomy", "demo"]
    assert any("Which nerve" in side for side in shown(student, nerve))
    assert student.card_ids()[nerve] == cards_before
    assert "retired" not in lock(project) and lock(project)["format"] == LOCK_FORMAT
    assert lock(project)["notes"]["nerve"]["mod"] == FIRST_BUILD_TIME + 10_800  # type: ignore[index]


def test_a_deleted_cloze_keeps_every_card_of_its_students_filled(
    project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_at(monkeypatch, 0)
    student.import_package(project / PACKAGE)
    layers = note_guid("demo-gm", "layers")
    cards_before = student.card_ids()[layers]
    assert len(cards_before) == 2

    delete(project, LAYERS)
    build_at(monkeypatch, 3600)
    student.import_package(project / PACKAGE)

    assert student.card_ids()[layers] == cards_before
    sides = shown(student, layers)
    assert len(sides) == 4 and all("Retired card" in side for side in sides)
    assert not any("minimus" in side for side in sides)
    assert lock(project)["retired"]["layers"]["cards"] == [0, 1]  # type: ignore[index]


def test_a_release_names_itself_in_the_notice(
    project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_at(monkeypatch, 0)
    # What students imported: the package before the deletion (a first release ships no
    # retired card, since no student has one).
    (project / "previous.apkg").write_bytes((project / PACKAGE).read_bytes())
    delete(project, NERVE)
    build_at(monkeypatch, 3600)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 7200))
    assert run_deckgen("release", "minor", "--against", "previous.apkg").exit_code == 0
    student.import_package(project / PACKAGE)

    nerve = note_guid("demo-gm", "nerve")
    assert all("in release 0.1.0" in side for side in shown(student, nerve))
    assert lock(project)["retired"]["nerve"]["announced_in"] == "0.1.0"  # type: ignore[index]
    assert run_deckgen("build", "--check").exit_code == 0, "the release left nothing to build"


def test_drop_retired_after_stops_shipping_cards_a_release_announced(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_at(monkeypatch, 0)
    delete(project, NERVE)
    build_at(monkeypatch, 3600)
    lock_path = project / DECK / "deck.lock"
    lock_path.write_text(
        lock_path.read_text().replace('"announced_in": null', '"announced_in": "1.1.0"')
    )
    deck_yaml = project / DECK / "deck.yaml"

    deck_yaml.write_text(deck_yaml.read_text() + "drop_retired_after: 1.0.0\n")
    build_at(monkeypatch, 7200)
    assert list(lock(project)["retired"]) == ["nerve"]  # type: ignore[call-overload]

    deck_yaml.write_text(deck_yaml.read_text().replace("1.0.0", "1.1.0"))
    output = build_at(monkeypatch, 10_800)
    assert "(5 notes, 7 cards, 3 images)" in output
    assert "retired" not in lock(project)
    assert "nerve" not in lock(project)["notes"]  # type: ignore[operator]


def test_a_card_deleted_without_the_previous_package_still_retires_unless_a_cloze(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_at(monkeypatch, 0)
    (project / PACKAGE).unlink()
    delete(project, NERVE)
    delete(project, LAYERS)

    output = build_at(monkeypatch, 3600)

    assert (
        "cards/demo/deck.yaml:1:1: warning: card 'layers' was deleted, but decks/demo.apkg does "
        "not hold its last shipped cards, so it cannot ship as retired: students keep their "
        "copy without the retirement notice (build from the previous release's package to "
        "retire it, or restore the card)"
    ) in output
    assert list(lock(project)["retired"]) == ["nerve"]  # type: ignore[call-overload]


def test_a_damaged_retired_entry_in_the_lock_is_an_error_and_writes_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_at(monkeypatch, 0)
    delete(project, NERVE)
    build_at(monkeypatch, 3600)
    lock_path = project / DECK / "deck.lock"
    lock_path.write_text(lock_path.read_text().replace('"type": "typein"', '"type": "essay"'))
    damaged = lock_path.read_bytes()
    package = (project / PACKAGE).read_bytes()

    result = run_deckgen("build")

    assert result.exit_code == 1
    assert result.output.startswith(
        "cards/demo/deck.lock: error: lock file is damaged: retired card 'nerve' does not fit a "
        "deckgen notetype (type 'essay'); restore it from version control\n"
    )
    assert lock_path.read_bytes() == damaged and (project / PACKAGE).read_bytes() == package


HOSTILE_FIELDS = [
    '<script>alert(1)</script>Which <img src=x onerror="alert(2)">?',
    '<a href="javascript:alert(3)">superior gluteal</a>',
    '<iframe srcdoc="&lt;script&gt;alert(4)&lt;/script&gt;"></iframe>',
    "bell \x07 and unit separator \x1f",
]


def old_style_lock(project: Path, entries: dict[str, dict[str, object]]) -> None:
    """A lock as deckgen wrote it before notices (format 1, retired cards' old text in it),
    here with text a hostile pull request put there."""
    path = project / DECK / "deck.lock"
    document = json.loads(path.read_text())
    document["retired"] = entries
    path.write_text(json.dumps(document, indent=2))


def legacy_entry(kind: str, fields: list[str], deck: str = TOP_DECK) -> dict[str, object]:
    return {
        "announced_in": None,
        "deck": deck,
        "fields": fields,
        "mod": FIRST_BUILD_TIME,
        "tags": ["x", "deckgen::retired"],
        "type": kind,
    }


def test_hostile_text_in_an_old_lock_never_ships_and_anki_imports_only_notices(
    project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_at(monkeypatch, 0)
    deep = "::".join(["a"] * 40)
    old_style_lock(
        project,
        {
            "gone-basic": legacy_entry("basic", HOSTILE_FIELDS),
            "gone-cloze": legacy_entry(
                "cloze", ["{{c1::<script>x</script>}} {{c3::y}}", "", ""], deck=deep
            ),
        },
    )

    output = build_at(monkeypatch, 3600)

    assert "\x07" not in output and "\x1f" not in output
    with zipfile.ZipFile(project / PACKAGE) as archive:
        collection = archive.read("collection.anki2")
    for needle in (
        b"alert",
        b"<script",
        b"onerror",
        b"javascript:",
        b"srcdoc",
        deep.encode(),
    ):
        assert needle not in collection
    student.import_package(project / PACKAGE)
    for card_id, card_count in (("gone-basic", 1), ("gone-cloze", 2)):
        note = student.notes()[note_guid("demo-gm", card_id)]
        assert len(note.cards()) == card_count
        assert student.deck_names_of(note) == [RETIRED_DECK] * card_count
        for side in shown(student, note.guid):
            assert "Retired card" in side
            assert executable_constructs(side) == []
    assert all(
        set(entry) == {"announced_in", "cards", "fingerprint", "mod", "type"}
        for entry in lock(project)["retired"].values()  # type: ignore[attr-defined]
    ), "the rewritten lock keeps none of the old text"


@pytest.mark.parametrize(
    ("card_id", "entry", "message"),
    [
        (
            "evil\x1b[2J\u202eid",
            legacy_entry("basic", ["q", "a", "", ""]),
            "a retired card's id 'evil\\x1b[2J\\u202eid' is not a card id",
        ),
        ("gone", legacy_entry("basic", ["q", "a"]), "has other fields than deckgen's basic"),
        (
            "gone",
            {"announced_in": None, "cards": [0, 600], "fingerprint": "", "mod": 1, "type": "cloze"},
            "retired card 'gone' lists cards Anki cannot have made",
        ),
        (
            "gone",
            {
                "announced_in": "9" * 5000,
                "cards": [0],
                "fingerprint": "",
                "mod": 1,
                "type": "basic",
            },
            "retired card 'gone' names a release that is no version X.Y.Z",
        ),
        (
            "gone",
            {"announced_in": None, "cards": "0", "fingerprint": "", "mod": 1, "type": "basic"},
            "lock file is damaged (a retired card's cards are not a list of numbers)",
        ),
    ],
)
def test_a_retired_entry_deckgen_never_wrote_is_an_error_naming_the_lock(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    card_id: str,
    entry: dict[str, object],
    message: str,
) -> None:
    build_at(monkeypatch, 0)
    old_style_lock(project, {card_id: entry})
    lock_bytes = (project / DECK / "deck.lock").read_bytes()
    package = (project / PACKAGE).read_bytes()

    result = run_deckgen("build")

    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "\x1b" not in result.output
    assert result.output.startswith("cards/demo/deck.lock: error: ")
    assert message in result.output
    assert (project / DECK / "deck.lock").read_bytes() == lock_bytes
    assert (project / PACKAGE).read_bytes() == package


def test_the_preview_shows_a_retired_card_as_retired(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_at(monkeypatch, 0)
    delete(project, NERVE)
    build_at(monkeypatch, 3600)

    result = run_deckgen("preview", "-o", "preview")

    assert result.exit_code == 0, result.output
    assert "(5 notes, 7 cards; 1 retired note, 1 card, 3 images)" in result.output
    page = (project / "preview/index.html").read_text()
    retired = re.findall(r'<article class="dg-card dg-retired" data-card-id="([^"]+)"', page)
    assert retired == ["nerve"]
    assert page.count('<span class="dg-retired-badge">Retired</span>') == 1
    assert page.count('<article class="dg-card"') == 7


def test_hostile_text_in_the_previous_package_never_ships(
    project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_at(monkeypatch, 0)
    package = project / PACKAGE
    with zipfile.ZipFile(package) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    database = project / "collection.db"
    database.write_bytes(members["collection.anki2"])
    connection = sqlite3.connect(database)
    connection.execute(
        "UPDATE notes SET flds = ? WHERE guid = ?",
        (
            '<script>alert(1)</script>{{c1::<img src=x onerror="alert(2)">}}\x1f\x1f',
            note_guid("demo-gm", "layers"),
        ),
    )
    connection.commit()
    connection.close()
    members["collection.anki2"] = database.read_bytes()
    with zipfile.ZipFile(package, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    delete(project, LAYERS)

    build_at(monkeypatch, 3600)

    with zipfile.ZipFile(package) as archive:
        collection = archive.read("collection.anki2")
    assert b"alert" not in collection and b"onerror" not in collection
    student.import_package(package)
    sides = shown(student, note_guid("demo-gm", "layers"))
    assert len(sides) == 4 and all("Retired card" in side for side in sides)
    assert all(executable_constructs(side) == [] for side in sides)


def test_an_unreadable_previous_package_is_an_error_naming_it_when_a_cloze_retires(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_at(monkeypatch, 0)
    with zipfile.ZipFile(project / PACKAGE, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("collection.anki2", b"\0" * (40 * 1024 * 1024))
    delete(project, LAYERS)
    lock_before = (project / DECK / "deck.lock").read_bytes()

    result = run_deckgen("build")

    assert result.exit_code == 1, result.output
    assert (
        result.output.startswith(
            "decks/demo.apkg: error: decks/demo.apkg inflates past deckgen's bound"
        )
        or "refused as a possible zip bomb" in result.output
    )
    assert "decks/demo.apkg" in result.output and "Traceback" not in result.output
    assert "restore the previous release's package" in result.output
    assert (project / DECK / "deck.lock").read_bytes() == lock_before
