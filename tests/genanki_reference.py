"""The package's collection as genanki writes it note by note, the reference for deckgen's bulk
writer (anki_package._insert_notes): every row of every table must come out the same."""

from __future__ import annotations

import io
import itertools
import json
import sqlite3
import zipfile

import genanki

from deckgen.anki.anki_package import _StampedModel, anki_deck_id
from deckgen.anki.compiled import CompiledDeck
from deckgen.anki.notetypes import NOTETYPES

TABLES = ("col", "notes", "cards", "revlog", "graves")
_JSON_COLUMNS = {"conf", "models", "decks", "dconf"}


class _StampedNote(genanki.Note):  # type: ignore[misc]
    """A note written by genanki itself, with its own modification time."""

    def __init__(self, note, model):  # type: ignore[no-untyped-def]
        super().__init__(
            model=model, fields=list(note.fields), tags=list(note.tags), guid=note.guid
        )
        self.mod = note.mod

    def write_to_db(self, cursor, timestamp, deck_id, id_gen):  # type: ignore[no-untyped-def]
        super().write_to_db(cursor, self.mod, deck_id, id_gen)


def genanki_rows(deck: CompiledDeck) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, in id order, of the collection genanki writes for ``deck``."""
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
    newest = max([note.mod for note in deck.notes] + list(deck.notetype_mods.values()) + [0])
    connection = sqlite3.connect(":memory:")
    package = genanki.Package([anki_decks[name] for name in sorted(anki_decks)])
    package.write_to_db(connection.cursor(), newest, itertools.count(newest * 1000))
    return _rows(connection)


def package_rows(package: bytes) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, in id order, of a package's collection."""
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        collection = archive.read("collection.anki2")
    connection = sqlite3.connect(":memory:")
    connection.deserialize(collection)
    return _rows(connection)


def _rows(connection: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    """The rows, with the collection's JSON columns parsed: genanki writes a notetype used by
    several decks once per deck under the same key (the last one counts), deckgen once."""
    try:
        rows = {
            table: list(connection.execute(f"SELECT * FROM {table} ORDER BY rowid"))
            for table in TABLES
        }
        columns = [column[1] for column in connection.execute("PRAGMA table_info(col)")]
    finally:
        connection.close()
    rows["col"] = [
        tuple(
            json.loads(value) if name in _JSON_COLUMNS else value
            for name, value in zip(columns, row, strict=True)
        )
        for row in rows["col"]
    ]
    return rows
