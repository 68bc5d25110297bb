"""Stage 7: packages are reproducible, and compared by what Anki would import, not by bytes."""

from __future__ import annotations

import io
import sqlite3
import tempfile
import zipfile
from pathlib import Path

import genanki.builtin_models
import pytest

from conftest import FIXTURES, run_deckgen
from deckgen.anki.anki_package import package_bytes
from deckgen.anki.notetypes import NOTETYPES
from deckgen.anki.package_reader import UnreadablePackage, package_content
from deckgen.diagnostics import Report
from deckgen.pipeline.build import compile_project
from genanki_reference import genanki_rows, package_rows
from helpers import REPO

PACKAGE = Path("decks/demo.apkg")


def rewritten_elsewhere(data: bytes) -> bytes:
    """The same package as another machine might write it: SQLite pages laid out anew
    (VACUUM), another compression level and other zip entry times."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            member = source.read(info)
            if info.filename == "collection.anki2":
                with tempfile.TemporaryDirectory() as scratch:
                    path = Path(scratch) / "c.db"
                    path.write_bytes(member)
                    connection = sqlite3.connect(path)
                    connection.execute("PRAGMA page_size = 1024")
                    connection.execute("VACUUM")
                    connection.close()
                    member = path.read_bytes()
            target.writestr(
                zipfile.ZipInfo(info.filename, (2020, 5, 5, 5, 5, 6)),
                member,
                compress_type=zipfile.ZIP_DEFLATED,
                compresslevel=1,
            )
    return out.getvalue()


def test_same_sources_and_lock_give_identical_bytes(project: Path) -> None:
    assert run_deckgen("build").exit_code == 0
    first = PACKAGE.read_bytes()
    PACKAGE.unlink()
    assert run_deckgen("build").exit_code == 0
    assert PACKAGE.read_bytes() == first
    with zipfile.ZipFile(PACKAGE) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == ["collection.anki2", "media", "0", "1", "2"]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_a_package_written_by_another_sqlite_or_zlib_counts_as_up_to_date(project: Path) -> None:
    assert run_deckgen("build").exit_code == 0
    original = PACKAGE.read_bytes()
    elsewhere = rewritten_elsewhere(original)
    assert elsewhere != original
    assert package_content(elsewhere, name="x") == package_content(original, name="x")
    PACKAGE.write_bytes(elsewhere)

    assert run_deckgen("build", "--check").exit_code == 0
    result = run_deckgen("build")
    assert result.stdout.startswith("up to date: decks/demo.apkg")
    assert PACKAGE.read_bytes() == elsewhere, "an equivalent package is not rewritten"


def test_a_real_difference_is_seen_through_the_layout(project: Path) -> None:
    assert run_deckgen("build").exit_code == 0
    anatomy = Path("cards/demo/anatomy.yaml")
    anatomy.write_text(anatomy.read_text().replace("Hip abduction", "Abduction"))
    PACKAGE.write_bytes(rewritten_elsewhere(PACKAGE.read_bytes()))
    assert run_deckgen("build", "--check").exit_code == 1


def test_an_unreadable_package_is_an_error_naming_it() -> None:
    with pytest.raises(UnreadablePackage, match=r"^old\.apkg is not an Anki package \(not a"):
        package_content(b"not a zip", name="old.apkg")


def test_notetype_ids_are_our_own_and_fields_are_fixed() -> None:
    builtin_ids = {
        value.model_id
        for value in vars(genanki.builtin_models).values()
        if isinstance(value, genanki.Model)
    }
    ours = {notetype.id for notetype in NOTETYPES.values()}
    assert len(ours) == len(NOTETYPES) and not ours & builtin_ids
    # Renaming or adding a field strands every student's notes (ANKI.md): these never change.
    assert {kind.value: nt.fields for kind, nt in NOTETYPES.items()} == {
        "basic": ("Question", "Answer", "Extra", "Source"),
        "reversed": ("Question", "Answer", "Extra", "Source"),
        "typein": ("Question", "Answer", "Extra", "Source"),
        "cloze": ("Text", "Extra", "Source"),
        "occlusion": ("Occlusion", "Image", "Header", "Back Extra", "Comments"),
    }


def test_notes_and_cards_are_the_rows_genanki_writes() -> None:
    """deckgen writes notes and cards in bulk instead of through genanki's Note objects; every
    row of every table (ids, cards made, deck of each card, times) must stay what genanki
    writes, for the shipped deck (retired notes included) and the sample deck (every
    notetype, subdecks, images)."""
    repo = REPO
    decks = compile_project(repo / "cards", now=0, report=Report(), packages_dir=repo / "decks")
    decks += compile_project(
        FIXTURES / "sample" / "cards", now=0, report=Report(), packages_dir=repo / "decks"
    )
    kinds = {note.notetype.kind for deck in decks for note in deck.notes}
    assert kinds == set(NOTETYPES)
    assert any("::" in note.deck_name for deck in decks for note in deck.notes)
    for deck in decks:
        rows = package_rows(package_bytes(deck))
        assert rows == genanki_rows(deck)
        assert len(rows["cards"]) == sum(len(note.card_ords) for note in deck.notes)


def test_the_collection_records_neither_its_writes_nor_the_sqlite_version(
    project: Path,
) -> None:
    """The collection is written to a file (a large deck's would not fit in memory twice) but
    must keep the header an in-memory database has: a file database counts its writes and
    names the SQLite library, which would make the bytes depend on the machine."""
    assert run_deckgen("build").exit_code == 0
    with zipfile.ZipFile(PACKAGE) as archive:
        collection = archive.read("collection.anki2")
    assert collection[:16] == b"SQLite format 3\0"
    assert collection[24:28] == bytes(4), "file change counter"
    assert collection[92:100] == bytes(8), "version-valid-for and SQLite version number"
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "collection.anki2"
        path.write_bytes(collection)
        connection = sqlite3.connect(path)
        try:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert connection.execute("SELECT count(*) FROM notes").fetchone()[0] > 0
        finally:
            connection.close()
