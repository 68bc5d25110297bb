"""`deckgen verify` rehearses a release with Anki's engine: it passes a good release and fails
each way an upgrade can hurt students, with a message that says which and what to do."""

from __future__ import annotations

import io
import json
import re
import sqlite3
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from conftest import FIRST_BUILD_TIME, run_deckgen
from deckgen.anki.notetypes import NOTETYPES
from deckgen.values import CardKind

PACKAGE = Path("decks/demo.apkg")
DECK = Path("cards/demo")
RECORD = DECK / "releases/demo-1.0.0.apkg"
"""The first release's package as `deckgen release` recorded it: verify's default baseline."""


def first_release(monkeypatch: pytest.MonkeyPatch) -> None:
    """Release the deck for the first time (its package is recorded in the deck folder and
    built into decks/), then move the clock on for the next one."""
    result = run_deckgen("release", "1.0.0", "--first")
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 86_400))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def read_package(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_package(path: Path, members: dict[str, bytes]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())


def verify(*args: str) -> tuple[int, str]:
    result = run_deckgen("verify", *args)
    return result.exit_code, result.output


CARDS_IN_THE_SAMPLE = 8
_ANSWER_COUNT = re.compile(r"after (\d+) answers")


def studied(output: str) -> int:
    match = _ANSWER_COUNT.search(output)
    assert match is not None, output
    return int(match[1])


def without_answer_count(output: str) -> str:
    return _ANSWER_COUNT.sub("after N answers", output)


def test_a_good_release_passes_and_counts_what_students_get(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_release(monkeypatch)
    edit(project / DECK / "anatomy.yaml", "Greater trochanter of the femur.", "The trochanter.")
    edit(
        project / DECK / "anatomy.yaml",
        "  - id: nerve\n",
        "  - id: width\n    question: How wide is it?\n    answer: A hand.\n  - id: nerve\n",
    )

    code, output = verify()

    assert code == 0, output
    # Every card is answered at least once; learning steps that fall due before Anki's day
    # ends are answered again, so the count depends on the time of day.
    assert studied(output) >= CARDS_IN_THE_SAMPLE
    assert without_answer_count(output) == (
        "Demo::Gluteus medius: upgrade from release 1.0.0 (cards/demo/releases/demo-1.0.0.apkg) "
        "after N answers: 1 new, 1 updated, 5 unchanged, 0 retired\n"
        "verify passed: 1 deck upgrade in place\n"
    )
    assert not (project / DECK / "deck.lock").read_text().count("width"), "verify writes nothing"


def test_a_changed_deck_id_fails_with_duplicates_and_lost_history(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_release(monkeypatch)
    edit(project / DECK / "deck.yaml", "id: demo-gm", "id: demo-gm-2")

    code, output = verify("--format", "json")

    assert code == 1
    found = json.loads(output)["diagnostics"]
    duplicates = [entry for entry in found if entry["rule"] == "duplicate"]
    assert len(duplicates) == 6
    assert "arrives as a second note beside one students already have" in duplicates[0]["message"]
    assert "restore the old id" in duplicates[0]["message"]
    assert duplicates[0]["file"].startswith("cards/demo/") and duplicates[0]["line"]
    assert {entry["rule"] for entry in found} == {"duplicate", "lost-history", "orphaned"}
    assert json.loads(output)["decks"][0]["passed"] is False


def test_a_changed_card_id_fails_with_a_duplicate_and_lost_history(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_release(monkeypatch)
    edit(project / DECK / "anatomy.yaml", "id: insertion", "id: insertion-2")

    code, output = verify()

    assert code == 1
    lines = output.splitlines()
    assert lines[0].endswith("1 new, 1 updated, 5 unchanged, 1 retired")
    assert lines[1].startswith("cards/demo/anatomy.yaml:")
    assert lines[1].endswith(
        ": error: card 'insertion-2' arrives as a second note beside one students already have "
        "with the same first field ('Where does gluteus medius insert?'): its identity changed "
        "(deck id or card id?); restore the old id [duplicate]"
    )
    assert re.search(
        r": error: card 'insertion-2' starts from scratch: students' reviews of it \(\d+ here\) "
        r"stay on the old note \[lost-history\]$",
        lines[2],
    )
    assert lines[-1] == "verify failed: students of 1 deck would suffer the errors above"


def test_a_field_added_to_a_notetype_fails_with_a_notetype_copy(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_release(monkeypatch)
    # The previous release's Basic notetype had no Source field: this release adds one.
    basic = NOTETYPES[CardKind.BASIC]
    members = read_package(project / RECORD)
    with tempfile.TemporaryDirectory() as scratch:
        database = Path(scratch) / "collection.anki2"
        database.write_bytes(members["collection.anki2"])
        connection = sqlite3.connect(database)
        models = json.loads(connection.execute("SELECT models FROM col").fetchone()[0])
        models[str(basic.id)]["flds"].pop()
        connection.execute("UPDATE col SET models = ?", (json.dumps(models),))
        for note_id, fields in connection.execute(
            "SELECT id, flds FROM notes WHERE mid = ?", (basic.id,)
        ).fetchall():
            shorter = "\x1f".join(fields.split("\x1f")[:-1])
            connection.execute("UPDATE notes SET flds = ? WHERE id = ?", (shorter, note_id))
        connection.commit()
        connection.close()
        members["collection.anki2"] = database.read_bytes()
    write_package(project / RECORD, members)

    code, output = verify("--format", "json")

    assert code == 1
    found = json.loads(output)["diagnostics"]
    copies = [entry for entry in found if entry["rule"] == "notetype-copy"]
    assert [entry["message"][:48] for entry in copies] == [
        "Anki makes a copy of a notetype, 'deckgen Basic+"
    ]
    assert "conflict" in {entry["rule"] for entry in found}


def test_an_image_replaced_outside_deckgen_fails(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_release(monkeypatch)
    # Someone swaps a picture inside the released package, keeping its name.
    members = read_package(project / RECORD)
    names = json.loads(members["media"])
    png = next(index for index, name in names.items() if name.endswith(".png"))
    members[png] += b"changed"
    write_package(project / RECORD, members)

    code, output = verify()

    assert code == 1, output
    assert f"error: card 'referral-low-back' shows '{names[png]}', but students keep other " in (
        output
    )
    assert "under that name (was it replaced outside deckgen?) [stale-media]" in output


def test_a_deleted_lock_fails_because_students_edits_would_be_overwritten(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_release(monkeypatch)
    (project / DECK / "deck.lock").unlink()

    code, output = verify("--format", "github")

    assert code == 1
    annotations = [line for line in output.splitlines() if line.startswith("::error ")]
    assert len(annotations) == 6
    assert annotations[0].startswith("::error file=cards/demo/anatomy.yaml,line=")
    assert annotations[0].endswith(
        ",title=deckgen [overwrites-edits]::card 'origin' is re-stamped without a change, so a "
        "student's own edit to it is overwritten: was deck.lock deleted or reset? restore it"
    )


def test_without_a_previous_release_verify_checks_a_first_import(project: Path) -> None:
    code, output = verify("--first")

    assert code == 0, output
    assert output.splitlines()[0] == (
        "Demo::Gluteus medius: upgrade from nothing (first release) after 0 answers: "
        "6 new, 0 updated, 0 unchanged, 0 retired"
    )


def test_against_names_a_package(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first_release(monkeypatch)
    previous = project / "previous.apkg"
    (project / PACKAGE).rename(previous)

    code, output = verify("--against", "previous.apkg")

    assert code == 0, output
    assert without_answer_count(output).startswith(
        "Demo::Gluteus medius: upgrade from previous.apkg after N answers:"
    )


def test_against_names_a_folder_of_packages(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first_release(monkeypatch)
    (project / "last-release").mkdir()
    (project / PACKAGE).rename(project / "last-release/demo.apkg")

    code, output = verify("--against", "last-release")

    assert code == 0, output
    assert output.startswith("Demo::Gluteus medius: upgrade from last-release/demo.apkg after ")


def test_swapped_card_ids_fail_as_an_identity_swap(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_release(monkeypatch)
    anatomy = project / DECK / "anatomy.yaml"
    text = (
        anatomy.read_text().replace("id: origin", "id: SWAP").replace("id: insertion", "id: origin")
    )
    anatomy.write_text(text.replace("id: SWAP", "id: insertion"))

    code, output = verify()

    assert code == 1
    swaps = [line for line in output.splitlines() if line.endswith("[identity-swap]")]
    assert len(swaps) == 2
    assert swaps[0].endswith(
        ": error: card 'insertion' now carries the content of another note ('Where does "
        "gluteus medius originate?'): students' history of one card now belongs to another's "
        "content; give each card back its id [identity-swap]"
    )


def test_without_anki_verify_says_how_to_install_it(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "deckgen.workflow.verify", raising=False)
    monkeypatch.setitem(sys.modules, "anki.collection", None)

    code, output = verify()

    assert code == 2
    assert output.startswith("deckgen: error: verify needs Anki's engine")
    assert "pip install -e '.[verify]'" in output and "deckgen[verify]" not in output


def test_a_new_card_may_take_over_a_question_another_card_gave_up(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_release(monkeypatch)
    edit(
        project / DECK / "anatomy.yaml",
        "question: Where does gluteus medius insert?",
        "question: Where exactly does gluteus medius insert?",
    )
    edit(
        project / DECK / "anatomy.yaml",
        "  - id: nerve\n",
        "  - id: insertion-short\n    question: Where does gluteus medius insert?\n"
        "    answer: On the trochanter.\n  - id: nerve\n",
    )

    code, output = verify()

    assert code == 0, output
    assert "1 new, 1 updated, 5 unchanged" in output


def test_a_first_import_of_a_deck_with_a_retired_picture_card_passes(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_deckgen("build").exit_code == 0
    anatomy = project / DECK / "anatomy.yaml"
    text = anatomy.read_text()
    anatomy.write_text(
        text[: text.index("  - id: origin")] + text[text.index("  - id: insertion") :]
    )
    assert run_deckgen("build").exit_code == 0

    code, output = verify("--first")

    assert code == 0, output
    assert output.splitlines()[0].endswith("6 new, 0 updated, 0 unchanged, 1 retired")
