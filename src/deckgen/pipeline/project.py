"""A cards folder built or checked as ``deckgen build`` and ``deckgen check`` do: the build
clock, the build cache, the replay of a build that left nothing to do, and the summary lines.

What is printed goes through a ``BuildOutput`` the caller gives (the command line's output in
the chosen format); nothing here knows about terminals or exit codes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from deckgen.anki.compiled import CompiledDeck, DeckCounts
from deckgen.diagnostics import Location, Report, display_path, plural
from deckgen.pipeline.build import (
    DeckOutputs,
    build_decks,
    build_time,
    compile_project,
    count_decks,
    cycle_collection_paused,
    remember_packages,
    write,
)
from deckgen.pipeline.cache import CACHE_DIR, BuildCache
from deckgen.pipeline.freshness import DEFAULT_PACKAGES_DIR as DEFAULT_PACKAGES_DIR
from deckgen.pipeline.freshness import project_state


class BuildOutput(Protocol):
    """Where a build's diagnostics and summary lines go."""

    @property
    def format(self) -> str:
        """``text``, ``json`` or ``github``: only a text build records its lines to replay."""
        ...

    def report(self, report: Report) -> None: ...

    def say(self, line: str) -> None: ...

    def replay(self, line: str, *, to_stderr: bool) -> None:
        """A line recorded by an earlier build, printed where it was printed then."""
        ...


class Progress(Protocol):
    def advance(self) -> None: ...

    def finish(self) -> None: ...


def compile_cards(
    cards_dir: Path,
    report: Report,
    *,
    packages_dir: Path = DEFAULT_PACKAGES_DIR,
    cache: BuildCache | None = None,
    on_file_done: Callable[[], None] | None = None,
    lock_required: bool = False,
    authored: bool = False,
) -> list[CompiledDeck]:
    """Compile every deck at the build clock; retired cards come from ``packages_dir``.
    With ``authored`` every card carries what lint and stats read of it as written
    (``RenderedCard.authored``), from the cache too; without a cache every card also keeps
    its checked spec."""
    return compile_project(
        cards_dir,
        now=build_time(os.environ),
        report=report,
        packages_dir=packages_dir,
        cache=cache,
        on_file_done=on_file_done,
        lock_required=lock_required,
        authored=authored,
    )


def count_cards(
    cards_dir: Path, report: Report, *, cache: BuildCache | None, lock_required: bool
) -> list[DeckCounts]:
    """Check every deck at the build clock as ``deckgen check`` does, one deck at a time;
    each deck's counts."""
    return count_decks(
        cards_dir,
        now=build_time(os.environ),
        report=report,
        packages_dir=DEFAULT_PACKAGES_DIR,
        cache=cache,
        lock_required=lock_required,
    )


class Review:
    """A run of ``deckgen lint``, ``stats``, ``preview`` or ``maps``: the decks compiled as
    a build compiles them, unchanged card files read from the build cache; and, with
    ``record``, what the run printed remembered for the state the project was in when it
    started, which the next run finds before importing the pipeline
    (``freshness.recorded_review``)."""

    def __init__(self, cards_dir: Path, *, record: bool = False) -> None:
        self.cards_dir = cards_dir
        self.cache = BuildCache.for_cards(cards_dir)
        # Taken before any card file is read and compared after: a file edited during the run
        # may or may not have been read as edited, so such a run is not recorded.
        self._state = project_state(cards_dir, DEFAULT_PACKAGES_DIR) if record else None

    def compile(self, report: Report, *, authored: bool = False) -> list[CompiledDeck]:
        """Every deck, with what lint and stats read of each card when ``authored``."""
        return compile_cards(self.cards_dir, report, cache=self.cache, authored=authored)

    def remember(self, command: str, report: Report, lines: list[str]) -> None:
        """Record that ``command`` printed ``report`` (text, on stderr), then ``lines``."""
        if (
            self._state is None
            or project_state(self.cards_dir, DEFAULT_PACKAGES_DIR) != self._state
        ):
            return
        printed = [(str(diagnostic), True) for diagnostic in report.sorted()]
        printed += [(line, False) for line in lines]
        self.cache.remember_review(self._state, command, printed, report.warning_count)


def build_project(
    cards_dir: Path,
    out_dir: Path,
    *,
    check_only: bool,
    output: BuildOutput,
    new_lock: bool = False,
    start_progress: Callable[[], Progress | None] | None = None,
) -> bool:
    """Build (or with ``check_only`` check) every deck under ``cards_dir`` into ``out_dir``;
    False when a check finds an output out of date. Raises DeckgenError (SourceErrors for
    errors in the cards) with nothing written. (``freshness.replayed``, called first, answers
    a build that has nothing to do without importing this pipeline.)"""
    report = Report()
    cache = BuildCache.for_cards(cards_dir)
    if cache.refused is not None:
        report.warning(Location(cards_dir / CACHE_DIR), cache.refused)
    # Nothing changed since a build that left nothing to do: say what that build said. The
    # record is of text output, so other formats always build.
    replay = output.format == "text"

    bar = start_progress() if start_progress is not None else None
    with cycle_collection_paused():
        try:
            planned = build_decks(
                cards_dir,
                now=build_time(os.environ),
                report=report,
                out_dir=out_dir,
                cache=cache,
                on_file_done=bar.advance if bar is not None else None,
                lock_required=not new_lock,
            )
        finally:
            if bar is not None:
                bar.finish()
    compile_diagnostics = len(report.diagnostics)
    output.report(report)
    if check_only:
        if not _check(planned, cache, report, output):
            return False
    elif not _write(planned, cache, report, output):
        return True  # some warnings (a card's changed type) depend on the lock just replaced
    # The project is now in a state where building again has nothing to do.
    state = project_state(cards_dir, out_dir) if replay else None
    if state is not None:
        diagnostics = [(str(diagnostic), True) for diagnostic in report.sorted()]
        up_to_date = [(_deck_line("up to date", deck), False) for deck in planned]
        outputs = {
            "build": [*diagnostics, *up_to_date, (_built_line(planned, report), False)],
            "check": [*diagnostics, (_checked_line(planned, report), False)],
        }
        # What `deckgen check` says: it reads the packages in the default folder only, and
        # reports what compiling the cards reported.
        if out_dir == DEFAULT_PACKAGES_DIR and len(report.diagnostics) == compile_diagnostics:
            summary = checked_summary([deck.counts for deck in planned], report)
            outputs["checked"] = [*diagnostics, (summary, False)]
        cache.remember_quiet_output(state, outputs)
    return True


def _check(
    planned: list[DeckOutputs], cache: BuildCache, report: Report, output: BuildOutput
) -> bool:
    """Say which outputs are out of date; False when any is."""
    remember_packages([deck for deck in planned if not deck.package_changed], cache)
    stale = [deck for deck in planned if deck.changed]
    for deck in stale:
        if deck.package_changed:
            output.say(f"stale: {display_path(deck.package_path)} would change")
        if deck.lock_changed:
            output.say(f"stale: {display_path(deck.lock_path)} would change")
    if stale:
        output.say(f"{plural(len(stale), 'deck')} out of date: run 'deckgen build'")
        return False
    output.say(_checked_line(planned, report))
    return True


def _write(
    planned: list[DeckOutputs],
    cache: BuildCache,
    report: Report,
    output: BuildOutput,
) -> bool:
    """Write what changed and say so; False when the lines said are not worth replaying."""
    for leftover in write(planned):
        output.say(f"removed {display_path(leftover)}, left behind by a killed build")
    remember_packages(planned, cache)
    for deck in planned:
        output.say(_deck_line("wrote" if deck.changed else "up to date", deck))
    output.say(_built_line(planned, report))
    return not (any(deck.changed for deck in planned) and report.warning_count)


def _deck_line(state: str, deck: DeckOutputs) -> str:
    return (
        f"{state}: {display_path(deck.package_path)} "
        f"({deck.counts}, {plural(deck.images, 'image')})"
    )


def _built_line(planned: list[DeckOutputs], report: Report) -> str:
    return f"built {plural(len(planned), 'deck')}; {report.summary()}"


def checked_summary(counts: list[DeckCounts], report: Report) -> str:
    """The last line of ``deckgen check``, given each deck's counts."""
    total = sum(counts, DeckCounts(0, 0))
    return f"checked {plural(len(counts), 'deck')}, {total}; {report.summary()}"


def _checked_line(planned: list[DeckOutputs], report: Report) -> str:
    return f"up to date: {plural(len(planned), 'deck')}; {report.summary()}"
