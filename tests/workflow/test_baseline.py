"""The baseline of verify, changelog and release is the last *release*, recorded by `deckgen
release` in the deck folder: never whatever build last wrote decks/, never "nothing" by
accident. Each case runs the real commands; verify and release rehearse through Anki's engine.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from anki_engine import StudentCollection
from conftest import FIRST_BUILD_TIME, run_deckgen
from helpers import REPO

DECK = Path("cards/demo")
PACKAGE = Path("decks/demo.apkg")
RECORD = DECK / "releases/demo-1.0.0.apkg"
DAY = 86_400


def at_day(monkeypatch: pytest.MonkeyPatch, day: int) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + day * DAY))


def ok(*args: str) -> str:
    result = run_deckgen(*args)
    assert result.exit_code == 0, result.output
    return result.output


def edit_an_answer(project: Path) -> None:
    anatomy = project / DECK / "anatomy.yaml"
    text = anatomy.read_text()
    assert "Greater trochanter of the femur." in text
    anatomy.write_text(text.replace("Greater trochanter of the femur.", "The greater trochanter."))


def snapshot(project: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(project)): path.read_bytes()
        for path in sorted(project.rglob("*"))
        if path.is_file() and ".deckgen-cache" not in path.parts
    }


def test_after_builds_every_command_compares_with_the_last_release(
    project: Path, monkeypatch: pytest.MonkeyPatch, student: StudentCollection
) -> None:
    ok("release", "1.0.0", "--first")
    assert (project / RECORD).read_bytes() == (project / PACKAGE).read_bytes()
    student.import_package(project / RECORD)
    edit_an_answer(project)
    at_day(monkeypatch, 1)
    ok("build")  # decks/ now holds the edit: it is no longer what students have
    ok("build")

    changelog = ok("changelog")
    verify = ok("verify")

    assert changelog.startswith(
        "## Demo::Gluteus medius: changes since release 1.0.0 "
        "(cards/demo/releases/demo-1.0.0.apkg)\n\n"
        "### Answers changed: relearn these\n\n- `insertion`: "
    )
    assert "1 updated, 5 unchanged" in verify.splitlines()[0]
    at_day(monkeypatch, 2)
    released = ok("release", "patch")
    assert "upgrade from release 1.0.0" in released and "1 updated" in released
    notes = (project / DECK / "CHANGELOG.md").read_text()
    assert (
        "## Demo::Gluteus medius 1.0.1 (2023-11-16)\n\n"
        "### Answers changed: relearn these\n\n- `insertion`" in notes
    )
    # The record moved on: 1.0.1 replaces 1.0.0, and is what students import.
    assert sorted(path.name for path in (project / DECK / "releases").iterdir()) == [
        "demo-1.0.1.apkg"
    ]
    log = student.import_package(project / DECK / "releases/demo-1.0.1.apkg")
    assert (len(log.new), len(log.updated), len(student.notes())) == (0, 1, 6)


def test_a_fresh_clone_without_packages_uses_the_record(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok("release", "1.0.0", "--first")
    shutil.rmtree(project / "decks")  # a clone of a repository that does not commit decks/
    edit_an_answer(project)
    at_day(monkeypatch, 1)

    assert "1 updated, 5 unchanged" in ok("verify").splitlines()[0]
    assert "### Answers changed: relearn these\n\n- `insertion`" in ok("changelog")


def test_builds_written_elsewhere_change_nothing_about_the_baseline(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok("release", "1.0.0", "--first", "-o", "dist")
    assert not (project / "decks").exists()
    edit_an_answer(project)
    at_day(monkeypatch, 1)
    ok("build", "-o", "elsewhere")

    assert ok("verify").startswith(
        "Demo::Gluteus medius: upgrade from release 1.0.0 (cards/demo/releases/demo-1.0.0.apkg)"
    )
    assert "1 updated" in ok("release", "minor", "-o", "dist")
    assert (project / "dist/demo.apkg").read_bytes() == (
        project / DECK / "releases/demo-1.1.0.apkg"
    ).read_bytes()


def test_no_release_yet_is_an_error_that_says_what_to_pass(project: Path) -> None:
    ok("build")  # a package in decks/ is not a release
    before = snapshot(project)

    for command in (["verify"], ["changelog"], ["release", "patch"]):
        result = run_deckgen(*command)
        assert result.exit_code == 2, command
        assert result.output == (
            "deckgen: error: deck 'Demo::Gluteus medius' has no release yet (no 'version' in "
            "cards/demo/deck.yaml): for its first release pass --first; if students already "
            "have a package of it, pass --against that package (or the folder holding it)\n"
        )
    assert snapshot(project) == before


def test_a_first_release_is_said_explicitly(project: Path) -> None:
    changelog = ok("changelog", "--first")
    assert changelog.startswith("## Demo::Gluteus medius: first release\n\n### Added\n\n")
    verify = ok("verify", "--first")
    assert verify.startswith("Demo::Gluteus medius: upgrade from nothing (first release) ")


def test_against_a_folder_without_the_package_is_an_error(project: Path) -> None:
    ok("release", "1.0.0", "--first")
    (project / "last-release").mkdir()
    before = snapshot(project)

    for command in (["verify"], ["changelog"], ["release", "patch"]):
        result = run_deckgen(*command, "--against", "last-release")
        assert result.exit_code == 2, command
        assert result.output == (
            "deckgen: error: last-release/demo.apkg does not exist, so it holds no package of "
            "deck 'Demo::Gluteus medius': pass --against the package students have (or the "
            "folder holding demo.apkg), or --first for the deck's first release\n"
        )
    assert snapshot(project) == before


def test_against_a_package_of_another_deck_is_an_error(project: Path) -> None:
    ok("build")
    other = project / "other"
    shutil.copytree(project / "cards", other)
    deck_yaml = other / "demo/deck.yaml"
    deck_yaml.write_text(
        deck_yaml.read_text().replace("id: demo-gm", "id: other").replace("Demo::", "Other::")
    )
    ok("build", "other", "-o", "other-decks")

    result = run_deckgen("verify", "--against", "other-decks/demo.apkg")

    assert result.exit_code == 2
    assert result.output.startswith(
        "deckgen: error: other-decks/demo.apkg holds no package of deck 'Demo::Gluteus medius': "
    )


def test_a_missing_record_says_how_to_restore_it(project: Path) -> None:
    ok("release", "1.0.0", "--first")
    (project / RECORD).unlink()

    result = run_deckgen("verify")

    assert result.exit_code == 2
    assert result.output == (
        "deckgen: error: deck 'Demo::Gluteus medius' was released as 1.0.0, but its package is "
        "not recorded at cards/demo/releases/demo-1.0.0.apkg: restore it from git (git checkout "
        "-- cards/demo/releases/demo-1.0.0.apkg), or pass --against the package of release "
        "1.0.0\n"
    )


def test_a_record_that_is_not_a_package_is_refused(project: Path) -> None:
    ok("release", "1.0.0", "--first")
    (project / RECORD).unlink()
    (project / RECORD).symlink_to("/dev/zero")

    result = run_deckgen("changelog")

    assert result.exit_code == 2
    assert result.output.startswith("deckgen: error: cards/demo/releases/demo-1.0.0.apkg links ")
    assert "Traceback" not in result.output


def test_against_and_first_contradict_each_other(project: Path) -> None:
    ok("build")
    result = run_deckgen("verify", "--first", "--against", "decks")
    assert result.exit_code == 2
    assert "--against and --first contradict each other" in result.output


def test_the_shipped_release_upgrades_the_previous_package_and_the_next_builds_on_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, student: StudentCollection
) -> None:
    """The shipped deck's release 1.0.0 was made against the previous shipped package: its
    record upgrades a student of that package in place, and the next release compares with
    the record by default (nothing changed since: no card changed)."""
    root = REPO
    shutil.copytree(root / "cards", tmp_path / "cards")
    shutil.copytree(root / "decks", tmp_path / "decks")
    monkeypatch.chdir(tmp_path)
    notes = (tmp_path / "cards/gluteus-medius/CHANGELOG.md").read_text()
    assert notes.startswith("# Release notes\n\n## Gluteus medius trigger points 1.0.0 (")
    assert "### Added" in notes and "### Changed" in notes and "### Retired" in notes
    student.import_package(root / "tests/fixtures/gluteus-medius-e5aada0.apkg")
    log = student.import_package(
        tmp_path / "cards/gluteus-medius/releases/gluteus-medius-1.0.0.apkg"
    )
    assert len(log.updated) > 0 and len(student.notes()) == len(log.updated) + len(log.new)

    released = ok("release", "patch")

    assert "released Gluteus medius trigger points 1.0.1 (upgrade from release 1.0.0 " in released
    assert "0 new, 0 updated" in released
    notes = (tmp_path / "cards/gluteus-medius/CHANGELOG.md").read_text()
    assert notes.startswith("# Release notes\n\n## Gluteus medius trigger points 1.0.1 (")
    assert "No card changed." in notes.split("## Gluteus medius trigger points 1.0.0")[0]


@pytest.mark.parametrize("command", ["build", "check"])
def test_a_missing_lock_next_to_a_package_stops_build_and_check(
    project: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    ok("build")
    (project / DECK / "deck.lock").unlink()
    at_day(monkeypatch, 1)
    before = snapshot(project)

    result = run_deckgen(command)

    assert result.exit_code == 1
    assert result.output == (
        "cards/demo/deck.lock: error: lock file is missing, but decks/demo.apkg exists: building "
        "now would give every note a new time and overwrite students' own edits on their next "
        "import; restore it from git (git checkout -- cards/demo/deck.lock), or, to start a "
        "fresh lock on purpose, pass --new-lock\n"
        "deckgen: stopped: 1 error, 0 warnings; nothing was written\n"
    )
    assert snapshot(project) == before


def test_a_missing_lock_of_a_released_deck_stops_the_build_without_packages(
    project: Path, monkeypatch: pytest.MonkeyPatch, student: StudentCollection
) -> None:
    ok("release", "1.0.0", "--first")
    student.import_package(project / RECORD)
    shutil.rmtree(project / "decks")
    (project / DECK / "deck.lock").unlink()
    at_day(monkeypatch, 1)

    result = run_deckgen("build")
    assert result.exit_code == 1
    assert "lock file is missing, but deck.yaml records release 1.0.0: " in result.output

    # A deliberate fresh start re-stamps every note, as the message warned.
    ok("build", "--new-lock")
    log = student.import_package(project / PACKAGE)
    assert len(log.updated) == 6 and len(log.new) == 0


def test_a_new_deck_needs_no_lock(project: Path) -> None:
    assert not (project / DECK / "deck.lock").exists()
    ok("check")
    ok("build")


def test_first_on_a_released_deck_is_an_error(project: Path) -> None:
    ok("release", "1.0.0", "--first")

    result = run_deckgen("release", "2.0.0", "--first")

    assert result.exit_code == 2
    assert result.output == (
        "deckgen: error: --first is for decks never released, but every deck was: "
        "'Demo::Gluteus medius' 1.0.0; leave it out to compare with the last release, or pass "
        "--against\n"
    )


def test_a_release_against_another_package_still_replaces_the_record(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok("release", "1.0.0", "--first")
    shutil.copy(project / RECORD, project / "students-have.apkg")
    at_day(monkeypatch, 1)

    ok("release", "minor", "--against", "students-have.apkg")

    assert sorted(path.name for path in (project / DECK / "releases").iterdir()) == [
        "demo-1.1.0.apkg"
    ]


def test_students_of_each_of_the_last_two_releases_upgrade_in_place(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ok("release", "1.0.0", "--first")
    first = (project / RECORD).read_bytes()
    edit_an_answer(project)
    at_day(monkeypatch, 1)
    ok("release", "minor")
    second = (project / DECK / "releases/demo-1.1.0.apkg").read_bytes()
    anatomy = project / DECK / "anatomy.yaml"
    anatomy.write_text(anatomy.read_text().replace("The greater trochanter.", "The trochanter."))
    at_day(monkeypatch, 2)
    ok("release", "minor")
    third = project / DECK / "releases/demo-1.2.0.apkg"

    for previous, updated in ((first, 1), (second, 1)):
        student = StudentCollection(tmp_path_factory.mktemp("student"))
        try:
            package = tmp_path_factory.mktemp("package") / "demo.apkg"
            package.write_bytes(previous)
            student.import_package(package)
            student.study_everything("Demo::Gluteus medius")
            reviews = student.review_count()

            log = student.import_package(third)

            assert (len(log.new), len(log.updated), len(student.notes())) == (0, updated, 6)
            assert student.review_count() == reviews
        finally:
            student.close()
