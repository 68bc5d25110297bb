"""verify, changelog and build against hostile or foreign previous packages: every one a clear
error naming the package (exit 1 or 2, never a traceback or exit 3); output escaped; an edit
that students' newer copies would block is found."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import FIRST_BUILD_TIME, run_deckgen

PACKAGE = Path("decks/demo.apkg")
ANATOMY = Path("cards/demo/anatomy.yaml")


def released(project: Path) -> Path:
    """The sample deck built once, its package kept as the previous release."""
    assert run_deckgen("build").exit_code == 0
    previous = project / "previous.apkg"
    shutil.copy(project / PACKAGE, previous)
    return previous


def rewritten(
    previous: Path,
    *,
    members: Callable[[dict[str, bytes]], None] | None = None,
    database: Callable[[sqlite3.Connection], None] | None = None,
) -> None:
    """``previous`` with its zip members or its collection changed in place."""
    with zipfile.ZipFile(previous) as archive:
        content = {name: archive.read(name) for name in archive.namelist()}
    if database is not None:
        scratch = previous.with_suffix(".db")
        scratch.write_bytes(content["collection.anki2"])
        connection = sqlite3.connect(scratch)
        database(connection)
        connection.commit()
        connection.close()
        content["collection.anki2"] = scratch.read_bytes()
        scratch.unlink()
    if members is not None:
        members(content)
    with zipfile.ZipFile(previous, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in content.items():
            archive.writestr(name, data)


def zip_bomb(previous: Path) -> None:
    with zipfile.ZipFile(previous, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("collection.anki2", b"\0" * (40 * 1024 * 1024))


def recursive_view(connection: sqlite3.Connection) -> None:
    connection.execute("ALTER TABLE notes RENAME TO real_notes")
    connection.execute(
        "CREATE VIEW notes AS WITH RECURSIVE forever(x) AS (SELECT 1 UNION ALL "
        "SELECT x + 1 FROM forever) SELECT id, guid, mid, mod, usn, tags, flds, sfld, csum, "
        "flags, data FROM real_notes, forever"
    )


HOSTILE: dict[str, tuple[Callable[[Path], None], str]] = {
    "not a zip": (lambda p: p.write_bytes(b"hello"), "is not an Anki package (not a readable zip"),
    "zip bomb": (zip_bomb, "refused as a possible zip bomb"),
    "not SQLite": (
        lambda p: rewritten(p, members=lambda m: m.update({"collection.anki2": b"x" * 4096})),
        "is not an Anki package (its collection cannot be read)",
    ),
    "recursive view": (
        lambda p: rewritten(p, database=recursive_view),
        "is not an Anki package (its collection lacks Anki's tables)",
    ),
    "malformed JSON": (
        lambda p: rewritten(p, database=lambda c: c.execute("UPDATE col SET models = '{x'")),
        "has damaged notetypes or decks (not valid JSON)",
    ),
    "too new": (
        lambda p: rewritten(p, members=lambda m: m.update({"meta": b"\x08\x09"})),
        "was written by a newer Anki (package format 9",
    ),
    "missing notetype": (
        lambda p: rewritten(p, database=lambda c: c.execute("UPDATE notes SET mid = 12345")),
        "has a note of a notetype it does not define",
    ),
    "../ media name": (
        lambda p: rewritten(
            p, members=lambda m: m.update({"media": json.dumps({"0": "../evil.txt"}).encode()})
        ),
        "has a media file named '../evil.txt', which is not a plain file name",
    ),
    "link to /dev/zero": (
        lambda p: (p.unlink(), p.symlink_to("/dev/zero")),
        "links outside the folder",
    ),
    "FIFO": (lambda p: (p.unlink(), os.mkfifo(p)), "is a FIFO (named pipe), not a regular file"),
}


@pytest.mark.parametrize("command", ["verify", "changelog"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_previous_package_is_a_clear_error_naming_it(
    project: Path, case: str, command: str
) -> None:
    previous = released(project)
    spoil, message = HOSTILE[case]
    spoil(previous)

    result = run_deckgen(command, "--against", "previous.apkg")

    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert "previous.apkg" in result.output and message in result.output, result.output


def test_build_replaces_a_hostile_package_in_decks_without_reading_it(project: Path) -> None:
    assert run_deckgen("build").exit_code == 0
    good = (project / PACKAGE).read_bytes()
    zip_bomb(project / PACKAGE)
    assert run_deckgen("build", "--check").exit_code == 1
    result = run_deckgen("build")
    assert result.exit_code == 0, result.output
    assert (project / PACKAGE).read_bytes() == good


def test_a_package_anki_itself_exported_is_read_in_every_format(
    project: Path, tmp_path: Path
) -> None:
    from anki.collection import Collection, ExportAnkiPackageOptions

    from anki_engine import StudentCollection

    previous = released(project)
    (tmp_path / "student").mkdir()
    student = StudentCollection(tmp_path / "student")
    student.import_package(previous)
    student.close()
    for legacy in (False, True):  # collection.anki21b (zstd), then collection.anki21
        col = Collection(str(tmp_path / "student" / "collection.anki2"))
        exported = project / f"exported-{legacy}.apkg"
        col.export_anki_package(
            out_path=str(exported),
            options=ExportAnkiPackageOptions(with_media=True, legacy=legacy),
            limit=None,
        )
        col.close()
        result = run_deckgen("changelog", "--against", exported.name)
        assert result.exit_code == 0, result.output
        assert "No card changed." in result.output
        assert run_deckgen("verify", "--against", exported.name).exit_code == 0


def test_verify_escapes_card_text_it_quotes(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    previous = released(project)
    # Another id for the same question: verify quotes the question in its finding.
    forged = "\u202eInsert?\nverify passed: 1 deck upgrade in place"
    text = ANATOMY.read_text().replace("id: insertion", "id: insertion-2")
    ANATOMY.write_text(
        text.replace("Where does gluteus medius insert?", json.dumps(forged, ensure_ascii=True))
    )
    rewritten(
        previous,
        database=lambda c: c.execute(
            "UPDATE notes SET flds = replace(flds, 'Where does gluteus medius insert?', ?)",
            (forged,),
        ),
    )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 86_400))

    for output_format in ("text", "github"):
        result = run_deckgen("verify", "--against", "previous.apkg", "--format", output_format)

        assert result.exit_code == 1, result.output
        assert "[duplicate]" in result.output or "title=deckgen [duplicate]" in result.output
        lines = result.output.splitlines()
        assert [line for line in lines if line.startswith("verify passed")] == []
        assert "\u202e" not in result.output and "\\u202eInsert?\\x0averify" in result.output
        assert lines[-1].startswith("verify failed")


def test_an_edit_students_newer_copies_would_block_fails(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_deckgen("build").exit_code == 0
    old_lock = (project / "cards/demo/deck.lock").read_bytes()
    ANATOMY.write_text(ANATOMY.read_text().replace("Greater trochanter", "The greater trochanter"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 3600))
    assert run_deckgen("build").exit_code == 0
    shutil.copy(project / PACKAGE, project / "previous.apkg")
    # The lock goes back to before that release, and the card is edited again.
    (project / "cards/demo/deck.lock").write_bytes(old_lock)
    ANATOMY.write_text(ANATOMY.read_text().replace("The greater trochanter", "Trochanter major"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 60))

    result = run_deckgen("verify", "--against", "previous.apkg")

    assert result.exit_code == 1, result.output
    assert (
        "error: card 'insertion' changed, but students' copy carries a time no older than the "
        f"package's ({FIRST_BUILD_TIME + 3600} against {FIRST_BUILD_TIME + 60}), so Anki keeps "
        "theirs and the edit never arrives"
    ) in result.output
    assert "[edit-lost]" in result.output


def test_a_query_that_does_not_end_is_stopped(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deckgen.anki import package_reader

    previous = released(project)
    # A budget smaller than what reading the sample takes stands for a query that never ends.
    monkeypatch.setattr(package_reader, "MAX_SQL_STEPS", 100)
    monkeypatch.setattr(package_reader, "_STEPS_PER_CHECK", 10)

    with pytest.raises(package_reader.UnreadablePackage, match="takes too long to read"):
        package_reader.read_package(previous, within=project)


def _without_templates(connection: sqlite3.Connection) -> None:
    (models,) = connection.execute("SELECT models FROM col").fetchone()
    shapeless = {
        key: {k: v for k, v in m.items() if k != "tmpls"} for key, m in json.loads(models).items()
    }
    connection.execute("UPDATE col SET models = ?", (json.dumps(shapeless),))


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (
            lambda c: c.execute("UPDATE col SET ver = 99"),
            "previous.apkg was written by a newer Anki (collection schema 99",
        ),
        (
            lambda c: c.execute("UPDATE notes SET flds = 'one field'"),
            "previous.apkg has a note whose fields do not match its notetype",
        ),
        # Notetypes the reader needs no more of, but Anki's engine refuses to decode.
        (
            _without_templates,
            "previous.apkg cannot be imported by Anki's engine (JsonError",
        ),
    ],
)
def test_what_anki_refuses_is_refused_with_a_message_naming_the_package(
    project: Path, spoil: Callable[[sqlite3.Connection], None], message: str
) -> None:
    previous = released(project)
    rewritten(previous, database=spoil)

    result = run_deckgen("verify", "--against", "previous.apkg")

    # Exit 2, as for any baseline that is no package of the deck: pass the right one.
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert result.output.startswith(f"deckgen: error: {message}"), result.output
