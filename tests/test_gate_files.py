"""One gate for files: a hostile checkout's links never make deckgen write, rename or delete
outside the project (or its own card files), and the small commands refuse what they cannot
do cleanly. Each case asserts the exit code, a message naming the file and what to do, no
traceback, and every file outside (and, where the command refuses, inside) byte-identical."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from deckgen.cache import CACHE_DIR
from hostile_project import make_project, run_build, snapshot

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
    """Every entry a link to a file of the target folder, plus one more the prune would take."""
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
        + " a link or a special file, which deckgen never makes there; delete the folder "
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
