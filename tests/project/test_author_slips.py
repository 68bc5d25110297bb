"""A new author's commonest slips: each gets a message at its place that says what to do, and
no text is lost without a word (issue 19). Every case is the exact author input."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from anki_engine import StudentCollection
from conftest import FIRST_BUILD_TIME, run_deckgen
from helpers import write_deck_folder

DECK_YAML = "name: Hip\nid: hip-test\n"


def write_deck(root: Path, cards: str) -> Path:
    """A deck whose one card file is ``cards:`` followed by ``cards`` (the list of cards)."""
    files = {"cards.yaml": "source: Gray's Anatomy\ncards:\n" + cards}
    return write_deck_folder(root, files, folder="hip", deck_yaml=DECK_YAML)


@pytest.mark.parametrize(
    ("cards", "where", "advice"),
    [
        (
            "- id: joint\n  question: Hip joint type: ball-and-socket or hinge?\n  answer: Ball\n",
            "cards.yaml:4:27: error:",
            "the value contains ': ', which YAML reads as the start of another key: put the "
            'whole value in quotes, e.g. question: "Hip joint type: ball-and-socket or hinge?"',
        ),
        (
            "- id: joint\n  question: Which joint?\n answer: Hip\n",
            "cards.yaml:5:2: error:",
            "this line is indented differently from the lines above it: give every key of one "
            "card the same indentation, using spaces",
        ),
        (
            "- id: joint\n  question: Which joint?\n    answer: Hip\n",
            "cards.yaml:5:11: error:",
            "this key is indented more than the keys above it: give every key of one card the "
            "same indentation",
        ),
        (
            "- id: joint\n\tquestion: Which joint?\n",
            "cards.yaml:4:1: error:",
            "YAML does not allow tabs for indentation: indent with spaces",
        ),
        (
            "- id: ligament\n  question: Strongest hip ligament?\n"
            "  answer: The iliofemoral ligament #1 in strength.\n",
            "cards.yaml:5:36: error:",
            "YAML reads '#1 in strength.' as a comment, so it would be left off the card: put "
            "the whole value in quotes if it belongs to the text (a comment meant as one: "
            "write '# ' with a space after the '#')",
        ),
        (
            "- id: joint\n  question: Which joint?\n  answer: A {{c1::ball-and-socket}} joint.\n",
            "cards.yaml:5:11: error:",
            "card 'joint' is a basic card but its answer holds the cloze deletion '{{c1::': "
            "students would see the braces; put the text in 'cloze:' to make it a cloze card, "
            "or remove the braces",
        ),
        (
            "- id: link\n  question: Who named it?\n"
            "  answer: [Gray](https://example.org) says so\n",
            "cards.yaml:5:17: error:",
            "a value that starts with '[' means something else to YAML: put the whole value in "
            'quotes, e.g. answer: "[Gray](https://example.org) says so"',
        ),
        (
            "- id: emphasis\n  question: Which muscle?\n  answer: *Gluteus medius* mostly\n",
            "cards.yaml:5:11: error:",
            "a value that starts with '*' means something else to YAML: put the whole value in "
            'quotes, e.g. answer: "*Gluteus medius* mostly"',
        ),
        (
            '- id: quote\n  question: Which muscle?\n  answer: "Gluteus medius\n  extra: x\n',
            "cards.yaml:5:11: error:",
            "this quoted value is never closed: end it with the quote it starts with",
        ),
        (
            "- id: braces\n  cloze: The {c1::maximus} covers it\n",
            "cards.yaml:4:10: error:",
            "card 'braces' has no cloze deletion: mark one like {{c1::hidden text}} (with two "
            "braces on each side)",
        ),
    ],
    ids=[
        "colon-in-value",
        "under-indented",
        "over-indented",
        "tab",
        "comment",
        "cloze-in-basic",
        "value-starts-with-link",
        "value-starts-with-emphasis",
        "quote-never-closed",
        "cloze-with-single-braces",
    ],
)
def test_each_slip_is_explained_at_its_place(
    empty_project: Path, cards: str, where: str, advice: str
) -> None:
    write_deck(empty_project, cards)
    result = run_deckgen("check")
    assert result.exit_code == 1, result.output
    assert f"{where} " in result.output
    assert advice in result.output
    assert "Traceback" not in result.output


def test_a_comment_after_text_is_a_warning_and_elsewhere_quiet(empty_project: Path) -> None:
    """A comment after an id is the author's note; after card text, YAML drops what may be
    part of the text, so the author hears of it (a warning: it may be meant)."""
    write_deck(
        empty_project,
        "- id: ligament  # the strongest one\n  question: Strongest hip ligament?\n"
        "  answer: Iliofemoral  # the posterior one\n",
    )
    result = run_deckgen("check")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "cards/hip/cards.yaml:5:24: warning: the text after ' #' is a YAML comment and not on "
        "the card: if it belongs to the text, put the whole value in quotes\n"
    )
    assert "0 errors, 1 warning" in result.output


def test_quoted_hash_reaches_the_student(empty_project: Path, student: StudentCollection) -> None:
    write_deck(
        empty_project,
        "- id: ligament\n  question: Strongest hip ligament?\n"
        '  answer: "The iliofemoral ligament #1 in strength."\n',
    )
    result = run_deckgen("build")
    assert result.exit_code == 0, result.output
    student.import_package(empty_project / "decks" / "hip.apkg")
    (answer,) = [note["Answer"] for note in student.notes().values()]
    assert "#1 in strength." in answer


def test_a_lower_case_type_in_answer_is_linted_because_anki_compares_capitals(
    empty_project: Path, student: StudentCollection
) -> None:
    # The reason for the rule, measured: Anki's own comparison marks the capital wrong.
    assert "typeBad" in student.col.compare_answer(
        "superior gluteal nerve", "Superior gluteal nerve"
    )
    write_deck(
        empty_project,
        "- id: nerve\n  type: typein\n  question: Nerve to gluteus medius?\n"
        "  answer: superior gluteal nerve\n",
    )
    result = run_deckgen("lint")
    assert "cards.yaml:6:11: warning: the type-in answer of card 'nerve' starts with a " in (
        result.output
    )
    assert "[typein-case]" in result.output


def test_build_inside_a_deck_folder_names_the_package_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`deckgen init` makes a deck in the current folder; `deckgen build` (no argument) and
    `deckgen build .` there both write decks/<folder>.apkg, never a nameless decks/.apkg."""
    folder = tmp_path / "hip-anatomy"
    folder.mkdir()
    monkeypatch.chdir(folder)
    assert run_deckgen("init").exit_code == 0
    for args in (("build",), ("build", ".")):
        result = run_deckgen(*args)
        assert result.exit_code == 0, result.output
        assert sorted(os.listdir(folder / "decks")) == ["hip-anatomy.apkg"]


def test_no_cards_folder_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_deckgen("check")
    assert result.exit_code == 2
    assert (
        "no 'cards' folder here: run deckgen where 'cards' is, pass the cards folder "
        "(e.g. deckgen check path/to/cards), or start a deck with 'deckgen init'"
    ) in result.output


def test_top_level_help_shows_whole_summaries() -> None:
    result = run_deckgen("--help")
    assert result.exit_code == 0
    commands = result.output.split("Commands:")[1]
    assert "..." not in commands and "…" not in commands
    assert len(commands.strip().splitlines()) == 12


def test_a_missing_image_suggests_the_one_that_is_there(empty_project: Path) -> None:
    deck = write_deck(
        empty_project,
        "- id: pelvis\n  question: '![Pelvis](images/pelvis.jpeg) Which bone?'\n  answer: Ilium\n",
    )
    (deck / "images").mkdir()
    (deck / "images" / "pelvis.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 64)
    result = run_deckgen("check")
    assert result.exit_code == 1
    assert "image 'images/pelvis.jpeg' not found" in result.output
    assert "(did you mean 'images/pelvis.jpg'?)" in result.output


def test_a_syntax_error_is_not_buried_under_false_deletions(project: Path) -> None:
    """With no package in decks/ (a fresh clone, or builds written elsewhere), the cards of a
    file that does not parse are not "deleted": the one real error stands alone."""
    assert run_deckgen("build").exit_code == 0
    for package in (project / "decks").iterdir():
        package.unlink()
    anatomy = project / "cards/demo/anatomy.yaml"
    anatomy.write_text(anatomy.read_text() + "  - id: broken\n   question: Indented wrong\n")
    result = run_deckgen("check")
    assert result.exit_code == 1
    assert result.stderr.count("error:") == 1, result.stderr
    assert "warning:" not in result.stderr and "deleted" not in result.stderr


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=folder, check=True, capture_output=True, text=True
    ).stdout


@pytest.mark.parametrize("where", ["cards/hip-anatomy", "."])
def test_a_new_content_repository_works_from_its_first_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """init → edit → build → commit → build --check, in a fresh git repository, with the deck
    in a cards folder or in the repository root; nothing a build makes again gets committed."""
    repository = tmp_path / "hip-anatomy"
    repository.mkdir()
    monkeypatch.chdir(repository)
    _git(repository, "init", "-q")
    assert run_deckgen("init", where).exit_code == 0
    assert (repository / ".gitignore").read_text().splitlines()[1:] == [
        ".deckgen-cache/",
        "/preview/",
    ]
    assert run_deckgen("check").exit_code == 0
    assert run_deckgen("lint", "--strict").exit_code == 0
    example = repository / where / "example.yaml"
    example.write_text(example.read_text().replace("Gluteus medius.", "Gluteus medius (mainly)."))
    assert run_deckgen("build").exit_code == 0
    assert run_deckgen("preview").exit_code == 0
    _git(repository, "add", "-A")
    _git(repository, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "-m", "deck")
    tracked = _git(repository, "ls-files").split()
    assert "decks/hip-anatomy.apkg" in tracked
    assert not [path for path in tracked if ".deckgen-cache" in path or "preview/" in path]
    result = run_deckgen("build", "--check")
    assert result.exit_code == 0, result.output
    assert run_deckgen("init", "cards/second").exit_code == (0 if where != "." else 1)
    assert (repository / ".gitignore").read_text().count(".deckgen-cache/") == 1


def test_init_keeps_an_existing_gitignore_and_adds_only_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".gitignore").write_text("*.pyc\n/preview/")
    assert run_deckgen("init", "cards/deck").exit_code == 0
    assert (tmp_path / ".gitignore").read_text() == (
        "*.pyc\n/preview/\n"
        "# deckgen makes these again on every build: the build cache and the preview site\n"
        ".deckgen-cache/\n"
    )


def test_release_notes_group_a_tag_rename_and_keep_punctuation_after_bold(
    empty_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cards = "".join(
        f"- id: card-{n}\n  question: Which nerve supplies **gluteus medius** {n}?\n"
        f"  answer: Superior gluteal nerve {n}\n"
        for n in range(3)
    )
    deck = write_deck(empty_project, cards)
    card_file = deck / "cards.yaml"
    card_file.write_text(card_file.read_text().replace("cards:\n", "tags: [red_flags]\ncards:\n"))
    assert run_deckgen("build").exit_code == 0
    card_file.write_text(
        card_file.read_text()
        .replace("tags: [red_flags]", "tags: [red-flags]")
        .replace("answer: Superior gluteal nerve 0", "answer: Superior gluteal nerve (L4-S1) 0")
    )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 60))
    notes = run_deckgen("changelog", "--against", "decks").stdout
    assert "gluteus medius 0?" in notes and "medius 0 ?" not in notes
    assert notes.count("  - tags: ") == 1, notes  # only the card whose text changed too
    assert "- tags of 2 cards: **red-flags** ~~red\\_flags~~ (`card-1`, `card-2`)" in notes


def test_release_notes_put_answer_changes_first_and_name_renamed_subdecks(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_deckgen("release", "1.0.0", "--first").exit_code == 0
    anatomy = project / "cards/demo/anatomy.yaml"
    anatomy.write_text(
        anatomy.read_text()
        .replace("Greater trochanter of the femur.", "The lateral facet of the greater trochanter.")
        .replace("source: Standard anatomy text", "source: Standard anatomy text, 2nd ed.")
    )
    patterns = project / "cards/demo/referral/patterns.yaml"
    patterns.write_text(patterns.read_text().replace("deck: Referral", "deck: 2 Referral"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 86_400))
    notes = run_deckgen("changelog").stdout
    relearn, rest = notes.split("### Changed")
    assert "### Answers changed: relearn these\n\n- `insertion`" in relearn
    assert "`origin`" in rest and "`origin`" not in relearn, "a new source is no new answer"
    assert (
        "2. Before importing, rename these subdecks in Anki (deck list → gear → **Rename**), "
        "so that your cards and this release's new ones share one subdeck (Anki never moves "
        "your cards): `Referral` → `2 Referral`."
    ) in notes
    assert "choose **Cards → Reset…**" in notes


def test_verify_and_changelog_find_the_packages_where_build_wrote_them(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deleted cloze card ships as retired only with its last shipped cards, which live in
    the package the builds wrote: verify and changelog take `-o` as build does."""
    assert run_deckgen("build", "-o", "site/decks").exit_code == 0
    assert run_deckgen("release", "1.0.0", "--first", "-o", "site/decks").exit_code == 0
    anatomy = project / "cards/demo/anatomy.yaml"
    text = anatomy.read_text()
    anatomy.write_text(text[: text.index("  - id: layers")])
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 86_400))

    blind = run_deckgen("changelog")
    assert "'layers' was deleted, but decks/demo.apkg does not hold" in blind.output

    told = run_deckgen("changelog", "-o", "site/decks")
    assert told.exit_code == 0, told.output
    assert "was deleted" not in told.output
    assert "### Retired\n\n- `layers`" in told.stdout
    with_engine = run_deckgen("verify", "-o", "site/decks")
    assert with_engine.exit_code == 0 and "was deleted" not in with_engine.output


def test_a_first_release_of_a_deck_started_here_ships_no_retired_draft(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, student: StudentCollection
) -> None:
    """A draft deleted before the first release reaches no student as a notice, and the
    release record of a deck started in the current folder is named after that folder."""
    folder = tmp_path / "mydeck"
    folder.mkdir()
    monkeypatch.chdir(folder)
    assert run_deckgen("init").exit_code == 0
    (folder / "draft.yaml").write_text(
        "source: Gray's Anatomy, 2020\ncards:\n  - id: draft\n    question: Which bone?\n"
        "    answer: The ilium\n"
    )
    assert run_deckgen("build").exit_code == 0
    (folder / "draft.yaml").unlink()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME + 60))

    released = run_deckgen("release", "1.0.0", "--first")

    assert released.exit_code == 0, released.output
    assert "0 retired" in released.output
    assert "recorded as releases/mydeck-1.0.0.apkg" in released.output
    assert (folder / "releases/mydeck-1.0.0.apkg").is_file()
    assert "retired" not in json.loads((folder / "deck.lock").read_text())
    student.import_package(folder / "decks/mydeck.apkg")
    assert not student.col.find_notes("tag:deckgen::retired")
    assert run_deckgen("build", "--check").exit_code == 0


def test_init_takes_an_existing_preview_pattern_as_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".gitignore").write_text("preview/\n.deckgen-cache\n")
    assert run_deckgen("init", "cards/deck").exit_code == 0
    assert (tmp_path / ".gitignore").read_text() == "preview/\n.deckgen-cache\n"
