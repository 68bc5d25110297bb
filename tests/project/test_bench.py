"""The benchmark's generated bank is what it claims to be, and both contenders can build it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from deckgen.diagnostics import Report
from deckgen.pipeline.build import compile_project
from helpers import REPO

pytestmark = pytest.mark.slow  # the benchmark, end to end

spec = importlib.util.spec_from_file_location("bench", REPO / "bench" / "bench.py")
assert spec is not None and spec.loader is not None
bench = importlib.util.module_from_spec(spec)
sys.modules["bench"] = bench  # its dataclasses look their module up
spec.loader.exec_module(bench)


def test_the_generated_bank_has_the_advertised_mix(tmp_path: Path) -> None:
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
         "--keep", str(keep)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = next(index for index, line in enumerate(lines) if "wall s" in line)
    rows = [line.split()[0] for line in lines[header + 1 :] if line.strip()]
    assert rows == [
        "floor",
        "floor+Markdown",
        "cold",
        "no-op",
        "unchanged",
        "one-card",
        "add",
        "--help",
    ]
    assert "floor+Markdown alone" in result.stdout
    assert any(keep.iterdir())  # the generated bank was kept
