"""Stage 7: write a compiled deck as an .apkg, the only module that touches genanki.

genanki stamps every note and notetype with one time and writes a zip whose bytes change on
every run. Here each note and notetype carries its own time from the lock, and the zip is
written with fixed entry times, permissions and member order, so the same sources and lock
give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import sqlite3
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import genanki

from deckgen.anki.notetypes import NOTETYPES, Notetype

if TYPE_CHECKING:  # notes.py reads previous packages through this module (retired cards)
    from deckgen.notes import CompiledDeck, Note

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_ZIP_PERMISSIONS = 0o100644 << 16
_UNIX = 3


class _StampedModel(genanki.Model):  # type: ignore[misc]
    """A notetype written with its own modification time instead of the package's."""

    def __init__(self, notetype: Notetype, mod: int) -> None:
        super().__init__(
            model_id=notetype.id,
            name=notetype.name,
            fields=[{"name": name} for name in notetype.fields],
            templates=[
                {"name": t.name, "qfmt": t.question, "afmt": t.answer} for t in notetype.templates
            ],
            css=notetype.css,
            model_type=genanki.Model.CLOZE if notetype.is_cloze else genanki.Model.FRONT_BACK,
        )
        self.mod = mod

    def to_json(self, timestamp: float, deck_id: int) -> dict[str, Any]:
        return super().to_json(self.mod, deck_id)  # type: ignore[no-any-return]


class _StampedNote(genanki.Note):  # type: ignore[misc]
    """A note (and its cards) written with its own modification time."""

    def __init__(self, note: Note, model: _StampedModel) -> None:
        super().__init__(
            model=model, fields=list(note.fields), tags=list(note.tags), guid=note.guid
        )
        self.mod = note.mod

    def write_to_db(
        self, cursor: sqlite3.Cursor, timestamp: float, deck_id: int, id_gen: Any
    ) -> None:
        super().write_to_db(cursor, self.mod, deck_id, id_gen)


def anki_deck_id(name: str) -> int:
    """A deck id for the package; Anki matches decks by name and ignores it, genanki needs one."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return (1 << 30) + int.from_bytes(digest[:4], "big") % (1 << 30)


def package_bytes(deck: CompiledDeck) -> bytes:
    """The .apkg for ``deck``, identical for identical input."""
    models = {kind: _StampedModel(NOTETYPES[kind], mod) for kind, mod in deck.notetype_mods.items()}
    anki_decks = {
        deck.spec.name: genanki.Deck(
            anki_deck_id(deck.spec.name), deck.spec.name, description=deck.description
        )
    }
    for note in deck.notes:
        if note.deck_name not in anki_decks:
            anki_decks[note.deck_name] = genanki.Deck(anki_deck_id(note.deck_name), note.deck_name)
        anki_decks[note.deck_name].add_note(_StampedNote(note, models[note.notetype.kind]))

    # Note and card ids only need to be unique in the package; deriving them from the newest
    # time keeps them repeatable.
    newest = max([note.mod for note in deck.notes] + list(deck.notetype_mods.values()) + [0])
    with tempfile.TemporaryDirectory(prefix="deckgen-") as scratch:
        database = Path(scratch) / "collection.anki2"
        connection = sqlite3.connect(database)
        try:
            package = genanki.Package([anki_decks[name] for name in sorted(anki_decks)])
            package.write_to_db(connection.cursor(), newest, itertools.count(newest * 1000))
            connection.commit()
        finally:
            connection.close()
        collection = database.read_bytes()

    media = deck.media
    members = [("collection.anki2", collection)]
    members.append(("media", json.dumps({str(i): f.name for i, f in enumerate(media)}).encode()))
    members.extend((str(i), f.data) for i, f in enumerate(media))
    return _deterministic_zip(members)


def _deterministic_zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = _ZIP_PERMISSIONS
            info.create_system = _UNIX
            archive.writestr(info, data)
    return buffer.getvalue()


def package_content(data: bytes) -> dict[str, Any] | None:
    """What Anki would import from a package, independent of SQLite's and zlib's byte layout;
    None when ``data`` is not a readable package. Two packages with equal content import alike."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            collection = archive.read("collection.anki2")
            media_names: dict[str, str] = json.loads(archive.read("media"))
            media = {
                name: hashlib.sha256(archive.read(i)).hexdigest() for i, name in media_names.items()
            }
        connection = sqlite3.connect(":memory:")
        try:
            connection.deserialize(collection)
            return _collection_content(connection) | {"media": media}
        finally:
            connection.close()
    except (zipfile.BadZipFile, KeyError, ValueError, sqlite3.DatabaseError, OSError):
        return None


def _collection_content(connection: sqlite3.Connection) -> dict[str, Any]:
    models_json, decks_json = connection.execute("SELECT models, decks FROM col").fetchone()
    decks = {deck["id"]: deck for deck in json.loads(decks_json).values()}
    models = json.loads(models_json)
    notes = {
        guid: {"mid": mid, "mod": mod, "tags": tags, "fields": flds}
        for guid, mid, mod, tags, flds in connection.execute(
            "SELECT guid, mid, mod, tags, flds FROM notes"
        )
    }
    cards = sorted(
        (guid, ord_, decks[did]["name"], mod)
        for guid, ord_, did, mod in connection.execute(
            "SELECT notes.guid, cards.ord, cards.did, cards.mod"
            " FROM cards JOIN notes ON cards.nid = notes.id"
        )
    )
    return {
        "models": {
            model_id: {key: model[key] for key in ("name", "mod", "flds", "tmpls", "css", "type")}
            for model_id, model in models.items()
        },
        "decks": sorted((deck["name"], deck["desc"]) for deck in decks.values()),
        "notes": notes,
        "cards": cards,
    }
