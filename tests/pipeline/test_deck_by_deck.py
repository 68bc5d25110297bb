"""A bank split over decks is built one deck at a time: a build never holds the cards and
notes of every deck at once, so its memory is that of its largest deck, and what it writes
is still all or nothing across the decks."""

from __future__ import annotations

import shutil
import weakref
from pathlib import Path
from typing import Any

import pytest

from conftest import run_deckgen
from deckgen.anki.compiled import CompiledDeck
from deckgen.pipeline import build

DECKS = ("alpha", "beta", "gamma")


@pytest.fixture
def bank(project: Path) -> Path:
    """The sample deck copied into three decks, each with its own name and id."""
    demo = project / "cards" / "demo"
    for name in DECKS:
        shutil.copytree(demo, project / "cards" / name)
        (project / "cards" / name / "deck.yaml").write_text(
            f"name: Bank::{name}\nid: bank-{name}\ndescription: Deck {name}.\ntags: [bank]\n"
        )
    shutil.rmtree(demo)
    return project


@pytest.mark.parametrize("command", ["build", "check"])
def test_each_deck_is_let_go_before_the_next_is_compiled(
    bank: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    alive: list[weakref.ref[CompiledDeck]] = []
    compile_deck = build.compile_deck

    def watched(*args: Any, **kwargs: Any) -> CompiledDeck | None:
        # The build runs with the cyclic collector paused: only reference counting frees.
        held = [ref() for ref in alive if ref() is not None]
        assert held == [], f"still held: {[deck.spec.name for deck in held if deck]}"
        deck = compile_deck(*args, **kwargs)
        if deck is not None:
            alive.append(weakref.ref(deck))
        return deck

    monkeypatch.setattr(build, "compile_deck", watched)
    result = run_deckgen(command, "cards")
    assert result.exit_code == 0, result.output
    assert len(alive) == len(DECKS)
    if command == "build":
        for name in DECKS:
            assert f"wrote: decks/{name}.apkg (" in result.stdout
    else:
        assert result.stdout.startswith(f"checked {len(DECKS)} decks, ")


def test_an_error_in_the_last_deck_writes_none_of_the_decks(bank: Path) -> None:
    broken = bank / "cards" / DECKS[-1] / "anatomy.yaml"
    broken.write_text(broken.read_text().replace("cards:", "cards: [", 1))
    result = run_deckgen("build")
    assert result.exit_code != 0
    assert not (bank / "decks").exists()
    assert not any((bank / "cards" / name / "deck.lock").exists() for name in DECKS)


def test_two_decks_with_one_id_are_reported_and_nothing_is_written(bank: Path) -> None:
    last = bank / "cards" / DECKS[-1] / "deck.yaml"
    last.write_text(last.read_text().replace(f"id: bank-{DECKS[-1]}", f"id: bank-{DECKS[0]}"))
    result = run_deckgen("build")
    assert result.exit_code != 0
    assert f"deck id 'bank-{DECKS[0]}' is already used by" in result.output
    assert not (bank / "decks").exists()
