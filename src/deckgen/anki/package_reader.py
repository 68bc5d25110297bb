"""The one way deckgen opens an Anki package: bounded, read-only, every failure a clear error.

A previous package is untrusted input: content repositories commit ``decks/``, CI builds pull
requests, and ``--against`` takes any file. So a package is read only
- through the safe file layer (a regular file inside its folder, never a link to ``/dev/zero``
  or a FIFO, at most ``MAX_PACKAGE_BYTES``);
- as a bounded zip: at most ``MAX_MEMBERS`` members, each member's bytes counted as they are
  inflated (never trusting the sizes the zip declares), within ``MAX_UNCOMPRESSED_BYTES`` in all
  and ``MAX_COMPRESSION_RATIO`` for any large member, so a zip bomb is refused, not inflated;
- with its collection copied to a private temporary file and opened by SQLite read-only, with
  untrusted schema features off and a budget of virtual-machine steps, so that a recursive view
  or a query planted in the schema stops instead of hanging;
- with every JSON column and protobuf map parsed defensively.

It reads the three formats Anki writes: the legacy ``collection.anki2`` (genanki, deckgen),
``collection.anki21`` (Anki's export with "Support older Anki versions") and
``collection.anki21b`` (Anki's default export: zstd-compressed, schema 18, media map in
protobuf). Any failure is ``UnreadablePackage``, whose message names the file.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import lzma
import os
import sqlite3
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import zstandard

from deckgen.diagnostics import DeckgenError, display_path, printable, shorten
from deckgen.source.safe_files import UnsafeFile, read_file

MAX_PACKAGE_BYTES = 512 * 1024 * 1024
"""The package file itself: far above a deck of thousands of cards with images."""
MAX_MEMBERS = 100_000
"""Zip members: the collection, the media map and one per media file."""
MAX_UNCOMPRESSED_BYTES = 2 * 1024 * 1024 * 1024
"""All members together, counted as they are inflated."""
MAX_COLLECTION_BYTES = 1024 * 1024 * 1024
"""The collection database once inflated."""
MAX_COMPRESSION_RATIO = 200
"""Inflated over stored size, for members over ``_RATIO_FLOOR``: SQLite and images compress far
less; a zip bomb compresses a thousandfold."""
_RATIO_FLOOR = 16 * 1024 * 1024
MAX_SQL_STEPS = 200_000_000
"""SQLite virtual-machine steps for reading a collection: a 100,000-note collection takes a
few million; a recursive view would take forever."""
_STEPS_PER_CHECK = 10_000
_CHUNK = 1024 * 1024
_NEWEST_FORMAT = 3
"""``meta``'s version field: 1 collection.anki2, 2 collection.anki21, 3 collection.anki21b."""
_NEWEST_SCHEMA = 18
"""The collection's ``ver``: 11 in collection.anki2 and .anki21, 18 in .anki21b."""
_COLLECTIONS = ("collection.anki21b", "collection.anki21", "collection.anki2")
"""Newest first: Anki's exports also carry an old-format collection that only says "update
Anki"."""


class UnreadablePackage(DeckgenError):
    """A package that cannot be read, or must not be; the message names the file."""


@dataclass(frozen=True)
class PackageNote:
    """A note as the package holds it."""

    notetype_id: int
    mod: int
    tags: str
    """As Anki stores them: space-separated, with a space on each side."""
    fields: str
    """As Anki stores them: joined by U+001F."""

    @property
    def field_list(self) -> tuple[str, ...]:
        return tuple(self.fields.split("\x1f"))

    @property
    def tag_list(self) -> tuple[str, ...]:
        return tuple(self.tags.split())


@dataclass(frozen=True)
class PackageContent:
    """What Anki would import from a package, independent of SQLite's and the zip's byte
    layout: two packages with equal content import alike."""

    notetypes: dict[str, dict[str, Any]]
    """By id: name, mod, fields, templates, CSS and type, as far as the format holds them."""
    decks: tuple[tuple[str, str], ...]
    """(name, description), sorted."""
    notes: dict[str, PackageNote]
    """By guid."""
    cards: tuple[tuple[str, int, str, int], ...]
    """(note guid, ordinal, deck name, mod), sorted."""
    media: dict[str, str]
    """SHA-256 of each media file, by its name."""
    presets: tuple[tuple[str, str], ...] = ()
    """(deck name, its options preset as sorted JSON), sorted; legacy collections only (our
    own packages), so that a changed preset makes a package differ."""

    def card_ords(self, guid: str) -> tuple[int, ...]:
        """The ordinals of the cards the package holds for the note ``guid``, ascending."""
        return self._ords_by_guid.get(guid, ())

    @functools.cached_property
    def _ords_by_guid(self) -> dict[str, tuple[int, ...]]:
        ords: dict[str, list[int]] = {}
        for guid, ord_, _, _ in self.cards:  # sorted by guid, then ordinal
            ords.setdefault(guid, []).append(ord_)
        return {guid: tuple(values) for guid, values in ords.items()}


def read_package(path: Path, *, within: Path) -> PackageContent:
    """The content of the package at ``path``, which must lie inside ``within``."""
    return package_content(read_package_bytes(path, within=within), name=display_path(path))


def read_package_bytes(path: Path, *, within: Path) -> bytes:
    """The bytes of the package file, read through the safe file layer."""
    try:
        return read_file(path, within=within, max_bytes=MAX_PACKAGE_BYTES)
    except UnsafeFile as exc:
        raise UnreadablePackage(f"{display_path(path)} {exc}") from exc


def package_content(data: bytes, *, name: str) -> PackageContent:
    """The content of a package's bytes; ``name`` names it in errors."""
    try:
        # The bytes were read through the safe file layer; the zip is opened in memory.
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return _Reader(archive).content()
    except _Refused as exc:
        raise UnreadablePackage(f"{name} {exc}") from exc
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        lzma.LZMAError,
        EOFError,
        ValueError,
        OSError,
        NotImplementedError,  # a compression method Python lacks
        RuntimeError,  # an encrypted member
    ) as exc:
        # The zip's own damage (a truncated file, a bad CRC): not a package deckgen can read.
        raise UnreadablePackage(
            f"{name} is not an Anki package (not a readable zip file: "
            f"{shorten(printable(str(exc)), 80)})"
        ) from exc


class _Refused(Exception):
    """Why the package is refused, phrased to follow its name."""


class _Reader:
    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise _Refused(f"has {len(members)} files inside; at most {MAX_MEMBERS} are allowed")
        self.members = {member.filename: member for member in members}
        self.budget = MAX_UNCOMPRESSED_BYTES

    def content(self) -> PackageContent:
        version = self._format_version()
        collection_name = next((n for n in _COLLECTIONS if n in self.members), None)
        if collection_name is None:
            raise _Refused("is not an Anki package (it holds no collection)")
        compressed = collection_name.endswith("b")
        with tempfile.TemporaryDirectory(prefix="deckgen-package-") as scratch:
            database = Path(scratch) / "collection.sqlite"
            # A private temporary folder of our own, not a project path.
            with database.open("wb") as out:
                self._extract(collection_name, out, MAX_COLLECTION_BYTES, zstd=compressed)
            content = _read_collection(database)
        media = self._media(latest=version >= _NEWEST_FORMAT or compressed)
        return PackageContent(
            notetypes=content["notetypes"],
            decks=content["decks"],
            notes=content["notes"],
            cards=content["cards"],
            media=media,
            presets=content["presets"],
        )

    def _format_version(self) -> int:
        if "meta" not in self.members:
            return 1
        meta = self._read("meta", 1024)
        version = 0
        for number, value in _protobuf_fields(meta):
            if number == 1 and isinstance(value, int):
                version = value
        if version > _NEWEST_FORMAT:
            raise _Refused(
                f"was written by a newer Anki (package format {version}; deckgen reads up to "
                f"{_NEWEST_FORMAT}): export it again with 'Support older Anki versions' ticked"
            )
        return version

    def _media(self, *, latest: bool) -> dict[str, str]:
        if "media" not in self.members:
            return {}
        if latest:
            data = self._read("media", 64 * 1024 * 1024, zstd=True)
            names: dict[str, str] = {}
            for index, (number, entry) in enumerate(_protobuf_fields(data)):
                if number != 1 or not isinstance(entry, bytes):
                    raise _Refused("has a damaged media list")
                fields = dict(_protobuf_fields(entry))
                name = fields.get(1, b"")
                number_in_zip = fields.get(255, index)  # the member's name, when not its index
                if not isinstance(name, bytes) or not isinstance(number_in_zip, int):
                    raise _Refused("has a damaged media list")
                names[str(number_in_zip)] = _decoded(name)
        else:
            try:
                listed = json.loads(self._read("media", 64 * 1024 * 1024))
            except (ValueError, RecursionError) as exc:
                raise _Refused("has a damaged media list (not valid JSON)") from exc
            if not isinstance(listed, dict) or not all(
                isinstance(key, str) and isinstance(value, str) for key, value in listed.items()
            ):
                raise _Refused("has a damaged media list (not a map of names)")
            names = listed
        media = {}
        for member, media_name in names.items():
            _check_media_name(media_name)
            if member not in self.members:
                raise _Refused(f"lists a media file '{_quoted(media_name)}' it does not hold")
            digest = hashlib.sha256()
            self._extract(member, _Hashing(digest), MAX_PACKAGE_BYTES, zstd=latest)
            media[media_name] = digest.hexdigest()
        return media

    def _read(self, name: str, limit: int, *, zstd: bool = False) -> bytes:
        out = io.BytesIO()
        self._extract(name, out, limit, zstd=zstd)
        return out.getvalue()

    def _extract(self, name: str, out: _Writable, limit: int, *, zstd: bool = False) -> None:
        """Inflate member ``name`` into ``out``, counting every byte against the bounds."""
        member = self.members[name]
        written = 0
        # A member of the in-memory zip, inflated within the bounds counted below.
        with self.archive.open(member) as stream:
            source: _Readable = stream
            if zstd:
                source = zstandard.ZstdDecompressor().stream_reader(stream)
            try:
                while chunk := source.read(_CHUNK):
                    written += len(chunk)
                    self.budget -= len(chunk)
                    if written > limit or self.budget < 0:
                        raise _Refused(
                            f"inflates past deckgen's bound ({name} alone is over {written} "
                            "bytes): refused as a possible zip bomb"
                        )
                    if written > _RATIO_FLOOR and written > MAX_COMPRESSION_RATIO * max(
                        member.compress_size, 1
                    ):
                        raise _Refused(
                            f"has a file ({name}) that inflates more than "
                            f"{MAX_COMPRESSION_RATIO} times: refused as a possible zip bomb"
                        )
                    out.write(chunk)
            except zstandard.ZstdError as exc:
                raise _Refused(f"has a damaged compressed file ({name})") from exc


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


class _Writable(Protocol):
    def write(self, data: bytes, /) -> int: ...


class _Hashing:
    """A write-only file that hashes what it is given."""

    def __init__(self, digest: Any) -> None:
        self.digest = digest

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return len(data)


def _decoded(name: bytes) -> str:
    try:
        return name.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Refused("has a media file name that is not UTF-8") from exc


def _check_media_name(name: str) -> None:
    """Anki's media folder is flat: a name with a path in it would write outside it."""
    if (
        not name
        or name in (".", "..")
        or any(char in name for char in "/\\\0")
        or any(ord(char) < 32 for char in name)
        or len(name.encode("utf-8")) > 255
    ):
        raise _Refused(
            f"has a media file named '{_quoted(name)}', which is not a plain file name "
            "(a path or control characters in it)"
        )


def _quoted(text: str) -> str:
    return shorten(printable(text), 80)


def _protobuf_fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """The (field number, value) pairs of a protobuf message: varints and length-delimited
    values, the two kinds Anki's package metadata and media list use."""
    position = 0

    def varint() -> int:
        nonlocal position
        value = shift = 0
        while True:
            if position >= len(data) or shift > 63:
                raise _Refused("has damaged package metadata")
            byte = data[position]
            position += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    while position < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            yield number, varint()
        elif wire == 2:
            length = varint()
            if position + length > len(data):
                raise _Refused("has damaged package metadata")
            yield number, data[position : position + length]
            position += length
        else:
            raise _Refused("has package metadata deckgen does not know")


def _read_collection(database: Path) -> dict[str, Any]:
    """Notes, cards, decks and notetypes of a collection file, read with bounded work."""
    try:
        # Our private temporary copy, read-only: never the untrusted file itself.
        connection = sqlite3.connect(f"{database.as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise _Refused("holds a collection SQLite cannot open") from exc
    steps = 0

    def budget() -> int:
        nonlocal steps
        steps += _STEPS_PER_CHECK
        return 1 if steps > MAX_SQL_STEPS else 0  # non-zero interrupts the query

    connection.set_progress_handler(budget, _STEPS_PER_CHECK)
    try:
        connection.execute("PRAGMA trusted_schema = OFF")
        tables = {
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if not {"col", "notes", "cards"} <= tables:
            raise _Refused("is not an Anki package (its collection lacks Anki's tables)")
        (version,) = connection.execute("SELECT ver FROM col").fetchone() or (None,)
        if not isinstance(version, int) or version > _NEWEST_SCHEMA:
            raise _Refused(
                f"was written by a newer Anki (collection schema {_quoted(str(version))}; "
                f"deckgen reads up to {_NEWEST_SCHEMA})"
            )
        if {"notetypes", "decks", "fields"} <= tables:
            notetypes, decks = _schema18(connection)
            presets: tuple[tuple[str, str], ...] = ()  # Anki's exports: never compared
            field_counts = {
                str(notetype_id): count
                for notetype_id, count in connection.execute(
                    "SELECT ntid, count() FROM fields GROUP BY ntid"
                )
            }
        else:
            notetypes, decks = _legacy_schema(connection)
            presets = _legacy_presets(connection)
            field_counts = {
                notetype_id: len(notetype["flds"])
                for notetype_id, notetype in notetypes.items()
                if isinstance(notetype["flds"], list)
            }
        notes = {}
        for guid, mid, mod, tags, flds in connection.execute(
            "SELECT guid, mid, mod, tags, flds FROM notes"
        ):
            if not all(isinstance(v, str) for v in (guid, tags, flds)) or not all(
                isinstance(v, int) for v in (mid, mod)
            ):
                raise _Refused("has a note with values of the wrong type")
            if str(mid) not in notetypes:
                raise _Refused("has a note of a notetype it does not define")
            if flds.count("\x1f") + 1 != field_counts.get(str(mid)):
                raise _Refused("has a note whose fields do not match its notetype")
            notes[guid] = PackageNote(notetype_id=mid, mod=mod, tags=tags, fields=flds)
        names = {deck_id: name for deck_id, (name, _) in decks.items()}
        cards = []
        for guid, ord_, did, mod in connection.execute(
            "SELECT notes.guid, cards.ord, cards.did, cards.mod"
            " FROM cards JOIN notes ON cards.nid = notes.id"
        ):
            if did not in names or not isinstance(ord_, int) or not isinstance(mod, int):
                raise _Refused("has a card in a deck it does not define")
            cards.append((guid, ord_, names[did], mod))
        return {
            "notetypes": notetypes,
            "decks": tuple(sorted(decks.values())),
            "notes": notes,
            "cards": tuple(sorted(cards)),
            "presets": presets,
        }
    except sqlite3.OperationalError as exc:
        if steps > MAX_SQL_STEPS:
            raise _Refused(
                "takes too long to read (its database holds a query that does not end)"
            ) from exc
        raise _Refused("is not an Anki package (its collection cannot be read)") from exc
    except sqlite3.Error as exc:
        raise _Refused("is not an Anki package (its collection cannot be read)") from exc
    finally:
        connection.close()


def _legacy_schema(
    connection: sqlite3.Connection,
) -> tuple[dict[str, dict[str, Any]], dict[int, tuple[str, str]]]:
    """Notetypes and decks of schema 11, stored as JSON in the ``col`` row."""
    row = connection.execute("SELECT models, decks FROM col").fetchone()
    if row is None:
        raise _Refused("is not an Anki package (its collection is empty)")
    try:
        models, decks = json.loads(row[0]), json.loads(row[1])
    except (TypeError, ValueError, RecursionError) as exc:
        raise _Refused("has damaged notetypes or decks (not valid JSON)") from exc
    if not isinstance(models, dict) or not isinstance(decks, dict):
        raise _Refused("has damaged notetypes or decks (not JSON objects)")
    keys = ("name", "mod", "flds", "tmpls", "css", "type")
    try:
        notetypes = {
            str(model_id): {key: model.get(key) for key in keys}
            for model_id, model in models.items()
        }
        deck_rows = {
            int(deck["id"]): (str(deck["name"]), str(deck.get("desc", "")))
            for deck in decks.values()
        }
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise _Refused("has damaged notetypes or decks (entries of the wrong shape)") from exc
    return notetypes, deck_rows


def _legacy_presets(connection: sqlite3.Connection) -> tuple[tuple[str, str], ...]:
    """Each deck's options preset in a schema-11 collection, as (deck name, sorted JSON)."""
    row = connection.execute("SELECT decks, dconf FROM col").fetchone()
    try:
        decks, presets = json.loads(row[0]), json.loads(row[1])
        return tuple(
            sorted(
                (str(deck["name"]), json.dumps(presets.get(str(deck.get("conf"))), sort_keys=True))
                for deck in decks.values()
            )
        )
    except (TypeError, ValueError, RecursionError, AttributeError, KeyError) as exc:
        raise _Refused("has damaged deck options (not valid JSON objects)") from exc


def _schema18(
    connection: sqlite3.Connection,
) -> tuple[dict[str, dict[str, Any]], dict[int, tuple[str, str]]]:
    """Notetypes and decks of schema 18 (collection.anki21b), stored in tables of their own;
    deck names separate their levels with U+001F there."""
    notetypes = {
        str(notetype_id): {"name": str(name), "mod": mod}
        for notetype_id, name, mod in connection.execute(
            "SELECT id, name, mtime_secs FROM notetypes"
        )
    }
    decks = {
        int(deck_id): (str(name).replace("\x1f", "::"), "")
        for deck_id, name in connection.execute("SELECT id, name FROM decks")
    }
    return notetypes, decks


def write_scratch_copy(data: bytes, folder: Path) -> Path:
    """``data`` written to a new file in ``folder`` (a private scratch folder), for Anki's
    importer, which takes a path: it then never opens the untrusted original."""
    descriptor, name = tempfile.mkstemp(suffix=".apkg", dir=folder)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
    return Path(name)
