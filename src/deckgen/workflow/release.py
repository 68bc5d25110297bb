"""``deckgen release``: bump each deck's version, stamp it on the deck overview, write the
release notes and build.

Everything is computed in memory first; a deck with errors stops the release before anything
is written. The version and date live in deck.yaml and reach students in the deck description
only: no note changes for a release, so no student's edit is overwritten by one.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from dataclasses import dataclass
from pathlib import Path

from deckgen.build import PlannedDeck, package_path, plan, write, write_atomically
from deckgen.diagnostics import DeckgenError, Report, SourceErrors
from deckgen.filestage import FileCompiler, RenderedCard
from deckgen.notes import compile_deck
from deckgen.source.validate import DECK_FILE, DeckSpec, collect_decks
from deckgen.source.versions import BUMPS, DeckRelease, Version, parse_version
from deckgen.workflow.changelog import last_release, release_notes

CHANGELOG_FILE = "CHANGELOG.md"
_CHANGELOG_TITLE = "# Release notes\n"


@dataclass(frozen=True)
class Release:
    """One deck's release, ready to write."""

    planned: PlannedDeck
    version: Version
    notes: str
    """The release notes in Markdown."""
    deck_yaml: str
    changelog: str


def plan_release(
    cards_dir: Path, *, bump: str, now: int, packages_dir: Path, report: Report
) -> list[Release]:
    """Every deck's next release, computed in memory; raises SourceErrors on any error."""
    day = datetime.datetime.fromtimestamp(now, datetime.UTC).date()
    specs = collect_decks(cards_dir, report, load_files=FileCompiler())
    if report.error_count:
        raise SourceErrors(report)
    releases = []
    for spec in specs:
        version = next_version(spec.release.version, bump)
        released = dataclasses.replace(
            spec, release=DeckRelease(version, day, spec.release.drop_retired_after)
        )
        previous_package = package_path(packages_dir, spec.folder)
        compiled = compile_deck(
            released, now=now, report=report, previous_package=previous_package, releasing=True
        )
        if compiled is None:
            continue
        notes = release_notes(
            compiled,
            last_release(previous_package),
            title=f"{spec.name} {version} ({day.isoformat()})",
            package_name=previous_package.name,
        )
        releases.append(
            Release(
                planned=plan([compiled], packages_dir)[0],
                version=version,
                notes=notes,
                deck_yaml=_with_release(spec, version, day),
                changelog=_with_notes(spec.folder / CHANGELOG_FILE, notes),
            )
        )
    if report.error_count:
        raise SourceErrors(report)
    return releases


def write_release(releases: list[Release]) -> None:
    """Write each deck's package and lock, then its deck.yaml and release notes."""
    write([release.planned for release in releases])
    for release in releases:
        folder = release.planned.compiled.spec.folder
        write_atomically(folder / DECK_FILE, release.deck_yaml.encode("utf-8"))
        write_atomically(folder / CHANGELOG_FILE, release.changelog.encode("utf-8"))


def next_version(current: Version | None, bump: str) -> Version:
    """``bump`` is major, minor, patch or an explicit version newer than ``current``."""
    base = current or Version(0, 0, 0)
    if bump in BUMPS:
        return base.bumped(bump)
    explicit = parse_version(bump)
    if explicit is None:
        raise DeckgenError(
            f"'{bump}' is neither major, minor, patch nor a version like 1.2.0", exit_code=2
        )
    if current is not None and explicit <= current:
        raise DeckgenError(f"version {explicit} is not newer than {current}", exit_code=2)
    return explicit


def _with_release(spec: DeckSpec[RenderedCard], version: Version, day: datetime.date) -> str:
    """deck.yaml with its version and release date set, comments and all else kept."""
    text = (spec.folder / DECK_FILE).read_text(encoding="utf-8")
    for key, value in (("version", str(version)), ("released", day.isoformat())):
        line = f"{key}: {value}"
        pattern = re.compile(rf"^{key}:.*$", re.MULTILINE)
        if pattern.search(text):
            text = pattern.sub(line, text, count=1)
        else:
            text = text.rstrip("\n") + f"\n{line}\n"
    return text


def _with_notes(path: Path, notes: str) -> str:
    """The deck's CHANGELOG.md with ``notes`` added as the newest release, below the title."""
    try:
        existing = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        existing = _CHANGELOG_TITLE
    except (OSError, UnicodeDecodeError) as exc:
        raise DeckgenError(f"cannot read {path}: {exc}") from exc
    if existing.startswith(_CHANGELOG_TITLE):
        rest = existing[len(_CHANGELOG_TITLE) :].lstrip("\n")
        return f"{_CHANGELOG_TITLE}\n{notes}" + (f"\n{rest}" if rest else "")
    return f"{_CHANGELOG_TITLE}\n{notes}\n{existing}"
