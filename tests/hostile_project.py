"""A two-deck project for file-system-hostile tests, and a snapshot of every file in it."""

from __future__ import annotations

import os
import random
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from conftest import FIRST_BUILD_TIME
from deckgen.pipeline.cache import CACHE_DIR
from helpers import write_deck_folder

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SECRET = "SECRET-7f3a-do-not-print"


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def make_project(root: Path, *, beta_image_bytes: int = 1000) -> None:
    """cards/alpha and cards/beta, each with a deck.yaml, a card file and an image, and an
    ``outside`` folder next to cards/ holding files that must never be read or written."""
    for deck, image_size in (("alpha", 100), ("beta", beta_image_bytes)):
        noise = random.Random(deck).randbytes(image_size)  # incompressible, so sizes are known
        files = {
            "cards.yaml": card_file(deck, "first version"),
            "images/dot.png": PNG_SIGNATURE + noise,
        }
        write_deck_folder(root, files, folder=deck, deck_yaml=f"name: {deck.title()}\nid: {deck}\n")
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{SECRET}\n")
    (outside / "deck.yaml").write_text(f"name: Stolen\nid: stolen\n{SECRET}: 1\n")
    (outside / "deck.lock").write_text(f'{{"format": 1, "{SECRET}": []}}\n')
    (outside / "image.png").write_bytes(PNG_SIGNATURE + SECRET.encode())
    (outside / "cards.yaml").write_text(f"cards:\n  - {{id: {SECRET}, question: Q, answer: A}}\n")
    stolen = outside / "deckdir"
    stolen.mkdir()
    (stolen / "deck.yaml").write_text(f"name: Stolen\nid: {SECRET}\n")
    (stolen / "cards.yaml").write_text(card_file("stolen", SECRET))


def card_file(deck: str, answer: str) -> str:
    return (
        "cards:\n"
        f"  - id: {deck}-one\n"
        f"    question: What is in {deck}?\n"
        f'    answer: "{answer} ![dot](images/dot.png)"\n'
    )


def edit_cards(root: Path) -> None:
    """Change a card in each deck, so that a build has packages and locks to write."""
    for deck in ("alpha", "beta"):
        (root / "cards" / deck / "cards.yaml").write_text(card_file(deck, "second version"))


def run_build(
    root: Path,
    *args: str,
    timeout: float = 60,
    before: Callable[[], None] | None = None,
) -> Outcome:
    """``deckgen build`` in a subprocess, as a user runs it (a hang fails the test)."""
    environment = {**os.environ, "SOURCE_DATE_EPOCH": str(FIRST_BUILD_TIME)}
    process = subprocess.run(
        [sys.executable, "-m", "deckgen", "build", *args],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=before,
        check=False,
    )
    return Outcome(process.returncode, process.stdout, process.stderr)


def snapshot(root: Path) -> dict[str, object]:
    """Every entry under ``root`` without following links: bytes of regular files, targets of
    links, and the kind of anything else (a FIFO is never opened). The build cache is left
    out: a build that compiled its cards may keep them there even if writing then failed."""
    state: dict[str, object] = {}
    for folder, folders, files in os.walk(root):
        folders[:] = [name for name in folders if name != CACHE_DIR]
        for name in folders + files:
            path = Path(folder, name)
            mode = os.lstat(path).st_mode
            key = str(path.relative_to(root))
            if stat.S_ISLNK(mode):
                state[key] = ("link", os.readlink(path))
            elif stat.S_ISREG(mode):
                state[key] = path.read_bytes()
            elif stat.S_ISDIR(mode):
                state[key] = "folder"
            else:
                state[key] = stat.S_IFMT(mode)
    return state


def temporary_files(root: Path) -> list[str]:
    return sorted(key for key in snapshot(root) if Path(key).name.endswith(".tmp"))
