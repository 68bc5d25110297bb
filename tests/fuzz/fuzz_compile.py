"""A coverage-guided fuzz target (atheris) for the load-validate-render path.

Each input is written as a card file into a deck of its own and compiled with the library,
as ``deckgen check`` does. deckgen's own errors are expected (that is how bad input is
refused); any other exception, a hang or a blow-up of memory is a finding. The deck has a
PNG and an SVG, so image references can resolve.

Run: python tests/fuzz/fuzz_compile.py -max_total_time=60 NEW_CORPUS tests/fuzz/corpus
(libFuzzer's options; new inputs go to the first folder, findings to crash-* files).
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from pathlib import Path

import atheris

# Coverage is traced in deckgen and the pure-Python parsers it drives, not the whole stdlib
# (instrumenting everything costs a minute of start-up).
with atheris.instrument_imports(include=["deckgen", "yaml", "markdown_it"]):
    from deckgen.build import compile_project
    from deckgen.diagnostics import DeckgenError, Report

_FIXTURE_IMAGES = Path(__file__).parents[1] / "fixtures" / "sample" / "cards" / "demo" / "images"
_ROOT = Path(tempfile.mkdtemp(prefix="deckgen-fuzz-"))
_CARDS = _ROOT / "cards"
_CARD_FILE = _CARDS / "fuzz" / "cards.yaml"


def _make_deck() -> None:
    deck = _CARD_FILE.parent
    shutil.copytree(_FIXTURE_IMAGES, deck / "images")
    (deck / "deck.yaml").write_text("name: Fuzz\nid: fuzz\n", encoding="utf-8")


def test_one_input(data: bytes) -> None:
    _CARD_FILE.write_bytes(data)
    report = Report()
    with contextlib.suppress(DeckgenError):
        compile_project(_CARDS, now=1_700_000_000, report=report)
    for diagnostic in report.sorted():  # printing a diagnostic must not fail either
        str(diagnostic)


def main() -> None:
    _make_deck()
    try:
        atheris.Setup(sys.argv, test_one_input)
        atheris.Fuzz()
    finally:
        shutil.rmtree(_ROOT, ignore_errors=True)


if __name__ == "__main__":
    main()
