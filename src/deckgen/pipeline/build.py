"""The build: check every deck, compile it, plan what changed, then write packages and locks
atomically (atomic.py).

Nothing is written unless every deck compiled without errors, and every output is written to
a temporary file first; they are renamed over the old files only once all are written, so a
failed build leaves every previous package and lock intact, and a killed one leaves whole
files that the next build brings up to date.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from deckgen.anki.anki_package import package_bytes
from deckgen.anki.compiled import CompiledDeck
from deckgen.anki.identity import LOCK_FILE, MAX_LOCK_BYTES, MAX_TIME, DeckIdentity, fingerprint
from deckgen.anki.package_reader import UnreadablePackage, package_content, read_package_bytes
from deckgen.cards.validate import DeckFile, DeckSpec, checked_decks, read_deck_files
from deckgen.diagnostics import DeckgenError, Location, Report, SourceErrors, display_path
from deckgen.pipeline.atomic import write_all
from deckgen.pipeline.cache import BuildCache
from deckgen.pipeline.deckstage import compile_deck
from deckgen.pipeline.filestage import FileCompiler
from deckgen.pipeline.freshness import environment_digest
from deckgen.render.card import RenderedCard
from deckgen.source.safe_files import (
    UnsafeFile,
    read_file,
    write_atomically,
)
from deckgen.values import folder_name


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
    frees, and the collector's passes over them cost a tenth of a one-card edit.

    Afterwards what the build left alive is frozen (``gc.freeze``) before the collector is
    switched back on: else its first pass walks every object the build made (a fifth of a
    second on 100,000 cards). A long-lived process (``deckgen watch``) unfreezes and collects
    the last build's leftovers when the next build starts, so nothing piles up."""
    enabled = gc.isenabled()
    if gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()


def compile_project(
    cards_dir: Path,
    *,
    now: int,
    report: Report,
    packages_dir: Path,
    cache: BuildCache | None = None,
    on_file_done: Callable[[], None] | None = None,
    lock_required: bool = False,
    authored: bool = False,
) -> list[CompiledDeck]:
    """Check and compile every deck; raises SourceErrors when any deck has an error.

    Card files go through the per-file stage (from ``cache`` when given and current), then
    each deck through the per-deck stage. ``packages_dir`` holds the packages last built,
    where deleted cards were last shipped. With ``authored``, every card carries what lint
    and stats read of it (``RenderedCard.authored``), from the cache too. With
    ``lock_required``, a deck whose lock is missing although students have it is an error
    (see ``_missing_lock``)."""
    files = FileCompiler(cache, on_file_done, authored=authored)
    compiled = [
        deck
        for spec in read_decks(cards_dir, report, files)
        # A deck whose card files have errors lacks their cards: stamping it would take them
        # for deleted and bury the one real error under a warning per card.
        if not report.has_errors_in(spec.folder)
        and not (lock_required and _missing_lock(spec, packages_dir, report))
        and (
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


def read_decks(
    cards_dir: Path, report: Report, files: FileCompiler
) -> list[DeckSpec[RenderedCard]]:
    """Every deck under ``cards_dir`` with its cards checked and rendered by the per-file
    stage ``files``; what needs the whole deck (unique ids, distinct decks) is checked too."""
    return checked_decks(
        (
            (
                deck_file,
                files(
                    deck_file.folder,
                    deck_file.card_files,
                    deck_file.tags,
                    report,
                    _identity(deck_file),
                ),
            )
            for deck_file in read_deck_files(cards_dir, report)
        ),
        report,
    )


def _identity(deck_file: DeckFile) -> DeckIdentity | None:
    """What the deck gives its notes' guids and fingerprints; None without a deck id (an
    error the deck reports)."""
    if deck_file.id is None:
        return None
    template = deck_file.report_url.template if deck_file.report_url is not None else None
    return DeckIdentity(deck_file.id.text, template)


def _missing_lock(spec: DeckSpec[RenderedCard], packages_dir: Path, report: Report) -> bool:
    """Whether the deck's lock is gone although students have the deck (its package exists,
    or deck.yaml records a release); reported as an error. Compiling then would give every
    note a new time, and the next import would overwrite every student's own edits."""
    lock = spec.folder / LOCK_FILE
    package = package_path(packages_dir, spec.folder)
    if os.path.lexists(lock):
        return False
    if os.path.lexists(package):
        shipped = f"{display_path(package)} exists"
    elif spec.release.version is not None:
        shipped = f"deck.yaml records release {spec.release.version}"
    else:
        return False  # a new deck: its first build starts the lock
    report.error(
        Location(lock),
        f"lock file is missing, but {shipped}: building now would give every note a new time "
        "and overwrite students' own edits on their next import; restore it from git "
        f"(git checkout -- {display_path(lock)}), or, to start a fresh lock on purpose, "
        "pass --new-lock",
    )
    return True


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
    """Where a deck's package is written: named after its folder (for ``.``, the folder it
    stands for, never a nameless ``.apkg``)."""
    return out_dir / f"{folder_name(deck_folder)}.apkg"


def package_inputs(deck: CompiledDeck, lock_text: str) -> str:
    """What the deck's package is made from, as ``<deckgen>:<content>:<order>`` hashes.

    The lock holds every note's content fingerprint and time and every notetype's, so with
    the deck's name, description and options preset it fixes the package's content; the
    notes' order only changes its bytes."""
    options = deck.spec.options
    # The lock by its own hash: as a JSON string it would be escaped whole first, a tenth of
    # a one-card edit's time on a large bank.
    lock = hashlib.sha256(lock_text.encode()).hexdigest()
    content = fingerprint(
        [deck.spec.name, deck.description, lock]
        + ([dataclasses.asdict(options)] if options is not None else [])
    )
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


def write(planned: list[PlannedDeck], also: Sequence[tuple[Path, bytes]] = ()) -> list[Path]:
    """Write what changed, all or nothing across decks, and the files ``also`` names (a
    release's record, notes and deck.yaml, renamed last in that order).

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
    outputs += also
    return write_all(outputs, beside=_output_paths(planned) + [path for path, _ in also])


def _output_paths(planned: list[PlannedDeck]) -> list[Path]:
    return [path for deck in planned for path in (deck.package_path, deck.lock_path)]


def write_bodymaps(compiled: list[CompiledDeck], out_dir: Path) -> int:
    """Write each card's body map as ``out_dir/<deck folder>/<card id>.svg``; returns how many.

    Two pictures may not share a name (card 'x-answer' and the answer side of card 'x'; names
    that differ only in case, which many file systems treat as one): that is an error, raised
    before anything is written."""
    pictures: dict[str, tuple[Path, str, bytes]] = {}
    for deck in compiled:
        for card in deck.spec.cards:
            fields = [field for field, _ in card.bodymaps]
            for number, (field, picture) in enumerate(card.bodymaps):
                # A reveal pair: the question's picture, then the answer's as <id>-answer.svg;
                # panels: <id>-panel1.svg, <id>-panel2.svg...
                name = f"{card.id}-{field}" if field != fields[0] else card.id
                if fields.count(field) > 1:
                    name += f"-panel{fields[: number + 1].count(field)}"
                path = out_dir / folder_name(deck.spec.folder) / f"{name}.svg"
                key = str(path).casefold()
                if key in pictures:
                    raise DeckgenError(
                        f"cards '{pictures[key][1]}' and '{card.id}' would both be drawn to "
                        f"{display_path(path)}: give one of them another id"
                    )
                pictures[key] = (path, card.id, picture.data)
    for path, _, data in pictures.values():
        try:
            write_atomically(path, data, within=out_dir)
        except OSError as exc:
            raise DeckgenError(f"cannot write {display_path(path)}: {exc.strerror}") from exc
    return len(pictures)


def _package_differs(path: Path, package: bytes) -> bool:
    """Whether the package on disk imports otherwise than ``package``. It is an output about
    to be replaced: missing, unsafe or unreadable, it differs (writing it says what is wrong)."""
    try:
        existing = read_package_bytes(path, within=path.parent)
        if existing == package:
            return False
        name = display_path(path)
        return package_content(existing, name=name) != package_content(package, name=name)
    except UnreadablePackage:
        return True


def _read_text(path: Path) -> str | None:
    try:
        return read_file(path, within=path.parent, max_bytes=MAX_LOCK_BYTES).decode("utf-8")
    except (UnsafeFile, UnicodeDecodeError):
        return None
