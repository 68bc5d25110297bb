"""``deckgen build``, ``check`` and ``watch``: the decks compiled, checked, or rebuilt on every
change."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from deckgen.cli.main import (
    cards_dir_argument,
    cli,
    exit_code_of,
    format_option,
    handle_errors,
    new_lock_option,
    output_option,
)
from deckgen.cli.review import write_preview_site
from deckgen.diagnostics import Report, display_path
from deckgen.output import Output


@cli.command(short_help="Compile the decks into .apkg packages.")
@cards_dir_argument
@output_option("decks", "Folder for the .apkg files.")
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Write nothing; exit 1 if a package or lock file is out of date.",
)
@new_lock_option
@format_option
@handle_errors
def build(
    cards_dir: Path, out_dir: Path, check_only: bool, new_lock: bool, output_format: str
) -> None:
    """Compile every deck under CARDS_DIR (default: cards) into OUT_DIR/<deck folder>.apkg.

    Example: deckgen build cards -o decks
    """
    if not _build(
        cards_dir, out_dir, check_only=check_only, output=Output(output_format), new_lock=new_lock
    ):
        raise SystemExit(1)


def _build(
    cards_dir: Path, out_dir: Path, *, check_only: bool, output: Output, new_lock: bool = False
) -> bool:
    """``build_project`` with a progress bar on a terminal; False when outputs are stale."""
    from deckgen.pipeline.freshness import replayed

    if replayed(cards_dir, out_dir, "check" if check_only else "build", output):
        return True  # decided before importing the pipeline: a no-op costs its hashing only
    from deckgen.pipeline.project import build_project
    from deckgen.workflow.progress import progress_bar

    return build_project(
        cards_dir,
        out_dir,
        check_only=check_only,
        output=output,
        new_lock=new_lock,
        start_progress=(
            (lambda: progress_bar(cards_dir, sys.stderr)) if output.format == "text" else None
        ),
    )


@cli.command(short_help="Rebuild whenever a card file or image changes.")
@cards_dir_argument
@output_option("decks", "Folder for the .apkg files.")
@click.option(
    "--preview",
    "preview_dir",
    default="preview",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Refreshed with 'deckgen preview' after each good build, when the folder exists.",
)
@handle_errors
def watch(cards_dir: Path, out_dir: Path, preview_dir: Path) -> None:
    """Rebuild whenever a card file or image under CARDS_DIR changes; Ctrl-C stops.

    Errors are shown and the last good package is kept until they are fixed.

    Example: deckgen watch cards
    """
    from deckgen.workflow.watch import Watcher

    def rebuild(changes: list[Path]) -> None:
        if changes:
            shown = ", ".join(display_path(path) for path in changes[:3])
            more = f" and {len(changes) - 3} more" if len(changes) > 3 else ""
            click.echo(f"changed: {shown}{more}")
        built = exit_code_of(lambda: _build(cards_dir, out_dir, check_only=False, output=Output()))
        if built == 0:  # else the errors are printed, nothing was written: the last good stays
            refresh_preview(cards_dir, preview_dir)

    click.echo(f"watching {display_path(cards_dir)} for changes; Ctrl-C stops")
    try:
        Watcher(cards_dir, rebuild).run()
    except KeyboardInterrupt:
        click.echo("stopped watching")


def refresh_preview(cards_dir: Path, preview_dir: Path) -> None:
    """The preview hook of ``watch``: an existing preview folder is rewritten as ``deckgen
    preview`` would (by the library: folder names are never parsed again as options). On
    errors they are printed and the last preview stays."""
    if preview_dir.is_dir():
        exit_code_of(lambda: write_preview_site(cards_dir, preview_dir, Output()))


@cli.command(short_help="Check the decks without writing anything.")
@cards_dir_argument
@new_lock_option
@format_option
@handle_errors
def check(cards_dir: Path, new_lock: bool, output_format: str) -> None:
    """Check every deck under CARDS_DIR (default: cards) without writing anything.

    Example: deckgen check cards
    """
    from deckgen.pipeline.freshness import DEFAULT_PACKAGES_DIR, replayed

    output = Output(output_format)
    # Unchanged since a build with nothing to do: answered without importing the pipeline.
    if not new_lock and replayed(cards_dir, DEFAULT_PACKAGES_DIR, "checked", output):
        return
    from deckgen.pipeline.cache import BuildCache
    from deckgen.pipeline.project import checked_summary, count_cards

    report = Report()
    # The same per-file cache as build: the pre-commit hook runs check on every commit.
    counts = count_cards(
        cards_dir, report, cache=BuildCache.for_cards(cards_dir), lock_required=not new_lock
    )
    output.report(report)
    output.say(checked_summary(counts, report))
