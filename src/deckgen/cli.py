"""The command line: parses arguments, calls the library, maps its one error type to exit codes.

Exit codes: 0 clean (warnings allowed), 1 errors in the cards or stale outputs, 2 usage errors,
3 a bug in deckgen.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import click

from deckgen import __version__
from deckgen.build import build_time, compile_project, plan, write, write_bodymaps
from deckgen.diagnostics import DeckgenError, Report, SourceErrors, display_path, plural

P = ParamSpec("P")
R = TypeVar("R")

_cards_dir_argument = click.argument(
    "cards_dir",
    default="cards",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)


def _output_option(default: str, help_text: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    return click.option(
        "-o",
        "--output",
        "out_dir",
        default=default,
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help=help_text,
    )


def _print_report(report: Report) -> None:
    for diagnostic in report.sorted():
        click.echo(str(diagnostic), err=True)


def _handle_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Every command reports problems the same way: diagnostics, one line, an exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except SourceErrors as exc:
            _print_report(exc.report)
            click.echo(f"deckgen: {exc}", err=True)
            raise SystemExit(exc.exit_code) from None
        except DeckgenError as exc:
            click.echo(f"deckgen: error: {exc}", err=True)
            raise SystemExit(exc.exit_code) from None
        except Exception as exc:  # the promise is "never a traceback", even for our own bugs
            click.echo(
                f"deckgen: internal error: {exc.__class__.__name__}: {exc}\n"
                "nothing was written; please report this with the command you ran",
                err=True,
            )
            raise SystemExit(3) from None

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deckgen")
def cli() -> None:
    """Compile flashcards written in YAML into Anki packages that update in place."""


@cli.command()
@_cards_dir_argument
@_output_option("decks", "Folder for the .apkg files.")
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Write nothing; exit 1 if a package or lock file is out of date.",
)
@_handle_errors
def build(cards_dir: Path, out_dir: Path, check_only: bool) -> None:
    """Compile every deck under CARDS_DIR (default: cards) into OUT_DIR/<deck folder>.apkg.

    Example: deckgen build cards -o decks
    """
    report = Report()
    compiled = compile_project(cards_dir, now=build_time(os.environ), report=report)
    planned = plan(compiled, out_dir)
    _print_report(report)
    if check_only:
        stale = [deck for deck in planned if deck.changed]
        for deck in stale:
            if deck.package_changed:
                click.echo(f"stale: {display_path(deck.package_path)} would change")
            if deck.lock_changed:
                click.echo(f"stale: {display_path(deck.lock_path)} would change")
        if stale:
            click.echo(f"{plural(len(stale), 'deck')} out of date: run 'deckgen build'")
            raise SystemExit(1)
        click.echo(f"up to date: {plural(len(planned), 'deck')}; {report.summary()}")
        return
    for leftover in write(planned):
        click.echo(f"removed {display_path(leftover)}, left behind by a killed build")
    for deck in planned:
        state = "wrote" if deck.changed else "up to date"
        click.echo(
            f"{state}: {display_path(deck.package_path)} "
            f"({plural(len(deck.compiled.notes), 'card')}, "
            f"{plural(len(deck.compiled.media), 'image')})"
        )
    click.echo(f"built {plural(len(planned), 'deck')}; {report.summary()}")


@cli.command()
@_cards_dir_argument
@_handle_errors
def check(cards_dir: Path) -> None:
    """Check every deck under CARDS_DIR (default: cards) without writing anything.

    Example: deckgen check cards
    """
    report = Report()
    compiled = compile_project(cards_dir, now=build_time(os.environ), report=report)
    _print_report(report)
    click.echo(
        f"checked {plural(len(compiled), 'deck')}, "
        f"{plural(sum(len(deck.notes) for deck in compiled), 'card')}; {report.summary()}"
    )


@cli.command()
@_cards_dir_argument
@_output_option("maps", "Folder for the pictures: <deck folder>/<card id>.svg.")
@_handle_errors
def maps(cards_dir: Path, out_dir: Path) -> None:
    """Draw every card's body map into OUT_DIR so authors can look at them.

    Example: deckgen maps cards -o maps
    """
    report = Report()
    compiled = compile_project(cards_dir, now=build_time(os.environ), report=report)
    _print_report(report)
    written = write_bodymaps(compiled, out_dir)
    click.echo(f"wrote {plural(written, 'body map')} to {display_path(out_dir)}")


def main() -> None:
    cli(prog_name="deckgen")
