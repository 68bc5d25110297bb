"""A student's Anki, driven through Anki's own engine (the ``anki`` package)."""

from __future__ import annotations

import re
from pathlib import Path

from anki.collection import Collection, ImportAnkiPackageRequest
from anki.import_export_pb2 import ImportResponse
from anki.notes import Note

_IMAGE_SOURCE = re.compile(r'<img[^>]*\ssrc="([^"]+)"')


class StudentCollection:
    """One Anki profile's collection in a folder of its own."""

    def __init__(self, folder: Path) -> None:
        self.col = Collection(str(folder / "collection.anki2"))

    def close(self) -> None:
        self.col.close()

    def import_package(self, path: Path) -> ImportResponse.Log:
        """Import as the desktop import dialog does with its default options."""
        options = self.col._backend.get_import_anki_package_presets()
        request = ImportAnkiPackageRequest(package_path=str(path), options=options)
        return self.col.import_anki_package(request).log

    def notes(self) -> dict[str, Note]:
        """Every note, by guid."""
        notes = (self.col.get_note(note_id) for note_id in self.col.find_notes(""))
        return {note.guid: note for note in notes}

    def card_ids(self) -> dict[str, list[int]]:
        """Card ids of every note, by guid."""
        return {guid: sorted(note.card_ids()) for guid, note in self.notes().items()}

    def deck_names_of(self, note: Note) -> list[str]:
        return sorted(str(self.col.decks.name(card.did)) for card in note.cards())

    def study_everything(self, deck_name: str) -> int:
        """Answer 'good' until nothing is due in ``deck_name``; returns the number of answers."""
        self.col.decks.select(self.col.decks.id_for_name(deck_name))
        answers = 0
        while (card := self.col.sched.getCard()) is not None:
            self.col.sched.answerCard(card, 3)
            answers += 1
        return answers

    def review_count(self) -> int:
        return int(self.col.db.scalar("SELECT count() FROM revlog"))

    def reviewed_cards(self) -> set[int]:
        return set(self.col.db.list("SELECT DISTINCT cid FROM revlog"))

    def notetype_names(self) -> list[str]:
        return sorted(entry.name for entry in self.col.models.all_names_and_ids())

    def media_folder(self) -> Path:
        return Path(self.col.media.dir())

    def unresolved_images(self) -> list[str]:
        """Image references in any field that have no file in the media folder."""
        missing = []
        for note in self.notes().values():
            for field in note.fields:
                for name in _IMAGE_SOURCE.findall(field):
                    if not (self.media_folder() / name).is_file():
                        missing.append(name)
        return missing
