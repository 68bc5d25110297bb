"""Reading project files safely: never through a symlink out of the project, never a special
file, never more than a bound.

Card files, deck.yaml, locks and images all come from authors, so their *paths* are untrusted
too: a deck.yaml can be a symlink to a key file, a lock a symlink to /dev/zero or a FIFO. A
file is read only when, with every symlink resolved, it lies inside the folder it belongs to
(``within``: its deck folder; for a deck folder, the cards folder given on the command line)
and is a regular file no larger than its bound. Symlinks that stay inside keep working.

The reason given in ``UnsafeFile`` never quotes the file's content, only its kind and size.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from deckgen.diagnostics import display_path

_READ_CHUNK = 1024 * 1024

_OPEN_FLAGS = (
    os.O_RDONLY
    | os.O_NOFOLLOW  # the path is already resolved: a symlink here was swapped in since
    | os.O_NONBLOCK  # a FIFO must not block the open (it is refused right after)
    | os.O_NOCTTY
    | os.O_CLOEXEC
)


class UnsafeFile(Exception):
    """Why a file is not read, phrased to follow its name: "deck.lock <reason>"."""


class MissingFile(UnsafeFile):
    """Nothing exists at the path (callers may treat that as empty)."""


class TooLarge(UnsafeFile):
    """The file is larger than its kind may be (callers say what to do about it)."""


def resolve(path: Path) -> Path:
    """``path`` with every symlink resolved; a loop or an impossible name is ``UnsafeFile``."""
    try:
        return path.resolve()
    except RuntimeError as exc:  # pathlib's report of a symlink loop
        raise UnsafeFile("is a symlink loop: replace the link with the file") from exc
    except (OSError, ValueError) as exc:  # a name too long for the file system, a NUL byte
        raise UnsafeFile(f"cannot be opened: {_reason(exc)}") from exc


def resolve_within(path: Path, within: Path) -> Path:
    """``path`` with every symlink resolved, provided it lies inside ``within``."""
    resolved = resolve(path)
    if not resolved.is_relative_to(resolve(within)):
        raise UnsafeFile(
            f"links outside the folder {display_path(within)}: refused; deckgen reads only "
            "files inside it, so copy the file there instead of linking to it"
        )
    return resolved


def check_folder(path: Path, *, within: Path) -> None:
    """Raise ``UnsafeFile`` unless ``path`` is a folder inside ``within`` (symlinks resolved)."""
    resolved = resolve_within(path, within)
    if not resolved.is_dir():
        raise UnsafeFile("is not a folder")


def read_file(path: Path, *, within: Path, max_bytes: int) -> bytes:
    """The bytes of the regular file ``path``, which must lie inside ``within``.

    Raises ``MissingFile`` when nothing is there and ``UnsafeFile`` for a link out of
    ``within``, a folder, FIFO, device or socket, a file over ``max_bytes`` or an I/O error.
    """
    resolved = resolve_within(path, within)
    try:
        # Look before opening, so that a device is never even opened.
        _check_regular(os.lstat(resolved), max_bytes)
        descriptor = os.open(resolved, _OPEN_FLAGS)
    except FileNotFoundError as exc:
        raise MissingFile("not found") from exc
    except OSError as exc:
        raise UnsafeFile(f"cannot be read: {_reason(exc)}") from exc
    try:
        _check_regular(os.fstat(descriptor), max_bytes)  # what was opened, not what was seen
        return _read_at_most(descriptor, max_bytes)
    except OSError as exc:
        raise UnsafeFile(f"cannot be read: {_reason(exc)}") from exc
    finally:
        os.close(descriptor)


def _check_regular(status: os.stat_result, max_bytes: int) -> None:
    mode = status.st_mode
    if not stat.S_ISREG(mode):
        raise UnsafeFile(f"is {_kind(mode)}, not a regular file: refused")
    if status.st_size > max_bytes:
        raise TooLarge(f"is {status.st_size} bytes; at most {max_bytes} are allowed")


def _read_at_most(descriptor: int, max_bytes: int) -> bytes:
    """Read to the end, but never more than ``max_bytes``: the file may grow while read."""
    chunks = []
    total = 0
    while chunk := os.read(descriptor, min(_READ_CHUNK, max_bytes + 1 - total)):
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            raise TooLarge(f"grew past {max_bytes} bytes while being read: refused")
    return b"".join(chunks)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _reason(exc: OSError | ValueError) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return "the name is not a valid file name"
