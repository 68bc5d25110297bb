"""lint, stats and preview read unchanged card files from the build cache, and say exactly
what they say without it: findings and their places, the stats table, the preview's bytes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import FIXTURES, run_deckgen
from deckgen.pipeline import filestage
from deckgen.pipeline import project as project_module
from deckgen.pipeline.cache import AUTHORED_DIR, CACHE_DIR, cache_key
from deckgen.pipeline.freshness import REVIEWS_ENTRY, entry_header
from deckgen.workflow import lint as lint_module
from helpers import REPO, output_libraries_imported

COMMANDS = {
    "lint": ("lint", "cards", "--format", "json"),
    "lint text": ("lint", "cards"),
    "stats": ("stats", "cards"),
    "preview": ("preview", "cards", "-o", "preview"),
}
Run = tuple[int, str, str, bytes]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped deck (body maps, occlusion on them, silenced rules, retired cards in its
    package) and the lint fixture's deck (a finding of every rule, masks on an image), with
    an unknown rule name silenced on one card."""
    shutil.copytree(REPO / "cards/gluteus-medius", tmp_path / "cards/gluteus-medius")
    shutil.copytree(REPO / "decks", tmp_path / "decks")
    shutil.copytree(FIXTURES / "lint/cards/quality", tmp_path / "cards/quality")
    unsourced = tmp_path / "cards/quality/unsourced.yaml"
    unsourced.write_text(unsourced.read_text() + "    lint: {ignore: [long-anser]}\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def compiled_files(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The card files each command compiles (rather than reads from the cache)."""
    compiled: list[Path] = []
    compile_one = filestage._compile  # what every way of compiling a card file runs

    def counting(path: Path, *args: object, **kwargs: object) -> object:
        compiled.append(path)
        return compile_one(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(filestage, "_compile", counting)
    return compiled


def run(command: str, *, replay: bool = False) -> Run:
    """The command's exit code, stdout, stderr and page; unless ``replay``, with the record of
    its last run removed, so it reads the card files' cache entries."""
    if not replay:
        (Path("cards") / CACHE_DIR / REVIEWS_ENTRY).unlink(missing_ok=True)
    result = run_deckgen(*COMMANDS[command])
    page = Path("preview/index.html")
    return (
        result.exit_code,
        result.stdout,
        result.stderr,
        page.read_bytes() if command == "preview" else b"",
    )


def cold(command: str) -> Run:
    """The command with no cache at all, as before the cache kept what it reads."""
    shutil.rmtree(Path("cards") / CACHE_DIR, ignore_errors=True)
    return run(command)


def card_files() -> list[Path]:
    return sorted(path for path in Path("cards").glob("*/*.yaml") if path.name != "deck.yaml")


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unchanged_deck_is_read_from_the_cache_and_says_the_same(
    project: Path, compiled_files: list[Path], command: str
) -> None:
    expected = cold(command)
    assert expected[0] == 0, expected[2]
    assert len(compiled_files) == len(card_files())
    compiled_files.clear()
    assert run(command) == expected
    assert compiled_files == []  # every file came from the cache


def test_lint_finds_every_rule_from_the_cache(project: Path) -> None:
    """The findings read from the cache are real ones, each at its place: every rule of the
    lint fixture, the shipped deck's silenced rules still silent, the unknown name warned."""
    assert run_deckgen("build").exit_code == 0  # a build fills the cache
    result = run_deckgen(*COMMANDS["lint"])
    found = json.loads(result.stdout)
    rules = {item["rule"] for item in found if item["rule"]}
    assert len(rules) == 12, rules
    assert [(item["file"], item["line"]) for item in found if "long-anser" in item["message"]] == [
        ("cards/quality/unsourced.yaml", 5)
    ]


@pytest.mark.parametrize("command", COMMANDS)
def test_after_a_one_card_edit_only_that_file_is_compiled(
    project: Path, compiled_files: list[Path], command: str
) -> None:
    assert run_deckgen("build").exit_code == 0
    edited = project / "cards/quality/cards.yaml"
    # A new finding (yes-no) and moved lines for every card after it.
    edited.write_text(
        edited.read_text().replace(
            "    question: Which nerve supplies gluteus medius?\n",
            "    question: Is gluteus medius supplied by the superior gluteal nerve?\n"
            "    tags: [nerves]\n",
        )
    )
    compiled_files.clear()
    cached = run(command)
    assert compiled_files == [Path("cards/quality/cards.yaml")]
    assert cached == cold(command)
    _, stdout, stderr, page = cached
    assert EDIT_SHOWN[command] in stdout + stderr + page.decode()


EDIT_SHOWN = {
    "lint": "card 'clean' asks a yes/no question",
    "lint text": "cards/quality/cards.yaml:5:15: warning: card 'clean' asks a yes/no question",
    "stats": "  nerves ",
    "preview": "Is gluteus medius supplied by the superior gluteal nerve?",
}
"""What the one-card edit changes in each command's output."""


DAMAGE: dict[str, Callable[[bytes, Path], bytes]] = {
    "truncated": lambda data, _: data[: len(data) // 2],
    "flipped": lambda data, _: data[:-2] + bytes([data[-2] ^ 1]) + data[-1:],
    "empty": lambda data, _: b"",
    "another file's": lambda data, other: other.read_bytes(),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_authored_entry_is_ignored_and_rewritten(
    project: Path, compiled_files: list[Path], damage: str
) -> None:
    expected = {command: cold(command) for command in ("lint", "stats")}
    entries = sorted((project / "cards" / CACHE_DIR / AUTHORED_DIR).iterdir())
    assert len(entries) == len(card_files())
    for entry, other in zip(entries, entries[1:] + entries[:1], strict=True):
        entry.write_bytes(DAMAGE[damage](entry.read_bytes(), other))
    compiled_files.clear()
    assert run("lint") == expected["lint"]
    assert len(compiled_files) == len(card_files())  # none of them trusted
    compiled_files.clear()
    assert run("stats") == expected["stats"]
    assert compiled_files == []  # and each rewritten by the run that compiled its file


def _resign(entry: Path, change: Callable[[list[list[object]]], None], key: bytes) -> None:
    _, body = entry.read_bytes().split(b"\n", 1)
    document = json.loads(body)
    change(document["cards"])
    planted = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    entry.write_bytes(entry_header(planted, key) + b"\n" + planted)


ODD_VALUES: dict[str, Callable[[list[list[object]]], None]] = {
    "a card dropped": lambda cards: cards.pop(),
    "another card's id": lambda cards: cards[0].__setitem__(0, "not-this-card"),
    "a number for true or false": lambda cards: cards[0].__setitem__(6, 1),
    "a place as text": lambda cards: cards[0].__setitem__(2, ["3", 5]),
    "a place of three numbers": lambda cards: cards[0].__setitem__(2, [3, 5, 7]),
    "an unknown kind": lambda cards: cards[0].__setitem__(1, "flashcard"),
    "a field too many": lambda cards: cards[0].append(None),
    "a silenced rule without its place": lambda cards: cards[0].__setitem__(8, [["x"]]),
}


@pytest.mark.parametrize("odd", ODD_VALUES)
def test_an_entry_with_an_odd_value_is_not_cached_even_when_signed(
    project: Path, compiled_files: list[Path], odd: str
) -> None:
    """Even an entry signed with the user's own key is type-checked value by value."""
    key = cache_key()
    assert key is not None
    expected = cold("lint")
    entries = sorted((project / "cards" / CACHE_DIR / AUTHORED_DIR).iterdir())
    for entry in entries:
        _resign(entry, ODD_VALUES[odd], key)
    compiled_files.clear()
    assert run("lint") == expected
    assert len(compiled_files) == len(entries)


def test_a_planted_entry_signed_with_another_key_is_not_trusted(
    project: Path, compiled_files: list[Path]
) -> None:
    """Whoever controls the cards folder can plant an entry that silences every finding; only
    this user's key makes it count."""
    expected = cold("lint")
    assert "warning" in expected[1]

    def silence_everything(cards: list[list[object]]) -> None:
        for card in cards:
            card[6] = True  # sourced
            card[8] = []

    for entry in (project / "cards" / CACHE_DIR / AUTHORED_DIR).iterdir():
        _resign(entry, silence_everything, b"k" * 32)
    compiled_files.clear()
    assert run("lint") == expected
    assert len(compiled_files) == len(card_files())


REPLAYED = ("lint text", "stats")


def no_compiling(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Makes compiling the project fail; the list names the runs that tried."""
    tried: list[str] = []

    def refused(self: object, *args: object, **kwargs: object) -> list[object]:
        tried.append("compile")
        raise AssertionError("the project was compiled again")

    monkeypatch.setattr(project_module.Review, "compile", refused)
    return tried


@pytest.mark.parametrize("command", REPLAYED)
def test_an_unchanged_project_is_answered_from_the_last_run(
    project: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = cold(command)
    tried = no_compiling(monkeypatch)
    assert run(command, replay=True) == expected
    assert tried == []


def test_lint_strict_fails_when_the_recorded_run_had_warnings(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    strict = ("lint", "cards", "--strict")
    first = run_deckgen(*strict)
    assert first.exit_code == 1 and "warning" in first.stderr
    no_compiling(monkeypatch)
    again = run_deckgen(*strict)
    assert (again.exit_code, again.stdout, again.stderr) == (1, first.stdout, first.stderr)


CHANGES = {
    "a card file": "cards/quality/unsourced.yaml",
    "an image": "cards/gluteus-medius/images/" + "{image}",
    "a lock": "cards/gluteus-medius/deck.lock",
    "a package": "decks/gluteus-medius.apkg",
}


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("command", REPLAYED)
def test_any_change_runs_the_command_again(
    project: Path, command: str, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = sorted((project / "cards/gluteus-medius/images").iterdir())[0].name
    changed = project / CHANGES[change].format(image=image)
    cold(command)
    changed.write_bytes(changed.read_bytes() + b"\n")
    tried = no_compiling(monkeypatch)
    result = run_deckgen(*COMMANDS[command])
    assert tried == ["compile"], result.output


def test_json_findings_are_never_replayed(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cold("lint text")
    tried = no_compiling(monkeypatch)
    run_deckgen(*COMMANDS["lint"])
    assert tried == ["compile"]


def test_a_planted_record_is_not_replayed(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A record signed with another key, claiming a clean deck, is ignored."""
    expected = cold("stats")
    record = project / "cards" / CACHE_DIR / REVIEWS_ENTRY
    _, body = record.read_bytes().split(b"\n", 1)
    document = json.loads(body)
    document["stats"]["lines"] = [["all clean", False]]
    planted = json.dumps(document).encode()
    record.write_bytes(entry_header(planted, b"k" * 32) + b"\n" + planted)
    assert run("stats", replay=True) == expected


@pytest.mark.parametrize("command", REPLAYED)
def test_a_replay_imports_none_of_the_pipeline(project: Path, command: str) -> None:
    """In a process of its own, as the pre-commit hook or an editor runs it."""

    def imports() -> tuple[list[str], str, str]:
        return output_libraries_imported(*COMMANDS[command])

    first, first_said, first_stderr = imports()
    assert "yaml" in first and "markdown_it" in first  # the probe sees a real run's imports
    assert imports() == ([], first_said, first_stderr)


@pytest.mark.parametrize("command", REPLAYED)
def test_a_run_during_which_a_card_file_changed_is_not_recorded(
    project: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file may have been read before or after the edit, so the output may be of the
    edited file; it must not be replayed once the edit is undone either."""
    lint = lint_module.lint
    edited = project / "cards/quality/unsourced.yaml"
    original = edited.read_text()

    def editing_meanwhile(*args: object) -> None:
        edited.write_text(original + "  - id: added\n    question: Q?\n    answer: A.\n")
        lint(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(lint_module, "lint", editing_meanwhile)
    assert run_deckgen(*COMMANDS[command]).exit_code == 0
    monkeypatch.setattr(lint_module, "lint", lint)
    edited.write_text(original)
    tried = no_compiling(monkeypatch)
    run_deckgen(*COMMANDS[command])
    assert tried == ["compile"]
