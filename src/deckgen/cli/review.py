"""``deckgen lint``, ``preview``, ``stats``, ``maps``, ``schema`` and ``init``: what authors
run to look at their cards and to start a deck."""

from __future__ import annotations

from pathlib import Path

import click

from deckgen.cli.main import (
    cards_dir_argument,
    cli,
    format_option,
    handle_errors,
    output_option,
    print_report,
)
from deckgen.diagnostics import Report, display_path, plural
from deckgen.output import Output

SCHEMA_KINDS = ("deck", "cards")
"""schema.KINDS, written out so that `deckgen --help` need not import the schema."""


@cli.command(short_help="Warn about cards that are hard to learn from.")
@cards_dir_argument
@click.option("--strict", is_flag=True, help="Exit 1 when there is any finding.")
@format_option
@handle_errors
def lint(cards_dir: Path, strict: bool, output_format: str) -> None:
    """Warn about cards that are valid but hard to learn from (rules: docs/commands.md).

    Silence a rule with `lint: {ignore: [rule]}` in deck.yaml or on a card.

    Example: deckgen lint cards --strict
    """
    output = Output(output_format)
    # Unchanged since the last lint: what it said, without importing the pipeline.
    warnings = _replayed(cards_dir, "lint", output) if output.format == "text" else None
    if warnings is None:
        from deckgen.anki.compiled import total_counts
        from deckgen.pipeline.project import Review
        from deckgen.workflow.lint import lint as lint_decks

        report = Report()
        review = Review(cards_dir, record=output.format == "text")
        compiled = review.compile(report, authored=True)
        lint_decks(compiled, report)
        summary = (
            f"linted {plural(len(compiled), 'deck')}, {total_counts(compiled)}; "
            f"{plural(report.warning_count, 'warning')}"
        )
        output.report(report)
        output.say(summary)
        review.remember("lint", report, [summary])
        warnings = report.warning_count
    if strict and warnings:
        raise SystemExit(1)


@cli.command(short_help="Write every card as Anki shows it, as web pages.")
@cards_dir_argument
@output_option("preview", "Folder for the site: OUT_DIR/index.html and the images.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the browser.")
@format_option
@handle_errors
def preview(cards_dir: Path, out_dir: Path, open_browser: bool, output_format: str) -> None:
    """Write every card's front and back, as Anki shows them, into a static web page.

    Example: deckgen preview cards --open
    """
    from deckgen.workflow.preview import open_in_browser

    output = Output(output_format)
    index = write_preview_site(cards_dir, out_dir, output)
    if open_browser and not open_in_browser(index):
        output.say(f"no browser could be opened here: open {display_path(index)} yourself")


def write_preview_site(cards_dir: Path, out_dir: Path, output: Output) -> Path:
    """Compile and write the review site, saying what was written; returns its page."""
    from deckgen.pipeline.project import Review
    from deckgen.workflow.preview import write_preview

    report = Report()
    # The page shows the notes and where each card is written: the cache keeps both.
    compiled = Review(cards_dir).compile(report)
    output.report(report)
    site = write_preview(compiled, out_dir)
    output.say(f"wrote {display_path(site.index)} ({site.counts}, {plural(site.media, 'image')})")
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
@handle_errors
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
@cards_dir_argument
@handle_errors
def stats(cards_dir: Path) -> None:
    """Count notes and cards per subdeck, type and tag, images, body maps, sources, lint.

    Example: deckgen stats cards
    """
    # Unchanged since the last stats: what it said, without importing the pipeline.
    if _replayed(cards_dir, "stats", Output()) is not None:
        return
    from deckgen.pipeline.project import Review
    from deckgen.workflow.lint import lint as lint_decks
    from deckgen.workflow.stats import stats_text

    report = Report()
    review = Review(cards_dir, record=True)
    compiled = review.compile(report, authored=True)
    print_report(report)
    findings = Report()
    lint_decks(compiled, findings)
    text = stats_text(compiled, findings)
    click.echo(text)
    review.remember("stats", report, text.split("\n"))


@cli.command(short_help="Draw every card's body map for a look.")
@cards_dir_argument
@output_option("maps", "Folder for the pictures: <deck folder>/<card id>.svg.")
@format_option
@handle_errors
def maps(cards_dir: Path, out_dir: Path, output_format: str) -> None:
    """Draw every card's body map into OUT_DIR so authors can look at them.

    Example: deckgen maps cards -o maps
    """
    from deckgen.pipeline.build import write_bodymaps
    from deckgen.pipeline.project import Review

    report = Report()
    # The pictures are what the cache keeps of each card: an unchanged file is not redrawn.
    output = Output(output_format)
    compiled = Review(cards_dir).compile(report)
    output.report(report)
    written = write_bodymaps(compiled, out_dir)
    output.say(f"wrote {plural(written, 'body map')} to {display_path(out_dir)}")


def _replayed(cards_dir: Path, command: str, output: Output) -> int | None:
    """Print what ``command`` printed when it last found the project exactly as it is now,
    and return the warnings it counted; None when it must run."""
    from deckgen.pipeline.freshness import recorded_review

    recorded = recorded_review(cards_dir, command)
    if recorded is None:
        return None
    lines, warnings = recorded
    for line, to_stderr in lines:
        output.replay(line, to_stderr=to_stderr)
    return warnings
