"""The command line: parses arguments, calls the library, maps its one error type to exit codes.

Exit codes: 0 clean (warnings allowed), 1 errors in the cards, stale outputs or an upgrade that
would hurt students (verify), 2 usage errors, 3 a bug in deckgen.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click

from deckgen import DISTRIBUTION
from deckgen.diagnostics import (
    DeckgenError,
    Location,
    Report,
    SourceErrors,
    display_path,
    plural,
    printable,
    printable_message,
)
from deckgen.output import FORMATS, Output

# Commands import the pipeline when they run: it pulls in genanki, markdown-it and nh3, which
# would make `deckgen --help` slow.
if TYPE_CHECKING:
    from deckgen.anki.compiled import CompiledDeck
    from deckgen.pipeline.build import PlannedDeck
    from deckgen.pipeline.cache import BuildCache

SCHEMA_KINDS = ("deck", "cards")
"""schema.KINDS, written out so that `deckgen --help` need not import the schema."""

VERIFY_INSTALL_HINT = (
    "verify needs Anki's engine, deckgen's verify extra: in deckgen's checkout run "
    "pip install -e '.[verify]' (or, with the repository and commit of your deckgen, "
    f"pip install '{DISTRIBUTION}[verify] @ git+https://github.com/OWNER/deckgen@COMMIT')"
)
"""Names deckgen's own distribution: the public index's "deckgen" is another project."""

DEFAULT_PACKAGES_DIR = Path("decks")
"""Where packages are written, and where the last release is found unless told otherwise."""

P = ParamSpec("P")
R = TypeVar("R")


def _default_cards_dir() -> str:
    """``cards`` where it exists; inside a deck folder (``deckgen init`` makes one in the
    current folder) that folder itself; otherwise a usage error that says what to do."""
    from deckgen.cards.validate import DECK_FILE

    if Path("cards").is_dir():
        return "cards"
    if Path(DECK_FILE).is_file():
        return "."
    raise click.UsageError(
        "no 'cards' folder here: run deckgen where 'cards' is, pass the cards folder "
        "(e.g. deckgen build path/to/cards), or start a deck with 'deckgen init'"
    )


_cards_dir_argument = click.argument(
    "cards_dir",
    default=_default_cards_dir,
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


_against_option = click.option(
    "--against",
    type=click.Path(exists=True, path_type=Path),
    help="What students have: the last release's package, or a folder of packages named "
    "after the deck folders (default: the release recorded in each deck folder).",
)

_first_option = click.option(
    "--first",
    is_flag=True,
    help="Decks never released before are released for the first time (students have nothing yet).",
)

_new_lock_option = click.option(
    "--new-lock",
    is_flag=True,
    help="Start a fresh deck.lock on purpose although students have the deck (every note "
    "gets a new time, which overwrites students' own edits on their next import).",
)

_format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Diagnostics as text, a JSON array on stdout, or GitHub Actions annotations.",
)


def _print_report(report: Report) -> None:
    Output().report(report)


def _handle_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Every command reports problems the same way: diagnostics, one line, an exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except SourceErrors as exc:
            output = Output(str(kwargs.get("output_format", "text")))
            output.report(exc.report)
            click.echo(f"deckgen: {exc}", err=True)
            raise SystemExit(exc.exit_code) from None
        except DeckgenError as exc:
            click.echo(f"deckgen: error: {exc}", err=True)
            raise SystemExit(exc.exit_code) from None
        except Exception as exc:  # the promise is "never a traceback", even for our own bugs
            click.echo(
                f"deckgen: internal error: {exc.__class__.__name__}: "
                f"{printable_message(str(exc))}\n"
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


@cli.command(short_help="Compile the decks into .apkg packages.")
@_cards_dir_argument
@_output_option("decks", "Folder for the .apkg files.")
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Write nothing; exit 1 if a package or lock file is out of date.",
)
@_new_lock_option
@_format_option
@_handle_errors
def build(
    cards_dir: Path, out_dir: Path, check_only: bool, new_lock: bool, output_format: str
) -> None:
    """Compile every deck under CARDS_DIR (default: cards) into OUT_DIR/<deck folder>.apkg.

    Example: deckgen build cards -o decks
    """
    _build(
        cards_dir, out_dir, check_only=check_only, output=Output(output_format), new_lock=new_lock
    )


def _build(
    cards_dir: Path, out_dir: Path, *, check_only: bool, output: Output, new_lock: bool = False
) -> None:
    from deckgen.pipeline.build import cycle_collection_paused, plan, remember_packages, write
    from deckgen.pipeline.cache import CACHE_DIR, BuildCache, project_state
    from deckgen.workflow.progress import progress_bar

    report = Report()
    cache = BuildCache.for_cards(cards_dir)
    if cache.refused is not None:
        report.warning(Location(cards_dir / CACHE_DIR), cache.refused)
    # Nothing changed since a build that left nothing to do: say what that build said. The
    # record is of text output, so other formats always build.
    replay = output.format == "text"
    state = project_state(cards_dir, out_dir) if replay else None
    recorded = cache.quiet_output(state, "check" if check_only else "build") if state else None
    if recorded is not None:
        for line, to_stderr in recorded:  # read back from the cache folder: escaped again
            click.echo(printable(line), err=to_stderr)
        return

    bar = progress_bar(cards_dir, sys.stderr) if output.format == "text" else None
    with cycle_collection_paused():
        try:
            compiled = _compile(
                cards_dir,
                report,
                packages_dir=out_dir,
                cache=cache,
                on_file_done=bar.advance if bar is not None else None,
                lock_required=not new_lock,
            )
        finally:
            if bar is not None:
                bar.finish()
        planned = plan(compiled, out_dir, cache=cache)
    output.report(report)
    counts = {deck.package_path: _notes_and_cards([deck.compiled]) for deck in planned}
    if check_only:
        remember_packages([deck for deck in planned if not deck.package_changed], cache)
        stale = [deck for deck in planned if deck.changed]
        for deck in stale:
            if deck.package_changed:
                output.say(f"stale: {display_path(deck.package_path)} would change")
            if deck.lock_changed:
                output.say(f"stale: {display_path(deck.lock_path)} would change")
        if stale:
            output.say(f"{plural(len(stale), 'deck')} out of date: run 'deckgen build'")
            raise SystemExit(1)
        output.say(_checked_line(planned, report))
    else:
        for leftover in write(planned):
            output.say(f"removed {display_path(leftover)}, left behind by a killed build")
        remember_packages(planned, cache)
        for deck in planned:
            output.say(_deck_line("wrote" if deck.changed else "up to date", deck, counts))
        output.say(_built_line(planned, report))
        if any(deck.changed for deck in planned) and report.warning_count:
            return  # some warnings (a card's changed type) depend on the lock just replaced
    # The project is now in a state where building again has nothing to do.
    state = project_state(cards_dir, out_dir) if replay else None
    if state is not None:
        diagnostics = [(str(diagnostic), True) for diagnostic in report.sorted()]
        up_to_date = [(_deck_line("up to date", deck, counts), False) for deck in planned]
        cache.remember_quiet_output(
            state,
            {
                "build": [*diagnostics, *up_to_date, (_built_line(planned, report), False)],
                "check": [*diagnostics, (_checked_line(planned, report), False)],
            },
        )


def _deck_line(state: str, deck: PlannedDeck, counts: dict[Path, str]) -> str:
    return (
        f"{state}: {display_path(deck.package_path)} "
        f"({counts[deck.package_path]}, "
        f"{plural(len(deck.compiled.media), 'image')})"
    )


def _built_line(planned: list[PlannedDeck], report: Report) -> str:
    return f"built {plural(len(planned), 'deck')}; {report.summary()}"


def _checked_line(planned: list[PlannedDeck], report: Report) -> str:
    return f"up to date: {plural(len(planned), 'deck')}; {report.summary()}"


@cli.command(short_help="Rebuild whenever a card file or image changes.")
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
    from deckgen.workflow.watch import Watcher

    build_reporting_errors = _handle_errors(_build)

    def rebuild(changes: list[Path]) -> None:
        if changes:
            shown = ", ".join(display_path(path) for path in changes[:3])
            more = f" and {len(changes) - 3} more" if len(changes) > 3 else ""
            click.echo(f"changed: {shown}{more}")
        try:
            build_reporting_errors(cards_dir, out_dir, check_only=False, output=Output())
        except SystemExit:
            return  # the errors are printed; nothing was written, the last good package stays
        _refresh_preview(cards_dir, preview_dir)

    click.echo(f"watching {display_path(cards_dir)} for changes; Ctrl-C stops")
    try:
        Watcher(cards_dir, rebuild).run()
    except KeyboardInterrupt:
        click.echo("stopped watching")


def _refresh_preview(cards_dir: Path, preview_dir: Path) -> None:
    """The preview hook of ``watch``: an existing preview folder is rewritten as ``deckgen
    preview`` would (by the library: folder names are never parsed again as options)."""
    if not preview_dir.is_dir():
        return
    with contextlib.suppress(SystemExit):  # the errors are printed; the last preview stays
        _handle_errors(_write_preview)(cards_dir, preview_dir)


def _compile(
    cards_dir: Path,
    report: Report,
    *,
    packages_dir: Path = DEFAULT_PACKAGES_DIR,
    cache: BuildCache | None = None,
    on_file_done: Callable[[], None] | None = None,
    lock_required: bool = False,
) -> list[CompiledDeck]:
    """Compile every deck at the build clock; retired cards come from ``packages_dir``.
    Without a cache every card keeps its checked spec, which lint, stats and preview read."""
    from deckgen.pipeline.build import build_time, compile_project

    return compile_project(
        cards_dir,
        now=build_time(os.environ),
        report=report,
        packages_dir=packages_dir,
        cache=cache,
        on_file_done=on_file_done,
        lock_required=lock_required,
    )


def _notes_and_cards(compiled: list[CompiledDeck]) -> str:
    from deckgen.anki.compiled import total_counts

    return str(total_counts(compiled))


@cli.command(short_help="Check the decks without writing anything.")
@_cards_dir_argument
@_new_lock_option
@_format_option
@_handle_errors
def check(cards_dir: Path, new_lock: bool, output_format: str) -> None:
    """Check every deck under CARDS_DIR (default: cards) without writing anything.

    Example: deckgen check cards
    """
    from deckgen.pipeline.cache import BuildCache

    output = Output(output_format)
    report = Report()
    # The same per-file cache as build: the pre-commit hook runs check on every commit.
    compiled = _compile(
        cards_dir, report, cache=BuildCache.for_cards(cards_dir), lock_required=not new_lock
    )
    output.report(report)
    output.say(
        f"checked {plural(len(compiled), 'deck')}, {_notes_and_cards(compiled)}; {report.summary()}"
    )


@cli.command(short_help="Warn about cards that are hard to learn from.")
@_cards_dir_argument
@click.option("--strict", is_flag=True, help="Exit 1 when there is any finding.")
@_format_option
@_handle_errors
def lint(cards_dir: Path, strict: bool, output_format: str) -> None:
    """Warn about cards that are valid but hard to learn from (see the README for the rules).

    Silence a rule with `lint: {ignore: [rule]}` in deck.yaml or on a card.

    Example: deckgen lint cards --strict
    """
    from deckgen.workflow.lint import lint as lint_decks

    output = Output(output_format)
    report = Report()
    compiled = _compile(cards_dir, report)
    lint_decks(compiled, report)
    output.report(report)
    output.say(
        f"linted {plural(len(compiled), 'deck')}, {_notes_and_cards(compiled)}; "
        f"{plural(report.warning_count, 'warning')}"
    )
    if strict and report.warning_count:
        raise SystemExit(1)


@cli.command(short_help="Write every card as Anki shows it, as web pages.")
@_cards_dir_argument
@_output_option("preview", "Folder for the site: OUT_DIR/index.html and the images.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the browser.")
@_handle_errors
def preview(cards_dir: Path, out_dir: Path, open_browser: bool) -> None:
    """Write every card's front and back, as Anki shows them, into a static web page.

    Example: deckgen preview cards --open
    """
    from deckgen.workflow.preview import open_in_browser

    index = _write_preview(cards_dir, out_dir)
    if open_browser and not open_in_browser(index):
        click.echo(f"no browser could be opened here: open {display_path(index)} yourself")


def _write_preview(cards_dir: Path, out_dir: Path) -> Path:
    """Compile and write the review site; returns its page."""
    from deckgen.workflow.preview import write_preview

    report = Report()
    compiled = _compile(cards_dir, report)
    _print_report(report)
    site = write_preview(compiled, out_dir)
    click.echo(f"wrote {display_path(site.index)} ({site.counts}, {plural(site.media, 'image')})")
    return site.index


@cli.command(short_help="Print a JSON Schema for editors.")
@click.option(
    "--for",
    "kind",
    type=click.Choice(SCHEMA_KINDS),
    default="cards",
    show_default=True,
    help="deck: the schema of deck.yaml; cards: the schema of card files.",
)
def schema(kind: str) -> None:
    """Print a JSON Schema (2020-12) for editors: completion and inline errors.

    Example: deckgen schema --for cards > .deckgen/cards.schema.json
    """
    from deckgen.workflow.schema import schema_text

    click.echo(schema_text(kind), nl=False)


@cli.command(short_help="Start a deck with an example of every card type.")
@click.argument("folder", default=".", type=click.Path(file_okay=False, path_type=Path))
@_handle_errors
def init(folder: Path) -> None:
    """Start a deck in FOLDER (default: here): deck.yaml with a fresh id and example cards.

    Example: deckgen init cards/my-deck
    """
    from deckgen.workflow.scaffold import init_deck

    scaffold = init_deck(folder, repository=Path("."))
    for path in scaffold.files:
        click.echo(f"wrote {display_path(path)}")
    click.echo(f"deck id: {scaffold.deck_id} (never change it once students have the deck)")


@cli.command(short_help="Count notes and cards per subdeck, type and tag.")
@_cards_dir_argument
@_handle_errors
def stats(cards_dir: Path) -> None:
    """Count notes and cards per subdeck, type and tag, images, body maps, sources, lint.

    Example: deckgen stats cards
    """
    from deckgen.workflow.lint import lint as lint_decks
    from deckgen.workflow.stats import stats_text

    report = Report()
    compiled = _compile(cards_dir, report)
    _print_report(report)
    findings = Report()
    lint_decks(compiled, findings)
    click.echo(stats_text(compiled, findings))


@cli.command(short_help="Draw every card's body map for a look.")
@_cards_dir_argument
@_output_option("maps", "Folder for the pictures: <deck folder>/<card id>.svg.")
@_handle_errors
def maps(cards_dir: Path, out_dir: Path) -> None:
    """Draw every card's body map into OUT_DIR so authors can look at them.

    Example: deckgen maps cards -o maps
    """
    from deckgen.pipeline.build import write_bodymaps

    report = Report()
    compiled = _compile(cards_dir, report)
    _print_report(report)
    written = write_bodymaps(compiled, out_dir)
    click.echo(f"wrote {plural(written, 'body map')} to {display_path(out_dir)}")


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
    compare: Callable[..., R], cards_dir: Path, against: Path | None, first: bool
) -> R:
    """Run ``verify_project`` or ``changes_since`` against the last release (``--against``,
    ``--first``, else the release recorded in each deck folder) and print what the build
    reported."""
    from deckgen.pipeline.build import build_time
    from deckgen.workflow.baseline import BaselineChoice

    report = Report()
    result = compare(
        cards_dir,
        now=build_time(os.environ),
        packages_dir=DEFAULT_PACKAGES_DIR,
        baseline=BaselineChoice(against, first),
        report=report,
    )
    _print_report(report)
    return result


@cli.command(short_help="Rehearse the students' upgrade in Anki's engine.")
@_cards_dir_argument
@_against_option
@_first_option
@_format_option
@_handle_errors
def verify(cards_dir: Path, against: Path | None, first: bool, output_format: str) -> None:
    """Rehearse the students' upgrade with Anki's engine; exit 1 if they would suffer.

    Imports the previous release into a scratch collection, studies every card, then imports
    what the sources build now, and reports duplicates, identity swaps, notetype copies,
    conflicts, lost history and images that would not reach students.

    Example: deckgen verify --against previous.apkg
    """
    with _needs_anki():
        from deckgen.workflow.verify import format_results, verify_project
    results = _since_last_release(verify_project, cards_dir, against, first)
    click.echo(format_results(results, output_format))
    if any(result.failed for result in results):
        raise SystemExit(1)


@cli.command(short_help="Print the cards changed since the last release.")
@_cards_dir_argument
@_against_option
@_first_option
@_handle_errors
def changelog(cards_dir: Path, against: Path | None, first: bool) -> None:
    """Print, in Markdown, the cards added, changed and retired since the last release.

    Example: deckgen changelog --against previous.apkg
    """
    from deckgen.workflow.changelog import changes_since

    click.echo(_since_last_release(changes_since, cards_dir, against, first), nl=False)


@cli.command(short_help="Bump the version, stamp the decks, write notes.")
@click.argument("bump", metavar="major|minor|patch|X.Y.Z")
@_cards_dir_argument
@_output_option("decks", "Folder for the .apkg files.")
@_against_option
@_first_option
@_handle_errors
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
    _print_report(report)
    write_release(releases)
    for done in releases:
        deck = done.planned
        result = done.verification
        click.echo(
            f"released {printable(deck.compiled.spec.name)} {done.version} "
            f"(upgrade from {done.baseline.label}: {result.new} new, {result.updated} "
            f"updated, {result.unchanged} unchanged): {display_path(deck.package_path)}, "
            f"notes in {display_path(deck.compiled.spec.folder / CHANGELOG_FILE)}, "
            f"recorded as {display_path(done.record)}"
        )


def main() -> None:
    cli(prog_name="deckgen")
