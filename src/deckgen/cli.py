"""The command line: parses arguments, calls the library, maps its one error type to exit codes.

Exit codes: 0 clean (warnings allowed), 1 errors in the cards or stale outputs, 2 usage errors,
3 a bug in deckgen.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click

from deckgen.diagnostics import DeckgenError, Report, SourceErrors, display_path, plural

# Commands import the pipeline when they run: it pulls in genanki, markdown-it and nh3, which
# would make `deckgen --help` slow.

if TYPE_CHECKING:
    from deckgen.build import PlannedDeck

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


def _show_version(context: click.Context, _: click.Parameter, wanted: bool) -> None:
    if not wanted or context.resilient_parsing:
        return
    from deckgen import __version__  # looked up only when asked: it is slow to find

    click.echo(f"deckgen, version {__version__}")
    context.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the version and exit.",
)
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
    _build(cards_dir, out_dir, check_only=check_only)


def _build(cards_dir: Path, out_dir: Path, *, check_only: bool) -> None:
    from deckgen.build import build_time, compile_project, plan, remember_packages, write
    from deckgen.cache import BuildCache, project_state

    now = build_time(os.environ)
    cache = BuildCache.for_cards(cards_dir)
    # Nothing changed since a build that left nothing to do: say what that build said.
    state = project_state(cards_dir, out_dir)
    recorded = cache.quiet_output(state, "check" if check_only else "build") if state else None
    if recorded is not None:
        for line, to_stderr in recorded:
            click.echo(line, err=to_stderr)
        return

    report = Report()
    compiled = compile_project(cards_dir, now=now, report=report, cache=cache)
    planned = plan(compiled, out_dir, cache=cache)
    _print_report(report)
    if check_only:
        remember_packages([deck for deck in planned if not deck.package_changed], cache)
        stale = [deck for deck in planned if deck.changed]
        for deck in stale:
            if deck.package_changed:
                click.echo(f"stale: {display_path(deck.package_path)} would change")
            if deck.lock_changed:
                click.echo(f"stale: {display_path(deck.lock_path)} would change")
        if stale:
            click.echo(f"{plural(len(stale), 'deck')} out of date: run 'deckgen build'")
            raise SystemExit(1)
        click.echo(_checked_line(planned, report))
    else:
        write(planned)
        remember_packages(planned, cache)
        for deck in planned:
            click.echo(_deck_line("wrote" if deck.changed else "up to date", deck))
        click.echo(_built_line(planned, report))
        if any(deck.changed for deck in planned) and report.warning_count:
            return  # some warnings (a card's changed type) depend on the lock just replaced
    # The project is now in a state where building again has nothing to do.
    state = project_state(cards_dir, out_dir)
    if state is not None:
        diagnostics = [(str(diagnostic), True) for diagnostic in report.sorted()]
        up_to_date = [(_deck_line("up to date", deck), False) for deck in planned]
        cache.remember_quiet_output(
            state,
            {
                "build": [*diagnostics, *up_to_date, (_built_line(planned, report), False)],
                "check": [*diagnostics, (_checked_line(planned, report), False)],
            },
        )


def _deck_line(state: str, deck: PlannedDeck) -> str:
    return (
        f"{state}: {display_path(deck.package_path)} "
        f"({plural(len(deck.compiled.notes), 'card')}, "
        f"{plural(len(deck.compiled.media), 'image')})"
    )


def _built_line(planned: list[PlannedDeck], report: Report) -> str:
    return f"built {plural(len(planned), 'deck')}; {report.summary()}"


def _checked_line(planned: list[PlannedDeck], report: Report) -> str:
    return f"up to date: {plural(len(planned), 'deck')}; {report.summary()}"


@cli.command()
@_cards_dir_argument
@_output_option("decks", "Folder for the .apkg files.")
@click.option(
    "--preview",
    "preview_dir",
    default="preview",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Refreshed with 'deckgen preview' after each good build, when the folder exists.",
)
@_handle_errors
def watch(cards_dir: Path, out_dir: Path, preview_dir: Path) -> None:
    """Rebuild whenever a card file or image under CARDS_DIR changes; Ctrl-C stops.

    Errors are shown and the last good package is kept until they are fixed.

    Example: deckgen watch cards
    """
    from deckgen.watch import Watcher

    build_reporting_errors = _handle_errors(_build)

    def rebuild(changes: list[Path]) -> None:
        if changes:
            shown = ", ".join(display_path(path) for path in changes[:3])
            more = f" and {len(changes) - 3} more" if len(changes) > 3 else ""
            click.echo(f"changed: {shown}{more}")
        try:
            build_reporting_errors(cards_dir, out_dir, check_only=False)
        except SystemExit:
            return  # the errors are printed; nothing was written, the last good package stays
        _refresh_preview(cards_dir, preview_dir)

    click.echo(f"watching {display_path(cards_dir)} for changes; Ctrl-C stops")
    try:
        Watcher(cards_dir, rebuild).run()
    except KeyboardInterrupt:
        click.echo("stopped watching")


def _refresh_preview(cards_dir: Path, preview_dir: Path) -> None:
    """The preview hook of ``watch``: an existing preview folder is rewritten by the preview
    command, when this deckgen has one."""
    preview = cli.commands.get("preview")
    if preview is None or not preview_dir.is_dir():
        return
    try:
        preview.main(
            [str(cards_dir), "-o", str(preview_dir)],
            prog_name="deckgen preview",
            standalone_mode=False,
        )
    except SystemExit:
        pass  # the preview command printed its own errors
    except click.ClickException as exc:
        exc.show()


@cli.command()
@_cards_dir_argument
@_handle_errors
def check(cards_dir: Path) -> None:
    """Check every deck under CARDS_DIR (default: cards) without writing anything.

    Example: deckgen check cards
    """
    from deckgen.build import build_time, compile_project
    from deckgen.cache import BuildCache

    report = Report()
    cache = BuildCache.for_cards(cards_dir)
    compiled = compile_project(cards_dir, now=build_time(os.environ), report=report, cache=cache)
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
    from deckgen.build import build_time, compile_project, write_bodymaps
    from deckgen.cache import BuildCache

    report = Report()
    cache = BuildCache.for_cards(cards_dir)
    compiled = compile_project(cards_dir, now=build_time(os.environ), report=report, cache=cache)
    _print_report(report)
    written = write_bodymaps(compiled, out_dir)
    click.echo(f"wrote {plural(written, 'body map')} to {display_path(out_dir)}")


def main() -> None:
    cli(prog_name="deckgen")
