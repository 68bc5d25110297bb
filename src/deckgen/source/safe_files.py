"""The one way deckgen touches files: reads never through a symlink out of the project, never a
special file, never more than a bound; writes, renames and deletions never through a link at all.

Card files, deck.yaml, locks and images all come from authors, so their *paths* are untrusted
too: a deck.yaml can be a symlink to a key file, a lock a symlink to /dev/zero or a FIFO. A
file is read only when, with every symlink resolved, it lies inside the folder it belongs to
(``within``: its deck folder; for a deck folder, the cards folder given on the command line)
and is a regular file no larger than its bound. Symlinks that stay inside keep working.

The reason given in ``UnsafeFile`` never quotes the file's content, only its kind and size.

Writing, renaming and deleting go further, because a link followed there changes or destroys
files elsewhere (a committed ``.deckgen-cache`` linked to the author's home, emptied by the
cache prune): the folder of the file is reached from ``within`` one folder at a time, each
opened with O_NOFOLLOW, and the file is then created, renamed or removed by name relative to
that open folder (``dir_fd``). A link anywhere below ``within``, even one swapped in while
deckgen runs, makes the operation fail with ``LinkInTheWay`` instead of being followed; only
regular files are ever removed; a link at the file's own name is replaced, never written
through. ``within`` itself (the output folder, a deck folder, the cards folder) is opened as
the user named it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import stat
from collections.abc import Callable, Iterator
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


class TooDeep(UnsafeFile):
    """A folder nested deeper than ``MAX_FOLDER_DEPTH`` below the one walked."""

    def __init__(self, folder: Path) -> None:
        super().__init__(
            f"is nested more than {MAX_FOLDER_DEPTH} folders deep: refused; deckgen does not "
            "look so deep, so move what is in it up"
        )
        self.folder = folder


MAX_FOLDER_DEPTH = 32
"""How deep below a deck (or the cards folder) deckgen looks: far beyond any deck's images
folders, and a bound on a walk a checkout of thousands of nested folders once crashed."""


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


def walk_tree(top: Path, *, skip: Callable[[Path], bool] | None = None) -> Iterator[Path]:
    """Every entry below ``top`` (folders, files, links, special files) in the order of
    ``sorted(top.rglob("*"))``, found one folder at a time without recursion. Links are listed,
    never entered; entries ``skip`` names are left out with all below them; folders that cannot
    be listed are left out, as rglob does. Raises ``TooDeep`` before entering a folder more than
    ``MAX_FOLDER_DEPTH`` levels below ``top``. Names only: nothing is read."""
    stack = [iter(_entries(top))]
    while stack:
        path = next(stack[-1], None)
        if path is None:
            stack.pop()
            continue
        if skip is not None and skip(path):
            continue
        yield path
        try:
            is_folder = stat.S_ISDIR(os.lstat(path).st_mode)
        except OSError:  # gone since it was listed
            continue
        if is_folder:
            if len(stack) >= MAX_FOLDER_DEPTH:
                raise TooDeep(path)
            stack.append(iter(_entries(path)))


def _entries(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError:
        return []


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
    with _opened_regular(path, within=within, max_bytes=max_bytes) as descriptor:
        return _read_at_most(descriptor, max_bytes)


@contextlib.contextmanager
def _opened_regular(path: Path, *, within: Path, max_bytes: int) -> Iterator[int]:
    """A descriptor of the regular file ``path`` inside ``within``, checked before and after
    opening; an I/O error while it is used is ``UnsafeFile`` too."""
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
        yield descriptor
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


def file_digest(path: Path, *, within: Path, max_bytes: int) -> str:
    """SHA-256 of a regular file inside ``within``, read in chunks: a large file is hashed in
    bounded memory. Raises as ``read_file`` does."""
    with _opened_regular(path, within=within, max_bytes=max_bytes) as descriptor:
        digest = hashlib.sha256()
        total = 0
        while chunk := os.read(descriptor, _READ_CHUNK):
            total += len(chunk)
            if total > max_bytes:
                raise TooLarge(f"grew past {max_bytes} bytes while being read: refused")
            digest.update(chunk)
        return digest.hexdigest()


# --- writing, renaming, deleting --------------------------------------------------------------

_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_EXISTING_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
"""For a file rewritten in place: no link followed, and a FIFO without a reader fails at once
(O_NONBLOCK) instead of waiting; it is truncated only once it is known to be a regular file."""
OUTPUT_MODE = 0o644

TEMPORARY_NAME = re.compile(r"\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp")
"""The names of the temporary files deckgen writes beside an output before renaming them over
it (``.<output name>.<8 random characters>.tmp``); a killed build may leave them behind."""


class LinkInTheWay(OSError):
    """A link, or something that is not a folder, where deckgen would write, rename or delete:
    refused, never followed. An ``OSError``, so callers report it as any failed write."""

    def __init__(self, path: Path, kind: str) -> None:
        super().__init__(
            errno.ELOOP,
            f"{display_path(path)} is {kind}: refused; deckgen never writes or deletes through "
            "a link, so replace it with a real folder (or delete it)",
        )


@contextlib.contextmanager
def _folder(folder: Path, within: Path, *, create: bool) -> Iterator[int]:
    """An open descriptor of ``folder``, reached from ``within`` one real folder at a time.

    ``folder`` must be ``within`` or lie below it by name (no ``..``). Missing folders are
    made when ``create`` is set, else ``FileNotFoundError``. A link or a file on the way is
    ``LinkInTheWay``."""
    root = Path(os.path.abspath(within))
    target = Path(os.path.abspath(folder))
    if not target.is_relative_to(root):
        raise LinkInTheWay(folder, f"outside the folder {display_path(within)}")
    if create:
        os.makedirs(root, exist_ok=True)  # the folder the user named: links in it are theirs
    descriptor = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        reached = root
        for part in target.relative_to(root).parts:
            reached = reached / part
            parent, descriptor = descriptor, -1  # _enter closes the parent, even when it fails
            descriptor = _enter(parent, part, reached, create=create)
        yield descriptor
    finally:
        if descriptor >= 0:
            os.close(descriptor)


def _enter(parent: int, name: str, path: Path, *, create: bool) -> int:
    """Open the folder ``name`` inside ``parent`` (closing ``parent``), never through a link."""
    try:
        try:
            return os.open(name, _FOLDER_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                raise
            with contextlib.suppress(FileExistsError):  # made meanwhile by another build
                os.mkdir(name, 0o777, dir_fd=parent)
            return os.open(name, _FOLDER_FLAGS, dir_fd=parent)
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
        is_link = stat.S_ISLNK(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode)
        raise LinkInTheWay(path, "a link" if is_link else "not a folder") from None
    finally:
        os.close(parent)


def make_folders(folder: Path, *, within: Path) -> None:
    """Make ``folder`` and the folders above it up to ``within``, never through a link."""
    with _folder(folder, within, create=True):
        pass


def list_files(folder: Path, *, within: Path) -> list[str]:
    """The names of the regular files directly in ``folder`` (links and special files left
    out), in name order; [] when there is no such folder."""
    try:
        with (
            _folder(folder, within, create=False) as descriptor,
            os.scandir(descriptor) as entries,
        ):
            return sorted(e.name for e in entries if e.is_file(follow_symlinks=False))
    except FileNotFoundError:
        return []


def first_link(folder: Path, *, within: Path, max_depth: int) -> Path | None:
    """The first entry at or below ``folder`` that is not a real folder or regular file (a
    link, a FIFO, a device), or a folder nested more than ``max_depth`` levels below it, or
    ``folder`` itself when it cannot be looked through; None when all is sound or ``folder``
    does not exist (nor ``within``: the caller reports that)."""
    parent, name = Path(os.path.abspath(folder)).parent, folder.name
    with contextlib.ExitStack() as stack:
        try:
            descriptor = stack.enter_context(_folder(parent, within, create=False))
        except OSError:
            return None
        try:
            mode = os.stat(name, dir_fd=descriptor, follow_symlinks=False).st_mode
            if not stat.S_ISDIR(mode):
                return folder
            opened = os.open(name, _FOLDER_FLAGS, dir_fd=descriptor)
            return _first_link_in(opened, folder, max_depth)
        except FileNotFoundError:
            return None
        except OSError:
            return folder


def _first_link_in(descriptor: int, folder: Path, depth_left: int) -> Path | None:
    try:
        with os.scandir(descriptor) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
        for entry in entries:
            if entry.is_dir(follow_symlinks=False) and depth_left > 0:
                opened = os.open(entry.name, _FOLDER_FLAGS, dir_fd=descriptor)
                found = _first_link_in(opened, folder / entry.name, depth_left - 1)
                if found is not None:
                    return found
            elif not entry.is_file(follow_symlinks=False):
                return folder / entry.name  # a link, a special file, or a folder too deep
        return None
    finally:
        os.close(descriptor)


def remove_file(path: Path, *, within: Path) -> bool:
    """Remove the regular file ``path``; False when nothing is there. A link or anything else
    at ``path`` is ``LinkInTheWay`` and stays; the folders above are reached as in writing."""
    try:
        with _folder(path.parent, within, create=False) as descriptor:
            mode = os.stat(path.name, dir_fd=descriptor, follow_symlinks=False).st_mode
            if not stat.S_ISREG(mode):
                raise LinkInTheWay(path, "a link" if stat.S_ISLNK(mode) else "not a regular file")
            # Swapped for a link since the look: unlink removes that link, never its target.
            os.unlink(path.name, dir_fd=descriptor)
            return True
    except FileNotFoundError:
        return False


def stage_file(path: Path, data: bytes, *, within: Path, mode: int = OUTPUT_MODE) -> Path:
    """Write ``data`` to a new, synced temporary file beside ``path``; returns its path. It
    becomes ``path`` with ``replace_file``, or is removed with ``remove_file``."""
    with _folder(path.parent, within, create=True) as descriptor:
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISDIR(os.stat(path.name, dir_fd=descriptor, follow_symlinks=False).st_mode):
                # Renaming over it would fail only after other outputs were replaced.
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        while True:
            name = f".{path.name}.{os.urandom(4).hex()}.tmp"
            try:
                handle = os.open(name, _NEW_FILE_FLAGS, 0o600, dir_fd=descriptor)
                break
            except FileExistsError:
                continue
        try:
            _write_all(handle, data)
            os.fsync(handle)
            os.fchmod(handle, mode)
        except BaseException:
            os.close(handle)
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=descriptor)
            raise
        os.close(handle)
        return path.parent / name


def replace_file(temporary: Path, path: Path, *, within: Path) -> None:
    """Rename ``temporary`` (made by ``stage_file`` beside ``path``) over ``path``. A link at
    ``path`` is replaced itself; its target is never touched."""
    with _folder(path.parent, within, create=False) as descriptor:
        os.replace(temporary.name, path.name, src_dir_fd=descriptor, dst_dir_fd=descriptor)


def sync_folder(folder: Path, *, within: Path) -> None:
    """Make renames in ``folder`` durable. Best effort: the files are whole already, and some
    file systems cannot sync a folder."""
    with contextlib.suppress(OSError), _folder(folder, within, create=False) as descriptor:
        os.fsync(descriptor)


def write_atomically(path: Path, data: bytes, *, within: Path, mode: int = OUTPUT_MODE) -> None:
    """Replace ``path`` (inside ``within``) with ``data`` all at once: readers see the old file
    or the new one, and a failure leaves the old one and no temporary file."""
    temporary = stage_file(path, data, within=within, mode=mode)
    try:
        replace_file(temporary, path, within=within)
    except BaseException:
        with contextlib.suppress(OSError):
            remove_file(temporary, within=within)
        raise
    sync_folder(path.parent, within=within)


def overwrite_file(path: Path, data: bytes, *, within: Path) -> None:
    """Write ``data`` over ``path`` in place (made when missing). For files whose readers
    detect a torn write themselves (the build cache's signed entries): no temporary file is
    left when a build is killed. A link, FIFO or device at ``path`` is ``LinkInTheWay``."""
    with _folder(path.parent, within, create=True) as descriptor:
        handle = os.open(path.name, _EXISTING_FILE_FLAGS, OUTPUT_MODE, dir_fd=descriptor)
        try:
            if not stat.S_ISREG(os.fstat(handle).st_mode):
                raise LinkInTheWay(path, "not a regular file")
            os.ftruncate(handle, 0)
            _write_all(handle, data)
        finally:
            os.close(handle)


def publish_file(path: Path, data: bytes, *, within: Path, mode: int) -> bool:
    """Put a new file with ``data`` at ``path`` whole or not at all, unless one is there: it
    is written and synced beside it, then hard-linked into place. False when a file was
    already there (it is left as it is)."""
    with _folder(path.parent, within, create=True) as descriptor:
        name = f".{path.name}.{os.urandom(4).hex()}.tmp"
        handle = os.open(name, _NEW_FILE_FLAGS, mode, dir_fd=descriptor)
        try:
            try:
                _write_all(handle, data)
                os.fsync(handle)
            finally:
                os.close(handle)
            try:
                os.link(name, path.name, src_dir_fd=descriptor, dst_dir_fd=descriptor)
            except FileExistsError:
                return False
            return True
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name, dir_fd=descriptor)


def _write_all(handle: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(handle, view) :]
