"""Stage 6: identity from (deck id, card id), times from the lock."""

from __future__ import annotations

import json
import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from deckgen.anki.identity import (
    EMPTY_LOCK,
    LOCK_FORMAT,
    MAX_TIME,
    Lock,
    Stamp,
    fingerprint,
    fingerprint_with_deck,
    next_stamp,
    note_fingerprint,
    note_guid,
    read_lock,
)
from deckgen.diagnostics import Report


def test_guid_depends_on_deck_and_card_id_only() -> None:
    assert note_guid("gm", "origin") == note_guid("gm", "origin")
    assert (
        len({note_guid("gm", "origin"), note_guid("gm", "insertion"), note_guid("other", "origin")})
        == 3
    )
    # No separator ambiguity: ("a", "b-c") and ("a-b", "c") differ.
    assert note_guid("a", "b-c") != note_guid("a-b", "c")


def test_unchanged_content_keeps_its_time() -> None:
    old = Stamp("abc", 1000, "basic")
    assert next_stamp(old, fingerprint="abc", kind="basic", now=5000) == old


def test_changed_content_gets_a_strictly_newer_time() -> None:
    old = Stamp("abc", 1000, "basic")
    assert next_stamp(old, fingerprint="def", kind="basic", now=5000) == Stamp("def", 5000, "basic")
    # A clock behind the lock (SOURCE_DATE_EPOCH pinned, or a skewed machine) still moves forward.
    assert next_stamp(old, fingerprint="def", kind="basic", now=1000).mod == 1001
    assert next_stamp(old, fingerprint="def", kind="basic", now=10).mod == 1001
    assert next_stamp(old, fingerprint="abc", kind="cloze", now=10).mod == 1001


def test_new_content_gets_now() -> None:
    assert next_stamp(None, fingerprint="abc", kind="basic", now=77) == Stamp("abc", 77, "basic")


def test_lock_round_trips(tmp_path: Path) -> None:
    lock = Lock(
        {"b": Stamp("f2", 2, "cloze"), "a": Stamp("f1", 1, "basic")},
        {"basic": Stamp("n1", 3, "basic")},
    )
    path = tmp_path / "deck.lock"
    path.write_text(lock.to_text())
    report = Report()
    assert read_lock(path, report) == lock
    assert report.diagnostics == []
    assert lock.to_text().index('"a"') < lock.to_text().index('"b"'), "sorted for clean diffs"


def test_missing_lock_is_empty_and_damaged_lock_is_an_error(tmp_path: Path) -> None:
    report = Report()
    assert read_lock(tmp_path / "deck.lock", report) == EMPTY_LOCK
    assert report.diagnostics == []
    for damaged in (
        "{not json",
        '{"format": 1, "notes": {"a": {"mod": "x"}}, "notetypes": {}}',
        '{"format": 99, "notes": {}, "notetypes": {}}',
        "[]",
    ):
        (tmp_path / "deck.lock").write_text(damaged)
        report = Report()
        assert read_lock(tmp_path / "deck.lock", report) == EMPTY_LOCK
        assert report.error_count == 1, damaged


def _lock_with_mod(mod: str) -> str:
    note = f'{{"fingerprint": "f", "mod": {mod}, "type": "basic"}}'
    return f'{{"format": 1, "notes": {{"a": {note}}}, "notetypes": {{}}}}'


def test_lock_times_are_bounded_so_note_ids_fit_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "deck.lock"
    path.write_text(_lock_with_mod(str(MAX_TIME)))
    report = Report()
    assert read_lock(path, report).notes["a"].mod == MAX_TIME
    assert report.diagnostics == []
    # Note ids are derived from times * 1000 plus a count: far inside SQLite's int64.
    assert (MAX_TIME + 1) * 1000 + 10_000_000 < 2**63 - 1
    for bad in (str(MAX_TIME + 1), "9223372036854775807", "-1", "true", "1.5", "9" * 5000):
        path.write_text(_lock_with_mod(bad))
        report = Report()
        assert read_lock(path, report) == EMPTY_LOCK
        assert report.error_count == 1, bad


def test_deep_or_foreign_locks_are_refused_without_quoting_them(tmp_path: Path) -> None:
    path = tmp_path / "deck.lock"
    for content in (
        "[" * 200_000 + "]" * 200_000,
        '{"format": 1, "notes": {"x": {"fingerprint": ' + "[" * 5000 + "]" * 5000 + "}}}",
        '{"a": ' * 50 + "1" + "}" * 50,
        "secretsecret",
        '{"format": "secretsecret"}',
        '{"format": 1, "notes": {"secretsecret": 1}, "notetypes": {}}',
    ):
        path.write_text(content)
        report = Report()
        assert read_lock(path, report) == EMPTY_LOCK
        assert report.error_count == 1
        assert "secretsecret" not in report.diagnostics[0].message


def test_lock_text_is_what_json_writes() -> None:
    """The lock is assembled by hand for speed; it must stay byte-for-byte json's layout."""
    rng = random.Random(7)
    alphabet = 'ab-_.9"\\\\é→\n'
    for _ in range(200):

        def stamps(count: int) -> dict[str, Stamp]:
            return {
                "".join(rng.choices(alphabet, k=rng.randint(1, 6))): Stamp(
                    "".join(rng.choices(alphabet, k=8)),
                    rng.randint(0, 2**40),
                    rng.choice(["basic", "cloze"]),
                )
                for _ in range(count)
            }

        lock = Lock(stamps(rng.randint(0, 5)), stamps(rng.randint(0, 2)))
        document = {
            "format": LOCK_FORMAT,
            "notes": {
                k: {"fingerprint": s.fingerprint, "mod": s.mod, "type": s.kind}
                for k, s in lock.notes.items()
            },
            "notetypes": {
                k: {"fingerprint": s.fingerprint, "mod": s.mod, "type": s.kind}
                for k, s in lock.notetypes.items()
            },
        }
        assert lock.to_text() == json.dumps(document, indent=2, sort_keys=True) + "\n"


_ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    guid=_ANY_TEXT,
    notetype_id=st.integers(min_value=0, max_value=2**62),
    fields=st.lists(_ANY_TEXT, max_size=5).map(tuple),
    tags=st.lists(_ANY_TEXT, max_size=4).map(tuple),
    deck=_ANY_TEXT,
)
def test_a_note_fingerprint_is_the_fingerprint_of_its_content(
    guid: str, notetype_id: int, fields: tuple[str, ...], tags: tuple[str, ...], deck: str
) -> None:
    """Assembled by hand for speed, each must stay the hash the locks of its format hold:
    without the deck now, with it in locks of format 1 and 2."""
    content = {"guid": guid, "notetype": notetype_id, "fields": fields, "tags": tags}
    assert note_fingerprint(
        guid=guid, notetype_id=notetype_id, fields=fields, tags=tags
    ) == fingerprint(content)
    assert fingerprint_with_deck(
        guid=guid, notetype_id=notetype_id, fields=fields, tags=tags, deck=deck
    ) == fingerprint(content | {"deck": deck})
