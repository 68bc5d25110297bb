"""Lint: one planted problem per rule in tests/fixtures/lint, found at its exact line; silencing."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES, run_deckgen
from deckgen.anki.compiled import CompiledDeck
from deckgen.diagnostics import Report
from deckgen.pipeline.build import compile_project
from deckgen.workflow import lint as lint_module
from deckgen.workflow.lint import RULES
from helpers import REPO

# (file, line, column, rule) of every planted problem; the card 'clean' has none.
PLANTED = [
    ("cards/quality/cards.yaml", 10, 13, "long-answer"),
    ("cards/quality/cards.yaml", 14, 13, "enumeration"),
    ("cards/quality/cards.yaml", 17, 15, "answer-in-question"),
    ("cards/quality/cards.yaml", 21, 15, "yes-no"),
    ("cards/quality/cards.yaml", 29, 15, "interference"),
    ("cards/quality/cards.yaml", 33, 15, "duplicate-question"),
    ("cards/quality/cards.yaml", 37, 12, "cloze-deletions"),
    ("cards/quality/cards.yaml", 42, 13, "typein-case"),
    ("cards/quality/occlusion.yaml", 7, 9, "occlusion-masks"),
    ("cards/quality/occlusion.yaml", 27, 9, "occlusion-mask-size"),
    ("cards/quality/occlusion.yaml", 35, 9, "occlusion-overlap"),
    ("cards/quality/unsourced.yaml", 2, 5, "no-source"),
]


@pytest.fixture
def lint_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(FIXTURES / "lint", tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def findings(output: str) -> list[tuple[str, int, int, str]]:
    return [
        (item["file"], item["line"], item["column"], item["rule"]) for item in json.loads(output)
    ]


def test_every_rule_finds_its_planted_problem_and_nothing_else(lint_project: Path) -> None:
    result = run_deckgen("lint", "cards", "--format", "json")
    assert result.exit_code == 0, result.output
    assert findings(result.stdout) == PLANTED
    assert {rule for *_, rule in PLANTED} == set(RULES)
    assert result.stderr == "linted 1 deck, 14 notes, 16 cards; 12 warnings\n"


def test_text_output_names_place_and_rule(lint_project: Path) -> None:
    result = run_deckgen("lint", "cards")
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "cards/quality/cards.yaml:10:13: warning: answer of card 'long' has 31 words (more "
        "than 25): keep one short fact per card; split it or move detail to 'extra' "
        "[long-answer]"
    )
    assert lines[5] == (
        "cards/quality/cards.yaml:33:15: warning: card 'twice' has the same question as card "
        "'clean' (cards/quality/cards.yaml:4:5): Anki flags it as a duplicate and students "
        "cannot tell which answer is wanted; reword one or merge them [duplicate-question]"
    )
    assert [line.rsplit(" [", 1)[1] for line in lines] == [f"{rule}]" for *_, rule in PLANTED]
    assert result.stdout == "linted 1 deck, 14 notes, 16 cards; 12 warnings\n"


def test_strict_turns_findings_into_exit_1(lint_project: Path) -> None:
    assert run_deckgen("lint", "cards", "--strict").exit_code == 1
    (lint_project / "cards/quality/deck.yaml").write_text(
        "name: Quality\nid: quality\nlint:\n  ignore: [" + ", ".join(RULES) + "]\n"
    )
    quiet = run_deckgen("lint", "cards", "--strict")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (
        0,
        "linted 1 deck, 14 notes, 16 cards; 0 warnings\n",
        "",
    )


def test_a_card_silences_one_rule_for_itself(lint_project: Path) -> None:
    cards = lint_project / "cards/quality/cards.yaml"
    cards.write_text(
        cards.read_text().replace(
            "  - id: coin-toss\n",
            "  - id: coin-toss\n    lint: {ignore: [yes-no]}   # reason: a deliberate contrast\n",
        )
    )
    result = run_deckgen("lint", "cards", "--format", "json")
    assert ("cards/quality/cards.yaml", 22, 15, "yes-no") not in findings(result.stdout)
    assert len(findings(result.stdout)) == len(PLANTED) - 1


def test_a_card_keeps_the_rules_it_did_not_silence(lint_project: Path) -> None:
    cards = lint_project / "cards/quality/cards.yaml"
    cards.write_text(
        cards.read_text().replace(
            "  - id: coin-toss\n", "  - id: coin-toss\n    lint: {ignore: [no-source]}\n"
        )
    )
    result = run_deckgen("lint", "cards", "--format", "json")
    assert ("cards/quality/cards.yaml", 22, 15, "yes-no") in findings(result.stdout)


def test_deck_silences_a_rule_for_every_card(lint_project: Path) -> None:
    (lint_project / "cards/quality/deck.yaml").write_text(
        "name: Quality\nid: quality\nlint: {ignore: [no-source, interference]}\n"
    )
    result = run_deckgen("lint", "cards", "--format", "json")
    assert findings(result.stdout) == [
        planted for planted in PLANTED if planted[3] not in {"no-source", "interference"}
    ]


def test_an_unknown_rule_name_is_a_warning_with_a_suggestion(lint_project: Path) -> None:
    (lint_project / "cards/quality/deck.yaml").write_text(
        "name: Quality\nid: quality\nlint: {ignore: [no-sources]}\n"
    )
    result = run_deckgen("lint", "cards")
    unknown = [line for line in result.stderr.splitlines() if "deck.yaml" in line]
    assert unknown == [
        "cards/quality/deck.yaml:3:17: warning: unknown lint rule 'no-sources' (did you mean "
        "'no-source'?); rules are " + ", ".join(RULES)
    ]


def test_a_malformed_lint_key_is_an_error(lint_project: Path) -> None:
    (lint_project / "cards/quality/deck.yaml").write_text(
        "name: Quality\nid: quality\nlint: {ignore: no-source}\n"
    )
    result = run_deckgen("lint", "cards")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "cards/quality/deck.yaml:3:16: error: 'ignore' must be a list of rule names, "
        "e.g. ignore: [no-source], not the text 'no-source'"
    )


def test_same_question_with_another_picture_is_not_a_duplicate(empty_project: Path) -> None:
    deck = empty_project / "cards/maps"
    deck.mkdir()
    (deck / "deck.yaml").write_text("name: Maps\nid: maps\n")
    (deck / "cards.yaml").write_text(
        "source: fixture\n"
        "cards:\n"
        "  - id: first\n"
        "    question: Which trigger point refers pain to the shaded zones?\n"
        "    answer: TrP1\n"
        "    bodymap: {view: posterior, field: question, essential: [sacrum]}\n"
        "  - id: second\n"
        "    question: Which trigger point refers pain to the shaded zones?\n"
        "    answer: TrP2\n"
        "    bodymap: {view: posterior, field: question, essential: [buttock-upper]}\n"
        "  - id: third\n"
        "    question: Which trigger point refers pain to the shaded zones?\n"
        "    answer: TrP3\n"
        "    bodymap: {view: posterior, field: question, essential: [buttock-upper]}\n"
    )
    result = run_deckgen("lint", "cards", "--format", "json")
    # Only the third repeats the second's text and picture.
    assert [(line, rule) for _, line, _, rule in findings(result.stdout)] == [
        (12, "duplicate-question")
    ]


def test_every_rule_is_documented_on_the_commands_page() -> None:
    page = (REPO / "docs/commands.md").read_text(encoding="utf-8")
    table = page.split("<!-- lint-rules -->", 1)[1].split("\n\n", 1)[0]
    assert re.findall(r"^\| `([a-z-]+)` \|", table, re.MULTILINE) == list(RULES)


def _alike_bank(root: Path, count: int) -> list[CompiledDeck]:
    """``count`` questions that differ in one word: each a near-duplicate of every other."""
    deck = root / "cards" / "bank"
    deck.mkdir(parents=True)
    (deck / "deck.yaml").write_text("name: Bank\nid: bank\nlint: {ignore: [no-source]}\n")
    (deck / "cards.yaml").write_text(
        "cards:\n"
        + "".join(
            f"  - {{id: c{i}, question: What is the origin of muscle number {i}?, "
            f"answer: Bone {i}}}\n"
            for i in range(count)
        )
    )
    return compile_project(root / "cards", now=1, report=Report(), packages_dir=root / "decks")


@pytest.mark.parametrize("same_answer", [False, True], ids=["answers differ", "one answer"])
def test_the_near_duplicate_rule_does_linear_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, same_answer: bool
) -> None:
    """It once compared every pair of alike questions: minutes on 6,000, where stats and lint
    also run. Counted, not timed: the candidates compared grow with the deck, not its square,
    and each card is warned once, naming the latest alike card. With one answer for all (no
    finding, so no early stop) the work stays linear too."""
    compared = 0
    real_check = lint_module._alike_enough

    def counting_check(*args: Any) -> bool:
        nonlocal compared
        compared += 1
        return real_check(*args)

    monkeypatch.setattr(lint_module, "_alike_enough", counting_check)
    if same_answer:
        make_card = lint_module._card
        monkeypatch.setattr(
            lint_module,
            "_card",
            lambda spec, note: dataclasses.replace(make_card(spec, note), answer="Bone"),
        )
    work = {}
    for count in (500, 2_000):
        compiled = _alike_bank(tmp_path / str(count), count)
        compared = 0
        report = Report()
        lint_module.lint(compiled, report)
        work[count] = compared
        named = [re.findall(r"card '(c\d+)'", d.message) for d in report.diagnostics]
        expected = [] if same_answer else [[f"c{i}", f"c{i - 1}"] for i in range(1, count)]
        assert named == expected
    assert 0 < work[2_000] <= 4.5 * work[500], work  # the pairs grew 16-fold
