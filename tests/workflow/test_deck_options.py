"""deck.yaml's `options` ship as a deck options preset: checked where written, applied by
Anki only when a student ticks "Import any deck presets", and under a new id whenever the
settings change (Anki never updates a preset it has). Imports run through Anki's engine."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import deckgen.anki.anki_package
from anki_engine import StudentCollection
from conftest import FIRST_BUILD_TIME, run_deckgen

DECK = Path("cards/demo")
PACKAGE = Path("decks/demo.apkg")
OPTIONS = "options:\n  new_per_day: 7\n  learning_steps: [2m, 30m, 1d]\n  desired_retention: 0.85\n"


def set_options(project: Path, options: str) -> None:
    deck_yaml = project / DECK / "deck.yaml"
    text = re.sub(r"^options:.*\n(?:[ ].*\n)*", "", deck_yaml.read_text(), flags=re.MULTILINE)
    deck_yaml.write_text(text + options)


def ok(*args: str) -> str:
    result = run_deckgen(*args)
    assert result.exit_code == 0, result.output
    return result.output


def import_with(student: StudentCollection, package: Path, *, presets: bool) -> None:
    from anki.collection import ImportAnkiPackageRequest

    options = student.col._backend.get_import_anki_package_presets()
    options.with_deck_configs = presets
    request = ImportAnkiPackageRequest(package_path=str(package), options=options)
    student.col.import_anki_package(request)


def preset_of(student: StudentCollection, deck_name: str) -> dict[str, Any]:
    deck_id = student.col.decks.id_for_name(deck_name)
    assert deck_id is not None
    return dict(student.col.decks.config_dict_for_deck_id(deck_id))


def settings(preset: dict[str, Any]) -> tuple[object, ...]:
    return (preset["new"]["perDay"], preset["new"]["delays"], preset["desiredRetention"])


@pytest.mark.parametrize(
    ("options", "where", "message"),
    [
        ("options:\n  new_per_day: lots\n", "6:16", "'new_per_day' must be a whole number from 0"),
        ("options:\n  new_per_day: 10000\n", "6:16", "'new_per_day' must be a whole number"),
        ("options:\n  learning_steps: [1m, 10 minutes]\n", "6:24", "a learning step must be a"),
        ("options:\n  learning_steps: 10m\n", "6:19", "'learning_steps' must be a list"),
        ("options:\n  desired_retention: 1.5\n", "6:22", "'desired_retention' must be a number"),
        ("options:\n  new_cards: 5\n", "6:3", "unknown key 'new_cards' in 'options'"),
        ("options: 20\n", "5:10", "'options' must be a mapping of settings"),
    ],
)
def test_bad_options_are_reported_where_they_are(
    project: Path, options: str, where: str, message: str
) -> None:
    set_options(project, options)

    result = run_deckgen("check")

    assert result.exit_code == 1
    assert f"cards/demo/deck.yaml:{where}: error: {message}" in result.output


def test_the_preset_applies_only_with_import_any_deck_presets(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    set_options(project, OPTIONS)
    ok("build")
    for presets in (False, True):
        student = StudentCollection(tmp_path_factory.mktemp("student"))
        try:
            import_with(student, project / PACKAGE, presets=presets)
            for deck in ("Demo::Gluteus medius", "Demo::Gluteus medius::Anatomy"):
                preset = preset_of(student, deck)
                if presets:
                    assert settings(preset) == (7, [2.0, 30.0, 1440.0], 0.85)
                    assert preset["name"].startswith("Demo::Gluteus medius (suggested ")
                else:
                    assert preset["id"] == 1, "the Default preset"
        finally:
            student.close()


def test_changed_options_reach_students_under_a_new_preset_id(
    project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_options(project, OPTIONS)
    ok("build")
    first = (project / PACKAGE).read_bytes()
    ok("build")
    assert (project / PACKAGE).read_bytes() == first, "same options, same package"
    import_with(student, project / PACKAGE, presets=True)
    set_options(project, OPTIONS.replace("new_per_day: 7", "new_per_day: 12"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 60))
    assert ok("build").startswith("wrote: decks/demo.apkg"), "the preset changes the package"

    import_with(student, project / PACKAGE, presets=True)

    assert settings(preset_of(student, "Demo::Gluteus medius")) == (12, [2.0, 30.0, 1440.0], 0.85)


def test_verify_rehearses_both_ways_and_passes(project: Path) -> None:
    set_options(project, OPTIONS)
    ok("release", "1.0.0", "--first")
    set_options(project, OPTIONS.replace("0.85", "0.9"))

    assert "verify passed" in ok("verify")


def test_verify_fails_when_a_changed_preset_would_not_arrive(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = deckgen.anki.anki_package.deck_preset

    def one_id_forever(*args: Any, **kwargs: Any) -> dict[str, Any]:
        preset = real(*args, **kwargs)
        preset["id"] = 4242  # as if the id did not change with the settings
        return preset

    monkeypatch.setattr(deckgen.anki.anki_package, "deck_preset", one_id_forever)
    set_options(project, OPTIONS)
    ok("release", "1.0.0", "--first")
    set_options(project, OPTIONS.replace("new_per_day: 7", "new_per_day: 12"))

    result = run_deckgen("verify")

    assert result.exit_code == 1
    assert (
        "cards/demo/deck.yaml:1:1: error: deck 'Demo::Gluteus medius', imported with 'Import "
        "any deck presets' ticked: new cards a day 7 instead of 12: Anki kept a preset it had "
        "(the preset's id must change with it) [preset]"
    ) in result.output
