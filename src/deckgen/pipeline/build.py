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
from typing import TypeVar

from deckgen.anki.compiled import CompiledDeck, DeckCounts
from deckgen.anki.identity import LOCK_FILE, MAX_LOCK_BYTES, MAX_TIME, DeckIdentity, fingerprint
from deckgen.anki.package_reader import UnreadablePackage, package_content, read_package_bytes
from deckgen.cards.validate import (
    DeckFile,
    DeckSpec,
    DistinctDecks,
    checked_decks,
    read_deck_files,
)
from deckgen.diagnostics import DeckgenError, Location, Report, SourceErrors, display_path
from deckgen.pipeline.atomic import write_all
from deckgen.pipeline.cache import BuildCache
from deckgen.pipeline.deckstage import compile_deck
from deckgen.pipeline.filestage import FileCompiler
from deckgen.pipeline.freshness import environment_digest
from deckgen.render.card import RenderedCard
from deckgen.source.safe_files import (
    UnsafeFile,
    file_digest,
    write_atomically,
)
from deckgen.values import folder_name


@dataclass(frozen=True)
class DeckOutputs:
    """One deck's package and lock, whether they differ from what is on disk, and what the
    build says of them: all it keeps of a deck once planned, without its cards and notes (a
    build holds those of one deck at a time)."""

    package_path: Path
    changed_package: bytes | None
    """The package's bytes when it differs from the file on disk; None when that file would
    import exactly alike (its bytes may still differ if it was written with another SQLite
    or zlib)."""
    lock_path: Path
    changed_lock: bytes | None
    """The lock's bytes when they differ from the file on disk; None when it is current."""
    inputs: str
    """A hash of everything the package is made from."""
    counts: DeckCounts
    images: int

    @property
    def package_changed(self) -> bool:
        return self.changed_package is not None

    @property
    def lock_changed(self) -> bool:
        return self.changed_lock is not None

    @property
    def changed(self) -> bool:
        return self.package_changed or self.lock_changed


@dataclass(frozen=True)
class PlannedDeck(DeckOutputs):
    """A deck's outputs planned, with the compiled deck they are made from."""

    compiled: CompiledDeck
    rendered_package: bytes | None
    """The package's bytes when planning needed them; None when the cache showed the package
    on disk current without rendering it."""

    @property
    def package(self) -> bytes:
        if self.rendered_package is not None:
            return self.rendered_package
        return package_bytes(self.compiled)

    def outputs(self) -> DeckOutputs:
        """What the build keeps of the deck once it moves on to the next."""
        return DeckOutputs(
            **{field.name: getattr(self, field.name) for field in dataclasses.fields(DeckOutputs)}
        )


def package_bytes(deck: CompiledDeck) -> bytes:
    """The deck's .apkg (``anki_package.package_bytes``); the writer is imported when a build
    first needs it (``_preparing_the_package``), not before its card files compile."""
    from deckgen.anki.anki_package import package_bytes as write_package

    return write_package(deck)


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
    compiling = _Compiling(now, report, packages_dir, files, lock_required)
    return _each_deck(cards_dir, compiling, keep=lambda deck: deck)


def build_decks(
    cards_dir: Path,
    *,
    now: int,
    report: Report,
    out_dir: Path,
    cache: BuildCache | None = None,
    on_file_done: Callable[[], None] | None = None,
    lock_required: bool = False,
) -> list[DeckOutputs]:
    """``compile_project`` and ``plan`` one deck at a time: what a build writes and says.

    Only the outputs of each deck are kept (its package's bytes only when they changed),
    never every deck's cards and notes at once: a bank split over decks builds in the memory
    of its largest deck."""
    files = FileCompiler(cache, _preparing_the_package(on_file_done))
    compiling = _Compiling(now, report, out_dir, files, lock_required)
    return _each_deck(
        cards_dir, compiling, keep=lambda deck: plan_deck(deck, out_dir, cache=cache).outputs()
    )


def _preparing_the_package(
    on_file_done: Callable[[], None] | None,
) -> Callable[[], None]:
    """``on_file_done``, after preparing what only the main process needs once the card
    files are compiled, when the first of them is done: the package writer's import and the
    digest of deckgen's environment (its own sources hashed), which the package's inputs and
    the project's record hold.

    The writer's import (genanki, which pulls in asyncio) is a sixth of a cold build's
    imports. Imported before the card files, it would hold up forking the workers that
    compile them; after them, it and the digest would be one core's work while the other
    waits. Once a file is done the workers are at work, and this process has nothing else to
    do but wait for their cards."""
    prepared = False

    def file_done() -> None:
        nonlocal prepared
        if not prepared:
            prepared = True
            import deckgen.anki.anki_package  # noqa: F401

            environment_digest()

        if on_file_done is not None:
            on_file_done()

    return file_done


def count_decks(
    cards_dir: Path,
    *,
    now: int,
    report: Report,
    packages_dir: Path,
    cache: BuildCache | None = None,
    lock_required: bool = False,
) -> list[DeckCounts]:
    """``compile_project`` for ``deckgen check``, one deck at a time: each deck's counts."""
    compiling = _Compiling(now, report, packages_dir, FileCompiler(cache), lock_required)
    return _each_deck(cards_dir, compiling, keep=lambda deck: deck.counts)


@dataclass
class _Compiling:
    """What compiling each deck of a project takes, and what carries from deck to deck."""

    now: int
    report: Report
    packages_dir: Path
    files: FileCompiler
    lock_required: bool
    distinct: DistinctDecks = dataclasses.field(default_factory=DistinctDecks)

    def deck(self, deck_file: DeckFile) -> CompiledDeck | None:
        """One deck checked and compiled; None when it has an error (it is reported)."""
        report = self.report
        cards = self.files(
            deck_file.folder, deck_file.card_files, deck_file.tags, report, _identity(deck_file)
        )
        spec = deck_file.deck(cards, report)
        if spec is None:
            return None
        self.distinct.check(spec, report)
        # A deck whose card files have errors lacks their cards: stamping it would take them
        # for deleted and bury the one real error under a warning per card.
        if report.has_errors_in(spec.folder) or (
            self.lock_required and _missing_lock(spec, self.packages_dir, report)
        ):
            return None
        previous = package_path(self.packages_dir, spec.folder)
        return compile_deck(spec, now=self.now, report=report, previous_package=previous)


_Kept = TypeVar("_Kept")


def _each_deck(
    cards_dir: Path, compiling: _Compiling, *, keep: Callable[[CompiledDeck], _Kept]
) -> list[_Kept]:
    """Check and compile every deck under ``cards_dir`` in turn, and return what ``keep``
    takes of each; raises SourceErrors when any deck has an error. Once a deck has an error
    nothing more is kept (no package is rendered for nothing), but every deck is checked."""
    report = compiling.report
    try:
        kept = [
            one
            for deck_file in read_deck_files(cards_dir, report)
            if (one := _kept(compiling, deck_file, keep)) is not None
        ]
        if report.error_count:
            raise SourceErrors(report)
    except BaseException:  # an error in the sources, a package too large, Ctrl-C
        compiling.files.discard()
        raise
    compiling.files.save()
    return kept


def _kept(
    compiling: _Compiling, deck_file: DeckFile, keep: Callable[[CompiledDeck], _Kept]
) -> _Kept | None:
    """What ``keep`` takes of one deck: a function of its own, so that the deck's cards and
    notes are let go when it returns, before the next deck is read."""
    deck = compiling.deck(deck_file)
    return keep(deck) if deck is not None and not compiling.report.error_count else None


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
    return DeckIdentity.of(deck_file.id.text, deck_file.report_url)


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
    """Render every package and lock in memory and compare them with the files on disk."""
    return [plan_deck(deck, out_dir, cache=cache) for deck in compiled]


def plan_deck(deck: CompiledDeck, out_dir: Path, *, cache: BuildCache | None = None) -> PlannedDeck:
    """Render a deck's package and lock in memory and compare them with the files on disk.

    With a cache, a package recorded as made from the same inputs is neither rendered nor
    compared, and one recorded as made from other content is rendered but not compared."""
    path = package_path(out_dir, deck.spec.folder)
    lock_path = deck.spec.folder / LOCK_FILE
    lock = deck.lock.to_text().encode("utf-8")
    lock_digest = hashlib.sha256(lock).hexdigest()
    inputs = package_inputs(deck, lock_digest)
    on_disk = cache.inputs_on_disk(path) if cache is not None else None
    package = None
    changed = False
    if on_disk != inputs:
        package = package_bytes(deck)
        # A package this deckgen wrote from other content certainly differs: skip the
        # comparison, which reads both packages back (seconds on a large bank).
        changed = _certainly_differs(on_disk, inputs) or _package_differs(path, package)
    return PlannedDeck(
        package_path=path,
        changed_package=package if changed else None,
        lock_path=lock_path,
        # Compared by hash, the file read in chunks: a large deck's lock is not held twice.
        changed_lock=None if _digest(lock_path, MAX_LOCK_BYTES) == lock_digest else lock,
        inputs=inputs,
        counts=deck.counts,
        images=len(deck.media),
        compiled=deck,
        rendered_package=package,
    )


def package_path(out_dir: Path, deck_folder: Path) -> Path:
    """Where a deck's package is written: named after its folder (for ``.``, the folder it
    stands for, never a nameless ``.apkg``)."""
    return out_dir / f"{folder_name(deck_folder)}.apkg"


def package_inputs(deck: CompiledDeck, lock_digest: str) -> str:
    """What the deck's package is made from, as ``<deckgen>:<content>:<order>`` hashes.

    The lock holds every note's content fingerprint and time and every notetype's, so with
    the deck's name, description and options preset it fixes the package's content; the
    notes' order only changes its bytes."""
    options = deck.spec.options
    # The lock by its own hash (``lock_digest``, SHA-256 of its bytes): as a JSON string it
    # would be escaped whole first, a tenth of a one-card edit's time on a large bank.
    content = fingerprint(
        [deck.spec.name, deck.description, lock_digest]
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


def remember_packages(current: Sequence[DeckOutputs], cache: BuildCache) -> None:
    """Record that these decks' packages on disk are current, for the next build's plan()."""
    for deck in current:
        cache.record_package(deck.package_path, deck.inputs)


def write(planned: Sequence[DeckOutputs], also: Sequence[tuple[Path, bytes]] = ()) -> list[Path]:
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
        (deck.lock_path, deck.changed_lock) for deck in planned if deck.changed_lock is not None
    ]
    outputs += [
        (deck.package_path, deck.changed_package)
        for deck in planned
        if deck.changed_package is not None
    ]
    outputs += also
    return write_all(outputs, beside=_output_paths(planned) + [path for path, _ in also])


def _output_paths(planned: Sequence[DeckOutputs]) -> list[Path]:
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


def _digest(path: Path, max_bytes: int) -> str | None:
    """SHA-256 of an output about to be replaced; None when it is missing or unsafe (writing
    it says what is wrong)."""
    try:
        return file_digest(path, within=path.parent, max_bytes=max_bytes)
    except UnsafeFile:
        return None
