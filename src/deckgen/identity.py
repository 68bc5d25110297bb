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
import re
from dataclasses import dataclass
from pathlib import Path

from deckgen.diagnostics import Location, Report

LOCK_FILE = "deck.lock"
LOCK_FORMAT = 1

MAX_TIME = 253_402_300_799
"""The last second of year 9999: the latest modification time deckgen writes or accepts.
Note ids are derived from times times 1000, so this keeps them far inside SQLite's int64."""

_MAX_LOCK_DEPTH = 8
"""A lock nests three levels; deeper JSON is not ours, and is refused before parsing."""
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def note_guid(deck_id: str, card_id: str) -> str:
    """The note's identity in every student's collection: never derived from content."""
    digest = hashlib.sha256(f"deckgen\x1f{deck_id}\x1f{card_id}".encode()).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode("ascii")


def fingerprint(content: object) -> str:
    """A stable hash of JSON-serialisable content."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Stamp:
    """What the lock remembers of one note or notetype."""

    fingerprint: str
    mod: int
    """Seconds since the epoch: the modification time Anki compares."""
    kind: str
    """The card type (for notes) or the notetype's kind; a change of type is worth a warning."""


@dataclass(frozen=True)
class Lock:
    """The contents of one deck's lock file."""

    notes: dict[str, Stamp]
    """By card id."""
    notetypes: dict[str, Stamp]
    """By card kind."""

    def to_text(self) -> str:
        def section(stamps: dict[str, Stamp]) -> dict[str, dict[str, object]]:
            return {
                key: {"fingerprint": s.fingerprint, "mod": s.mod, "type": s.kind}
                for key, s in sorted(stamps.items())
            }

        document = {
            "format": LOCK_FORMAT,
            "notes": section(self.notes),
            "notetypes": section(self.notetypes),
        }
        return json.dumps(document, indent=2, sort_keys=True) + "\n"


EMPTY_LOCK = Lock({}, {})


def read_lock(path: Path, report: Report) -> Lock:
    """The lock at ``path``; a missing lock is empty, a damaged one is an error."""
    if not path.exists():
        return EMPTY_LOCK
    where = Location(path)
    try:
        text = path.read_text(encoding="utf-8")
        if _nesting_depth(text) > _MAX_LOCK_DEPTH:
            raise ValueError("nested too deeply")
        document = json.loads(text)
        if document.get("format") != LOCK_FORMAT:
            # The content is not quoted: a file that is not a deckgen lock may hold anything.
            report.error(
                where,
                f"lock file is not a deckgen lock of format {LOCK_FORMAT}: a newer deckgen "
                "wrote it (upgrade deckgen), or it is not a lock (restore it from version control)",
            )
            return EMPTY_LOCK
        return Lock(
            notes=_read_section(document["notes"]),
            notetypes=_read_section(document["notetypes"]),
        )
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        report.error(
            where,
            f"lock file is damaged ({_describe_damage(exc)}); restore it from version "
            "control (deleting it gives every note a new time: students' own edits get "
            "overwritten)",
        )
        return EMPTY_LOCK


def _nesting_depth(text: str) -> int:
    """How deeply the JSON in ``text`` nests, counted without recursion."""
    depth = deepest = 0
    for bracket in re.findall(r"[\[\]{}]", _JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _describe_damage(exc: Exception) -> str:
    """What is wrong, without quoting the file: a lock that is not ours may hold secrets."""
    if isinstance(exc, OSError):
        return f"cannot read it: {exc.strerror}"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON at line {exc.lineno}, column {exc.colno}"
    if isinstance(exc, KeyError | TypeError | AttributeError):
        return "an entry is missing or has the wrong type"
    return str(exc)


def _read_section(section: dict[str, dict[str, object]]) -> dict[str, Stamp]:
    stamps = {}
    for key, entry in section.items():
        mod = entry["mod"]
        if not isinstance(mod, int) or isinstance(mod, bool) or not 0 <= mod <= MAX_TIME:
            raise ValueError(f"a note's time is not whole seconds between 0 and {MAX_TIME}")
        stamps[key] = Stamp(str(entry["fingerprint"]), mod, str(entry["type"]))
    return stamps


def next_stamp(previous: Stamp | None, *, fingerprint: str, kind: str, now: int) -> Stamp:
    """Keep the recorded time when nothing changed; else a time strictly newer than it."""
    if previous is None:
        return Stamp(fingerprint, now, kind)
    if previous.fingerprint == fingerprint and previous.kind == kind:
        return previous
    return Stamp(fingerprint, max(now, previous.mod + 1), kind)
