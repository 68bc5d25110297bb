"""Stage 7: write a compiled deck as an .apkg, the only module that touches genanki.

genanki stamps every note and notetype with one time and writes a zip whose bytes change on
every run. Here each note and notetype carries its own time from the lock, and the zip is
written with fixed entry times, permissions and member order, so the same sources and lock
give the same bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import sqlite3
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import genanki
from genanki.apkg_col import APKG_COL
from genanki.apkg_schema import APKG_SCHEMA

from deckgen.anki.identity import fingerprint
from deckgen.anki.notetypes import NOTETYPES, Notetype
from deckgen.anki.package_reader import MAX_PACKAGE_BYTES, MAX_UNCOMPRESSED_BYTES
from deckgen.diagnostics import DeckgenError
from deckgen.values import usable_cores

if TYPE_CHECKING:
    from deckgen.anki.compiled import CompiledDeck, Note
    from deckgen.values import CardKind

_ZIP_PERMISSIONS = 0o100644 << 16
_UNIX = 3


class _StampedModel(genanki.Model):  # type: ignore[misc]
    """A notetype written with its own modification time instead of the package's."""

    def __init__(self, notetype: Notetype, mod: int) -> None:
        super().__init__(
            model_id=notetype.id,
            name=notetype.name,
            fields=[
                # Anki finds an image occlusion notetype's fields by tag, not by name.
                {"name": name, "tag": tag} if notetype.original_stock_kind else {"name": name}
                for tag, name in enumerate(notetype.fields)
            ],
            templates=[
                {"name": t.name, "qfmt": t.question, "afmt": t.answer} for t in notetype.templates
            ],
            css=notetype.css,
            model_type=genanki.Model.CLOZE if notetype.is_cloze else genanki.Model.FRONT_BACK,
        )
        self.mod = mod
        self.original_stock_kind = notetype.original_stock_kind

    def to_json(self, timestamp: float, deck_id: int) -> dict[str, Any]:
        model: dict[str, Any] = super().to_json(self.mod, deck_id)
        if self.original_stock_kind is not None:
            model["originalStockKind"] = self.original_stock_kind
        return model


def anki_deck_id(name: str) -> int:
    """A deck id for the package; Anki matches decks by name and ignores it, genanki needs one."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return (1 << 30) + int.from_bytes(digest[:4], "big") % (1 << 30)


_TABLES, _, _indexes = APKG_SCHEMA.partition("CREATE INDEX")
_INDEXES = "CREATE INDEX" + _indexes
"""genanki's schema, its indexes apart: built once after the bulk inserts instead of updated
row by row, they cost a quarter less of a package's SQLite time (the same rows and indexes
in the end; Anki reads both alike)."""


def package_bytes(deck: CompiledDeck) -> bytes:
    """The .apkg for ``deck``, identical for identical input."""
    models = {kind: _StampedModel(NOTETYPES[kind], mod) for kind, mod in deck.notetype_mods.items()}
    anki_decks = {
        deck.spec.name: genanki.Deck(
            anki_deck_id(deck.spec.name), deck.spec.name, description=deck.description
        )
    }
    notes_by_deck: dict[str, list[Note]] = {deck.spec.name: []}
    for note in deck.notes:
        if note.deck_name not in anki_decks:
            anki_decks[note.deck_name] = genanki.Deck(anki_deck_id(note.deck_name), note.deck_name)
            notes_by_deck[note.deck_name] = []
        anki_decks[note.deck_name].add_model(models[note.notetype.kind])
        notes_by_deck[note.deck_name].append(note)

    # Note and card ids only need to be unique in the package; deriving them from the newest
    # time keeps them repeatable.
    newest = max([note.mod for note in deck.notes] + list(deck.notetype_mods.values()) + [0])
    ids = itertools.count(newest * 1000)
    try:
        with tempfile.TemporaryDirectory(prefix="deckgen-collection-") as scratch:
            # On disk, not in memory: an in-memory collection and the copy serialize() made
            # of it were two of a large deck's peak copies of its HTML. A private temporary
            # folder of our own, not a project path.
            database = Path(scratch) / "collection.anki2"
            _write_collection(deck, database, models, anki_decks, notes_by_deck, newest, ids)
            _as_in_memory(database)
            media = deck.media
            # The collection is zipped from its file, never read whole into memory.
            members: list[tuple[str, bytes | Path]] = [("collection.anki2", database)]
            members.append(
                ("media", json.dumps({str(i): f.name for i, f in enumerate(media)}).encode())
            )
            members.extend((str(i), f.data) for i, f in enumerate(media))
            return _deterministic_zip(members)
    except (sqlite3.Error, OSError) as exc:  # a full or small temporary folder
        raise DeckgenError(
            f"could not write the package of {deck.spec.name!r} through the temporary folder "
            f"{tempfile.gettempdir()} ({exc}): make room there, or set TMPDIR to a folder "
            "with room for the deck's unpacked collection"
        ) from exc


def _write_collection(
    deck: CompiledDeck,
    database: Path,
    models: dict[CardKind, _StampedModel],
    anki_decks: dict[str, genanki.Deck],
    notes_by_deck: dict[str, list[Note]],
    newest: int,
    ids: Iterator[int],
) -> None:
    # ``database`` is in deckgen's own private temporary folder (package_bytes), never a
    # project path: nothing found in a checkout is opened here.
    connection = sqlite3.connect(database)
    try:
        # Nothing to recover: a failed build discards the file. Neither setting changes a byte.
        connection.execute("PRAGMA journal_mode = OFF")
        connection.execute("PRAGMA synchronous = OFF")
        # An in-memory database's page size, whatever the temporary folder's disk reports.
        connection.execute("PRAGMA page_size = 4096")
        cursor = connection.cursor()
        cursor.executescript(_TABLES)
        cursor.executescript(APKG_COL)
        decks_json, models_json, presets_json = map(
            json.loads, cursor.execute("SELECT decks, models, dconf FROM col").fetchone()
        )
        preset = deck_preset(deck, presets_json["1"], mod=newest) if deck.spec.options else None
        if preset is not None:
            presets_json[str(preset["id"])] = preset
        for name in sorted(anki_decks):
            anki_deck = anki_decks[name]
            decks_json[str(anki_deck.deck_id)] = anki_deck.to_json()
            if preset is not None:
                decks_json[str(anki_deck.deck_id)]["conf"] = preset["id"]
            # As with genanki's Deck.write_to_db, a notetype names the last deck using it.
            for model in anki_deck.models.values():
                models_json[str(model.model_id)] = model.to_json(newest, anki_deck.deck_id)
            _insert_notes(cursor, notes_by_deck[name], anki_deck.deck_id, ids)
        cursor.execute(
            "UPDATE col SET decks = ?, models = ?, dconf = ?",
            (json.dumps(decks_json), json.dumps(models_json), json.dumps(presets_json)),
        )
        cursor.executescript(_INDEXES)
        connection.commit()
    finally:
        connection.close()


_FILE_CHANGE_COUNTER = slice(24, 28)
_VERSION_VALID_FOR = slice(92, 100)
"""With the SQLite version number that wrote the file: header fields a file database
updates on every write and an in-memory one leaves at zero."""


def _as_in_memory(database: Path) -> None:
    """Give the collection in ``database`` the header an in-memory database has: the
    package's bytes then depend on neither the number of writes nor the SQLite version."""
    with database.open("r+b") as file:  # our private temporary collection, as above
        for field in (_FILE_CHANGE_COUNTER, _VERSION_VALID_FOR):
            file.seek(field.start)
            file.write(bytes(field.stop - field.start))


PRESET_ID_BASE = 1 << 41
"""Preset ids are this plus a hash: far from Anki's own (1, and creation times in ms)."""


def deck_preset(deck: CompiledDeck, default: dict[str, Any], *, mod: int) -> dict[str, Any]:
    """The deck options preset of ``deck.spec.options``, built on Anki's ``default`` one.

    Anki inserts a package's preset only when its id is new and never updates one it has, so
    the id is a hash of everything in the preset: other settings, another preset."""
    options = deck.spec.options
    if options is None:
        raise ValueError("the deck has no options")
    preset = json.loads(json.dumps(default))  # a deep copy
    if options.new_per_day is not None:
        preset["new"]["perDay"] = options.new_per_day
    if options.learning_steps is not None:
        preset["new"]["delays"] = list(options.learning_steps)
    if options.desired_retention is not None:
        preset["desiredRetention"] = options.desired_retention
    digest = fingerprint([deck.spec.name, preset])
    preset["id"] = PRESET_ID_BASE + int(digest[:8], 16)
    preset["name"] = f"{deck.spec.name} (suggested {digest[:6]})"
    preset["mod"] = mod
    return preset  # type: ignore[no-any-return]


def _insert_notes(
    cursor: sqlite3.Cursor, notes: list[Note], deck_id: int, ids: Iterator[int]
) -> None:
    """Write notes and their cards with the rows genanki's ``Note.write_to_db`` writes, in
    two bulk inserts: genanki's per-note objects and statements, and its rewriting the
    collection's deck and notetype JSON once per subdeck, were a third of the time a one-card
    edit of a 10,000-card bank took. The cards are the ones Anki makes of the note
    (``Note.card_ords``). tests/anki/test_package.py checks every row equals genanki's."""
    # Ids go note, its cards, next note...; the rows are made one at a time as SQLite takes
    # them (lists of every row held a large deck's HTML once more).
    note_ids = []
    for note in notes:
        note_ids.append(next(ids))
        for _ in note.card_ords:
            next(ids)
    # Only what differs from row to row is bound; the columns every row shares are written in
    # the statements (the same values stored, a third less of the inserts' time).
    # id, guid, mid, mod, tags, flds, sfld (the first field)
    note_rows = (
        (
            note_id,
            note.guid,
            note.notetype.id,
            note.mod,
            " " + " ".join(note.tags) + " ",
            "\x1f".join(note.fields),
            note.fields[0],
        )
        for note, note_id in zip(notes, note_ids, strict=True)
    )
    # id, nid, did, ord, mod; a note's cards take the ids after its own.
    card_rows = (
        (note_id + number, note_id, deck_id, ord_, note.mod)
        for note, note_id in zip(notes, note_ids, strict=True)
        for number, ord_ in enumerate(note.card_ords, start=1)
    )
    cursor.executemany(_INSERT_NOTE, note_rows)
    cursor.executemany(_INSERT_CARD, card_rows)


_INSERT_NOTE = "INSERT INTO notes VALUES (?, ?, ?, ?, -1, ?, ?, ?, 0, 0, '')"
"""A note's row: id, guid, mid, mod, usn -1, tags, flds, sfld, csum 0, flags 0, data ''."""
_INSERT_CARD = "INSERT INTO cards VALUES (?, ?, ?, ?, ?, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '')"
"""A new card's row: id, nid, did, ord, mod, usn -1; type, queue, due, ivl, factor, reps,
lapses, left, odue, odid and flags 0, data ''."""


def _deterministic_zip(members: list[tuple[str, bytes | Path]]) -> bytes:
    """A zip of ``members`` in order, each deflated, with fixed times and permissions, so the
    same members give the same bytes. Written here rather than with zipfile, which deflates on
    one core: a large collection is deflated in blocks on every core (``_deflate``). A member
    given as a file (the collection) is read a block at a time, never whole."""
    if len(members) >= _ZIP_MAX_MEMBERS:
        raise DeckgenError(
            f"a package can hold at most {_ZIP_MAX_MEMBERS - 3} images; "
            "split the deck into several decks"
        )
    archive = bytearray()
    directory = bytearray()
    inflated = 0
    for name, member in members:
        encoded = name.encode("utf-8")
        with _opened(member) as data:
            deflated = _deflate(data)
            crc = 0
            for start in range(0, len(data), _DEFLATE_BLOCK):
                crc = zlib.crc32(data[start : start + _DEFLATE_BLOCK], crc)
        inflated += len(data)
        if len(archive) + len(deflated) > MAX_PACKAGE_BYTES or inflated > MAX_UNCOMPRESSED_BYTES:
            raise _too_large()
        # The fields zipfile writes: version 2.0 needed, no flags, deflate, the 1980 time.
        common = struct.pack(
            "<HHHHHIIIH",
            20,
            _ZIP_UTF8 if not encoded.isascii() else 0,
            zipfile.ZIP_DEFLATED,
            0,
            _ZIP_DATE,
            crc,
            len(deflated),
            len(data),
            len(encoded),
        )
        directory += struct.pack("<IH", 0x02014B50, _UNIX << 8 | 20) + common
        directory += struct.pack("<HHHHII", 0, 0, 0, 0, _ZIP_PERMISSIONS, len(archive)) + encoded
        archive += struct.pack("<I", 0x04034B50) + common + struct.pack("<H", 0) + encoded
        archive += deflated
    if len(archive) + len(directory) > MAX_PACKAGE_BYTES:
        raise _too_large()
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), len(archive), 0
    )
    archive += directory
    archive += end
    return bytes(archive)


def _too_large() -> DeckgenError:
    """Past what deckgen reads back: the next build, verify and changelog read the package to
    keep students' card numbers and history, and would take a larger one for missing."""
    return DeckgenError(
        f"the package would be larger than deckgen reads back ({MAX_PACKAGE_BYTES >> 20} MiB, "
        f"{MAX_UNCOMPRESSED_BYTES >> 30} GiB unpacked): split the deck into several decks, "
        "or use smaller images"
    )


_ZIP_MAX_MEMBERS = 0xFFFF
"""A zip without the zip64 extension counts members in 16 bits, and 0xFFFF tells a reader to
look for zip64 records; its 32-bit sizes are far above the reader's limits."""
_ZIP_UTF8 = 0x800
_ZIP_DATE = 1 << 5 | 1
"""1 January 1980 (year 0, month 1, day 1) as DOS dates count; the time is 00:00:00."""
_DEFLATE_BLOCK = 1 << 20
_DEFLATE_LEVEL = 1
_DEFLATE_WINDOW = 1 << 15


class _FileBytes:
    """A file's bytes as far as ``_deflate`` reads them: its size, and slices read when taken."""

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor
        self.size = os.fstat(descriptor).st_size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, part: slice) -> bytes:
        start, stop, _ = part.indices(self.size)
        return os.pread(self.descriptor, max(0, stop - start), start)


@contextlib.contextmanager
def _opened(member: bytes | Path) -> Iterator[bytes | _FileBytes]:
    if isinstance(member, bytes):
        yield member
        return
    # A member given as a path is the collection in our private temporary folder.
    descriptor = os.open(member, os.O_RDONLY | os.O_CLOEXEC)
    try:
        yield _FileBytes(descriptor)
    finally:
        os.close(descriptor)


def _deflate(data: bytes | _FileBytes) -> bytes:
    """``data`` as one raw deflate stream, made of 1 MiB blocks deflated in parallel (zlib
    releases the GIL), each primed with the 32 KiB before it as pigz does: about the size
    one pass makes, and the same bytes whatever the number of cores. At zlib's fastest level:
    a tenth of a cold build of 10,000 plain notes at the default level, now a fortieth, for a
    package an eighth larger (genanki stores the collection without compressing it at all)."""
    starts = range(0, max(len(data), 1), _DEFLATE_BLOCK)

    def block(start: int) -> bytes:
        window = data[max(0, start - _DEFLATE_WINDOW) : start]
        compressor = (
            zlib.compressobj(_DEFLATE_LEVEL, zlib.DEFLATED, -15, zdict=window)
            if window
            else zlib.compressobj(_DEFLATE_LEVEL, zlib.DEFLATED, -15)
        )
        last = start + _DEFLATE_BLOCK >= len(data)
        return compressor.compress(data[start : start + _DEFLATE_BLOCK]) + compressor.flush(
            zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH
        )

    if len(starts) == 1:
        return block(0)
    from concurrent.futures import ThreadPoolExecutor  # only for large collections

    with ThreadPoolExecutor(max_workers=min(len(starts), usable_cores())) as pool:
        return b"".join(pool.map(block, starts))
