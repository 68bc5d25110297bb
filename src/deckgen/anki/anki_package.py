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
import zipfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import genanki
from genanki.apkg_col import APKG_COL
from genanki.apkg_schema import APKG_SCHEMA

from deckgen.anki.identity import fingerprint
from deckgen.anki.notetypes import NOTETYPES, Notetype

if TYPE_CHECKING:
    from deckgen.anki.compiled import CompiledDeck, Note

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_ZIP_PERMISSIONS = 0o100644 << 16
_UNIX = 3
_NEW_CARD = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "")


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
    connection = sqlite3.connect(":memory:")
    try:
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
        collection = connection.serialize()
    finally:
        connection.close()

    media = deck.media
    members = [("collection.anki2", collection)]
    members.append(("media", json.dumps({str(i): f.name for i, f in enumerate(media)}).encode()))
    members.extend((str(i), f.data) for i, f in enumerate(media))
    return _deterministic_zip(members)


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
    note_rows = []
    card_rows = []
    for note in notes:
        note_id = next(ids)
        tags = " " + " ".join(note.tags) + " "
        # id, guid, mid, mod, usn, tags, flds, sfld (the first field), csum, flags, data
        note_rows.append(
            (
                note_id,
                note.guid,
                note.notetype.id,
                note.mod,
                -1,
                tags,
                "\x1f".join(note.fields),
                note.fields[0],
                0,
                0,
                "",
            )
        )
        for ord_ in note.card_ords:
            # id, nid, did, ord, mod, usn, then a new card: type, queue, due, ivl, factor,
            # reps, lapses, left, odue, odid, flags 0, data ''
            card_rows.append((next(ids), note_id, deck_id, ord_, note.mod, -1, *_NEW_CARD))
    cursor.executemany("INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?)", note_rows)
    cursor.executemany("INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", card_rows)


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
