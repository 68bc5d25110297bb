"""Rehearse the students' upgrade with Anki's own engine before a release.

For each deck: import the previous release into a scratch collection, study every card, import
the package the sources build now (in memory, nothing is written) with the import dialog's
default options, and compare the collection before and after. What a student would suffer is
reported: duplicates, identity swaps, ``Name+`` notetype copies, conflicting notes, lost review
history, notes re-stamped without a change (which overwrites students' own edits) and images
that do not resolve or arrive under another name.
"""

from __future__ import annotations

import functools
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anki.collection import Collection, ImportAnkiPackageRequest, StripHtmlMode
from anki.decks import DeckId
from anki.errors import AnkiException
from anki.import_export_pb2 import ImportResponse

from deckgen.anki.compiled import Note
from deckgen.anki.package_reader import write_scratch_copy
from deckgen.anki.retire import RETIRED_TAG
from deckgen.diagnostics import (
    DeckgenError,
    Diagnostic,
    Location,
    Report,
    Severity,
    display_path,
    plural,
    printable,
    shorten,
)
from deckgen.output import diagnostic_json, github_annotation, json_text
from deckgen.pipeline.build import PlannedDeck, compile_project, plan
from deckgen.render.report_link import without_report_link
from deckgen.source.deck_options import DeckOptions
from deckgen.workflow.baseline import Baseline, BaselineChoice

FAILING_RULES = frozenset(
    {
        "duplicate",
        "identity-swap",
        "notetype-copy",
        "conflict",
        "lost-history",
        "overwrites-edits",
        "missing-media",
        "stale-media",
        "edit-lost",
        "preset",
    }
)
"""Findings that make verify exit 1; the others ("orphaned") are warnings."""

FORMATS = ("text", "json", "github")

_IMAGE_SOURCE = re.compile(r'<img[^>]*\ssrc="([^"]+)"')


@dataclass(frozen=True)
class Finding:
    """One thing students would suffer."""

    rule: str
    """duplicate, identity-swap, notetype-copy, conflict, lost-history, overwrites-edits,
    edit-lost, missing-media, stale-media or orphaned."""
    message: str
    location: Location
    """The card's place in the sources when it has one, else the deck's deck.yaml."""

    @property
    def severity(self) -> str:
        return "error" if self.rule in FAILING_RULES else "warning"

    @property
    def diagnostic(self) -> Diagnostic:
        """As every other command reports: printed, annotated and escaped the same way."""
        severity = Severity.ERROR if self.rule in FAILING_RULES else Severity.WARNING
        return Diagnostic(self.location, severity, self.message, self.rule)


@dataclass(frozen=True)
class DeckVerification:
    """The rehearsal of one deck's upgrade."""

    deck_name: str
    baseline: Baseline
    """What students have: the last release's package, or nothing (a first release)."""
    new: int
    updated: int
    unchanged: int
    retired: int
    """Of the notes in the package, those shipped with the retired tag."""
    studied: int
    """Answers given in the scratch collection before the upgrade."""
    findings: tuple[Finding, ...]

    @property
    def failed(self) -> bool:
        return any(finding.severity == "error" for finding in self.findings)


@dataclass(frozen=True)
class _NoteState:
    mod: int
    notetype: str
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    card_ids: tuple[int, ...]
    first_field: str
    """The first field as Anki compares it to find duplicates: HTML stripped."""

    @property
    def notetype_family(self) -> str:
        """The notetype's name without the '+' of the copies Anki makes."""
        return self.notetype.rstrip("+")


@dataclass(frozen=True)
class _Snapshot:
    """What the scratch collection holds at one moment."""

    notes: dict[str, _NoteState]
    """By guid."""
    notetypes: frozenset[str]
    schedules: dict[int, tuple[int, ...]]
    """Each card's scheduling (type, queue, due, interval, ease, reps, lapses), by card id."""
    reviews: dict[int, int]
    """The number of reviews of each card, by card id."""

    @classmethod
    def of(cls, col: Collection) -> _Snapshot:
        notes = {}
        for note_id in col.find_notes(""):
            note = col.get_note(note_id)
            notetype = note.note_type()
            notes[note.guid] = _NoteState(
                mod=int(note.mod),
                notetype=str(notetype["name"]) if notetype is not None else "",
                fields=tuple(note.fields),
                tags=tuple(note.tags),
                card_ids=tuple(sorted(int(card_id) for card_id in note.card_ids())),
                first_field=col._backend.strip_html(
                    text=note.fields[0], mode=StripHtmlMode.PRESERVE_MEDIA_FILENAMES
                ).strip(),
            )
        if col.db is None:
            raise DeckgenError("the scratch collection closed unexpectedly")
        rows = col.db.all("SELECT id, type, queue, due, ivl, factor, reps, lapses FROM cards")
        reviews = col.db.all("SELECT cid, count() FROM revlog GROUP BY cid")
        return cls(
            notes=notes,
            notetypes=frozenset(entry.name for entry in col.models.all_names_and_ids()),
            schedules={int(row[0]): tuple(int(value) for value in row[1:]) for row in rows},
            reviews={int(card_id): int(count) for card_id, count in reviews},
        )


def verify_project(
    cards_dir: Path,
    *,
    now: int,
    packages_dir: Path,
    baseline: BaselineChoice,
    report: Report,
) -> list[DeckVerification]:
    """Build every deck in memory and rehearse its upgrade from the last release (see
    workflow/baseline.py; ``packages_dir`` is where the build finds deleted cards' last
    shipped version)."""
    compiled = compile_project(cards_dir, now=now, report=report, packages_dir=packages_dir)
    baselines = baseline.resolve(cards_dir, compiled)
    return [
        verify_deck(deck, previous)
        for deck, previous in zip(plan(compiled, packages_dir), baselines, strict=True)
    ]


def verify_deck(planned: PlannedDeck, baseline: Baseline) -> DeckVerification:
    """Rehearse importing ``planned`` over ``baseline`` in a scratch collection."""
    deck = planned.compiled
    with tempfile.TemporaryDirectory(prefix="deckgen-verify-") as scratch:
        col = Collection(str(Path(scratch) / "collection.anki2"))
        try:
            studied = 0
            if baseline.path is not None:
                # The bytes the package reader checked, never the file again.
                _import(col, write_scratch_copy(baseline.data, Path(scratch)), baseline.path)
                studied = _study_everything(col)
            before = _Snapshot.of(col)
            new_package = write_scratch_copy(planned.package, Path(scratch))
            log = _import(col, new_package, None)
            after = _Snapshot.of(col)
            findings = _Rehearsal(planned, before, after, media_dir=Path(col.media.dir()))
            found = findings.run(conflicting=len(log.conflicting))
        finally:
            col.close()
        if deck.spec.options is not None:
            found += _rehearse_preset(planned, baseline, Path(scratch) / "presets")
    shipped = [note.guid for note in deck.notes]
    kept = [guid for guid in shipped if guid in before.notes]
    updated = sum(1 for guid in kept if after.notes[guid].mod != before.notes[guid].mod)
    return DeckVerification(
        deck_name=deck.spec.name,
        baseline=baseline,
        new=len(shipped) - len(kept),
        updated=updated,
        unchanged=len(kept) - updated,
        retired=len(deck.lock.retired),
        studied=studied,
        findings=tuple(found),
    )


@dataclass(frozen=True)
class _Rehearsal:
    planned: PlannedDeck
    before: _Snapshot
    after: _Snapshot
    media_dir: Path

    def run(self, *, conflicting: int) -> list[Finding]:
        deck = self.planned.compiled
        top = deck.spec.location
        findings: list[Finding] = []
        first_fields: dict[tuple[str, str], str] = {}
        for guid, state in sorted(self.before.notes.items()):
            first_fields.setdefault((state.notetype_family, state.first_field), guid)
        shipped = {note.guid: note for note in deck.notes}
        for guid, note in sorted(shipped.items()):
            owner = first_fields.get(
                (self.after.notes[guid].notetype_family, self.after.notes[guid].first_field)
            )
            findings.extend(self._identity(note, owner))
            findings.extend(self._media(note))
        new_notetypes = sorted(self.after.notetypes - self.before.notetypes)
        findings.extend(
            Finding(
                "notetype-copy",
                f"Anki makes a copy of a notetype, '{name}': its fields or templates changed in "
                "a way Anki cannot apply in place, and the students' notes of that type are "
                "never updated again; restore the notetype's fields and templates",
                top,
            )
            for name in new_notetypes
            if name.endswith("+")
        )
        if conflicting:
            findings.append(
                Finding(
                    "conflict",
                    f"Anki logs {plural(conflicting, 'note')} as conflicting and leaves them "
                    "unchanged: their notetype no longer matches the students' copy",
                    top,
                )
            )
        findings.extend(self._history())
        orphaned = sorted(set(self.before.notes) - set(shipped))
        if orphaned:
            findings.append(
                Finding(
                    "orphaned",
                    f"{plural(len(orphaned), 'note')} of the previous release no longer ship, "
                    "neither live nor retired: students keep them with no sign they are gone",
                    top,
                )
            )
        return sorted(findings, key=lambda finding: (finding.location, finding.rule))

    def _where(self, note: Note) -> Location:
        return self._card_places.get(note.card_id, self.planned.compiled.spec.location)

    @functools.cached_property
    def _card_places(self) -> dict[str, Location]:
        return {card.id: card.location for card in self.planned.compiled.spec.cards}

    def _identity(self, note: Note, owner: str | None) -> Iterator[Finding]:
        old = self.before.notes.get(note.guid)
        now = self.after.notes[note.guid]
        where = self._where(note)
        # A duplicate only if the student's note still holds that first field after the import
        # (the release may have rewritten it while adding the new card), or now holds a
        # retirement notice: the content moved to a new id, and its history stays behind.
        if (
            old is None
            and owner is not None
            and (
                self.after.notes[owner].first_field == now.first_field
                or RETIRED_TAG in self.after.notes[owner].tags
            )
        ):
            yield Finding(
                "duplicate",
                f"card '{note.card_id}' arrives as a second note beside one students already "
                f"have with the same first field ('{shorten(now.first_field)}'): its identity "
                "changed (deck id or card id?); restore the old id",
                where,
            )
            reviews = sum(self.before.reviews.get(c, 0) for c in self.before.notes[owner].card_ids)
            if reviews:
                yield Finding(
                    "lost-history",
                    f"card '{note.card_id}' starts from scratch: students' reviews of it "
                    f"({reviews} here) stay on the old note",
                    where,
                )
        if (
            old is not None
            and owner not in (None, note.guid)
            and old.first_field != now.first_field
        ):
            yield Finding(
                "identity-swap",
                f"card '{note.card_id}' now carries the content of another note "
                f"('{shorten(now.first_field)}'): students' history of one card now belongs to "
                "another's content; give each card back its id",
                where,
            )
        if (
            old is not None
            and old.fields == now.fields
            # The report link names the release a card shipped in: no edit of the card.
            and without_report_link(tuple(now.fields)) != without_report_link(note.fields)
        ):
            yield Finding(
                "edit-lost",
                f"card '{note.card_id}' changed, but students' copy carries a time no older "
                f"than the package's ({old.mod} against {note.mod}), so Anki keeps theirs and "
                "the edit never arrives: deck.lock is older than the previous release; restore "
                "the lock that release was built with, then build again",
                where,
            )
        if (
            old is not None
            and now.mod != old.mod
            and old.fields == now.fields
            and sorted(old.tags) == sorted(now.tags)
        ):
            yield Finding(
                "overwrites-edits",
                f"card '{note.card_id}' is re-stamped without a change, so a student's own edit "
                "to it is overwritten: was deck.lock deleted or reset? restore it",
                where,
            )

    def _media(self, note: Note) -> Iterator[Finding]:
        if RETIRED_TAG in note.tags and note.guid not in self.before.notes:
            return  # retired cards ship without images; only students who have them keep them
        shipped = {file.name: file.data for file in note.media}
        where = self._where(note)
        for field in self.after.notes[note.guid].fields:
            for source in _IMAGE_SOURCE.findall(field):
                path = self.media_dir / source
                if not path.is_file():
                    yield Finding(
                        "missing-media",
                        f"card '{note.card_id}' shows '{source}', which students do not have",
                        where,
                    )
                elif source in shipped and path.read_bytes() != shipped[source]:
                    yield Finding(
                        "stale-media",
                        f"card '{note.card_id}' shows '{source}', but students keep other bytes "
                        "under that name (was it replaced outside deckgen?)",
                        where,
                    )
                elif source not in shipped and note.media:
                    yield Finding(
                        "stale-media",
                        f"card '{note.card_id}' shows its image under a new name, '{source}': "
                        "another file already had the shipped name in students' media "
                        "(was it replaced outside deckgen?); give the changed image a new name",
                        where,
                    )

    def _history(self) -> Iterator[Finding]:
        changed = [
            card_id
            for card_id, schedule in self.before.schedules.items()
            if self.after.schedules.get(card_id) != schedule
            or self.after.reviews.get(card_id, 0) != self.before.reviews.get(card_id, 0)
        ]
        if changed:
            yield Finding(
                "lost-history",
                f"the scheduling or review history of {plural(len(changed), 'card')} changed "
                "on import",
                self.planned.compiled.spec.location,
            )


def _rehearse_preset(planned: PlannedDeck, baseline: Baseline, scratch: Path) -> list[Finding]:
    """Import the previous release and then this one both ways a student may: with the
    default options, every deck keeps the preset it had (the Default one for new decks);
    with "Import any deck presets" ticked, every deck of the package gets the deck's preset
    with the settings deck.yaml gives."""
    findings = []
    for with_presets in (False, True):
        folder = scratch / ("with-presets" if with_presets else "without-presets")
        folder.mkdir(parents=True)
        col = Collection(str(folder / "collection.anki2"))
        try:
            if baseline.path is not None:
                previous = write_scratch_copy(baseline.data, folder)
                _import(col, previous, baseline.path, with_presets=with_presets)
            before = _presets_by_deck(col)
            new_package = write_scratch_copy(planned.package, folder)
            _import(col, new_package, None, with_presets=with_presets)
            after = _presets_by_deck(col)
        finally:
            col.close()
        deck = planned.compiled.spec
        ours = sorted(
            name for name in after if name == deck.name or name.startswith(f"{deck.name}::")
        )
        for name in ours:
            if with_presets:
                problem = _preset_problem(deck.options, after[name])
            elif after[name]["id"] != before.get(name, {"id": 1})["id"]:
                problem = "changed preset under the default import options"
            else:
                problem = None
            if problem is not None:
                findings.append(
                    Finding(
                        "preset",
                        f"deck '{name}', imported with 'Import any deck presets' "
                        f"{'ticked' if with_presets else 'off'}: {problem}",
                        deck.location,
                    )
                )
    return findings


def _preset_problem(options: DeckOptions | None, preset: dict[str, Any]) -> str | None:
    """How ``preset`` differs from what deck.yaml's options set; None when it does not."""
    if options is None:
        return None
    settings = (
        ("new cards a day", options.new_per_day, preset["new"]["perDay"]),
        ("learning steps", options.learning_steps, tuple(preset["new"]["delays"])),
        ("desired retention", options.desired_retention, preset.get("desiredRetention")),
    )
    wrong = [
        f"{name} {got} instead of {wanted}"
        for name, wanted, got in settings
        if wanted is not None and got != wanted
    ]
    if not wrong:
        return None
    return f"{', '.join(wrong)}: Anki kept a preset it had (the preset's id must change with it)"


def _presets_by_deck(col: Collection) -> dict[str, dict[str, Any]]:
    return {
        entry.name: dict(col.decks.config_dict_for_deck_id(DeckId(entry.id)))
        for entry in col.decks.all_names_and_ids()
    }


def _import(
    col: Collection, package: Path, baseline: Path | None, *, with_presets: bool = False
) -> ImportResponse.Log:
    """Import as the desktop import dialog does with its default options, or with "Import
    any deck presets" ticked. ``baseline``: the previous release ``package`` is a copy of,
    named in errors; None for the new package."""
    options = col._backend.get_import_anki_package_presets()
    options.with_deck_configs = with_presets
    request = ImportAnkiPackageRequest(package_path=str(package), options=options)
    try:
        return col.import_anki_package(request).log
    except AnkiException as exc:
        reason = shorten(printable(str(exc)), 160)
        if baseline is None:
            raise DeckgenError(
                f"Anki's engine refuses the package the sources build now ({reason}); "
                "run 'deckgen check' and report this to deckgen if it passes"
            ) from exc
        raise DeckgenError(
            f"{display_path(baseline)} cannot be imported by Anki's engine ({reason}): it is "
            "not the previous release students imported; pass the released package with "
            "--against",
            exit_code=2,  # like every baseline that is no package of the deck
        ) from exc


def _study_everything(col: Collection) -> int:
    """Answer 'good' until nothing is due in any deck; returns the number of answers. Every
    top-level deck, since the previous release may have used another deck name."""
    # Every card, not just the default 20 new cards a day: each needs a history to protect
    # (9999 is the highest limit Anki accepts).
    for config in col.decks.all_config():
        config["new"]["perDay"] = 9999
        config["rev"]["perDay"] = 9999
        col.decks.update_config(config)
    answers = 0
    for deck in col.decks.all_names_and_ids():
        if "::" in deck.name:
            continue
        col.decks.select(DeckId(deck.id))
        while (card := col.sched.getCard()) is not None:
            col.sched.answerCard(card, 3)
            answers += 1
    return answers


def format_results(results: list[DeckVerification], output_format: str) -> str:
    """The results as text for people, JSON for programs, or GitHub annotations; findings are
    diagnostics, escaped like every other command's (card text is quoted in them)."""
    diagnostics = [finding.diagnostic for result in results for finding in result.findings]
    if output_format == "json":
        document = {
            "decks": [
                {
                    "deck": result.deck_name,
                    "baseline": None
                    if result.baseline.path is None
                    else display_path(result.baseline.path),
                    "new": result.new,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                    "retired": result.retired,
                    "studied": result.studied,
                    "passed": not result.failed,
                }
                for result in results
            ],
            "diagnostics": [diagnostic_json(diagnostic) for diagnostic in diagnostics],
        }
        return json_text(document)
    lines = []
    for result in results:
        lines.append(
            f"{printable(result.deck_name)}: upgrade from {result.baseline.label} "
            f"after {plural(result.studied, 'answer')}: "
            f"{result.new} new, {result.updated} updated, {result.unchanged} unchanged, "
            f"{result.retired} retired"
        )
    for diagnostic in diagnostics:
        lines.append(
            github_annotation(diagnostic) if output_format == "github" else str(diagnostic)
        )
    failed = [result for result in results if result.failed]
    if failed:
        lines.append(
            f"verify failed: students of {plural(len(failed), 'deck')} "
            "would suffer the errors above"
        )
    else:
        lines.append(f"verify passed: {plural(len(results), 'deck')} upgrade in place")
    return "\n".join(lines)
