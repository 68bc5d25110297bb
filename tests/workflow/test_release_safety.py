"""`deckgen release` rehearses before it writes, reads CHANGELOG.md and deck.yaml only as
files of the deck folder, edits exactly the version and date in deck.yaml, and writes all or
nothing."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import deckgen.pipeline.atomic
from conftest import FIRST_BUILD_TIME, run_deckgen

DECK = Path("cards/demo")
DAY = 86_400


def snapshot(project: Path) -> dict[str, bytes | str]:
    """Every file (a link as its target) under the project, the build cache aside."""
    found: dict[str, bytes | str] = {}
    for path in sorted(project.rglob("*")):
        if ".deckgen-cache" in path.parts:
            continue
        if path.is_symlink():
            found[str(path.relative_to(project))] = f"-> {os.readlink(path)}"
        elif path.is_file():
            found[str(path.relative_to(project))] = path.read_bytes()
    return found


@pytest.fixture
def released(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample released as 1.0.0, the clock a day later."""
    result = run_deckgen("release", "1.0.0", "--first")
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + DAY))
    return project


def test_a_renamed_card_id_stops_the_release_and_writes_nothing(released: Path) -> None:
    anatomy = released / DECK / "anatomy.yaml"
    anatomy.write_text(anatomy.read_text().replace("id: insertion", "id: insertion-2"))
    before = snapshot(released)

    result = run_deckgen("release", "patch")

    assert result.exit_code == 1
    # How many reviews studying gives depends on the time of day (learning steps).
    assert re.sub(r"\(\d+ here\)", "(N here)", result.output).splitlines() == [
        "cards/demo/anatomy.yaml:8:5: error: card 'insertion-2' arrives as a second note beside "
        "one students already have with the same first field ('Where does gluteus medius "
        "insert?'): its identity changed (deck id or card id?); restore the old id [duplicate]",
        "cards/demo/anatomy.yaml:8:5: error: card 'insertion-2' starts from scratch: students' "
        "reviews of it (N here) stay on the old note [lost-history]",
        "cards/demo/deck.yaml:1:1: error: release stopped: the upgrade of 'Demo::Gluteus "
        "medius' from release 1.0.0 (cards/demo/releases/demo-1.0.0.apkg) would hurt "
        "students; fix each error reported here ('deckgen verify' shows them again)",
        "deckgen: stopped: 3 errors, 0 warnings; nothing was written",
    ]
    assert snapshot(released) == before


@pytest.mark.parametrize(
    ("plant", "reason"),
    [
        (lambda path: path.symlink_to("/etc/hostname"), "links outside the folder cards/demo"),
        (lambda path: path.symlink_to("/dev/zero"), "links outside the folder cards/demo"),
        (lambda path: os.mkfifo(path), "is a FIFO (named pipe), not a regular file: refused"),
        (lambda path: path.write_bytes(b"\xff\xfe notes"), "not UTF-8 text (byte 1)"),
    ],
    ids=["link-out", "dev-zero", "fifo", "not-utf8"],
)
def test_a_changelog_that_is_not_a_file_of_the_deck_is_refused(
    released: Path, plant: object, reason: str
) -> None:
    changelog = released / DECK / "CHANGELOG.md"
    changelog.unlink()
    plant(changelog)  # type: ignore[operator]
    before = snapshot(released)

    result = run_deckgen("release", "patch")

    assert result.exit_code == 1
    assert result.output.startswith("deckgen: error: cards/demo/CHANGELOG.md: ")
    assert reason in result.output and result.output.endswith("nothing was written\n")
    assert snapshot(released) == before


def test_a_quoted_description_mentioning_a_version_is_left_alone(project: Path) -> None:
    deck_yaml = project / DECK / "deck.yaml"
    text = deck_yaml.read_text().replace(
        "description: A small deck for deckgen's tests.",
        "description: \"A small deck for deckgen's tests,\n"
        "  version: 0.0.0 in its own words\n"
        'released: never, it says"  # a comment kept',
    )
    deck_yaml.write_text(text)

    result = run_deckgen("release", "1.0.0", "--first")

    assert result.exit_code == 0, result.output
    assert deck_yaml.read_text() == (
        text + 'version: 1.0.0\nreleased: 2023-11-14\nchanges: "First release: 6 notes."\n'
    )


def test_existing_values_are_replaced_in_place_quotes_and_comments_kept(
    released: Path,
) -> None:
    deck_yaml = released / DECK / "deck.yaml"
    text = deck_yaml.read_text()
    text = text.replace("version: 1.0.0\n", "version: '1.0.0'   # set by deckgen release\n")
    deck_yaml.write_text(text)

    result = run_deckgen("release", "minor")

    assert result.exit_code == 0, result.output
    assert deck_yaml.read_text() == text.replace("'1.0.0'", "'1.1.0'").replace(
        "released: 2023-11-14", "released: 2023-11-15"
    ).replace('changes: "First release: 6 notes."', 'changes: "No card changed."')


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("version: 1.0.0", "version: &v 1.0.0", "cards/demo/deck.yaml:5:1: "),
        ("version: 1.0.0", "version:\n  1.0.0", "cards/demo/deck.yaml:5:1: "),
    ],
    ids=["anchor", "next-line"],
)
def test_an_unusual_version_layout_is_refused(
    released: Path, old: str, new: str, where: str
) -> None:
    deck_yaml = released / DECK / "deck.yaml"
    deck_yaml.write_text(deck_yaml.read_text().replace(old, new))
    before = snapshot(released)

    result = run_deckgen("release", "patch")

    assert result.exit_code == 1
    assert result.output.startswith(
        f"deckgen: error: {where}cannot set the release's version and date here: 'version' is "
        "not written as one plain value on its key's line; write them as lines "
        "'version: 1.2.0' and 'released: 2026-01-31' at the top level"
    )
    assert snapshot(released) == before


def test_a_release_that_fails_half_way_leaves_nothing_written(
    released: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    anatomy = released / DECK / "anatomy.yaml"
    anatomy.write_text(anatomy.read_text().replace("Greater trochanter", "The trochanter"))
    before = snapshot(released)
    real_stage = deckgen.pipeline.atomic._stage
    staged: list[Path] = []

    def stage_then_fail_at_deck_yaml(path: Path, data: bytes) -> Path:
        if path.name == "deck.yaml":  # the last file: package, lock, record, notes are staged
            raise OSError(28, "No space left on device")
        staged.append(path)
        return real_stage(path, data)

    monkeypatch.setattr(deckgen.pipeline.atomic, "_stage", stage_then_fail_at_deck_yaml)

    result = run_deckgen("release", "patch")

    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert {path.name for path in staged} == {
        "deck.lock",
        "demo.apkg",
        "demo-1.0.1.apkg",
        "CHANGELOG.md",
    }
    assert snapshot(released) == before, "nothing stamped, rewritten or left behind"


def test_a_record_folder_linking_out_of_the_deck_is_refused(
    released: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "demo-1.0.0.apkg").write_bytes(
        (released / DECK / "releases/demo-1.0.0.apkg").read_bytes()
    )
    (released / DECK / "releases/demo-1.0.0.apkg").unlink()
    (released / DECK / "releases").rmdir()
    (released / DECK / "releases").symlink_to(outside)
    before = snapshot(released)

    for against in ([], ["--against", "decks"]):  # the record is read, or only written
        result = run_deckgen("release", "patch", *against)

        assert result.exit_code != 0
        assert "cards/demo/releases" in result.output
        assert "links outside the folder cards/demo" in result.output
        assert sorted(path.name for path in outside.iterdir()) == ["demo-1.0.0.apkg"]
        assert snapshot(released) == before
