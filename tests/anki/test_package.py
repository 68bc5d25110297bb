"""Stage 7: packages are reproducible, and compared by what Anki would import, not by bytes."""

from __future__ import annotations

import io
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import unittest.mock
import zipfile
from pathlib import Path

import genanki.builtin_models
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, run_deckgen
from deckgen.anki import anki_package
from deckgen.anki.anki_package import package_bytes
from deckgen.anki.notetypes import NOTETYPES
from deckgen.anki.package_reader import UnreadablePackage, package_content
from deckgen.diagnostics import DeckgenError, Report
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


@pytest.mark.slow
@settings(max_examples=15, deadline=None)
@given(
    sizes=st.lists(
        st.sampled_from([0, 1, 700, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 2 * (1 << 20) + 5]),
        min_size=1,
        max_size=4,
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_package_zip_reads_back_as_zipfile_would_write_it(sizes: list[int], seed: int) -> None:
    """deckgen writes the zip itself to deflate a large collection on every core: every
    member reads back whole, with the metadata zipfile would give it, and the bytes do not
    depend on the number of cores."""
    rng = random.Random(seed)
    few_letters = bytes.maketrans(bytes(range(256)), b"abc \x00\xff<>" * 32)  # compressible
    members = [
        (name, rng.randbytes(size).translate(few_letters))
        for name, size in zip(["collection.anki2", "media", "0", "1é"], sizes, strict=False)
    ]
    written = anki_package._deterministic_zip(members)
    with unittest.mock.patch.object(anki_package, "usable_cores", lambda: 1):
        assert anki_package._deterministic_zip(members) == written

    reference = io.BytesIO()
    with zipfile.ZipFile(reference, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            archive.writestr(info, data)

    def described(zip_bytes: bytes) -> list[tuple[object, ...]]:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
            assert archive.testzip() is None
            return [
                (i.filename, archive.read(i), i.date_time, i.external_attr, i.create_system,
                 i.create_version, i.extract_version, i.flag_bits, i.compress_type, i.CRC)
                for i in archive.infolist()
            ]  # fmt: skip

    assert described(written) == described(reference.getvalue())


def test_a_package_beyond_what_a_plain_zip_holds_is_a_clear_error() -> None:
    members = [(str(number), b"") for number in range(0xFFFF)]
    with pytest.raises(DeckgenError, match="at most 65532 images; split the deck"):
        anki_package._deterministic_zip(members)


def test_a_package_larger_than_deckgen_reads_back_is_refused_and_nothing_written(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next build, verify and changelog read the package back to keep students' card
    numbers; one past the reader's limit would be taken for missing there."""
    monkeypatch.setattr(anki_package, "MAX_PACKAGE_BYTES", 2_000)
    result = run_deckgen("build")
    assert result.exit_code == 1
    assert "deckgen: error: the package would be larger than deckgen reads back" in result.output
    assert "split the deck into several decks" in result.output
    assert not PACKAGE.exists()


def test_a_temporary_folder_without_room_is_named_in_a_clear_error(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_room(*args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(anki_package, "_write_collection", no_room)
    result = run_deckgen("build")
    assert result.exit_code == 1
    assert f"through the temporary folder {tempfile.gettempdir()}" in result.output
    assert "database or disk is full" in result.output
    assert "set TMPDIR to a folder" in result.output
    assert not PACKAGE.exists()


def test_a_build_stopped_by_sigterm_leaves_no_temporary_collection(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A CI timeout or a service manager stops a build with SIGTERM: it must unwind, so that
    the deck's unpacked collection does not stay behind in the temporary folder."""
    scratch = tmp_path_factory.mktemp("tmp")
    stop_while_zipping = (
        "import os, signal\n"
        "import deckgen.anki.anki_package as package\n"
        "def stopped(members):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "package._deterministic_zip = stopped\n"
        "from deckgen.cli import main\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", stop_while_zipping, "build"],
        env=os.environ | {"TMPDIR": str(scratch)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 128 + signal.SIGTERM, result.stderr
    assert list(scratch.iterdir()) == []
    assert not PACKAGE.exists()


@pytest.mark.parametrize("size", [0, 700, 1 << 20, 2 * (1 << 20) + 5])
def test_a_collection_zipped_from_its_file_gives_the_bytes_it_gives_from_memory(
    size: int, tmp_path: Path
) -> None:
    """The collection is deflated and checksummed from its temporary file a block at a time
    (never read whole): the package's bytes must be those of the same collection in memory."""
    few_letters = bytes.maketrans(bytes(range(256)), b"abc \x00\xff<>" * 32)
    data = random.Random(size).randbytes(size).translate(few_letters)
    collection = tmp_path / "collection.anki2"
    collection.write_bytes(data)
    rest: list[tuple[str, bytes | Path]] = [("media", b"{}"), ("0", b"\x89PNG")]
    from_file = anki_package._deterministic_zip([("collection.anki2", collection), *rest])
    assert from_file == anki_package._deterministic_zip([("collection.anki2", data), *rest])
    with zipfile.ZipFile(io.BytesIO(from_file)) as archive:
        assert archive.read("collection.anki2") == data
