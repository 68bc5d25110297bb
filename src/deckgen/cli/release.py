"""``deckgen verify``, ``changelog`` and ``release``: the students' upgrade rehearsed, the
changes since the last release, and a release made."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import click

from deckgen import DISTRIBUTION
from deckgen.cli.main import (
    against_option,
    cards_dir_argument,
    cli,
    first_option,
    format_option,
    handle_errors,
    output_option,
    print_report,
)
from deckgen.diagnostics import DeckgenError, Report, display_path, printable

R = TypeVar("R")

VERIFY_INSTALL_HINT = (
    "verify needs Anki's engine, deckgen's verify extra: in deckgen's checkout run "
    "pip install -e '.[verify]' (or, with the repository and commit of your deckgen, "
    f"pip install '{DISTRIBUTION}[verify] @ git+https://github.com/OWNER/deckgen@COMMIT')"
)
"""Names deckgen's own distribution: the public index's "deckgen" is another project."""


@contextlib.contextmanager
def _needs_anki() -> Iterator[None]:
    """Anki's engine is the optional extra [verify]: say how to install it when missing."""
    try:
        yield
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != "anki":
            raise
        raise DeckgenError(VERIFY_INSTALL_HINT, exit_code=2) from None


def _since_last_release(
    compare: Callable[..., R],
    cards_dir: Path,
    out_dir: Path,
    against: Path | None,
    first: bool,
) -> R:
    """Run ``verify_project`` or ``changes_since`` against the last release (``--against``,
    ``--first``, else the release recorded in each deck folder) and print what the build
    reported; ``out_dir`` is where builds write the packages, as ``build -o`` says."""
    from deckgen.pipeline.build import build_time
    from deckgen.workflow.baseline import BaselineChoice

    report = Report()
    result = compare(
        cards_dir,
        now=build_time(os.environ),
        packages_dir=out_dir,
        baseline=BaselineChoice(against, first),
        report=report,
    )
    print_report(report)
    return result


_PACKAGES_HELP = "Where builds write the packages (as build -o): deleted cards' last shipped cards."


@cli.command(short_help="Rehearse the students' upgrade in Anki's engine.")
@cards_dir_argument
@output_option("decks", _PACKAGES_HELP)
@against_option
@first_option
@format_option
@handle_errors
def verify(
    cards_dir: Path, out_dir: Path, against: Path | None, first: bool, output_format: str
) -> None:
    """Rehearse the students' upgrade with Anki's engine; exit 1 if they would suffer.

    Imports the previous release into a scratch collection, studies every card, then imports
    what the sources build now, and reports duplicates, identity swaps, notetype copies,
    conflicts, lost history and images that would not reach students.

    Example: deckgen verify --against previous.apkg
    """
    with _needs_anki():
        from deckgen.workflow.verify import format_results, verify_project
    results = _since_last_release(verify_project, cards_dir, out_dir, against, first)
    click.echo(format_results(results, output_format))
    if any(result.failed for result in results):
        raise SystemExit(1)


@cli.command(short_help="Print the cards changed since the last release.")
@cards_dir_argument
@output_option("decks", _PACKAGES_HELP)
@against_option
@first_option
@handle_errors
def changelog(cards_dir: Path, out_dir: Path, against: Path | None, first: bool) -> None:
    """Print, in Markdown, the cards added, changed and retired since the last release.

    Example: deckgen changelog --against previous.apkg
    """
    from deckgen.workflow.changelog import changes_since

    click.echo(_since_last_release(changes_since, cards_dir, out_dir, against, first), nl=False)


@cli.command(short_help="Bump the version, stamp the decks, write notes.")
@click.argument("bump", metavar="major|minor|patch|X.Y.Z")
@cards_dir_argument
@output_option("decks", "Folder for the .apkg files.")
@against_option
@first_option
@handle_errors
def release(bump: str, cards_dir: Path, out_dir: Path, against: Path | None, first: bool) -> None:
    """Release every deck under CARDS_DIR: rehearse the students' upgrade from the last
    release in Anki's engine (stopping on any error), bump the version, stamp version and
    date on the deck overview, add release notes to its CHANGELOG.md, build its package and
    keep a copy as the deck's release record (the next baseline).

    Example: deckgen release minor; the first time: deckgen release 1.0.0 --first
    """
    from deckgen.pipeline.build import build_time
    from deckgen.workflow.baseline import BaselineChoice
    from deckgen.workflow.release import CHANGELOG_FILE, plan_release, write_release

    report = Report()
    with _needs_anki():
        releases = plan_release(
            cards_dir,
            bump=bump,
            now=build_time(os.environ),
            packages_dir=out_dir,
            baseline=BaselineChoice(against, first),
            report=report,
        )
    print_report(report)
    write_release(releases)
    for done in releases:
        deck = done.planned
        result = done.verification
        click.echo(
            f"released {printable(deck.compiled.spec.name)} {done.version} "
            f"(upgrade from {done.baseline.label}: {result.new} new, {result.updated} "
            f"updated, {result.unchanged} unchanged, {result.retired} retired): "
            f"{display_path(deck.package_path)}, "
            f"notes in {display_path(deck.compiled.spec.folder / CHANGELOG_FILE)}, "
            f"recorded as {display_path(done.record)}"
        )
