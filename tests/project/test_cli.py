"""The command line: whole outputs and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from conftest import FIRST_BUILD_TIME, run_deckgen
from deckgen.cli import cli

PACKAGE = Path("decks/demo.apkg")
LOCK = Path("cards/demo/deck.lock")


def test_build_writes_package_and_lock_then_is_up_to_date(project: Path) -> None:
    first = run_deckgen("build")
    assert (first.exit_code, first.stdout, first.stderr) == (
        0,
        "wrote: decks/demo.apkg (6 notes, 8 cards, 3 images)\nbuilt 1 deck; 0 errors, 0 warnings\n",
        "",
    )
    assert PACKAGE.is_file() and LOCK.is_file()

    second = run_deckgen("build")
    assert (second.exit_code, second.stdout) == (
        0,
        "up to date: decks/demo.apkg (6 notes, 8 cards, 3 images)\n"
        "built 1 deck; 0 errors, 0 warnings\n",
    )


def test_build_to_another_folder(project: Path) -> None:
    result = run_deckgen("build", "cards", "-o", "out/packages")
    assert result.exit_code == 0, result.output
    assert Path("out/packages/demo.apkg").is_file()
    assert not PACKAGE.exists()


def test_check_validates_without_writing(project: Path) -> None:
    result = run_deckgen("check")
    assert (result.exit_code, result.stdout) == (
        0,
        "checked 1 deck, 6 notes, 8 cards; 0 errors, 0 warnings\n",
    )
    assert not PACKAGE.exists() and not LOCK.exists()


def test_build_check_reports_stale_outputs_and_writes_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    never_built = run_deckgen("build", "--check")
    assert (never_built.exit_code, never_built.stdout) == (
        1,
        "stale: decks/demo.apkg would change\nstale: cards/demo/deck.lock would change\n"
        "1 deck out of date: run 'deckgen build'\n",
    )
    assert not PACKAGE.exists() and not LOCK.exists()

    assert run_deckgen("build").exit_code == 0
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 100))
    fresh = run_deckgen("build", "--check")
    assert (fresh.exit_code, fresh.stdout) == (0, "up to date: 1 deck; 0 errors, 0 warnings\n")

    package, lock = PACKAGE.read_bytes(), LOCK.read_bytes()
    anatomy = Path("cards/demo/anatomy.yaml")
    anatomy.write_text(anatomy.read_text().replace("Hip abduction", "Abduction of the hip"))
    edited = run_deckgen("build", "--check")
    assert edited.exit_code == 1
    assert "stale: decks/demo.apkg would change" in edited.stdout
    assert PACKAGE.read_bytes() == package and LOCK.read_bytes() == lock


def test_errors_are_all_reported_and_nothing_is_written(project: Path) -> None:
    assert run_deckgen("build").exit_code == 0
    package, lock = PACKAGE.read_bytes(), LOCK.read_bytes()
    Path("cards/demo/broken.yaml").write_text(
        "cards:\n"
        "  - id: origin\n"
        "    question: duplicate id\n"
        "    answr: typo\n"
        "  - question: no id\n"
        "    answer: x\n"
        "  - id: spaced\n"
        "    question: q\n"
        "    answer: a\n"
        "    tags: [trigger point]\n"
    )
    result = run_deckgen("build")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "cards/demo/broken.yaml:4:5: error: unknown key 'answr' in a card (did you mean "
        "'answer'?); allowed: answer, bodymap, cloze, extra, id, lint, question, source, tags, "
        "type\n"
        "cards/demo/broken.yaml:5:5: error: a card has no 'id'\n"
        "cards/demo/broken.yaml:10:12: error: tag 'trigger point' is empty or has spaces: "
        "Anki splits tags at spaces; use '_' or '-' instead\n"
        "deckgen: stopped: 3 errors, 0 warnings; nothing was written\n"
    )
    assert PACKAGE.read_bytes() == package and LOCK.read_bytes() == lock


def test_duplicate_ids_across_files_are_an_error(project: Path) -> None:
    Path("cards/demo/more.yaml").write_text(
        "cards:\n  - id: insertion\n    question: again\n    answer: again\n"
    )
    result = run_deckgen("check")
    assert result.exit_code == 1
    assert (
        "cards/demo/more.yaml:2:5: error: duplicate card id 'insertion' "
        "(first at cards/demo/anatomy.yaml:8:5): ids must be unique within a deck\n"
    ) in result.stderr


def test_usage_errors_exit_2(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = run_deckgen("build", "no-such-folder")
    assert missing.exit_code == 2
    assert "Directory 'no-such-folder' does not exist" in missing.stderr

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    bad_clock = run_deckgen("build")
    assert (bad_clock.exit_code, bad_clock.stderr) == (
        2,
        "deckgen: error: SOURCE_DATE_EPOCH must be whole seconds since 1970, not 'yesterday': "
        "ASCII digits, at most 253402300799 (the end of year 9999)\n",
    )
    assert not PACKAGE.exists()


def test_a_killed_write_leaves_the_previous_package(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_deckgen("build").exit_code == 0
    package = PACKAGE.read_bytes()
    anatomy = Path("cards/demo/anatomy.yaml")
    anatomy.write_text(anatomy.read_text().replace("Hip abduction", "Abduction"))

    def killed(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", killed)
    with pytest.raises(click.exceptions.Abort):  # how click passes on Ctrl-C
        cli.main(["build"], standalone_mode=False)
    assert PACKAGE.read_bytes() == package
    assert sorted(p.name for p in Path("decks").iterdir()) == ["demo.apkg"]


def test_unwritable_output_is_a_clear_error(project: Path) -> None:
    Path("blocked").write_text("a file where a folder should be")
    result = run_deckgen("build", "-o", "blocked/decks")
    assert result.exit_code == 1
    assert result.stderr.startswith("deckgen: error: cannot write blocked/decks/demo.apkg: ")


def test_version_and_module_entry_point(project: Path) -> None:
    result = run_deckgen("--version")
    assert result.exit_code == 0 and result.stdout.startswith("deckgen, version ")
    module = subprocess.run(
        [sys.executable, "-m", "deckgen", "check"], capture_output=True, text=True, check=False
    )
    assert (module.returncode, module.stdout) == (
        0,
        "checked 1 deck, 6 notes, 8 cards; 0 errors, 0 warnings\n",
    )


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run_deckgen(command, "--help")
    assert result.exit_code == 0
    assert "Example: deckgen " in result.stdout


@pytest.mark.parametrize(
    "command",
    [("check",), ("build",), ("lint",), ("preview",), ("maps",)],
    ids=lambda command: command[0],
)
def test_every_command_that_reports_findings_speaks_each_format(
    project: Path, command: tuple[str, ...]
) -> None:
    """One output path: a finding is a GitHub annotation or a JSON object on stdout (the
    summary then goes to stderr), whichever command found it."""
    anatomy = project / "cards/demo/anatomy.yaml"
    anatomy.write_text(
        anatomy.read_text().replace(
            "answer: Greater trochanter of the femur.",
            "answer: Greater trochanter of the femur.  # the lateral facet",
        )
    )
    github = run_deckgen(*command, "--format", "github")
    assert github.exit_code == 0, github.output
    assert github.stdout.startswith("::warning file=cards/demo/anatomy.yaml,line=")
    as_json = run_deckgen(*command, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    (finding,) = [item for item in json.loads(as_json.stdout) if "YAML comment" in item["message"]]
    assert (finding["file"], finding["severity"]) == ("cards/demo/anatomy.yaml", "warning")
