"""The benchmark's generated bank is what it claims to be, and both contenders can build it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from deckgen.diagnostics import Report
from deckgen.pipeline.build import compile_project
from helpers import REPO, benchmark_modules

pytestmark = pytest.mark.slow  # the benchmark, end to end

bench, peers = benchmark_modules()


def test_the_generated_bank_has_the_advertised_mix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # genanki leaves its collection
    cards_dir = bench.generate(tmp_path, 2000)
    assert len(list((cards_dir / "bank").glob("*.yaml"))) == bench.FILES + 1  # + deck.yaml

    report = Report()
    (deck,) = compile_project(cards_dir, now=1, report=report, packages_dir=tmp_path)
    assert report.diagnostics == []
    kinds = Counter(note.notetype.kind.value for note in deck.notes)
    assert len(deck.notes) == 2000
    assert 0.75 <= kinds["basic"] / 2000 <= 0.85
    assert 0.07 <= kinds["cloze"] / 2000 <= 0.13
    assert 0.03 <= kinds["reversed"] / 2000 <= 0.07
    assert 0.03 <= kinds["typein"] / 2000 <= 0.07
    with_images = sum(any(f.name.endswith(".png") for f in note.media) for note in deck.notes)
    with_maps = sum(any(f.name.endswith(".svg") for f in note.media) for note in deck.notes)
    assert 5 <= with_images <= 40 and 2 <= with_maps <= 25
    assert all(note.tags and note.fields[-1] for note in deck.notes), "tags and sources"

    bench.floor(cards_dir, tmp_path / "floor.apkg")
    with zipfile.ZipFile(tmp_path / "floor.apkg") as package:
        assert "collection.anki2" in package.namelist()
        assert b"<strong>" not in package.read("collection.anki2")  # the floor renders nothing

    bench.floor(cards_dir, tmp_path / "floor-markdown.apkg", markdown=True)
    with zipfile.ZipFile(tmp_path / "floor-markdown.apkg") as package:
        assert b"<strong>" in package.read("collection.anki2")  # this one renders Markdown


def test_the_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    """The benchmark command of docs/performance.md, at a toy size: every row measured and
    printed, and --keep may name a folder that does not exist yet."""
    keep = tmp_path / "banks" / "new"
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench.py"), "--sizes", "200", "--repeat", "1",
         "--peers-notes", "300", "--memory", "600", "--keep", str(keep)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    tables = [table.splitlines() for table in result.stdout.split("\n\n")]
    bank, peers_case, memory = (t for t in tables if any("wall s" in line for line in t))
    assert [line[:18].strip() for line in bank[2:14]] == list(bench.BANK_ROWS)
    assert bank[14].startswith("memory: cold build")
    assert [line[:20].strip() for line in peers_case[2:]] == [
        "genanki, bare",
        "genanki + libyaml",
        "deckgen cold",
    ]
    assert "x genanki" in peers_case[4] and "<= 1.5x genanki (wall)" in peers_case[4]
    assert [line[:18].strip() for line in memory[2:5]] == ["floor", "cold", "one-card edit"]
    assert "600 cards in 3 decks" in memory[0]
    assert "floor+Markdown alone" in result.stdout
    goals = result.stdout.split("goals of issue 22 on this machine:\n")[1].splitlines()
    assert any("unchanged check <= build --check" in goal for goal in goals)
    assert any("deckgen cold <= 1.5x genanki" in goal for goal in goals)
    assert any("peak memory at 600 cards < 700 MiB" in goal for goal in goals)
    assert any("one-card edit at 100k" in goal and "not measured" in goal for goal in goals)
    assert any("every peer rendering Markdown: not measured (--peers VENV)" in g for g in goals)
    assert all(goal.endswith((": met", ": MISSED", "not measured (--sizes 100000)",
                              "not measured (--peers VENV)")) for goal in goals)  # fmt: skip
    assert any(keep.iterdir())  # the generated bank was kept


def test_the_peers_case_holds_the_same_notes_for_each_tool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """deckgen's YAML and genanki's prepared list carry the same 500 notes: same texts (bold
    as Markdown for deckgen, as HTML for genanki), same tags, same subdecks."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # genanki leaves its collection
    notes = peers.simple_notes(500)
    assert len({note.question for note in notes}) == 500
    assert 0.03 <= sum("**" in note.question for note in notes) / 500 <= 0.15
    cards_dir = peers.write_deckgen(tmp_path, notes)
    report = Report()
    (deck,) = compile_project(cards_dir, now=1, report=report, packages_dir=tmp_path)
    assert report.diagnostics == []
    assert len(deck.notes) == 500
    built = {note.fields[0].rsplit("(case ", 1)[1]: note for note in deck.notes}
    for note in notes:
        compiled = built[f"{note.number})?"]
        assert compiled.fields[0] == note.question.replace("**", "<strong>", 1).replace(
            "**", "</strong>", 1
        )
        assert compiled.fields[1] == note.answer and set(compiled.tags) == set(note.tags)
        assert compiled.deck_name.endswith(f"Part {note.file_index:03d}")

    peers.write_bare_notes(tmp_path / "notes.json", notes)
    peers.genanki_bare(tmp_path / "notes.json", tmp_path / "bare.apkg")
    with zipfile.ZipFile(tmp_path / "bare.apkg") as package:
        (tmp_path / "bare.db").write_bytes(package.read("collection.anki2"))
    with sqlite3.connect(tmp_path / "bare.db") as db:
        bare = {
            fields.split("\x1f")[0]: (fields.split("\x1f")[1], tags.split())
            for fields, tags in db.execute("SELECT flds, tags FROM notes")
        }
    for note in notes:
        answer, tags = bare[peers.bold_as_html(note.question)]
        assert answer == note.answer and tags == list(note.tags)
    with_bold = next(note for note in notes if "**" in note.question)
    assert "<b>" in peers.bold_as_html(with_bold.question)
    assert "**" not in peers.bold_as_html(with_bold.question)
