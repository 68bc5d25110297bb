"""The pipeline: check every deck, compile it, then write packages and locks atomically.

Nothing is written unless every deck compiled without errors, and every output is written to
a temporary file first; they are renamed over the old files only once all are written, so a
failed build leaves every previous package and lock intact, and a killed one leaves whole
files that the next build brings up to date.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from deckgen.anki_package import package_bytes, package_content
from deckgen.diagnostics import DeckgenError, Report, SourceErrors, display_path
from deckgen.identity import LOCK_FILE
from deckgen.notes import CompiledDeck, bodymap_media, compile_deck
from deckgen.validate import load_decks


@dataclass(frozen=True)
class PlannedDeck:
    """One deck's outputs, and whether they differ from what is on disk."""

    compiled: CompiledDeck
    package_path: Path
    package: bytes
    package_changed: bool
    """False when the package on disk would import exactly alike (its bytes may still differ
    if it was written with another SQLite or zlib)."""
    lock_path: Path
    lock_text: str
    lock_changed: bool

    @property
    def changed(self) -> bool:
        return self.package_changed or self.lock_changed


def build_time(environ: Mapping[str, str]) -> int:
    """The build's clock: ``SOURCE_DATE_EPOCH`` when set (reproducible builds), else now."""
    value = environ.get("SOURCE_DATE_EPOCH")
    if value is None or value == "":
        return int(time.time())
    if not value.strip().isdigit():
        raise DeckgenError(
            f"SOURCE_DATE_EPOCH must be whole seconds since 1970, not '{value}'", exit_code=2
        )
    return int(value)


def compile_project(cards_dir: Path, *, now: int, report: Report) -> list[CompiledDeck]:
    """Check and compile every deck; raises SourceErrors when any deck has an error."""
    compiled = [
        deck
        for spec in load_decks(cards_dir, report)
        if (deck := compile_deck(spec, now=now, report=report)) is not None
    ]
    if report.error_count:
        raise SourceErrors(report)
    return compiled


def plan(compiled: list[CompiledDeck], out_dir: Path) -> list[PlannedDeck]:
    """Render every package and lock in memory and compare them with the files on disk."""
    planned = []
    for deck in compiled:
        package_path = out_dir / f"{deck.spec.folder.name}.apkg"
        package = package_bytes(deck)
        lock_path = deck.spec.folder / LOCK_FILE
        lock_text = deck.lock.to_text()
        planned.append(
            PlannedDeck(
                compiled=deck,
                package_path=package_path,
                package=package,
                package_changed=_package_differs(package_path, package),
                lock_path=lock_path,
                lock_text=lock_text,
                lock_changed=_read_text(lock_path) != lock_text,
            )
        )
    return planned


def write(planned: list[PlannedDeck]) -> list[Path]:
    """Write what changed, all or nothing across decks.

    Every output goes to a temporary file beside it first; only when all of them are written
    and synced are they renamed over the old files. A failure before that removes the
    temporary files and leaves every previous file as it was. Temporary files that a killed
    build left behind are removed first; they are returned.

    Two renames are never atomic together, so the order matters: every lock is renamed before
    every package. A lock then never falls behind a package that students may have imported:
    a kill between the renames leaves a lock ahead of the old package, and the next build
    rewrites the package with the lock's times. A lock behind its package would make the next
    build reuse times the students already have, and Anki would skip those updates.
    """
    outputs = [
        (deck.lock_path, deck.lock_text.encode("utf-8")) for deck in planned if deck.lock_changed
    ]
    outputs += [(deck.package_path, deck.package) for deck in planned if deck.package_changed]
    with _exclusive(deck_paths := _output_paths(planned)):
        removed = remove_stale_temporaries(deck_paths)
        staged: list[tuple[Path, Path]] = []
        try:
            for path, data in outputs:
                staged.append((_stage(path, data), path))
        except BaseException:
            for temporary, _ in staged:
                temporary.unlink(missing_ok=True)
            raise
        _rename_all(staged)
    return removed


def _output_paths(planned: list[PlannedDeck]) -> list[Path]:
    return [path for deck in planned for path in (deck.package_path, deck.lock_path)]


@contextlib.contextmanager
def _exclusive(paths: list[Path]) -> Iterator[None]:
    """Hold a lock on every folder written to, so a second build waits instead of removing
    this one's temporary files as stale. The locks are released when the process ends, even
    when it is killed."""
    with contextlib.ExitStack() as stack:
        for folder in sorted({path.parent.resolve() for path in paths if path.parent.is_dir()}):
            try:
                descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                stack.callback(os.close, descriptor)
                fcntl.flock(descriptor, fcntl.LOCK_EX)
            except OSError as exc:
                problem = f"cannot write in {display_path(folder)}: {exc.strerror}"
                raise DeckgenError(problem) from exc
        yield


def _stage(path: Path, data: bytes) -> Path:
    """Write ``data`` to a synced temporary file beside ``path``; returns the temporary file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A folder in the way would make os.replace fail only after other outputs were replaced.
        if path.is_dir() and not path.is_symlink():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise DeckgenError(f"cannot write {display_path(path)}: {exc.strerror}") from exc
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
    except BaseException as exc:
        temporary.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise DeckgenError(f"cannot write {display_path(path)}: {exc.strerror}") from exc
        raise
    return temporary


def _rename_all(staged: list[tuple[Path, Path]]) -> None:
    """Rename every staged file over its target, then make the renames durable."""
    for done, (temporary, path) in enumerate(staged):
        try:
            os.replace(temporary, path)
        except OSError as exc:
            for left, _ in staged[done:]:
                left.unlink(missing_ok=True)
            replaced = ", ".join(display_path(target) for _, target in staged[:done]) or "none"
            raise DeckgenError(
                f"cannot write {display_path(path)}: {exc.strerror}; already replaced: "
                f"{replaced}; fix the problem and build again"
            ) from exc
    for folder in {path.parent for _, path in staged}:
        _sync_folder(folder)


def _sync_folder(folder: Path) -> None:
    # Best effort: the files are whole already, and some file systems cannot sync a folder.
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


_TEMPORARY_NAME = re.compile(r"\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp")
"""The names ``tempfile.mkstemp`` gives with deckgen's prefix and suffix."""


def remove_stale_temporaries(paths: list[Path]) -> list[Path]:
    """Remove the temporary files a killed build left beside any of ``paths``; returns them.

    Only regular files named exactly as deckgen names its temporary files for one of these
    outputs are removed, never anything an author put there.
    """
    targets: dict[Path, set[str]] = {}
    for path in paths:
        targets.setdefault(path.parent, set()).add(path.name)
    removed = []
    for folder, names in targets.items():
        try:
            candidates = [entry for entry in os.scandir(folder) if entry.name.endswith(".tmp")]
        except OSError:  # no folder yet: nothing left behind
            continue
        for entry in candidates:
            match = _TEMPORARY_NAME.fullmatch(entry.name)
            if match and match["target"] in names and entry.is_file(follow_symlinks=False):
                try:
                    Path(entry.path).unlink(missing_ok=True)
                except OSError:  # a read-only folder: writing there fails next, and says why
                    continue
                removed.append(Path(entry.path))
    return removed


def write_bodymaps(compiled: list[CompiledDeck], out_dir: Path) -> int:
    """Write each card's body map as ``out_dir/<deck folder>/<card id>.svg``; returns how many."""
    written = 0
    for deck in compiled:
        for card in deck.spec.cards:
            if card.bodymap is not None:
                picture = bodymap_media(card.bodymap)
                write_atomically(out_dir / deck.spec.folder.name / f"{card.id}.svg", picture.data)
                written += 1
    return written


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once: readers see the old file or the new one."""
    _rename_all([(_stage(path, data), path)])


def _package_differs(path: Path, package: bytes) -> bool:
    try:
        existing = path.read_bytes()
    except OSError:  # missing or unreadable: write it (a real problem surfaces when writing)
        return True
    if existing == package:
        return False
    return package_content(existing) != package_content(package)


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
