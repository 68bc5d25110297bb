"""File-system-hostile projects: links out of the project, special files, outputs that cannot
be written. Each refused build exits 1 with a path and what to do, prints no traceback and no
byte of a foreign file, and leaves every file (in the project and outside it) byte-identical.
"""

from __future__ import annotations

import errno
import fcntl
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from anki_engine import StudentCollection
from conftest import FIRST_BUILD_TIME, run_deckgen
from hostile_project import (
    SECRET,
    edit_cards,
    make_project,
    run_build,
    snapshot,
    temporary_files,
)


@dataclass(frozen=True)
class Case:
    id: str
    arrange: Callable[[Path], None]
    """Makes the project hostile (the project is built, then both decks edited)."""
    message: str
    """A line the build must print, from its start (the path) on."""


def _link(link: str, target: str) -> Callable[[Path], None]:
    def arrange(root: Path) -> None:
        path = root / link
        if path.exists() or path.is_symlink():
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        path.symlink_to(target if target.startswith("/") else root / target)

    return arrange


def _fifo(path: str) -> Callable[[Path], None]:
    def arrange(root: Path) -> None:
        (root / path).unlink(missing_ok=True)
        os.mkfifo(root / path)

    return arrange


def _folder(path: str) -> Callable[[Path], None]:
    def arrange(root: Path) -> None:
        (root / path).unlink(missing_ok=True)
        (root / path).mkdir()
        (root / path / "inside.txt").write_text("a folder where a file should be\n")

    return arrange


def _image_reference(reference: str) -> Callable[[Path], None]:
    def arrange(root: Path) -> None:
        cards = root / "cards/beta/cards.yaml"
        cards.write_text(cards.read_text().replace("images/dot.png", reference))

    return arrange


def _symlink_loop(root: Path) -> None:
    (root / "cards/beta/a.yaml").symlink_to("b.yaml")
    (root / "cards/beta/b.yaml").symlink_to("a.yaml")


def _image_loop(root: Path) -> None:
    (root / "cards/beta/images/loop.png").symlink_to("loop.png")
    _image_reference("images/loop.png")(root)


_OUTSIDE_HINT = "refused; deckgen reads only files inside it, so copy the file there"
CASES = [
    Case(
        "deck.yaml linked out of the project",
        _link("cards/beta/deck.yaml", "outside/deck.yaml"),
        f"cards/beta/deck.yaml: error: file links outside the folder cards/beta: {_OUTSIDE_HINT}",
    ),
    Case(
        "deck.yaml linked to a key file by absolute path",
        _link("cards/beta/deck.yaml", "/etc/passwd"),
        f"cards/beta/deck.yaml: error: file links outside the folder cards/beta: {_OUTSIDE_HINT}",
    ),
    Case(
        "deck.lock linked out of the project",
        _link("cards/beta/deck.lock", "outside/deck.lock"),
        f"cards/beta/deck.lock: error: lock file links outside the folder cards/beta: "
        f"{_OUTSIDE_HINT}",
    ),
    Case(
        "deck.lock linked to /dev/zero",
        _link("cards/beta/deck.lock", "/dev/zero"),
        "cards/beta/deck.lock: error: lock file links outside the folder cards/beta: ",
    ),
    Case(
        "deck.lock is a FIFO",
        _fifo("cards/beta/deck.lock"),
        "cards/beta/deck.lock: error: lock file is a FIFO (named pipe), not a regular file: "
        "refused",
    ),
    Case(
        "deck.lock is a folder",
        _folder("cards/beta/deck.lock"),
        "cards/beta/deck.lock: error: lock file is a folder, not a regular file: refused",
    ),
    Case(
        "deck.yaml is a FIFO",
        _fifo("cards/beta/deck.yaml"),
        "cards/beta/deck.yaml: error: file is a FIFO (named pipe), not a regular file: refused",
    ),
    Case(
        "deck.yaml is a folder",
        _folder("cards/beta/deck.yaml"),
        "cards/beta/deck.yaml: error: file is a folder, not a regular file: refused",
    ),
    Case(
        "deck folder linked out of the project",
        _link("cards/stolen", "outside/deckdir"),
        "cards/stolen: error: deck folder links outside the folder cards: ",
    ),
    Case(
        "card file linked out of the deck",
        _link("cards/beta/more.yaml", "outside/cards.yaml"),
        f"cards/beta/more.yaml: error: card file links outside the folder cards/beta: "
        f"{_OUTSIDE_HINT}",
    ),
    Case(
        "card file is a FIFO",
        _fifo("cards/beta/more.yaml"),
        "cards/beta/more.yaml: error: file is a FIFO (named pipe), not a regular file: refused",
    ),
    Case(
        "card files in a symlink loop",
        _symlink_loop,
        "cards/beta/a.yaml: error: card file is a symlink loop: replace the link with the file",
    ),
    Case(
        "image linked out of the deck",
        _link("cards/beta/images/dot.png", "outside/image.png"),
        "cards/beta/cards.yaml:4:13: error: image 'images/dot.png' lies outside the deck folder",
    ),
    Case(
        "image is a FIFO",
        _fifo("cards/beta/images/dot.png"),
        "cards/beta/cards.yaml:4:13: error: image 'images/dot.png' is a FIFO (named pipe), "
        "not a regular file: refused",
    ),
    Case(
        "image is a folder",
        _folder("cards/beta/images/dot.png"),
        "cards/beta/cards.yaml:4:13: error: image 'images/dot.png' is a folder, "
        "not a regular file: refused",
    ),
    Case(
        "images in a symlink loop",
        _image_loop,
        "cards/beta/cards.yaml:4:13: error: image 'images/loop.png' is a symlink loop: ",
    ),
    Case(
        "image name with an encoded NUL byte",
        _image_reference("images/dot%00.png"),
        "cards/beta/cards.yaml:4:13: error: image 'images/dot%00.png' has a control character "
        "in its name (written as %00 or similar): remove it",
    ),
    Case(
        "image name longer than the file system allows",
        _image_reference("images/" + "x" * 300 + ".png"),
        "cards/beta/cards.yaml:4:13: error: image 'images/xxx",
    ),
]


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """The two-deck project, built once, then edited so that the next build writes."""
    make_project(tmp_path)
    assert run_build(tmp_path).code == 0
    edit_cards(tmp_path)
    return tmp_path


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_project_is_refused_and_changes_nothing(built: Path, case: Case) -> None:
    case.arrange(built)
    before = snapshot(built)
    started = time.monotonic()
    result = run_build(built, timeout=30)
    assert time.monotonic() - started < 20, "a hostile file must be refused, not waited on"
    assert result.code == 1, result.output
    lines = result.stderr.splitlines()
    assert any(line.startswith(case.message) for line in lines), result.stderr
    assert lines[-1].startswith("deckgen: stopped: "), result.stderr
    assert lines[-1].endswith("; nothing was written")
    assert "Traceback" not in result.output
    assert SECRET not in result.output
    assert not any(ord(c) < 32 and c != "\n" for c in result.output), "raw control characters"
    assert snapshot(built) == before


def test_links_that_stay_inside_keep_working(built: Path) -> None:
    beta = built / "cards/beta"
    (beta / "shared").mkdir()
    (beta / "images/dot.png").rename(beta / "shared/dot.png")
    (beta / "images/dot.png").symlink_to("../shared/dot.png")
    (beta / "cards.yaml").rename(beta / "shared/cards.txt")
    (beta / "topic").mkdir()
    (beta / "topic/cards.yaml").symlink_to("../shared/cards.txt")  # across subfolders
    (beta / "shared/cards.txt").write_text(
        (beta / "shared/cards.txt").read_text().replace("images/", "../images/")
    )
    result = run_build(built)
    assert result.code == 0, result.output
    assert result.stdout.endswith("built 2 decks; 0 errors, 0 warnings\n")


def test_a_folder_named_like_a_card_file_is_walked_not_read(built: Path) -> None:
    folder = built / "cards/beta/old.yaml"
    folder.mkdir()
    (folder / "more.yaml").write_text("cards:\n  - {id: more, question: Why, answer: Because}\n")
    result = run_build(built)
    assert result.code == 0, result.output
    assert "wrote: decks/beta.apkg (2 notes, 2 cards, 1 image)" in result.stdout


def test_a_deck_folder_linked_inside_the_project_is_built(built: Path) -> None:
    (built / "cards/gamma").symlink_to("beta")
    result = run_build(built)
    # Allowed, and then caught as what it is: one deck twice.
    assert result.code == 1
    assert "error: deck id 'beta' is already used by cards/beta/deck.yaml" in result.stderr


def _rename_blocked_by_a_folder(root: Path) -> None:
    (root / "decks/beta.apkg").unlink()
    (root / "decks/beta.apkg").mkdir()


def _file_size_limit() -> None:
    """Files this process writes may be at most 64 KiB, as on a nearly full disk."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_second_deck_unwritable_leaves_every_previous_file(built: Path) -> None:
    _rename_blocked_by_a_folder(built)
    before = snapshot(built)
    result = run_build(built)
    assert result.code == 1
    assert result.stderr == "deckgen: error: cannot write decks/beta.apkg: Is a directory\n"
    assert snapshot(built) == before, "alpha's package and lock must not change either"
    assert temporary_files(built) == []


def test_full_disk_during_the_second_package_leaves_every_previous_file(tmp_path: Path) -> None:
    make_project(tmp_path, beta_image_bytes=200_000)
    assert run_build(tmp_path).code == 0
    assert (tmp_path / "decks/alpha.apkg").stat().st_size < 64 * 1024
    edit_cards(tmp_path)
    before = snapshot(tmp_path)
    result = run_build(tmp_path, before=_file_size_limit)
    assert result.code == 1, result.output
    assert result.stderr == "deckgen: error: cannot write decks/beta.apkg: File too large\n"
    assert snapshot(tmp_path) == before
    assert temporary_files(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_lock_folder_leaves_every_previous_file(built: Path) -> None:
    (built / "cards/beta").chmod(0o555)
    try:
        before = snapshot(built)
        result = run_build(built)
    finally:
        (built / "cards/beta").chmod(0o755)
    assert result.code == 1
    assert result.stderr.startswith("deckgen: error: cannot write cards/beta/deck.lock: ")
    assert snapshot(built) == before


def test_stale_temporary_files_of_deckgen_only_are_removed(built: Path) -> None:
    leftovers = ["decks/.alpha.apkg.k2j_9x0a.tmp", "cards/beta/.deck.lock.abcdefgh.tmp"]
    not_ours = [
        "decks/.alpha.apkg.tmp",  # no random part
        "decks/.other.apkg.abcdefgh.tmp",  # no such output
        "cards/beta/.deck.lock.ABCDEFGH.tmp",  # mkstemp never uses capitals
        "cards/beta/notes.tmp",
    ]
    for name in leftovers + not_ours:
        (built / name).write_bytes(b"half a package")
    (built / "decks/.beta.apkg.abcdefgh.tmp").mkdir()  # a folder is never removed
    not_ours.append("decks/.beta.apkg.abcdefgh.tmp")
    result = run_build(built)
    assert result.code == 0, result.output
    for name in leftovers:
        assert f"removed {name}, left behind by a killed build\n" in result.stdout
        assert not (built / name).exists()
    assert all((built / name).exists() for name in not_ours)


def test_a_failed_build_leaves_outputs_importable(
    built: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """After the refused write of the second deck, the first deck's package is the old one
    and Anki imports it."""
    _rename_blocked_by_a_folder(built)
    assert run_build(built).code == 1
    student = StudentCollection(tmp_path_factory.mktemp("student"))
    try:
        student.import_package(built / "decks/alpha.apkg")
        fields = [note.fields for note in student.notes().values()]
        assert len(fields) == 1 and "first version" in fields[0][1]
    finally:
        student.close()


def _waits_for_a_lock(pid: int) -> bool:
    """Whether ``pid`` is queued for a file lock (/proc/locks marks waiters with '->')."""
    waiting = (line.split() for line in Path("/proc/locks").read_text().splitlines())
    return any(fields[1] == "->" and fields[5] == str(pid) for fields in waiting)


def test_a_second_build_waits_and_spares_the_first_ones_temporary_files(built: Path) -> None:
    in_flight = built / "decks/.alpha.apkg.inflight.tmp"  # what a running build is writing
    folder = os.open(built / "decks", os.O_RDONLY)
    fcntl.flock(folder, fcntl.LOCK_EX)  # as the running build holds it
    try:
        in_flight.write_bytes(b"half written")
        before = snapshot(built)
        second = subprocess.Popen(
            [sys.executable, "-m", "deckgen", "build"],
            cwd=built,
            env={**os.environ, "SOURCE_DATE_EPOCH": str(FIRST_BUILD_TIME)},
            stdout=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not _waits_for_a_lock(second.pid):
            assert second.poll() is None, "the second build did not wait"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert snapshot(built) == before
    finally:
        fcntl.flock(folder, fcntl.LOCK_UN)
        os.close(folder)
    stdout, _ = second.communicate(timeout=60)
    assert second.returncode == 0
    # Once the first build is over, what it left is stale, and the second build removes it.
    assert "removed decks/.alpha.apkg.inflight.tmp, left behind by a killed build" in stdout
    assert temporary_files(built) == []


def test_a_rename_that_fails_says_what_was_replaced(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renames almost never fail once every file is written; if one does, the message says
    which outputs are already new, and no temporary file is left."""
    monkeypatch.chdir(built)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME))
    renames: list[str] = []
    real_replace = os.replace

    def replace_once_then_fail(source: str, target: str, **folders: int) -> None:
        if renames:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        renames.append(target)
        real_replace(source, target, **folders)  # by name in a folder opened without links

    monkeypatch.setattr(os, "replace", replace_once_then_fail)
    result = run_deckgen("build")
    assert result.exit_code == 1
    assert result.stderr == (
        "deckgen: error: cannot write cards/beta/deck.lock: Input/output error; "
        "already replaced: cards/alpha/deck.lock; fix the problem and build again\n"
    )
    assert temporary_files(built) == []
