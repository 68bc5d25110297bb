"""One gate for files: a hostile checkout's links never make deckgen write, rename or delete
outside the project (or its own card files), and the small commands refuse what they cannot
do cleanly. Each case asserts the exit code, a message naming the file and what to do, no
traceback, and every file outside (and, where the command refuses, inside) byte-identical."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import run_deckgen
from deckgen.pipeline.cache import CACHE_DIR
from deckgen.workflow.watch import snapshot as watch_snapshot
from helpers import REPO
from hostile_project import make_project, run_build, snapshot

REPOSITORY = REPO

VICTIM_FILES = {"notes.txt": b"the author's notes\n", "entry": b"looks like a cache entry\n"}


@pytest.fixture
def victim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside the project with files a prune must never delete."""
    folder = tmp_path_factory.mktemp("victim")
    for name, data in VICTIM_FILES.items():
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture
def built(tmp_path: Path) -> Path:
    make_project(tmp_path)
    assert run_build(tmp_path).code == 0
    assert (tmp_path / "cards" / CACHE_DIR / "files").is_dir()
    return tmp_path


def _cache_linked(root: Path, target: Path) -> Path:
    shutil.rmtree(root / "cards" / CACHE_DIR)
    (root / "cards" / CACHE_DIR).symlink_to(target)
    return root / "cards" / CACHE_DIR


def _files_linked(root: Path, target: Path) -> Path:
    shutil.rmtree(root / "cards" / CACHE_DIR / "files")
    (root / "cards" / CACHE_DIR / "files").symlink_to(target)
    return root / "cards" / CACHE_DIR / "files"


def _entries_linked(root: Path, target: Path) -> Path:
    """Every entry replaced by links to the target's files, named as entries the prune takes."""
    files = root / "cards" / CACHE_DIR / "files"
    for entry in files.iterdir():
        entry.unlink()
    for name in VICTIM_FILES:
        (files / name).symlink_to(target / name)
    return files / "entry"


PLANTS: dict[str, Callable[[Path, Path], Path]] = {
    "cache folder linked": _cache_linked,
    "files folder linked": _files_linked,
    "entries linked": _entries_linked,
}


@pytest.mark.parametrize("mode", [[], ["--check"]], ids=["build", "build --check"])
@pytest.mark.parametrize("plant", list(PLANTS), ids=list(PLANTS))
def test_a_planted_cache_link_deletes_nothing_outside(
    built: Path, victim: Path, plant: str, mode: list[str]
) -> None:
    """The prune of unused entries once emptied whatever folder a committed link named."""
    (built / "cards/alpha/cards.yaml").write_text(  # an edit, so the old entry is unused
        (built / "cards/alpha/cards.yaml").read_text().replace("first", "other")
    )
    link = PLANTS[plant](built, victim)
    outside_before = snapshot(built / "outside")
    result = run_build(built, *mode)
    assert {p.name: p.read_bytes() for p in victim.iterdir()} == VICTIM_FILES
    assert snapshot(built / "outside") == outside_before
    assert "Traceback" not in result.output
    assert result.code == (1 if mode else 0), result.output  # --check: alpha is stale
    shown = "cards/.deckgen-cache" if plant == "cache folder linked" else None
    expected = (
        "cards/.deckgen-cache: warning: build cache not used: it "
        + ("is" if shown else f"holds {link.relative_to(built)}, which is")
        + " a link, a special file or a folder deckgen never makes there; delete the folder "
        "cards/.deckgen-cache (it is rebuilt)"
    )
    assert expected in result.stderr.splitlines()


@pytest.mark.parametrize("mode", [[], ["--check"]], ids=["build", "build --check"])
@pytest.mark.parametrize("plant", ["cache folder linked", "files folder linked"])
def test_a_cache_link_into_the_project_spares_the_card_files(
    built: Path, plant: str, mode: list[str]
) -> None:
    """Pointed inside the project, the same link once deleted the author's card files."""
    deck = built / "cards/alpha"
    before = snapshot(deck)
    PLANTS[plant](built, deck)
    result = run_build(built, *mode)
    assert result.code == 0, result.output
    assert "warning: build cache not used" in result.stderr
    assert snapshot(deck) == before
    assert run_build(built, "--check").code == 0, "the deck still builds the same"


def test_a_sound_cache_is_used_and_pruned(built: Path) -> None:
    """The check costs nothing to a cache deckgen made: no warning, and old entries go."""
    entries = built / "cards" / CACHE_DIR / "files"
    old = sorted(entries.iterdir())
    (built / "cards/alpha/cards.yaml").write_text(
        (built / "cards/alpha/cards.yaml").read_text().replace("first", "other")
    )
    result = run_build(built)
    assert result.code == 0 and "warning" not in result.stderr, result.output
    assert len(sorted(entries.iterdir())) == len(old)
    assert sorted(entries.iterdir()) != old


# --- init ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "message"),
    [
        (
            "cards/alpha/sub",
            "deckgen: error: cards/alpha/sub is inside the deck folder cards/alpha (it has a "
            "deck.yaml): a deck cannot hold another; start the new deck next to it, e.g. "
            "deckgen init cards/new-deck\n",
        ),
        (
            "cards/alpha/images",
            "deckgen: error: cards/alpha/images is inside the deck folder cards/alpha",
        ),
        (
            "cards",
            "deckgen: error: cards already holds a deck (cards/alpha/deck.yaml): a deck cannot "
            "hold another; start the new deck in a folder of its own, e.g. deckgen init "
            "cards/new-deck\n",
        ),
        (".", "deckgen: error: . already holds a deck (cards/alpha/deck.yaml)"),
    ],
)
def test_init_refuses_a_deck_inside_or_around_a_deck(
    built: Path, monkeypatch: pytest.MonkeyPatch, folder: str, message: str
) -> None:
    """A deck.yaml inside a deck is read as a card file of it: `check` failed after init."""
    monkeypatch.chdir(built)
    before = snapshot(built)
    result = run_deckgen("init", folder)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.output
    assert snapshot(built) == before
    assert run_build(built, "--check").code == 0


def _trigger_point(cards: list[dict[str, Any]], card_id: str) -> tuple[object, list[str]]:
    (card,) = (card for card in cards if card["id"] == card_id)
    return card["bodymap"]["trigger_points"][0]["at"], card["bodymap"].get("muscles", [])


def test_the_init_example_places_trp1_where_the_shipped_deck_does(empty_project: Path) -> None:
    """On the muscle, lateral to the PSIS and below the crest, with the muscle drawn, as the
    shipped deck's TrP1 location card has it (the example once put TrP1 on the PSIS)."""
    assert run_deckgen("init", "cards/hip").exit_code == 0
    example = yaml.safe_load(Path("cards/hip/example.yaml").read_text())["cards"]
    shipped = yaml.safe_load((REPOSITORY / "cards/gluteus-medius/referral.yaml").read_text())
    at, muscles = _trigger_point(example, "bodymap-example")
    shipped_at, _ = _trigger_point(shipped["cards"], "referral-trp1-location")
    assert at == shipped_at
    assert muscles == ["gluteus-medius"]
    assert run_deckgen("maps").exit_code == 0
    svg = Path("maps/hip/bodymap-example.svg").read_text()
    assert 'class="muscle"' in svg and 'class="trigger-point"' in svg


# --- maps ---------------------------------------------------------------------------------

_MAP = "{view: posterior, essential: [sacrum], trigger_points: [{label: TrP1, at: psis}]}"


@pytest.mark.parametrize(
    ("cards", "clash"),
    [
        (
            f"  - {{id: x, question: Q, answer: A, bodymap: {{reveal: true, {_MAP[1:]}}}\n"
            f"  - {{id: x-answer, question: Q2, answer: A2, bodymap: {_MAP}}}\n",
            "cards 'x' and 'x-answer' would both be drawn to maps/d/x-answer.svg",
        ),
        (
            f"  - {{id: Hip, question: Q, answer: A, bodymap: {_MAP}}}\n"
            f"  - {{id: hip, question: Q2, answer: A2, bodymap: {_MAP}}}\n",
            "cards 'Hip' and 'hip' would both be drawn to maps/d/hip.svg",
        ),
    ],
    ids=["answer side and a card named like it", "ids differing in case"],
)
def test_maps_refuses_two_pictures_for_one_file_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cards: str, clash: str
) -> None:
    """`maps` once wrote the second picture over the first under one name."""
    deck = tmp_path / "cards/d"
    deck.mkdir(parents=True)
    (deck / "deck.yaml").write_text("name: D\nid: d\n")
    (deck / "c.yaml").write_text("cards:\n" + cards)
    monkeypatch.chdir(tmp_path)
    result = run_deckgen("maps")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"deckgen: error: {clash}: give one of them another id\n"
    assert not (tmp_path / "maps").exists()


def test_maps_writes_nothing_through_a_link(
    built: Path, victim: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (built / "cards/alpha/cards.yaml").write_text(
        "cards:\n  - {id: m, question: Q, answer: A, bodymap: " + _MAP + "}\n"
    )
    (built / "maps").mkdir()
    (built / "maps/alpha").symlink_to(victim)
    monkeypatch.chdir(built)
    result = run_deckgen("maps")
    assert result.exit_code == 1
    assert result.stderr == (
        "deckgen: error: cannot write maps/alpha/m.svg: maps/alpha is a link: refused; deckgen "
        "never writes or deletes through a link, so replace it with a real folder (or delete it)\n"
    )
    assert {p.name: p.read_bytes() for p in victim.iterdir()} == VICTIM_FILES


@pytest.fixture
def nest() -> Iterator[Callable[[Path, int], None]]:
    """Makes ``depth`` folders named d, one inside the other, through descriptors (no path
    length limit), and removes them afterwards the same way: pytest's own clean-up recurses
    and cannot remove a tree thousands deep."""
    made: list[Path] = []

    def make(folder: Path, depth: int) -> None:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        for _ in range(depth):
            os.mkdir("d", dir_fd=descriptor)
            inner = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=descriptor)
            os.close(descriptor)
            descriptor = inner
        os.close(descriptor)
        made.append(folder)

    yield make
    for folder in made:
        chain = [os.open(folder, os.O_RDONLY | os.O_DIRECTORY)]
        while "d" in os.listdir(chain[-1]):
            chain.append(os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=chain[-1]))
        os.close(chain.pop())
        while chain:
            os.rmdir("d", dir_fd=chain[-1])
            os.close(chain.pop())


@pytest.mark.parametrize("depth", [1, 2_000])
def test_folders_deckgen_never_makes_in_the_cache_turn_it_off(
    built: Path, nest: Callable[[Path, int], None], depth: int
) -> None:
    """A cache entry that is a folder (or thousands of nested ones) is not deckgen's: the cache
    is not used, and looking through it neither recurses without end nor crashes."""
    nest(built / "cards" / CACHE_DIR / "files", depth)
    result = run_build(built)
    assert result.code == 0, result.output
    assert (
        "cards/.deckgen-cache: warning: build cache not used: it holds "
        "cards/.deckgen-cache/files/d, which is a link, a special file or a folder deckgen "
        "never makes there"
    ) in result.stderr
    assert (built / "cards" / CACHE_DIR / "files" / "d").is_dir(), "nothing pruned"


# --- folders nested without end ------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "build", "lint", "stats", "preview", "maps"])
def test_a_deck_with_folders_nested_thousands_deep_is_an_error_not_a_crash(
    built: Path, monkeypatch: pytest.MonkeyPatch, nest: Callable[[Path, int], None], command: str
) -> None:
    """Walking the deck folder once recursed until Python gave up: an internal error for
    every command, and for `watch`."""
    nest(built / "cards/beta", 3_000)
    monkeypatch.chdir(built)
    before = _shallow_state(built)
    result = run_deckgen(command)
    assert result.exit_code == 1, result.output
    deep = "cards/beta/" + "/".join(["d"] * 32)
    assert (
        f"{deep}: error: folder is nested more than 32 folders deep: refused; deckgen does not "
        "look so deep, so move what is in it up"
    ) in result.stderr
    assert "internal error" not in result.output
    assert _shallow_state(built) == before


def _shallow_state(root: Path) -> dict[str, object]:
    """Every file of the project but the nested folders (the test's own snapshot recurses)."""
    state: dict[str, object] = {}
    for top in ("cards/alpha", "decks", "outside", "preview", "maps"):
        if (root / top).exists():
            state |= {f"{top}/{key}": value for key, value in snapshot(root / top).items()}
    state |= {p.name: p.read_bytes() for p in (root / "cards/beta").iterdir() if p.is_file()}
    return state


def test_deep_folders_beside_the_decks_do_not_stop_the_build_or_watch(
    built: Path, nest: Callable[[Path, int], None]
) -> None:
    """A folder that is no deck is only looked through for a deck.yaml; one too deep to look
    through is not a deck. watch's listing stops at the bound instead of crashing."""
    (built / "cards/notes").mkdir()
    nest(built / "cards/notes", 3_000)
    assert run_build(built, "--check").code == 0
    watched = watch_snapshot(built / "cards")
    assert built / "cards/alpha/cards.yaml" in watched
