"""Stage 6: give each note its identity (guid) and modification time, from the lock file.

Anki matches an incoming note to the student's copy by guid only, and updates it only when
the incoming modification time is strictly newer. So:
- the guid derives from (deck id, card id) only: editing, moving or re-filing a card keeps it;
- the lock file beside deck.yaml records each note's content fingerprint and time. A build
  gives a new time only to what changed, strictly newer than the recorded one, so edits reach
  students and unchanged notes (and the edits students made to them) are left alone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from deckgen.diagnostics import Location, Report, value_class
from deckgen.source.report_url import ReportUrl
from deckgen.source.safe_files import MissingFile, UnsafeFile, read_file

LOCK_FILE = "deck.lock"
LOCK_FORMAT = 3
"""Note fingerprints without the deck. Format 2 added retired notices (an older deckgen,
which would ship its own reading of the retired section, says the lock is newer than itself
instead); formats 1 and 2 fingerprint notes with their deck."""
FORMATS_WITH_DECK = (1, 2)
READABLE_LOCK_FORMATS = (*FORMATS_WITH_DECK, LOCK_FORMAT)

MAX_TIME = 253_402_300_799
"""The last second of year 9999: the latest modification time deckgen writes or accepts.
Note ids are derived from times times 1000, so this keeps them far inside SQLite's int64.
The writer and the reader share it: an edit of a note whose recorded time is already this is
an error (``newer_time``), so deckgen never writes a lock it would then reject."""


MAX_LOCK_BYTES = 64 * 1024 * 1024
"""About 200 bytes per card: room for far more cards than a deck may hold."""


def note_guid(deck_id: str, card_id: str) -> str:
    """The note's identity in every student's collection: never derived from content."""
    digest = hashlib.sha256(f"deckgen\x1f{deck_id}\x1f{card_id}".encode()).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode("ascii")


def fingerprint(content: object) -> str:
    """A stable hash of JSON-serialisable content."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def note_fingerprint(
    *, guid: str, notetype_id: int, fields: tuple[str, ...], tags: tuple[str, ...]
) -> str:
    """``fingerprint`` of a note's content, the dict of these four keys, with the JSON text
    assembled directly: the same bytes in a third of the time, and every build takes one per
    card (tests/anki/test_identity.py compares the two).

    The deck is not part of it: Anki never moves a student's cards to another deck on import,
    so a note re-stamped for a move (a renamed subdeck) changes nothing for students except
    that it overwrites their own edits to it."""
    text = _json_text
    canonical = (
        f'{{"fields":[{",".join(map(text, fields))}],'
        f'"guid":{text(guid)},"notetype":{int(notetype_id)},"tags":[{",".join(map(text, tags))}]}}'
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def fingerprint_with_deck(
    *, guid: str, notetype_id: int, fields: tuple[str, ...], tags: tuple[str, ...], deck: str
) -> str:
    """The fingerprint locks of format 1 and 2 recorded, which included the note's deck: read
    to recognise a note that did not change, so that moving to these fingerprints re-stamps
    nothing."""
    text = _json_text
    canonical = (
        f'{{"deck":{text(deck)},"fields":[{",".join(map(text, fields))}],'
        f'"guid":{text(guid)},"notetype":{int(notetype_id)},"tags":[{",".join(map(text, tags))}]}}'
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_json_text = json.encoder.encode_basestring
"""A string as ``json.dumps(..., ensure_ascii=False)`` writes it."""


@dataclass(frozen=True)
class DeckIdentity:
    """What a note's guid and content fingerprint take from its deck besides the card: the
    deck id, and the template of the report link, which counts as content (a new template
    reaches students; the release a link names does not)."""

    deck_id: str
    report_template: str | None = None

    @classmethod
    def of(cls, deck_id: str, report_url: ReportUrl | None) -> DeckIdentity:
        return cls(deck_id, report_url.template if report_url is not None else None)

    def guid(self, card_id: str) -> str:
        return note_guid(self.deck_id, card_id)

    def content(self, fields: tuple[str, ...]) -> tuple[str, ...]:
        """The texts a note's fingerprint covers: its fields, and the report link's template."""
        return fields if self.report_template is None else (*fields, self.report_template)

    def fingerprint(
        self, *, guid: str, notetype_id: int, fields: tuple[str, ...], tags: tuple[str, ...]
    ) -> str:
        """The lock's content fingerprint of a note with these fields (link not yet added)."""
        return note_fingerprint(
            guid=guid, notetype_id=notetype_id, fields=self.content(fields), tags=tags
        )


@value_class
class Stamp:
    """What the lock remembers of one note or notetype. A value class, not a frozen
    dataclass, for the same reason as ``Note``: a build makes one per card, and a large
    lock's reader one per entry."""

    fingerprint: str
    mod: int
    """Seconds since the epoch: the modification time Anki compares."""
    kind: str
    """The card type (for notes) or the notetype's kind; a change of type is worth a warning."""


@dataclass(frozen=True)
class RetiredNote:
    """A card deleted from the sources that keeps shipping, tagged, with its fields replaced by
    a retirement notice (retire.py): the lock keeps none of its old text."""

    mod: int
    """Newer than the last live version's, so the notice reaches students."""
    kind: str
    card_ords: tuple[int, ...] | None
    """The cards students have of it, by ordinal: the notice fills each of them. None in an
    entry of a lock written before notices, whose ``legacy_fields`` tell them instead."""
    fingerprint: str = ""
    """Of the note as shipped with its notice; empty in a lock written before notices."""
    announced_in: str | None = None
    """The first release whose notes announced the retirement; None until one does."""
    legacy_fields: tuple[str, ...] = ()
    """The old text a lock written before notices kept: read only to count its cards, never
    shipped, never written back."""


@dataclass(frozen=True)
class Lock:
    """The contents of one deck's lock file."""

    notes: dict[str, Stamp]
    """By card id."""
    notetypes: dict[str, Stamp]
    """By card kind."""
    retired: dict[str, RetiredNote] = field(default_factory=dict)
    """By card id; the section is absent from the file while empty."""
    fingerprints_with_deck: bool = False
    """Read from a lock of format 1 or 2, whose note fingerprints include the deck
    (``fingerprint_with_deck``); the next build writes them without it."""

    def last_stamp(self, card_id: str) -> Stamp | None:
        """What was last shipped for ``card_id``; a retired card counts as changed content, so
        bringing it back gives it a newer time and drops the retired tag."""
        if card_id in self.notes:
            return self.notes[card_id]
        retired = self.retired.get(card_id)
        if retired is None:
            return None
        return Stamp("retired", retired.mod, retired.kind)

    def _document(self) -> dict[str, object]:
        def section(stamps: dict[str, Stamp]) -> dict[str, dict[str, object]]:
            return {
                key: {"fingerprint": s.fingerprint, "mod": s.mod, "type": s.kind}
                for key, s in sorted(stamps.items())
            }

        document: dict[str, object] = {
            "format": LOCK_FORMAT,
            "notes": section(self.notes),
            "notetypes": section(self.notetypes),
        }
        if self.retired:
            document["retired"] = {
                card_id: {
                    "announced_in": note.announced_in,
                    "cards": list(note.card_ords or ()),
                    "fingerprint": note.fingerprint,
                    "mod": note.mod,
                    "type": note.kind,
                }
                for card_id, note in sorted(self.retired.items())
            }
        return document

    def to_text(self) -> str:
        """The lock as ``json.dumps(..., indent=2, sort_keys=True)`` writes it, assembled by
        hand: with an indent, json falls back to its pure-Python encoder, which costs seconds
        on a bank of 100,000 cards."""

        if self.retired:  # rare, and small next to the notes: json's own layout
            return json.dumps(self._document(), indent=2, sort_keys=True) + "\n"

        def section(stamps: dict[str, Stamp]) -> str:
            if not stamps:
                return "{}"
            # The keys sorted alone: pairs compare as tuples, a fifth slower on a large lock.
            entries = [
                f"    {_json_string(key)}: {{\n"
                f'      "fingerprint": {_json_string(stamp.fingerprint)},\n'
                f'      "mod": {int.__repr__(stamp.mod)},\n'
                f'      "type": {_json_string(stamp.kind)}\n'
                "    }"
                for key in sorted(stamps)
                for stamp in (stamps[key],)
            ]
            return "{\n" + ",\n".join(entries) + "\n  }"

        return (
            f'{{\n  "format": {LOCK_FORMAT},\n'
            f'  "notes": {section(self.notes)},\n'
            f'  "notetypes": {section(self.notetypes)}\n}}\n'
        )


_json_string = json.encoder.encode_basestring_ascii

EMPTY_LOCK = Lock({}, {})


def read_lock(path: Path, report: Report) -> Lock:
    """The lock at ``path``; a missing lock is empty, a damaged one is an error."""
    where = Location(path)
    try:
        data = read_file(path, within=path.parent, max_bytes=MAX_LOCK_BYTES)
    except MissingFile:
        return EMPTY_LOCK
    except UnsafeFile as exc:
        report.error(where, f"lock file {exc}")
        return EMPTY_LOCK
    try:
        # JSON nested past Python's recursion limit raises RecursionError (json's parser and
        # str() of what it built both check the limit), reported below like any damage.
        document = json.loads(data.decode("utf-8"))
        if document.get("format") not in READABLE_LOCK_FORMATS:
            # The content is not quoted: a file that is not a deckgen lock may hold anything.
            report.error(
                where,
                f"lock file is not a deckgen lock of format {READABLE_LOCK_FORMATS[-1]} or "
                "older: a newer deckgen "
                "wrote it (upgrade deckgen), or it is not a lock (restore it from version control)",
            )
            return EMPTY_LOCK
        return Lock(
            notes=_read_section(document["notes"]),
            notetypes=_read_section(document["notetypes"]),
            retired=_read_retired(document.get("retired", {})),
            fingerprints_with_deck=document["format"] in FORMATS_WITH_DECK,
        )
    except (
        OSError,
        UnicodeDecodeError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        RecursionError,
    ) as exc:
        report.error(
            where,
            f"lock file is damaged ({_describe_damage(exc)}); restore it from version "
            "control (deleting it gives every note a new time: students' own edits get "
            "overwritten)",
        )
        return EMPTY_LOCK


def _describe_damage(exc: Exception) -> str:
    """What is wrong, without quoting the file: a lock that is not ours may hold secrets."""
    if isinstance(exc, OSError):
        return f"cannot read it: {exc.strerror}"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON at line {exc.lineno}, column {exc.colno}"
    if isinstance(exc, KeyError | TypeError | AttributeError):
        return "an entry is missing or has the wrong type"
    return str(exc)


def _read_section(section: dict[str, dict[str, object]]) -> dict[str, Stamp]:
    stamps = {}
    for key, entry in section.items():
        # The type interned: a handful of names, otherwise one string per note of a large lock.
        stamps[key] = Stamp(
            str(entry["fingerprint"]), _checked_mod(entry["mod"]), sys.intern(str(entry["type"]))
        )
    return stamps


def _checked_mod(mod: object) -> int:
    """A recorded time, bounded so that note ids derived from it stay within SQLite's range."""
    if not isinstance(mod, int) or isinstance(mod, bool) or not 0 <= mod <= MAX_TIME:
        raise ValueError(f"a note's time is not whole seconds between 0 and {MAX_TIME}")
    return mod


def _read_retired(section: dict[str, dict[str, object]]) -> dict[str, RetiredNote]:
    """The retired section's structure; retire.py checks what it means (card ids, types,
    cards, versions) before anything ships. A lock written before notices holds each card's
    old text instead of its cards: read to count them, never kept."""
    retired = {}
    for key, entry in section.items():
        mod, announced = _checked_mod(entry["mod"]), entry["announced_in"]
        if announced is not None and not isinstance(announced, str):
            raise ValueError("a retired card's release is not text")
        if "cards" in entry:
            cards = entry["cards"]
            if not isinstance(cards, list) or not all(
                isinstance(o, int) and not isinstance(o, bool) for o in cards
            ):
                raise ValueError("a retired card's cards are not a list of numbers")
            retired[str(key)] = RetiredNote(
                mod=mod,
                kind=str(entry["type"]),
                card_ords=tuple(cards),
                fingerprint=str(entry["fingerprint"]),
                announced_in=announced,
            )
        else:
            fields = entry["fields"]
            if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
                raise ValueError("a retired card needs a list of fields")
            retired[str(key)] = RetiredNote(
                mod=mod,
                kind=str(entry["type"]),
                card_ords=None,
                announced_in=announced,
                legacy_fields=tuple(fields),
            )
    return retired


class TimeExhausted(ValueError):
    """No time strictly newer than a recorded one is left under ``MAX_TIME``; the message
    follows the card or notetype it concerns."""


def newer_time(recorded: int, now: int) -> int:
    """The time an edit gets: ``now``, or just after ``recorded`` when that is not older.
    Raises ``TimeExhausted`` rather than go past ``MAX_TIME``, which the lock's reader
    refuses."""
    time = max(now, recorded + 1)
    if time > MAX_TIME:
        raise TimeExhausted(
            f"has the time {recorded} in {LOCK_FILE}, and the latest time deckgen writes is "
            f"{MAX_TIME} (the end of year 9999): no newer time is left to ship the edit; "
            f"restore {LOCK_FILE} from version control (deckgen never gives a time this late)"
        )
    return time


def next_stamp(previous: Stamp | None, *, fingerprint: str, kind: str, now: int) -> Stamp:
    """Keep the recorded time when nothing changed; else a time strictly newer than it
    (``TimeExhausted`` when none is left)."""
    if previous is None:
        return Stamp(fingerprint, now, kind)
    if previous.fingerprint == fingerprint and previous.kind == kind:
        return previous
    return Stamp(fingerprint, newer_time(previous.mod, now), kind)
