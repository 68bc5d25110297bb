"""The pipeline: check every deck, compile it, then write packages and locks atomically.

Nothing is written unless every deck compiled without errors, and each file is written to a
temporary file first and renamed over the old one, so a failed or killed build leaves the
previous package and lock intact.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from deckgen.anki_package import package_bytes, package_content
from deckgen.cache import BuildCache, environment_digest
from deckgen.diagnostics import DeckgenError, Report, SourceErrors, display_path
from deckgen.filestage import FileCompiler
from deckgen.identity import LOCK_FILE, MAX_TIME, fingerprint
from deckgen.notes import CompiledDeck, compile_deck
from deckgen.validate import collect_decks


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


def compile_project(
    cards_dir: Path,
    *,
    now: int,
    report: Report,
    packages_dir: Path,
    cache: BuildCache | None = None,
) -> list[CompiledDeck]:
    """Check and compile every deck; raises SourceErrors when any deck has an error.

    Card files go through the per-file stage (from ``cache`` when given and current), then
    each deck through the per-deck stage. ``packages_dir`` holds the packages last built,
    where deleted cards were last shipped."""
    files = FileCompiler(cache)
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


def write(planned: list[PlannedDeck]) -> None:
    """Write what changed: each package before its lock, so a lock never runs ahead of it."""
    for deck in planned:
        if deck.package_changed:
            write_atomically(deck.package_path, deck.package)
        if deck.lock_changed:
            write_atomically(deck.lock_path, deck.lock_text.encode("utf-8"))


def write_bodymaps(compiled: list[CompiledDeck], out_dir: Path) -> int:
    """Write each card's body map as ``out_dir/<deck folder>/<card id>.svg``; returns how many."""
    written = 0
    for deck in compiled:
        for card in deck.spec.cards:
            for number, (field, picture) in enumerate(card.bodymaps):
                # A reveal pair: the question's picture, then the answer's as <id>-answer.svg.
                name = f"{card.id}-{field}.svg" if number else f"{card.id}.svg"
                write_atomically(out_dir / deck.spec.folder.name / name, picture.data)
                written += 1
    return written


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once: readers see the old file or the new one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
    except OSError as exc:
        raise DeckgenError(f"cannot write {display_path(path)}: {exc.strerror}") from exc
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise DeckgenError(f"cannot write {display_path(path)}: {exc.strerror}") from exc
        raise


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
