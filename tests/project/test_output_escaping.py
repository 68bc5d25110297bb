"""Every output is escaped for where it goes: a terminal gets no control, bidi or zero-width
character, GitHub's runner reads the annotation deckgen meant, and a huge foreign value is
named by its start instead of echoed whole."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import run_deckgen
from deckgen.diagnostics import (
    MAX_MESSAGE_CHARS,
    MAX_QUOTED_CHARS,
    Location,
    display_path,
    printable,
    printable_message,
)
from deckgen.workflow.baseline import Baseline
from deckgen.workflow.verify import DeckVerification, Finding, format_results
from helpers import write_deck_folder

CONTROL = ["\x1b", "\x07", "\r", "\n", "\x00", "\x9b", "\x7f"]
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068"]
BIDI += ["\u2069", "\u200e", "\u200f", "\u061c"]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u2028", "\u2029"]
UNSAFE = CONTROL + BIDI + ZERO_WIDTH
_RAW_UNSAFE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)
"""What must never reach a terminal (the newline that ends an output line aside)."""


@pytest.mark.parametrize("character", UNSAFE)
def test_printable_escapes_every_character_that_acts_on_a_terminal(character: str) -> None:
    shown = printable(f"card {character}text")
    assert not _RAW_UNSAFE.search(shown) and "\n" not in shown
    code = ord(character)
    assert shown == (f"card \\x{code:02x}text" if code < 0x100 else f"card \\u{code:04x}text")
    assert printable(shown) == shown, "escaping twice changes nothing"


def test_a_long_quoted_value_is_cut_and_the_advice_kept() -> None:
    key = "k" * 1_000_000
    message = printable_message(f"unknown key '{key}' in a card; allowed: answer, id")
    assert (
        message == f"unknown key '{'k' * (MAX_QUOTED_CHARS - 1)}…' in a card; allowed: answer, id"
    )
    unquoted = printable_message("x" * 1_000_000 + " what to do")
    assert len(unquoted) == MAX_MESSAGE_CHARS and unquoted.endswith("x what to do")
    assert "…" in unquoted


def write_deck(root: Path, files: dict[str, str], *, name: str = "Deck") -> Path:
    deck_yaml = json.dumps({"name": name, "id": "deck"})
    return write_deck_folder(root, files, folder="deck", deck_yaml=deck_yaml)


def test_stats_prints_names_and_tags_escaped(empty_project: Path) -> None:
    hostile = "".join(BIDI + ZERO_WIDTH)
    write_deck(
        empty_project,
        {
            "cards.yaml": json.dumps(
                {
                    "deck": f"Sub{hostile}",
                    "cards": [
                        {"id": "a", "question": "q", "answer": "a", "tags": [f"tag{hostile}"]}
                    ],
                }
            )
        },
        name=f"Name{hostile}",
    )
    result = run_deckgen("stats")
    assert "Traceback" not in result.output
    assert not _RAW_UNSAFE.search(result.output)
    if result.exit_code == 0:  # (a stricter validation may refuse the names; escaped too)
        assert printable(f"Name{hostile}") in result.stdout
        assert printable(f"tag{hostile}") in result.stdout


def test_release_prints_the_deck_name_escaped(empty_project: Path) -> None:
    hostile = "".join(BIDI + ZERO_WIDTH)
    write_deck(
        empty_project,
        {"cards.yaml": "cards:\n  - {id: a, question: Q, answer: A}\n"},
        name=f"Deck{hostile}end",
    )
    result = run_deckgen("release", "1.0.0")
    assert "Traceback" not in result.output
    assert not _RAW_UNSAFE.search(result.output)
    if result.exit_code == 0:  # (a stricter validation may refuse the name; escaped too)
        assert f"released {printable(f'Deck{hostile}end')} 1.0.0" in result.stdout
        notes = (empty_project / "cards/deck/CHANGELOG.md").read_text()
        assert not _RAW_UNSAFE.search(notes.replace("\u2060", ""))


def runner_annotation(line: str) -> tuple[str, dict[str, str], str]:
    """A workflow command as GitHub's runner parses it: the command section ends at the
    first '::' after the opening one; properties split at ',' and the first '='."""
    assert line.startswith("::")
    end = line.index("::", 2)
    command, _, properties = line[2:end].partition(" ")
    parsed = {}
    for item in properties.split(","):
        key, _, value = item.partition("=")
        parsed[key] = _unescape(value, property_value=True)
    return command, parsed, _unescape(line[end + 2 :], property_value=False)


def _unescape(text: str, *, property_value: bool) -> str:
    text = text.replace("%0D", "\r").replace("%0A", "\n")
    if property_value:
        text = text.replace("%3A", ":").replace("%2C", ",")
    return text.replace("%25", "%")


@pytest.mark.parametrize(
    "file_name",
    [
        "a,line=99,title=forged.yaml",
        "b::error file=forged.yaml",
        "c%0Aline=7%2C.yaml",
        "d:e,f=g.yaml",
        "e\u202eforged\nline.yaml",
    ],
)
def test_a_file_name_cannot_forge_annotation_properties(
    empty_project: Path, file_name: str
) -> None:
    folder = write_deck(empty_project, {file_name: "cards:\n  - {id: a, question: Q}\n"})
    result = run_deckgen("check", "--format", "github")
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    command, properties, message = runner_annotation(line)
    assert command == "error"
    assert set(properties) == {"file", "line", "col", "title"}
    assert properties["file"] == display_path(folder / file_name)
    assert (properties["line"], properties["col"], properties["title"]) == ("2", "5", "deckgen")
    assert message == "card 'a' has no answer"


def test_verify_quotes_card_text_escaped_in_text_and_annotations(tmp_path: Path) -> None:
    forged = "What?\nverify passed: 1 deck upgrade in place\u202e"
    finding = Finding(
        "conflict", f"card 'x' ('{forged}') conflicts", Location(tmp_path / "a,line=1::b.yaml", 3)
    )
    result = DeckVerification("Deck\u202e\x1b[2J", Baseline(None), 1, 0, 0, 0, 0, (finding,))
    text = format_results([result], "text")
    assert not _RAW_UNSAFE.search(text)
    assert [line for line in text.splitlines() if line.startswith("verify passed")] == []
    github = format_results([result], "github")
    (annotation,) = [line for line in github.splitlines() if line.startswith("::")]
    _, properties, message = runner_annotation(annotation)
    assert properties["file"] == display_path(finding.location.path)
    assert properties["line"] == "3"
    assert "\n" not in message and not _RAW_UNSAFE.search(message)
    as_json = format_results([result], "json")
    assert as_json.isascii()


HUGE = "x" * 1_000_000
LONG = "x" * 9_000
"""Long, yet within a field's size bound."""
CARD = "cards:\n  - id: a\n    question: Q\n    answer: A\n"


@pytest.mark.parametrize(
    "card_file",
    [
        f"{CARD}    ? {HUGE}\n    : 1\n",
        f"{CARD}    tags: [a b{HUGE}]\n",
        f"{CARD}    type: {LONG}\n",
        f"? {HUGE}\n: 1\n{CARD}",
    ],
    ids=["key", "tag", "type", "file-key"],
)
@pytest.mark.parametrize("output_format", ["text", "json", "github"])
def test_a_huge_foreign_value_is_named_by_its_start(
    empty_project: Path, card_file: str, output_format: str
) -> None:
    write_deck(empty_project, {"cards.yaml": card_file})
    result = run_deckgen("check", "--format", output_format)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len(result.output) < 4 * MAX_MESSAGE_CHARS
    assert "x" * MAX_QUOTED_CHARS not in result.output
    assert ("x\\u2026" if output_format == "json" else "x…") in result.output


def runner_would_run(output: str) -> list[str]:
    """Lines of a CI log that GitHub's runner takes for workflow commands: '::' first after
    spaces, or '##[' anywhere (its older form)."""
    return [line for line in output.splitlines() if line.lstrip().startswith("::") or "##[" in line]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("::error::forged", "\\x3a:error::forged"),
        ("  ::add-mask::x", "  \\x3a:add-mask::x"),
        ("x ##[error]forged", "x \\x23#[error]forged"),
        ("####[warning]", "##\\x23#[warning]"),
        ("a :: b ## [c]", "a :: b ## [c]"),
    ],
)
def test_printable_text_starts_no_workflow_command(text: str, shown: str) -> None:
    assert printable(text) == shown
    assert runner_would_run(printable(text)) == []


def test_text_output_in_a_ci_log_runs_no_workflow_command(empty_project: Path) -> None:
    folder = empty_project / "cards" / "::error::forged"
    folder.mkdir(parents=True)
    (folder / "deck.yaml").write_text("name: D\nid: d\n")
    (folder / "cards.yaml").write_text(
        "cards:\n  - id: a\n    question: Q\n    answer: A\n    '##[error]forged': 1\n"
        "    tags: ['::warning::forged']\n"
    )
    for command in ("check", "lint", "build"):
        result = run_deckgen(command)
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert "unknown key '\\x23#[error]forged'" in result.output
        assert runner_would_run(result.output) == []
    as_json = run_deckgen("check", "--format", "json")
    assert runner_would_run(as_json.output) == []
    (finding,) = json.loads(as_json.stdout)
    assert finding["message"].startswith("unknown key '##[error]forged'"), "decodes as written"
    github = run_deckgen("check", "--format", "github")
    assert [line.split("::")[1] for line in runner_would_run(github.stdout)] == [
        "error file=cards/%3A%3Aerror%3A%3Aforged/cards.yaml,line=5,col=5,title=deckgen"
    ], "the one annotation meant, and no other command"
    (folder / "cards.yaml").write_text(
        "cards:\n  - {id: a, question: Q, answer: A, tags: ['::warning::forged']}\n"
    )
    result = run_deckgen("stats")
    assert result.exit_code == 0, result.output
    assert "\\x3a:warning::forged" in result.stdout
    assert runner_would_run(result.output) == []
