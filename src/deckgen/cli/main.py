"""The command line's group and what its commands share: the options, the one way errors are
reported, the exit codes. Each command lives in a module by what it is for (build.py: build,
check, watch; review.py: lint, preview, stats, maps, schema, init; release.py: verify,
changelog, release) and only parses, calls one library function and prints its result.

Exit codes: 0 clean (warnings allowed), 1 errors in the cards, stale outputs or an upgrade that
would hurt students (verify), 2 usage errors, 3 a bug in deckgen.
"""

from __future__ import annotations

import functools
import signal
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import NoReturn, ParamSpec, TypeVar

import click

from deckgen.diagnostics import (
    DeckgenError,
    Report,
    SourceErrors,
    printable_message,
)
from deckgen.output import FORMATS, Output

# Commands import the library when they run: it pulls in genanki, markdown-it and nh3, which
# would make `deckgen --help` slow.

P = ParamSpec("P")
R = TypeVar("R")


def _default_cards_dir() -> str:
    """``cards`` where it exists; inside a deck folder (``deckgen init`` makes one in the
    current folder) that folder itself; otherwise a usage error that says what to do."""
    if Path("cards").is_dir():
        return "cards"
    from deckgen.cards.validate import DECK_FILE  # not before: it costs a no-op build YAML's import

    if Path(DECK_FILE).is_file():
        return "."
    raise click.UsageError(
        "no 'cards' folder here: run deckgen where 'cards' is, pass the cards folder "
        f"(e.g. deckgen {click.get_current_context().info_name} path/to/cards), or start a "
        "deck with 'deckgen init'"
    )


cards_dir_argument = click.argument(
    "cards_dir",
    default=_default_cards_dir,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)


def output_option(default: str, help_text: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    return click.option(
        "-o",
        "--output",
        "out_dir",
        default=default,
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help=help_text,
    )


against_option = click.option(
    "--against",
    type=click.Path(exists=True, path_type=Path),
    help="What students have: the last release's package, or a folder of packages named "
    "after the deck folders (default: the release recorded in each deck folder).",
)

first_option = click.option(
    "--first",
    is_flag=True,
    help="Decks never released before are released for the first time (students have nothing yet).",
)

new_lock_option = click.option(
    "--new-lock",
    is_flag=True,
    help="Start a fresh deck.lock on purpose although students have the deck (every note "
    "gets a new time, which overwrites students' own edits on their next import).",
)

format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Diagnostics as text, a JSON array on stdout, or GitHub Actions annotations.",
)


def print_report(report: Report) -> None:
    Output().report(report)


def handle_errors(command: Callable[P, None]) -> Callable[P, None]:
    """Every command reports problems the same way: diagnostics, one line, an exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        output_format = str(kwargs.get("output_format", "text"))
        code = exit_code_of(functools.partial(command, *args, **kwargs), output_format)
        if code:
            raise SystemExit(code)

    return wrapper


def exit_code_of(call: Callable[[], object], output_format: str = "text") -> int:
    """Run ``call`` and print what went wrong, if anything, as every command does: the errors
    in the cards, then one line; returns the exit code (0 when ``call`` ran through). An exit
    that ``call`` asks for itself (SystemExit) passes through."""
    try:
        call()
    except SourceErrors as exc:
        Output(output_format).report(exc.report)
        click.echo(f"deckgen: {exc}", err=True)
        return exc.exit_code
    except DeckgenError as exc:
        click.echo(f"deckgen: error: {exc}", err=True)
        return exc.exit_code
    except Exception as exc:  # the promise is "never a traceback", even for our own bugs
        click.echo(
            f"deckgen: internal error: {exc.__class__.__name__}: "
            f"{printable_message(str(exc))}\n"
            "nothing was written; please report this with the command you ran",
            err=True,
        )
        return 3
    return 0


def _show_version(context: click.Context, _: click.Parameter, wanted: bool) -> None:
    if not wanted or context.resilient_parsing:
        return
    from deckgen import __version__  # looked up only when asked: it is slow to find

    click.echo(f"deckgen, version {__version__}")
    context.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the version and exit.",
)
@click.pass_context
def cli(context: click.Context) -> None:
    """Compile flashcards written in YAML into Anki packages that update in place."""
    if context.invoked_subcommand is None:  # plain `deckgen`: show what it can do
        click.echo(context.get_help())


def main() -> None:
    # Stopped by SIGTERM (a CI timeout, a service manager stopping `deckgen watch`), a command
    # unwinds as on Ctrl-C: its temporary files (a package's collection) are removed, and
    # nothing half-written is left, where the default would exit on the spot.
    signal.signal(signal.SIGTERM, _stopped)
    cli(prog_name="deckgen")


def _stopped(signum: int, _: FrameType | None) -> NoReturn:
    raise SystemExit(128 + signum)
