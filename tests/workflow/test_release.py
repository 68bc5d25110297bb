"""`deckgen release` and `deckgen changelog`: versions students can see and release notes."""

from __future__ import annotations

from pathlib import Path

import pytest

from anki_engine import StudentCollection
from conftest import FIRST_BUILD_TIME, run_deckgen
from deckgen.source.versions import parse_version
from deckgen.workflow.release import next_version

PACKAGE = Path("decks/demo.apkg")
DECK = Path("cards/demo")
DAY = 86_400

HOW_TO_UPDATE = """\
### How to update

1. Download `demo.apkg`.
2. In Anki, choose **File → Import…** and pick the file.
3. Keep the default options and click **Import**. Your review history stays, and so do your \
own edits to cards this release does not change.
"""

CHANGES = (
    """\
### Answers changed: relearn these

- `insertion`: Where does gluteus medius insert?
  - Answer: ~~Greater trochanter~~ **The lateral facet** of the ~~femur.~~ **greater trochanter.**

### Added

- `width`: How wide is the muscle's origin?

### Changed

- `referral-low-back`: Where does pain from gluteus medius trigger points mainly r…
  - tags: **trp**

### Retired

- `nerve`: Which nerve supplies gluteus medius?

"""
    + HOW_TO_UPDATE
    + "4. Cards under **Answers changed: relearn these** keep your schedule, so one you know "
    "well may not come back for a long time: to learn the new answer now, find it in "
    "**Browse** and choose **Cards → Reset…** (Forget in older Anki).\n"
    "5. Retired: these cards now show a retirement notice; delete them in Anki with "
    "**Browse** → `tag:deckgen::retired`.\n"
)


def release(monkeypatch: pytest.MonkeyPatch, bump: str, *options: str, day: int) -> str:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + day * DAY))
    result = run_deckgen("release", bump, *options)
    assert result.exit_code == 0, result.output
    return result.output


def edit_for_the_second_release(project: Path) -> None:
    anatomy = project / DECK / "anatomy.yaml"
    text = anatomy.read_text()
    text = text.replace(
        "Greater trochanter of the femur.", "The lateral facet of the greater trochanter."
    )
    text = text.replace(
        "  - id: nerve\n"
        "    type: typein\n"
        "    question: Which nerve supplies gluteus medius?\n"
        "    answer: Superior gluteal nerve\n",
        "  - id: width\n"
        "    question: How wide is the muscle's origin?\n"
        "    answer: About a hand's width along the iliac crest.\n",
    )
    anatomy.write_text(text)
    patterns = project / DECK / "referral/patterns.yaml"
    patterns.write_text(patterns.read_text().replace("tags: [referral]", "tags: [referral, trp]"))


def test_changelog_and_release_notes_of_a_release_pinned_whole(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert release(monkeypatch, "1.0.0", "--first", day=0) == (
        "released Demo::Gluteus medius 1.0.0 (upgrade from nothing (first release): 6 new, "
        "0 updated, 0 unchanged, 0 retired): decks/demo.apkg, notes in cards/demo/CHANGELOG.md, "
        "recorded as cards/demo/releases/demo-1.0.0.apkg\n"
    )
    first_notes = (project / DECK / "CHANGELOG.md").read_text()
    edit_for_the_second_release(project)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + DAY))

    changelog = run_deckgen("changelog")

    assert changelog.exit_code == 0
    assert changelog.output == (
        "## Demo::Gluteus medius: changes since release 1.0.0 "
        "(cards/demo/releases/demo-1.0.0.apkg)\n\n" + CHANGES
    )

    release(monkeypatch, "minor", day=1)

    assert (project / DECK / "CHANGELOG.md").read_text() == (
        "# Release notes\n\n## Demo::Gluteus medius 1.1.0 (2023-11-15)\n\n"
        + CHANGES
        + "\n"
        + first_notes.removeprefix("# Release notes\n\n")
    )
    deck_yaml = (project / DECK / "deck.yaml").read_text()
    assert deck_yaml.endswith(
        'tags: [demo]\nversion: 1.1.0\nreleased: 2023-11-15\nchanges: "New: 1 note. Changed: 2 '
        'notes. Retired: 1 note."\n'
    )
    lock = (project / DECK / "deck.lock").read_text()
    assert '"announced_in": "1.1.0"' in lock
    assert run_deckgen("build", "--check").exit_code == 0, "release built the package"


def test_students_see_the_version_and_a_release_alone_changes_no_note(
    project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME))
    assert run_deckgen("build").exit_code == 0
    student.import_package(project / PACKAGE)

    release(monkeypatch, "patch", "--first", day=3)
    log = student.import_package(project / PACKAGE)

    assert len(log.new) == 0 and len(log.updated) == 0
    deck = student.col.decks.by_name("Demo::Gluteus medius")
    assert deck is not None
    assert deck["desc"] == (
        "A small deck for deckgen's tests."
        '<div class="deckgen-release"><p><b>Release 0.0.1</b>, 2023-11-17</p>'
        '<div class="deckgen-changes">First release: 6 notes.</div>'
        "<p>To update, import the package of a newer release with the default options: your "
        "review history stays, and so do your own edits to cards the release does not "
        "change.</p></div>"
    )


@pytest.mark.parametrize(
    ("bump", "message"),
    [
        ("huge", "deckgen: error: 'huge' is neither major, minor, patch nor a version like 1.2.0"),
        ("0.9.0", "deckgen: error: version 0.9.0 is not newer than 1.0.0"),
        (
            "1" * 5000 + ".0.0",
            "deckgen: error: '" + "1" * 40 + "' is neither major, minor, patch nor a version "
            "like 1.2.0",
        ),
    ],
)
def test_a_bad_bump_is_refused_and_changes_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch, bump: str, message: str
) -> None:
    release(monkeypatch, "1.0.0", "--first", day=0)
    before = {path: path.read_bytes() for path in project.rglob("*") if path.is_file()}

    result = run_deckgen("release", bump)

    assert result.exit_code == 2
    assert result.output == message + "\n"
    assert {path: path.read_bytes() for path in project.rglob("*") if path.is_file()} == before


def test_a_bad_version_in_deck_yaml_is_reported_where_it_is(project: Path) -> None:
    deck_yaml = project / DECK / "deck.yaml"
    deck_yaml.write_text(deck_yaml.read_text() + "version: 1.2\nreleased: yesterday\n")

    result = run_deckgen("check")

    assert result.exit_code == 1
    assert (
        "cards/demo/deck.yaml:5:10: error: 'version' must be a version written "
        "major.minor.patch, e.g. 1.2.0, not '1.2' (quote it if YAML reads it as a number)"
    ) in result.output
    assert (
        "cards/demo/deck.yaml:6:11: error: 'released' must be a date written YYYY-MM-DD, "
        "not 'yesterday'"
    ) in result.output


def test_a_release_announces_retirements_that_drop_retired_after_then_drops(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release(monkeypatch, "1.0.0", "--first", day=0)
    edit_for_the_second_release(project)
    release(monkeypatch, "minor", day=1)
    deck_yaml = project / DECK / "deck.yaml"
    deck_yaml.write_text(deck_yaml.read_text() + "drop_retired_after: 1.1.0\n")

    notes = release(monkeypatch, "minor", day=2)

    assert "released Demo::Gluteus medius 1.2.0" in notes
    assert "nerve" not in (project / DECK / "deck.lock").read_text()
    latest = (project / DECK / "CHANGELOG.md").read_text().split("\n## ")[1]
    assert latest.startswith("Demo::Gluteus medius 1.2.0 (2023-11-16)\n\nNo card changed.\n")


@pytest.mark.parametrize(
    ("current", "bump", "expected"),
    [
        ("1.2.3", "major", "2.0.0"),
        ("1.2.3", "minor", "1.3.0"),
        ("1.2.3", "patch", "1.2.4"),
        (None, "minor", "0.1.0"),
        ("1.9.0", "1.10.0", "1.10.0"),
    ],
)
def test_next_version(current: str | None, bump: str, expected: str) -> None:
    base = None if current is None else parse_version(current)
    assert str(next_version(base, bump)) == expected


def test_the_deck_overview_says_what_changed_and_what_retired_means(
    project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    release(monkeypatch, "1.0.0", "--first", day=0)
    student.import_package(project / PACKAGE)
    edit_for_the_second_release(project)
    release(monkeypatch, "minor", day=1)

    student.import_package(project / PACKAGE)

    deck = student.col.decks.by_name("Demo::Gluteus medius")
    assert deck is not None
    assert (
        '<p><b>Release 1.1.0</b>, 2023-11-15</p><div class="deckgen-changes">New: 1 note. '
        in (deck["desc"])
    )
    assert "Changed: 2 notes. Retired: 1 note.</div>" in deck["desc"]
    assert deck["desc"].endswith(
        "<p>An import never deletes cards: cards the instructor removed stay in your "
        "collection, tagged <code>deckgen::retired</code>. Search "
        "<code>tag:deckgen::retired</code> in Browse to suspend or delete them.</p></div>"
    )
    deck_yaml = (project / DECK / "deck.yaml").read_text()
    assert deck_yaml.endswith('changes: "New: 1 note. Changed: 2 notes. Retired: 1 note."\n')


def test_changes_written_by_hand_are_sanitised_like_card_text(
    project: Path, student: StudentCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    release(monkeypatch, "1.0.0", "--first", day=0)
    deck_yaml = project / DECK / "deck.yaml"
    text = deck_yaml.read_text()
    deck_yaml.write_text(
        text.replace(
            'changes: "First release: 6 notes."',
            "changes: '**Welcome** <img src=x onerror=alert(1)><script>alert(2)</script>"
            "[link](javascript:alert(3))'",
        )
    )
    assert run_deckgen("build").exit_code == 0

    student.import_package(project / PACKAGE)

    deck = student.col.decks.by_name("Demo::Gluteus medius")
    assert deck is not None
    description = deck["desc"]
    assert "<strong>Welcome</strong>" in description
    for active in ("onerror", "<script", 'href="javascript:', "alert(2)"):
        assert active not in description


def test_a_release_announces_only_the_retirements_its_notes_list(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_deckgen("build").exit_code == 0
    anatomy = project / DECK / "anatomy.yaml"
    text = anatomy.read_text()
    anatomy.write_text(text[: text.index("  - id: nerve")])
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + DAY))
    assert run_deckgen("build").exit_code == 0  # students got 'nerve' retired from this build
    (project / "shipped").mkdir()
    (project / PACKAGE).rename(project / "shipped/demo.apkg")

    release(monkeypatch, "1.0.0", "--against", "shipped", day=2)

    notes = (project / DECK / "CHANGELOG.md").read_text()
    assert "### Retired" not in notes
    assert '"announced_in": null' in (project / DECK / "deck.lock").read_text()
