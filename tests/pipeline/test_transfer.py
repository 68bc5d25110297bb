"""What a worker process sends back to the main one: every value of a compiled card file
survives the trip whole, in the cheap form (the class and its field values in order)."""

from __future__ import annotations

import dataclasses
import enum
import itertools
import pickle
import shutil
import types
import typing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from conftest import run_deckgen
from deckgen.anki.identity import DeckIdentity
from deckgen.cards.validate import CardSpec
from deckgen.diagnostics import DeckgenError, Diagnostic, Location, Report, Severity
from deckgen.pipeline import build, filestage
from deckgen.pipeline.cache import (
    AUTHORED_DIR,
    CACHE_DIR,
    BuildCache,
    FileEntries,
    file_entries,
    file_key,
)
from deckgen.pipeline.compiled_file import CompiledFile
from deckgen.pipeline.filestage import FileCompiler, compile_file
from deckgen.render.card import RenderedCard
from deckgen.values import usable_cores
from helpers import write_deck_folder

SHIPPED_DECK = Path(__file__).parents[2] / "cards" / "gluteus-medius"


def sent_classes() -> list[type]:
    """Every dataclass a worker sends back (a compiled file, its cards and problems), found from
    the type hints: a class added to them later is tested too. ``RenderedCard.spec`` is left
    out: the parsed card is only sent back by a build without a cache, and the pickle of
    ``CardSpec`` is its own."""
    found: list[type] = []
    waiting: list[object] = [typing.get_type_hints(filestage._compile_job)["return"]]
    while waiting:
        hint = waiting.pop()
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            if hint not in found:
                found.append(hint)
                hints = typing.get_type_hints(hint)
                waiting.extend(hints[f.name] for f in dataclasses.fields(hint) if f.name != "spec")
        else:
            waiting.extend(typing.get_args(hint))
    return found


def distinct_value(hint: object, counter: itertools.count[int]) -> object:
    """A value of type ``hint`` unlike any other made, and never a field's default: a field
    the pickling dropped or swapped with another would not come back equal."""
    if hint is CardSpec:  # sent with its own pickle (see sent_classes): a real one is tested
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return distinct_value(
            next(a for a in typing.get_args(hint) if a is not type(None)), counter
        )
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return (distinct_value(args[0], counter), distinct_value(args[0], counter))
        return tuple(distinct_value(arg, counter) for arg in args)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        hints = typing.get_type_hints(hint)
        return hint(*(distinct_value(hints[f.name], counter) for f in dataclasses.fields(hint)))
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        members = list(hint)
        return members[next(counter) % len(members)]
    number = next(counter) + 1
    made: dict[object, object] = {
        str: f"text {number}",
        int: number,
        bool: number % 2 == 1,
        bytes: f"bytes {number}".encode(),
        Path: Path(f"/deck/file{number}.yaml"),
    }
    if hint not in made:
        raise AssertionError(f"no test value for {hint}: add one")
    return made[hint]


@pytest.mark.parametrize("cls", sent_classes(), ids=lambda cls: cls.__name__)
def test_every_sent_class_is_pickled_as_its_field_values_and_comes_back_whole(cls: type) -> None:
    counter = itertools.count()
    for _ in range(3):  # the booleans and the enums take each value
        value = distinct_value(cls, counter)
        fields = tuple(getattr(value, f.name) for f in dataclasses.fields(cls))
        assert value.__reduce_ex__(pickle.HIGHEST_PROTOCOL) == (cls, fields)
        back = pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
        assert type(back) is cls
        assert tuple(getattr(back, f.name) for f in dataclasses.fields(cls)) == fields


@pytest.mark.parametrize("keep_specs", [False, True])
def test_the_shipped_decks_files_come_back_equal_from_a_worker(keep_specs: bool) -> None:
    compiled = [
        compile_file(
            path,
            deck_folder=SHIPPED_DECK,
            deck_tags=("t",),
            identity=DeckIdentity("gluteus-medius"),
            keep_specs=keep_specs,
        )
        for path in sorted(SHIPPED_DECK.glob("*.yaml"))
        if path.name != "deck.yaml"
    ]
    cards = [card for file in compiled for card in file.cards]
    assert len(cards) > 20
    assert any(card.bodymaps for card in cards) and any(card.media for card in cards)
    assert all((card.spec is not None) == keep_specs for card in cards)
    assert pickle.loads(pickle.dumps(compiled)) == compiled


def cache_entries(project: Path) -> dict[str, bytes]:
    cache = project / "cards" / CACHE_DIR
    return {
        f"{folder}/{entry.name}": entry.read_bytes()
        for folder in ("files", AUTHORED_DIR)
        if (cache / folder).is_dir()
        for entry in (cache / folder).iterdir()
    }


def cold_build(project: Path) -> Result:
    shutil.rmtree(project / "cards" / CACHE_DIR, ignore_errors=True)
    shutil.rmtree(project / "decks", ignore_errors=True)
    for lock in (project / "cards").rglob("deck.lock"):
        lock.unlink()
    return run_deckgen("build")


def test_entries_made_in_worker_processes_are_those_made_here_and_are_used(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cold_build(project).exit_code == 0
    made_here = cache_entries(project)
    assert len(made_here) == 4  # a file entry and an authored entry per card file
    package = (project / "decks/demo.apkg").read_bytes()

    monkeypatch.setattr(filestage, "PARALLEL_MIN_BYTES", 0)
    assert cold_build(project).exit_code == 0
    assert cache_entries(project) == made_here

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("an unchanged file was compiled again")

    monkeypatch.setattr(filestage, "_compile", never)
    (project / "decks/demo.apkg").unlink()
    assert run_deckgen("build").exit_code == 0
    assert (project / "decks/demo.apkg").read_bytes() == package


@pytest.mark.parametrize("parallel_min_bytes", [0, filestage.PARALLEL_MIN_BYTES])
def test_a_build_with_an_error_leaves_no_entry_its_files_wrote(
    project: Path, monkeypatch: pytest.MonkeyPatch, parallel_min_bytes: int
) -> None:
    """Each card file's entries are written where it compiles; a build that then fails
    (another file's error, a package it cannot write) removes them, and keeps the entries
    of earlier builds."""
    monkeypatch.setattr(filestage, "PARALLEL_MIN_BYTES", parallel_min_bytes)
    deck = project / "cards/demo"
    (deck / "broken.yaml").write_text("cards:\n  - id: [unclosed\n")
    assert cold_build(project).exit_code != 0
    assert cache_entries(project) == {}

    (deck / "broken.yaml").unlink()
    assert run_deckgen("build").exit_code == 0
    before = cache_entries(project)
    assert len(before) == 4
    (deck / "more.yaml").write_text("cards:\n  - id: more\n    question: Q?\n    answer: A.\n")
    (deck / "broken.yaml").write_text("cards:\n  - id: [unclosed\n")
    assert run_deckgen("build").exit_code != 0
    assert cache_entries(project) == before

    (deck / "broken.yaml").unlink()

    def too_large(*_: object) -> bytes:
        raise DeckgenError("the package would be larger than deckgen reads back")

    write_package = build.package_bytes
    monkeypatch.setattr(build, "package_bytes", too_large)
    failed = run_deckgen("build")
    assert failed.exit_code != 0 and "larger than deckgen reads back" in failed.output
    assert cache_entries(project) == before
    monkeypatch.setattr(build, "package_bytes", write_package)

    # A file whose authored entry went missing compiles again for lint, rewriting its file
    # entry under the same key: a failed lint keeps that entry as an earlier build wrote it.
    missing = next(name for name in before if name.startswith(f"{AUTHORED_DIR}/"))
    (project / "cards" / CACHE_DIR / missing).unlink()
    (deck / "broken.yaml").write_text("cards:\n  - id: [unclosed\n")
    assert run_deckgen("lint").exit_code != 0
    assert cache_entries(project) == {k: v for k, v in before.items() if k != missing}


@pytest.mark.parametrize("parallel_min_bytes", [0, filestage.PARALLEL_MIN_BYTES])
def test_a_build_whose_worker_fails_leaves_the_cache_as_it_found_it(
    project: Path, monkeypatch: pytest.MonkeyPatch, parallel_min_bytes: int
) -> None:
    """A card file that fails to compile (an internal error) after another file's worker
    wrote its entries: the build removes them, results it never received included."""
    monkeypatch.setattr(filestage, "PARALLEL_MIN_BYTES", parallel_min_bytes)
    assert run_deckgen("build").exit_code == 0
    before = cache_entries(project)
    deck = project / "cards/demo"
    for path in (deck / "anatomy.yaml", deck / "referral/patterns.yaml"):
        path.write_text(path.read_text() + "\n")  # both compile again, under new keys
    compile_one = filestage._compile

    def failing(path: Path, *args: Any, **kwargs: Any) -> Any:
        if path.name == "patterns.yaml":
            raise RuntimeError("an internal error")
        return compile_one(path, *args, **kwargs)

    monkeypatch.setattr(filestage, "_compile", failing)
    failed = run_deckgen("build")
    assert failed.exit_code == 3 and "an internal error" in failed.output
    assert cache_entries(project) == before


def test_a_worker_makes_no_entries_for_a_file_with_an_error(project: Path) -> None:
    """Entries for a file with an error would never be written (a build with an error writes
    nothing), so its worker does not spend the time making them; a sound file gets them."""
    deck = project / "cards/demo"
    broken = deck / "broken.yaml"
    broken.write_text("cards:\n  - id: [unclosed\n")
    cache = BuildCache.for_cards(project / "cards")
    for path, expected in ((broken, False), (deck / "anatomy.yaml", True)):
        job = (path, deck, ("demo",), None, False, False, (cache.folder, cache.within))
        compiled, key = filestage._compile_job(job)
        assert key is not None and key == file_key(path, deck_folder=deck, deck_tags=("demo",))
        assert bool(compiled.diagnostics) is not expected
        assert (cache.load_file(key, path) is not None) is expected


def test_a_worker_keys_the_entries_by_the_very_bytes_it_compiled(project: Path) -> None:
    """The worker reads the file once and keys its entries by those bytes: a file edited
    after the main process looked at it is cached as the version compiled, which the next
    build finds, never under the key of another version."""
    deck = project / "cards/demo"
    path = deck / "anatomy.yaml"
    looked_at = file_key(path, deck_folder=deck, deck_tags=("demo",))
    path.write_text(
        path.read_text().replace(
            "cards:", "cards:\n  - id: added\n    question: Q?\n    answer: A.", 1
        )
    )
    cache = BuildCache.for_cards(project / "cards")
    job = (path, deck, ("demo",), None, False, True, (cache.folder, cache.within))
    compiled, key = filestage._compile_job(job)
    assert key is not None and key != looked_at
    assert key == file_key(path, deck_folder=deck, deck_tags=("demo",))
    assert compiled.cards[0].id == "added"

    from_cache = cache.load_file(key, path)
    assert from_cache is not None
    assert cache.load_authored(key, from_cache) == compiled
    assert compiled == compile_file(path, deck_folder=deck, deck_tags=("demo",), keep_specs=False)

    no_cache = filestage._compile_job((path, deck, ("demo",), None, False, True, None))
    assert no_cache == (compiled, None)


@pytest.mark.parametrize("authored", [False, True])
@pytest.mark.parametrize("parallel_min_bytes", [0, filestage.PARALLEL_MIN_BYTES])
def test_compiled_cards_come_back_as_the_cache_restores_them(
    project: Path, monkeypatch: pytest.MonkeyPatch, authored: bool, parallel_min_bytes: int
) -> None:
    """What the main process gets of a compiled file is what it would get from the cache."""
    monkeypatch.setattr(filestage, "PARALLEL_MIN_BYTES", parallel_min_bytes)
    deck = project / "cards/demo"
    paths = sorted(deck.rglob("*.yaml"))
    paths.remove(deck / "deck.yaml")
    identity = DeckIdentity("demo")

    def cards(compiler: FileCompiler) -> list[RenderedCard]:
        report = Report()
        compiled = compiler(deck, paths, ("demo",), report, identity)
        assert report.error_count == 0
        return compiled

    compiler = FileCompiler(BuildCache.for_cards(project / "cards"), authored=authored)
    compiled = cards(compiler)
    compiler.save()
    assert len(compiled) > 3
    assert all((card.authored is not None) == authored for card in compiled)
    assert all(card.spec is None for card in compiled)

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("an unchanged file was compiled again")

    monkeypatch.setattr(filestage, "_compile", never)
    assert (
        cards(FileCompiler(BuildCache.for_cards(project / "cards"), authored=authored)) == compiled
    )


def test_entries_hold_positions_in_their_own_file_only(project: Path) -> None:
    deck = project / "cards/demo"
    path = deck / "anatomy.yaml"
    key = file_key(path, deck_folder=deck, deck_tags=("demo",))
    assert key is not None
    compiled = compile_file(path, deck_folder=deck, deck_tags=("demo",), keep_specs=False)

    def entries(compiled: CompiledFile) -> FileEntries | None:
        return file_entries(key, compiled)

    made = entries(compiled)
    assert made is not None and made.authored is not None
    # The same path, as another object: the same entries.
    assert entries(dataclasses.replace(compiled, path=Path(str(path)))) == made

    elsewhere = Location(deck / "referral/patterns.yaml", 1, 1)
    problem = Diagnostic(elsewhere, Severity.WARNING, "a problem found in another file")
    assert (
        entries(dataclasses.replace(compiled, diagnostics=(*compiled.diagnostics, problem))) is None
    )
    first = compiled.cards[0]
    assert first.authored is not None
    moved = dataclasses.replace(
        first, authored=dataclasses.replace(first.authored, location=elsewhere)
    )
    without_authored = entries(dataclasses.replace(compiled, cards=(moved, *compiled.cards[1:])))
    assert without_authored == FileEntries(made.file, None)


@pytest.mark.skipif(usable_cores() < 2, reason="card files compile in workers on 2 cores or more")
def test_files_handed_to_workers_several_at_a_time_come_back_once_each_in_order(
    empty_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers take a few card files per hand-over; the cards still come back once each, in
    file order, as compiling every file here gives them."""
    deck = write_deck_folder(
        empty_project,
        {
            f"part{n:02}.yaml": f"cards:\n  - id: q{n}\n    question: Why {n}?\n    answer: A.\n"
            for n in range(40)
        },
    )
    paths = sorted(deck.glob("part*.yaml"))
    hand_overs: list[int] = []
    map_jobs = ProcessPoolExecutor.map

    def noting_hand_overs(pool: ProcessPoolExecutor, *args: Any, chunksize: int = 1) -> Any:
        hand_overs.append(chunksize)
        return map_jobs(pool, *args, chunksize=chunksize)

    monkeypatch.setattr(ProcessPoolExecutor, "map", noting_hand_overs)
    monkeypatch.setattr(filestage, "PARALLEL_MIN_BYTES", 0)
    report = Report()
    in_workers = FileCompiler()(deck, paths, ("d",), report)
    assert report.diagnostics == []
    assert len(hand_overs) == 1 and hand_overs[0] > 1  # several files per hand-over

    monkeypatch.setattr(filestage, "PARALLEL_MIN_BYTES", 1 << 60)
    assert [card.id for card in in_workers] == [f"q{n}" for n in range(40)]
    assert in_workers == FileCompiler()(deck, paths, ("d",), Report())
    assert len(hand_overs) == 1  # compiled here this time
