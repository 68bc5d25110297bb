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
import gc
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from deckgen.anki.anki_package import package_bytes, package_content
from deckgen.anki.identity import LOCK_FILE, MAX_TIME, fingerprint
from deckgen.cache import BuildCache, environment_digest
from deckgen.diagnostics import DeckgenError, Report, SourceErrors, display_path, plural
from deckgen.filestage import FileCompiler
from deckgen.notes import CompiledDeck, compile_deck
from deckgen.source.validate import collect_decks


@dataclass(frozen=True)
class PlannedDeck:
    """One deck's outputs, and whether they differ from what is on disk."""

    compiled: CompiledDeck
    package_path: Path
    package_changed: bool
    """False when the package on disk would import exactly alike (its bytes may still differ
    if it was written with another SQLite or zlib)."""
    lock_path: Path
    lock_text: str
    lock_changed: bool
    inputs: str
    """A hash of everything the package is made from."""
    rendered_package: bytes | None
    """The package's bytes when planning needed them; None when the cache showed the package
    on disk current without rendering it."""

    @property
    def package(self) -> bytes:
        if self.rendered_package is not None:
            return self.rendered_package
        return package_bytes(self.compiled)

    @property
    def changed(self) -> bool:
        return self.package_changed or self.lock_changed


def build_time(environ: Mapping[str, str]) -> int:
    """The build's clock: ``SOURCE_DATE_EPOCH`` when set (reproducible builds), else now."""
    value = environ.get("SOURCE_DATE_EPOCH")
    if value is None or value == "":
        return int(time.time())
    digits = value.strip()
    # ASCII digits only: str.isdigit() and int() also accept '²' or Arabic-Indic digits.
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 12 or int(digits) > MAX_TIME:
        raise DeckgenError(
            f"SOURCE_DATE_EPOCH must be whole seconds since 1970, not '{value}': "
            f"ASCII digits, at most {MAX_TIME} (the end of year 9999)",
            exit_code=2,
        )
    return int(digits)


@contextlib.contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Run a build without Python's cyclic garbage collector. A build makes hundreds of
    thousands of short-lived objects (parsed cards, fields, rows) that reference counting
    frees, and the collector's passes over them cost a tenth of a one-card edit. It is
    switched back on afterwards, so a long-lived process (``deckgen watch``) still collects
    between builds."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compile_project(
    cards_dir: Path,
    *,
    now: int,
    report: Report,
    packages_dir: Path,
    cache: BuildCache | None = None,
    on_file_done: Callable[[], None] | None = None,
) -> list[CompiledDeck]:
    """Check and compile every deck; raises SourceErrors when any deck has an error.

    Card files go through the per-file stage (from ``cache`` when given and current), then
    each deck through the per-deck stage. ``packages_dir`` holds the packages last built,
    where deleted cards were last shipped."""
    files = FileCompiler(cache, on_file_done)
    compiled = [
        deck
        for spec in collect_decks(cards_dir, report, load_files=files)
        if (
            deck := compile_deck(
                spec,
                now=now,
                report=report,
                previous_package=package_path(packages_dir, spec.folder),
            )
        )
        is not None
    ]
    if report.error_count:
        raise SourceErrors(report)
    files.save()
    return compiled


def plan(
    compiled: list[CompiledDeck], out_dir: Path, *, cache: BuildCache | None = None
) -> list[PlannedDeck]:
    """Render every package and lock in memory and compare them with the files on disk.

    With a cache, a package recorded as made from the same inputs is neither rendered nor
    compared, and one recorded as made from other content is rendered but not compared."""
    planned = []
    for deck in compiled:
        path = package_path(out_dir, deck.spec.folder)
        lock_path = deck.spec.folder / LOCK_FILE
        lock_text = deck.lock.to_text()
        inputs = package_inputs(deck, lock_text)
        on_disk = cache.inputs_on_disk(path) if cache is not None else None
        package = None
        changed = False
        if on_disk != inputs:
            package = package_bytes(deck)
            # A package this deckgen wrote from other content certainly differs: skip the
            # comparison, which reads both packages back (seconds on a large bank).
            changed = _certainly_differs(on_disk, inputs) or _package_differs(path, package)
        planned.append(
            PlannedDeck(
                compiled=deck,
                package_path=path,
                package_changed=changed,
                lock_path=lock_path,
                lock_text=lock_text,
                lock_changed=_read_text(lock_path) != lock_text,
                inputs=inputs,
                rendered_package=package,
            )
        )
    return planned


def package_path(out_dir: Path, deck_folder: Path) -> Path:
    """Where a deck's package is written: named after its folder."""
    return out_dir / f"{deck_folder.name}.apkg"


def last_release_packages(
    previous: Path, cards_dir: Path, compiled: list[CompiledDeck]
) -> list[Path]:
    """The last release's package of each deck, in order: ``previous`` itself when it is one
    package (the project must then have one deck), else the package in that folder named after
    the deck's folder."""
    if previous.is_file():
        if len(compiled) != 1:
            raise DeckgenError(
                f"{display_path(previous)} is one package, but {display_path(cards_dir)} has "
                f"{plural(len(compiled), 'deck')}: name the folder of the previous packages",
                exit_code=2,
            )
        return [previous]
    return [package_path(previous, deck.spec.folder) for deck in compiled]


def package_inputs(deck: CompiledDeck, lock_text: str) -> str:
    """What the deck's package is made from, as ``<deckgen>:<content>:<order>`` hashes.

    The lock holds every note's content fingerprint and time and every notetype's, so with
    the deck's name and description it fixes the package's content; the notes' order only
    changes its bytes."""
    content = fingerprint([deck.spec.name, deck.description, lock_text])
    order = fingerprint([note.card_id for note in deck.notes])
    return f"{environment_digest()}:{content}:{order}"


def _certainly_differs(old_inputs: str | None, inputs: str) -> bool:
    """Whether the same deckgen made the package on disk from other content."""
    if old_inputs is None:
        return False  # unknown: compare the packages
    old, new = old_inputs.split(":"), inputs.split(":")
    return len(old) == len(new) and old[0] == new[0] and old[1] != new[1]


def remember_packages(current: list[PlannedDeck], cache: BuildCache) -> None:
    """Record that these decks' packages on disk are current, for the next build's plan()."""
    for deck in current:
        cache.record_package(deck.package_path, deck.inputs)


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
            fields = [field for field, _ in card.bodymaps]
            for number, (field, picture) in enumerate(card.bodymaps):
                # A reveal pair: the question's picture, then the answer's as <id>-answer.svg;
                # panels: <id>-panel1.svg, <id>-panel2.svg...
                name = f"{card.id}-{field}" if field != fields[0] else card.id
                if fields.count(field) > 1:
                    name += f"-panel{fields[: number + 1].count(field)}"
                write_atomically(out_dir / deck.spec.folder.name / f"{name}.svg", picture.data)
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
