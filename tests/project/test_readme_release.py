"""The instructors' page's verify and changelog outputs are real: its edit to the shipped
deck, made in a copy, gives exactly the outputs pasted there."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import run_deckgen
from helpers import REPO

INSTRUCTORS = (REPO / "docs/instructors.md").read_text(encoding="utf-8")


def block_after(marker: str) -> str:
    match = re.search(r"```[a-z]*\n(.*?)```", INSTRUCTORS.split(marker, 1)[1], re.DOTALL)
    assert match is not None
    return (
        "\n".join(line.removeprefix("   ") for line in match.group(1).rstrip(" ").splitlines())
        + "\n"
    )


def test_the_pasted_verify_and_changelog_outputs_are_what_deckgen_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(REPO / "cards", tmp_path / "cards")
    shutil.copytree(REPO / "decks", tmp_path / "decks")
    monkeypatch.chdir(tmp_path)
    # The page's example edits the shipped deck after its release 1.0.0.
    assert "\nversion: 1.0.0\n" in (tmp_path / "cards/gluteus-medius/deck.yaml").read_text()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795300000")
    red_flags = tmp_path / "cards/gluteus-medius/red-flags.yaml"
    text = red_flags.read_text()
    edited = text.replace(
        "answer: Stop and send the client to the emergency department now - it can be cauda "
        "equina syndrome.",
        "answer: Stop the session and send the client to the emergency department now - it can "
        "be cauda equina syndrome.",
    )
    assert edited != text, (
        "the instructors' page's example edit no longer applies to the shipped deck"
    )
    text = edited
    bowel = text.index("  - id: redflag-ces-bowel")
    text = text[:bowel] + text[text.index("  - id: redflag-ces-both-legs") :]
    red_flags.write_text(text)

    verify = run_deckgen("verify")
    changelog = run_deckgen("changelog")

    assert verify.exit_code == 0 and changelog.exit_code == 0
    # How many answers studying takes depends on the time of day (learning steps due before
    # Anki's day ends are answered again), so the count is left out of the comparison.
    answers = re.compile(r"after \d+ answers")
    assert answers.sub("", "$ deckgen verify\n" + verify.output) == answers.sub(
        "", block_after("deleting one card of the shipped")
    )
    assert changelog.output == block_after("The same edit gives:")
