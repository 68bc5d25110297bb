"""Project files: reads refuse links out, special files and sizes; writes and deletions never
go through a link at all."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deckgen.diagnostics import display_path
from deckgen.source.safe_files import (
    LinkInTheWay,
    MissingFile,
    UnsafeFile,
    check_folder,
    list_files,
    make_folders,
    overwrite_file,
    read_file,
    remove_file,
    write_atomically,
)

SECRET = b"-----BEGIN PRIVATE KEY----- do not print"


@pytest.fixture
def deck(tmp_path: Path) -> Path:
    (tmp_path / "deck").mkdir()
    (tmp_path / "deck" / "card.yaml").write_bytes(b"cards: []\n")
    (tmp_path / "key").write_bytes(SECRET)
    return tmp_path / "deck"


def refusal(path: Path, within: Path, max_bytes: int = 1000) -> str:
    with pytest.raises(UnsafeFile) as refused:
        read_file(path, within=within, max_bytes=max_bytes)
    return str(refused.value)


def test_a_regular_file_and_a_link_inside_are_read(deck: Path) -> None:
    (deck / "sub").mkdir()
    (deck / "sub" / "link.yaml").symlink_to("../card.yaml")
    assert read_file(deck / "card.yaml", within=deck, max_bytes=10) == b"cards: []\n"
    assert read_file(deck / "sub" / "link.yaml", within=deck, max_bytes=10) == b"cards: []\n"


def test_a_link_out_is_refused_without_reading_it(deck: Path) -> None:
    (deck / "deck.lock").symlink_to(deck.parent / "key")
    message = refusal(deck / "deck.lock", deck)
    assert message == (
        f"links outside the folder {display_path(deck)}: refused; deckgen reads only files "
        "inside it, so copy the file there instead of linking to it"
    )
    (deck / "up.yaml").symlink_to("../deck/../key")  # a link that climbs out and names the way
    assert refusal(deck / "up.yaml", deck) == message


def test_a_missing_file_is_told_apart(deck: Path) -> None:
    with pytest.raises(MissingFile, match=r"^not found$"):
        read_file(deck / "deck.lock", within=deck, max_bytes=10)
    (deck / "dangling.yaml").symlink_to("nowhere.yaml")
    with pytest.raises(MissingFile):
        read_file(deck / "dangling.yaml", within=deck, max_bytes=10)


def test_a_device_is_never_read(tmp_path: Path) -> None:
    # Even where /dev is the allowed folder, /dev/zero is refused before it is opened.
    started = time.monotonic()
    assert refusal(Path("/dev/zero"), Path("/dev")) == "is a device, not a regular file: refused"
    assert time.monotonic() - started < 1


def test_a_fifo_is_refused_at_once(deck: Path) -> None:
    os.mkfifo(deck / "deck.lock")
    started = time.monotonic()
    assert refusal(deck / "deck.lock", deck) == (
        "is a FIFO (named pipe), not a regular file: refused"
    )
    assert time.monotonic() - started < 1, "a FIFO without a writer must not block"


def test_a_folder_is_not_a_file_and_a_file_is_not_a_folder(deck: Path) -> None:
    (deck / "folder.yaml").mkdir()
    assert refusal(deck / "folder.yaml", deck) == "is a folder, not a regular file: refused"
    with pytest.raises(UnsafeFile, match=r"^is not a folder$"):
        check_folder(deck / "card.yaml", within=deck)
    check_folder(deck, within=deck.parent)


def test_sizes_are_bounded_before_and_while_reading(deck: Path) -> None:
    assert refusal(deck / "card.yaml", deck, max_bytes=9) == ("is 10 bytes; at most 9 are allowed")
    # /proc files claim a size of 0 and then yield more: only the bounded read catches that.
    status = Path("/proc/self/status")
    assert status.stat().st_size == 0
    assert refusal(status, Path("/proc"), max_bytes=10) == (
        "grew past 10 bytes while being read: refused"
    )


def test_names_the_file_system_cannot_hold_are_refused(deck: Path) -> None:
    (deck / "a.yaml").symlink_to("b.yaml")
    (deck / "b.yaml").symlink_to("a.yaml")
    assert refusal(deck / "a.yaml", deck) == "is a symlink loop: replace the link with the file"
    assert refusal(deck / "x\0.png", deck) == (
        "cannot be opened: the name is not a valid file name"
    )
    assert refusal(deck / ("x" * 300 + ".png"), deck) == "cannot be read: File name too long"


# --- writing and deleting: never through a link ---------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "keep.txt").write_bytes(SECRET)
    return folder


def test_a_regular_file_is_removed_and_a_link_never(deck: Path, outside: Path) -> None:
    assert remove_file(deck / "card.yaml", within=deck)
    assert not (deck / "card.yaml").exists()
    assert not remove_file(deck / "card.yaml", within=deck), "nothing there: False"
    (deck / "entry").symlink_to(outside / "keep.txt")
    with pytest.raises(LinkInTheWay, match="entry is a link: refused"):
        remove_file(deck / "entry", within=deck)
    assert (deck / "entry").is_symlink() and (outside / "keep.txt").read_bytes() == SECRET


@pytest.mark.parametrize(
    "operation",
    [
        lambda path, within: remove_file(path / "keep.txt", within=within),
        lambda path, within: write_atomically(path / "keep.txt", b"x", within=within),
        lambda path, within: overwrite_file(path / "keep.txt", b"x", within=within),
        lambda path, within: make_folders(path / "new", within=within),
        lambda path, within: list_files(path, within=within),
    ],
    ids=["remove", "write", "overwrite", "make folder", "list"],
)
def test_a_link_on_the_way_is_never_followed(
    deck: Path, outside: Path, operation: Callable[[Path, Path], object]
) -> None:
    (deck / "cache").symlink_to(outside)
    with pytest.raises(LinkInTheWay) as refused:
        operation(deck / "cache", deck)
    assert str(refused.value) == (
        f"[Errno 40] {display_path(deck / 'cache')} is a link: refused; deckgen never writes "
        "or deletes through a link, so replace it with a real folder (or delete it)"
    )
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
    assert (outside / "keep.txt").read_bytes() == SECRET


def test_a_path_out_of_the_folder_by_name_is_refused(deck: Path, outside: Path) -> None:
    with pytest.raises(LinkInTheWay, match="outside the folder"):
        remove_file(deck / ".." / "outside" / "keep.txt", within=deck)
    assert (outside / "keep.txt").read_bytes() == SECRET


def test_a_link_at_the_name_is_replaced_not_written_through(deck: Path, outside: Path) -> None:
    (deck / "deck.lock").symlink_to(outside / "keep.txt")
    write_atomically(deck / "deck.lock", b"new lock", within=deck)
    assert not (deck / "deck.lock").is_symlink()
    assert (deck / "deck.lock").read_bytes() == b"new lock"
    assert (outside / "keep.txt").read_bytes() == SECRET
    assert sorted(p.name for p in deck.iterdir()) == ["card.yaml", "deck.lock"], "no temporary"


def test_an_entry_rewritten_in_place_refuses_links_and_fifos(deck: Path, outside: Path) -> None:
    (deck / "entry").symlink_to(outside / "keep.txt")
    with pytest.raises(OSError):
        overwrite_file(deck / "entry", b"x", within=deck)
    os.mkfifo(deck / "fifo")
    started = time.monotonic()
    with pytest.raises(OSError):
        overwrite_file(deck / "fifo", b"x", within=deck)
    assert time.monotonic() - started < 5, "a FIFO without a reader must not block"
    assert (outside / "keep.txt").read_bytes() == SECRET
    overwrite_file(deck / "sub" / "entry", b"made", within=deck)
    assert (deck / "sub" / "entry").read_bytes() == b"made"


# --- property: whatever a checkout plants, nothing outside changes ---------------------------

_KINDS = ["folder", "file", "link out (folder)", "link out (file)", "link inside", "fifo"]
_NAMES = ["a", "b"]


def _plant(root: Path, outside: Path, layout: list[tuple[str, str]]) -> None:
    """Entries at paths of up to two names, each a folder, a file, a link or a FIFO."""
    for relative, kind in layout:
        path = root / relative
        if not path.parent.is_dir() or path.parent.is_symlink() or os.path.lexists(path):
            continue  # a parent that is no real folder, or a name already taken
        if kind == "folder":
            path.mkdir()
        elif kind == "file":
            path.write_bytes(b"project file")
        elif kind == "link out (folder)":
            path.symlink_to(outside)
        elif kind == "link out (file)":
            path.symlink_to(outside / "keep.txt")
        elif kind == "link inside":
            path.symlink_to(root)
        else:
            os.mkfifo(path)


def _state(folder: Path) -> dict[str, object]:
    return {
        str(path.relative_to(folder)): path.read_bytes() if path.is_file() else "other"
        for path in sorted(folder.rglob("*"))
        if not path.is_symlink()
    }


_OPERATIONS: dict[str, Callable[[Path, Path], object]] = {
    "remove": lambda path, root: remove_file(path, within=root),
    "write": lambda path, root: write_atomically(path, b"new", within=root),
    "overwrite": lambda path, root: overwrite_file(path, b"new", within=root),
    "make folders": lambda path, root: make_folders(path, within=root),
    "list": lambda path, root: list_files(path, within=root),
}


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    layout=st.lists(
        st.tuples(
            st.lists(st.sampled_from(_NAMES), min_size=1, max_size=2).map("/".join),
            st.sampled_from(_KINDS),
        ),
        max_size=6,
    ),
    target=st.lists(st.sampled_from(_NAMES), min_size=1, max_size=3).map("/".join),
    operation=st.sampled_from(list(_OPERATIONS)),
)
def test_no_planted_tree_makes_a_write_or_delete_reach_outside(
    tmp_path_factory: pytest.TempPathFactory,
    layout: list[tuple[str, str]],
    target: str,
    operation: str,
) -> None:
    scratch = tmp_path_factory.mktemp("tree")
    root, outside = scratch / "project", scratch / "outside"
    root.mkdir()
    outside.mkdir()
    for name in ["keep.txt", *_NAMES]:  # names a target may take, to be deleted or overwritten
        (outside / name).write_bytes(SECRET)
    _plant(root, outside, layout)
    before = _state(outside)
    path = root / target
    try:
        _OPERATIONS[operation](path, root)
    except OSError:
        pass  # refused (a link, a FIFO, a file where a folder must be): that is allowed
    else:
        # It went through, so no link was on the way: every folder above is a real one.
        for parent in path.relative_to(root).parents:
            assert not (root / parent).is_symlink(), (operation, target, layout)
    assert _state(outside) == before
