"""The review commands and output formats: whole outputs and exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import run_deckgen
from deckgen.cli import cli
from helpers import REPO

INTERFERENCE = (
    "cards/demo/anatomy.yaml:9:15: warning: the question of card 'insertion' is nearly the "
    "same as card 'origin' (cards/demo/anatomy.yaml:5:5) but the answers differ: students will "
    "mix them up; make the questions clearly different [interference]"
)


def break_a_card() -> None:
    Path("cards/demo/bad.yaml").write_text("cards:\n  - {id: a, question: 'Q, 50%'}\n")


def test_lint_whole_output_and_strict(project: Path) -> None:
    result = run_deckgen("lint")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "linted 1 deck, 6 notes, 8 cards; 1 warning\n",
        INTERFERENCE + "\n",
    )
    assert run_deckgen("lint", "--strict").exit_code == 1


def test_lint_json(project: Path) -> None:
    result = run_deckgen("lint", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [
        {
            "file": "cards/demo/anatomy.yaml",
            "line": 9,
            "column": 15,
            "severity": "warning",
            "rule": "interference",
            "message": INTERFERENCE.split(": warning: ")[1].removesuffix(" [interference]"),
        }
    ]
    assert result.stderr == "linted 1 deck, 6 notes, 8 cards; 1 warning\n"


def test_lint_github_annotations(project: Path) -> None:
    result = run_deckgen("lint", "--format", "github")
    message = INTERFERENCE.split(": warning: ")[1].removesuffix(" [interference]")
    assert result.stdout == (
        "::warning file=cards/demo/anatomy.yaml,line=9,col=15,"
        f"title=deckgen [interference]::{message}\n"
        "linted 1 deck, 6 notes, 8 cards; 1 warning\n"
    )


def test_check_errors_as_json_and_github(project: Path) -> None:
    break_a_card()
    as_json = run_deckgen("check", "--format", "json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout) == [
        {
            "file": "cards/demo/bad.yaml",
            "line": 2,
            "column": 5,
            "severity": "error",
            "rule": None,
            "message": "card 'a' has no answer",
        }
    ]
    assert as_json.stderr == "deckgen: stopped: 1 error, 0 warnings; nothing was written\n"

    github = run_deckgen("build", "--format", "github")
    assert github.exit_code == 1
    assert github.stdout == (
        "::error file=cards/demo/bad.yaml,line=2,col=5,title=deckgen::card 'a' has no answer\n"
    )
    assert not Path("decks/demo.apkg").exists()


def test_github_annotations_escape_what_the_runner_would_misread(project: Path) -> None:
    Path("cards/demo/bad.yaml").write_text("cards:\n  - {id: 'a%b', question: Q, answer: A}\n")
    result = run_deckgen("check", "--format", "github")
    assert result.stdout.splitlines()[0] == (
        "::error file=cards/demo/bad.yaml,line=2,col=10,title=deckgen::card id 'a%25b' may "
        "hold only letters, digits, '.', '_' and '-', starting with a letter or digit"
    )


def test_build_json_keeps_stdout_parseable(project: Path) -> None:
    result = run_deckgen("build", "--format", "json")
    assert (result.exit_code, json.loads(result.stdout)) == (0, [])
    assert result.stderr == (
        "wrote: decks/demo.apkg (6 notes, 8 cards, 3 images)\nbuilt 1 deck; 0 errors, 0 warnings\n"
    )


def test_colour_only_where_allowed(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    break_a_card()
    monkeypatch.delenv("NO_COLOR", raising=False)
    coloured = CliRunner().invoke(cli, ["check"], prog_name="deckgen", color=True)
    assert "\x1b[31m" in coloured.stderr  # red "error:" as on a terminal
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured.stderr).startswith(
        "cards/demo/bad.yaml:2:5: error: card 'a' has no answer\n"
    )
    plain = run_deckgen("check")  # not a terminal
    assert "\x1b[" not in plain.stderr
    monkeypatch.setenv("NO_COLOR", "1")
    no_colour = CliRunner().invoke(cli, ["check"], prog_name="deckgen", color=True)
    assert "\x1b[" not in no_colour.stderr


def test_stats_whole_output(project: Path) -> None:
    result = run_deckgen("stats")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "Demo::Gluteus medius (demo): 6 notes, 8 cards\n"
        "  subdeck                         notes  cards\n"
        "  Demo::Gluteus medius::Anatomy       5      7\n"
        "  Demo::Gluteus medius::Referral      1      1\n"
        "  type      notes  cards\n"
        "  basic         3      3\n"
        "  cloze         1      2\n"
        "  reversed      1      2\n"
        "  typein        1      1\n"
        "  tag       notes  cards\n"
        "  anatomy       5      7\n"
        "  demo          6      8\n"
        "  referral      1      1\n"
        "images: 2, body maps: 1, sourced: 6 of 6 notes (100%)\n"
        "lint findings:\n"
        "  interference             1\n"
    )


def test_preview_whole_output(project: Path) -> None:
    result = run_deckgen("preview")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "wrote preview/index.html (6 notes, 8 cards, 3 images)\n",
        "",
    )
    page = Path("preview/index.html").read_text()
    assert page.count('<article class="dg-card"') == 8
    assert len(list(Path("preview").glob("deckgen-*"))) == 3
    other = run_deckgen("preview", "cards", "-o", "site")
    assert other.stdout == "wrote site/index.html (6 notes, 8 cards, 3 images)\n"


def test_preview_open_opens_the_page(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []

    def browser_opens(url: str) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr("webbrowser.open", browser_opens)
    result = run_deckgen("preview", "--open")
    assert result.exit_code == 0
    assert opened == [(project / "preview/index.html").resolve().as_uri()]
    assert "no browser" not in result.output


def test_preview_open_says_so_when_no_browser_opens(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("webbrowser.open", lambda url: False)
    result = run_deckgen("preview", "--open")
    assert result.exit_code == 0
    assert result.stdout.endswith(
        "no browser could be opened here: open preview/index.html yourself\n"
    )


def test_init_scaffolds_a_deck_that_builds_and_lints_cleanly(empty_project: Path) -> None:
    result = run_deckgen("init", "cards/hip-anatomy")
    assert result.exit_code == 0, result.output
    deck_id = re.fullmatch(r"hip-anatomy-[0-9a-f]{8}", result.stdout.splitlines()[3].split()[2])
    assert deck_id is not None
    assert result.stdout == (
        "wrote cards/hip-anatomy/deck.yaml\n"
        "wrote cards/hip-anatomy/example.yaml\n"
        "wrote .gitignore\n"
        f"deck id: {deck_id.group(0)} (never change it once students have the deck)\n"
    )
    assert f"id: {deck_id.group(0)}\n" in Path("cards/hip-anatomy/deck.yaml").read_text()

    built = run_deckgen("build")
    assert (built.exit_code, built.stderr) == (0, "")
    assert built.stdout == (
        "wrote: decks/hip-anatomy.apkg (6 notes, 10 cards, 2 images)\n"
        "built 1 deck; 0 errors, 0 warnings\n"
    )
    linted = run_deckgen("lint", "--strict")
    assert (linted.exit_code, linted.stderr) == (0, "")
    example = Path("cards/hip-anatomy/example.yaml").read_text()
    assert all(f"type: {kind}" in example for kind in ("reversed", "typein", "occlusion"))
    assert "cloze:" in example and "bodymap:" in example


def test_init_gives_every_deck_its_own_id_and_never_overwrites(empty_project: Path) -> None:
    first = run_deckgen("init", "cards/a")
    second = run_deckgen("init", "cards/b")
    assert first.stdout.splitlines()[2] != second.stdout.splitlines()[2]
    deck = Path("cards/a/deck.yaml")
    before = deck.read_bytes()
    again = run_deckgen("init", "cards/a")
    assert (again.exit_code, again.stdout, again.stderr) == (
        1,
        "",
        "deckgen: error: cards/a/deck.yaml already exists: init writes only into a new deck "
        "folder\n",
    )
    assert deck.read_bytes() == before


def test_a_deck_folder_is_accepted_as_cards_dir(project: Path) -> None:
    result = run_deckgen("check", "cards/demo")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "checked 1 deck, 6 notes, 8 cards; 0 errors, 0 warnings\n",
        "",
    )


def test_the_folder_above_cards_names_it(project: Path) -> None:
    Path("tests/fixtures/sample/cards/demo").mkdir(parents=True)
    Path("tests/fixtures/sample/cards/demo/deck.yaml").write_text("name: X\nid: x\n")
    result = run_deckgen("check", ".")
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        ".: error: no decks found: a deck is a folder with a deck.yaml, e.g. "
        "my-deck/deck.yaml; cards holds decks: pass that folder\n"
        "deckgen: stopped: 1 error, 0 warnings; nothing was written\n",
    )


def test_no_command_prints_help_and_exits_0(project: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deckgen"], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("Usage: deckgen [OPTIONS] [COMMAND] [ARGS]...")
    commands = re.findall(r"^  (\w+) ", result.stdout.split("Commands:")[1], re.MULTILINE)
    assert commands == sorted(cli.commands)


def test_every_command_has_help_with_an_example() -> None:
    for name, command in cli.commands.items():
        assert command.help and "Example: deckgen " + name in command.help, name


def test_the_commands_page_documents_every_command_and_stays_inside_the_repository() -> None:
    page = (REPO / "docs/commands.md").read_text(encoding="utf-8")
    for name in cli.commands:
        assert f"| `deckgen {name}" in page, name
    assert "../shared" not in page
