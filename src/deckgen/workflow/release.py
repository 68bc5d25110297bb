"""``deckgen release``: rehearse the upgrade, bump each deck's version, stamp it on the deck
overview, write the release notes, build, and record the released package.

Everything is computed in memory first: every deck is compiled, compared with its last
release (workflow/baseline.py) and its upgrade rehearsed in Anki's engine; a deck with an
error, or an upgrade students would suffer from, stops the release before anything is written.
Then every file (packages, locks, the release records, CHANGELOG.md, deck.yaml) is staged
beside its target and only renamed once all are staged, deck.yaml last: the version there is
what moves the baseline, so a release killed half-way is simply released again.

The version and date live in deck.yaml and reach students in the deck description only: no
note changes for a release, so no student's edit is overwritten by one.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from deckgen.anki.compiled import CompiledDeck
from deckgen.anki.deck_description import deck_description
from deckgen.cards.validate import DECK_FILE, DeckSpec
from deckgen.diagnostics import DeckgenError, Location, Report, SourceErrors, plural, printable
from deckgen.pipeline.build import PlannedDeck, package_path, plan, read_decks, write
from deckgen.pipeline.deckstage import compile_deck
from deckgen.pipeline.filestage import FileCompiler
from deckgen.render.card import RenderedCard
from deckgen.source.safe_files import MissingFile, UnsafeFile, check_folder, read_file, remove_file
from deckgen.source.versions import BUMPS, DeckRelease, Version, parse_version
from deckgen.source.yamlsource import MAX_FILE_BYTES
from deckgen.values import Text
from deckgen.workflow.baseline import Baseline, BaselineChoice, recorded_release
from deckgen.workflow.changelog import Changes, changes, last_release, release_notes

if TYPE_CHECKING:
    from deckgen.workflow.verify import DeckVerification

CHANGELOG_FILE = "CHANGELOG.md"
_CHANGELOG_TITLE = "# Release notes\n"
MAX_CHANGELOG_BYTES = 16 * 1024 * 1024
"""Release notes of thousands of releases; a larger CHANGELOG.md is refused, not read."""


@dataclass(frozen=True)
class Release:
    """One deck's release, ready to write."""

    planned: PlannedDeck
    version: Version
    baseline: Baseline
    verification: DeckVerification
    notes: str
    """The release notes in Markdown."""
    files: tuple[tuple[Path, bytes], ...]
    """The release record, CHANGELOG.md and deck.yaml, in the order they are renamed."""
    replaced_record: Path | None
    """The previous release's record, removed once the new one is in place."""

    @property
    def record(self) -> Path:
        return self.files[0][0]


def plan_release(
    cards_dir: Path,
    *,
    bump: str,
    now: int,
    packages_dir: Path,
    baseline: BaselineChoice,
    report: Report,
) -> list[Release]:
    """Every deck's next release, computed and rehearsed in memory; raises SourceErrors on
    an error in the cards and DeckgenError when the baseline is missing or the rehearsal
    finds that students would suffer."""
    from deckgen.workflow.verify import verify_deck  # Anki's engine, the [verify] extra

    day = datetime.datetime.fromtimestamp(now, datetime.UTC).date()
    specs = read_decks(cards_dir, report, FileCompiler())
    if report.error_count:
        raise SourceErrors(report)
    next_decks = [
        deck
        for spec in specs
        if (
            deck := _next_deck(
                spec, bump, day=day, now=now, packages_dir=packages_dir, report=report
            )
        )
        is not None
    ]
    if report.error_count:
        raise SourceErrors(report)
    baselines = baseline.resolve(cards_dir, [deck.unreleased for deck in next_decks])
    releases = []
    for deck, previous in zip(next_decks, baselines, strict=True):
        done = _release(
            deck,
            previous,
            day=day,
            now=now,
            packages_dir=packages_dir,
            report=report,
            verify=verify_deck,
        )
        if done is not None:
            releases.append(done)
    if report.error_count:
        raise SourceErrors(report)
    return releases


@dataclass(frozen=True)
class _NextDeck:
    """A deck compiled at its next version, and as it stands before the release."""

    released: CompiledDeck
    unreleased: CompiledDeck
    version: Version


def _next_deck(
    spec: DeckSpec[RenderedCard],
    bump: str,
    *,
    day: datetime.date,
    now: int,
    packages_dir: Path,
    report: Report,
) -> _NextDeck | None:
    version = next_version(spec.release.version, bump)
    released = dataclasses.replace(
        spec, release=DeckRelease(version, day, spec.release.drop_retired_after)
    )
    compiled = compile_deck(
        released,
        now=now,
        report=report,
        previous_package=package_path(packages_dir, spec.folder),
    )
    if compiled is None:
        return None
    return _NextDeck(compiled, dataclasses.replace(compiled, spec=spec), version)


def _release(
    deck: _NextDeck,
    previous: Baseline,
    *,
    day: datetime.date,
    now: int,
    packages_dir: Path,
    report: Report,
    verify: Callable[[PlannedDeck, Baseline], DeckVerification],
) -> Release | None:
    """One deck's release rehearsed against what students have; None when it must stop
    (reported)."""
    compiled, version = deck.released, deck.version
    shipped = last_release(previous)
    if shipped is None and compiled.lock.retired:
        # A first release: no student has any card of the deck, so none ships retired (a
        # draft deleted before it would reach every new student as a notice).
        first = compile_deck(
            compiled.spec,
            now=now,
            report=report,
            previous_package=package_path(packages_dir, compiled.spec.folder),
            ship_retired=False,
        )
        if first is None:
            return None
        compiled = first
    since = changes(compiled, shipped)
    summary = _summary(since, first=shipped is None)
    if since.retired:
        # Built again so that the notices it lists name this release, in the package and
        # in the lock alike: a release marks as announced only what its notes list.
        again = compile_deck(
            compiled.spec,
            now=now,
            report=report,
            previous_package=package_path(packages_dir, compiled.spec.folder),
            announcing={note.card_id for note in since.retired},
        )
        if again is None:
            return None
        compiled = again
    compiled = _with_changes(compiled, summary, report)
    spec = compiled.spec
    planned = plan([compiled], packages_dir)[0]
    verification = verify(planned, previous)
    if verification.failed:
        _report_stop(verification, spec.location, report)
        return None
    notes = release_notes(
        compiled,
        shipped,
        title=f"{spec.name} {version} ({day.isoformat()})",
        package_name=planned.package_path.name,
    )
    record = recorded_release(spec.folder, version)
    _check_inside(record.parent, spec.folder)
    last = deck.unreleased.spec.release.version
    replaced = recorded_release(spec.folder, last) if last is not None else None
    return Release(
        planned=planned,
        version=version,
        baseline=previous,
        verification=verification,
        notes=notes,
        files=(
            (record, planned.package),
            (spec.folder / CHANGELOG_FILE, _with_notes(spec.folder, notes).encode()),
            (
                spec.folder / DECK_FILE,
                _with_release(spec.folder, version, day, summary).encode(),
            ),
        ),
        replaced_record=replaced if replaced != record else None,
    )


def write_release(releases: list[Release]) -> None:
    """Stage every deck's package, lock, record, notes and deck.yaml, then rename them all;
    then remove the records of the releases these replace."""
    write(
        [release.planned for release in releases],
        also=[file for release in releases for file in release.files],
    )
    for release in releases:
        if release.replaced_record is not None:
            # Inside the deck folder (releases/ was checked to be no link out of it).
            remove_file(release.replaced_record, within=release.replaced_record.parent.parent)


def next_version(current: Version | None, bump: str) -> Version:
    """``bump`` is major, minor, patch or an explicit version newer than ``current``."""
    base = current or Version(0, 0, 0)
    if bump in BUMPS:
        return base.bumped(bump)
    explicit = parse_version(bump)
    if explicit is None:
        raise DeckgenError(
            f"'{printable(bump[:40])}' is neither major, minor, patch nor a version like 1.2.0",
            exit_code=2,
        )
    if current is not None and explicit <= current:
        raise DeckgenError(f"version {explicit} is not newer than {current}", exit_code=2)
    return explicit


def _summary(since: Changes, *, first: bool) -> str:
    """What changed, in a few words for the deck overview."""
    if first:
        return f"First release: {plural(len(since.added), 'note')}."
    counts = [
        f"{heading}: {plural(len(notes), 'note')}."
        for heading, notes in (
            ("New", since.added),
            ("Changed", since.changed),
            ("Retired", since.retired),
        )
        if notes
    ]
    return " ".join(counts) or "No card changed."


def _with_changes(deck: CompiledDeck, summary: str, report: Report) -> CompiledDeck:
    """The deck with ``summary`` as its release's changes, as the next build will read them
    from deck.yaml, and the deck description that shows them."""
    spec = deck.spec
    changes_text = Text(summary, spec.location)
    spec = dataclasses.replace(
        spec, release=dataclasses.replace(spec.release, changes=changes_text)
    )
    description = deck_description(
        spec.description,
        spec.release,
        has_retired=bool(deck.lock.retired),
        folder=spec.folder,
        report=report,
    )
    return dataclasses.replace(deck, spec=spec, description=description)


def _report_stop(verification: DeckVerification, deck_yaml: Location, report: Report) -> None:
    """Report every error the rehearsal found at its card, each with its fix, and why the
    release stops at the deck."""
    for finding in verification.findings:
        if finding.severity == "error":
            report.error(finding.location, f"{finding.message} [{finding.rule}]")
    report.error(
        deck_yaml,
        f"release stopped: the upgrade of '{verification.deck_name}' from "
        f"{verification.baseline.label} would hurt students; fix each error reported here "
        "('deckgen verify' shows them again)",
    )


def _check_inside(folder: Path, deck_folder: Path) -> None:
    """Refuse a release record folder that is a link out of the deck (or no folder): the
    record is written there, and the last one removed from there."""
    if not os.path.lexists(folder):
        return
    try:
        check_folder(folder, within=deck_folder)
    except UnsafeFile as exc:
        raise DeckgenError(f"{Location(folder)}: {exc}; nothing was written") from None


def _read_text(path: Path, folder: Path, max_bytes: int) -> str | None:
    """A text file of the deck folder through the safe file layer; None when there is none."""
    try:
        return read_file(path, within=folder, max_bytes=max_bytes).decode("utf-8")
    except MissingFile:
        return None
    except UnsafeFile as exc:
        raise DeckgenError(f"{Location(path)}: {exc}; nothing was written") from None
    except UnicodeDecodeError as exc:
        raise DeckgenError(
            f"{Location(path)}: not UTF-8 text (byte {exc.start + 1}): save it as UTF-8; "
            "nothing was written"
        ) from None


def _with_release(folder: Path, version: Version, day: datetime.date, summary: str) -> str:
    """deck.yaml with its ``version``, ``released`` and ``changes`` set, every other byte kept.

    Only the exact value of each key is replaced, found by its position in the parsed file
    (or the key is appended to the top-level mapping when absent); a layout where that is
    not certain to mean the same, a quoted multi-line value, an alias, a flow mapping, is
    refused with what to write instead. The result is parsed again and must equal the old
    file with just those values changed."""
    path = folder / DECK_FILE
    text = _read_text(path, folder, MAX_FILE_BYTES)
    if text is None:
        raise DeckgenError(f"{Location(path)}: disappeared during the release; nothing was written")
    values = [("version", str(version)), ("released", day.isoformat()), ("changes", summary)]
    updated = text
    for key, value in values:
        # The summary is our own text of words, digits and ': ', always double-quoted.
        updated = _with_value(path, updated, key, value, quote='"' if key == "changes" else None)
    expected = _loaded(path, text)
    expected.update(values)
    if _loaded(path, updated) != expected:
        raise _unusual_layout(path, "the rewritten file would mean something else")
    return updated


def _with_value(path: Path, text: str, key: str, value: str, *, quote: str | None) -> str:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        raise _unusual_layout(path, "it no longer parses") from None
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise _unusual_layout(path, "its top level is not a block mapping")
    for key_node, value_node in root.value:
        if not (isinstance(key_node, yaml.ScalarNode) and key_node.value == key):
            continue
        start, end = value_node.start_mark.index, value_node.end_mark.index
        between = text[key_node.end_mark.index : start]
        plain_or_quoted = isinstance(value_node, yaml.ScalarNode) and value_node.style in (
            None,
            "'",
            '"',
        )
        style = value_node.style or ""
        # Exactly the value as written, nothing else: no anchor, tag, escape or line break.
        as_written = text[start:end] == f"{style}{value_node.value}{style}"
        if not (plain_or_quoted and as_written and re.fullmatch(r"[ \t]*:[ \t]+", between)):
            raise _unusual_layout(
                path, f"'{key}' is not written as one plain value on its key's line", key_node
            )
        kept = style if quote is None else quote
        return f"{text[:start]}{kept}{value}{kept}{text[end:]}"
    separator = "" if text.endswith("\n") or not text else "\n"
    return f"{text}{separator}{key}: {quote or ''}{value}{quote or ''}\n"


def _loaded(path: Path, text: str) -> dict[object, object]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        raise _unusual_layout(path, "the rewritten file would not parse") from None
    if not isinstance(document, dict):
        raise _unusual_layout(path, "its top level is not a mapping")
    # A date read as a date or as quoted text is the same date here.
    return {**document, "released": str(document.get("released"))}


def _unusual_layout(path: Path, why: str, node: yaml.Node | None = None) -> DeckgenError:
    where = (
        Location(path, node.start_mark.line + 1, node.start_mark.column + 1)
        if node is not None
        else Location(path)
    )
    return DeckgenError(
        f"{where}: cannot set the release's version and date here: {why}; write them as "
        "lines 'version: 1.2.0' and 'released: 2026-01-31' at the top level, or remove "
        "them (and 'changes' as one quoted line); nothing was written",
        exit_code=1,
    )


def _with_notes(folder: Path, notes: str) -> str:
    """The deck's CHANGELOG.md with ``notes`` added as the newest release, below the title."""
    existing = _read_text(folder / CHANGELOG_FILE, folder, MAX_CHANGELOG_BYTES)
    if existing is None:
        existing = _CHANGELOG_TITLE
    if existing.startswith(_CHANGELOG_TITLE):
        rest = existing[len(_CHANGELOG_TITLE) :].lstrip("\n")
        return f"{_CHANGELOG_TITLE}\n{notes}" + (f"\n{rest}" if rest else "")
    return f"{_CHANGELOG_TITLE}\n{notes}\n{existing}"
