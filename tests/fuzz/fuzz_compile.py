#!/usr/bin/env python3
"""A coverage-guided fuzz target (atheris) for the load-validate-render path.

Each input is written as a card file into a deck of its own and compiled with the library,
as ``deckgen check`` does. With DECKGEN_FUZZ_INPUT=fields the input spells the fields of one
card instead, which reaches rendering with any Unicode at all. deckgen's own errors are
expected (that is how bad input is refused); any other exception, a hang or a blow-up of
memory is a finding. The deck has a PNG and an SVG, so image references can resolve.

Run: python tests/fuzz/fuzz_compile.py -max_total_time=60 NEW_CORPUS tests/fuzz/corpus
(libFuzzer's options; new inputs go to the first folder, findings to crash-* files).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import atheris

# Coverage is traced in deckgen and the pure-Python parsers it drives, not the whole stdlib
# (instrumenting everything costs a minute of start-up).
with atheris.instrument_imports(include=["deckgen", "yaml", "markdown_it"]):
    from deckgen.diagnostics import DeckgenError, Report
    from deckgen.pipeline.build import compile_project

_FIELDS = os.environ.get("DECKGEN_FUZZ_INPUT") == "fields"
"""Inputs are whole card files, or (``fields``) the values of one card's fields."""
_FIXTURE_IMAGES = Path(__file__).parents[1] / "fixtures" / "sample" / "cards" / "demo" / "images"
_ROOT = Path(tempfile.mkdtemp(prefix="deckgen-fuzz-"))
_CARDS = _ROOT / "cards"
_CARD_FILE = _CARDS / "fuzz" / "cards.yaml"


def _make_deck() -> None:
    deck = _CARD_FILE.parent
    shutil.copytree(_FIXTURE_IMAGES, deck / "images")
    (deck / "deck.yaml").write_text("name: Fuzz\nid: fuzz\n", encoding="utf-8")


_CARD_TYPES = ["basic", "reversed", "typein", "cloze"]


def card_file_of_fields(data: bytes) -> bytes:
    """A well-formed card file whose ids, fields and tag are any Unicode the input spells
    (control characters, lone surrogates, private use), so every input passes the parser."""
    provider = atheris.FuzzedDataProvider(data)
    kind = provider.PickValueInList(_CARD_TYPES)
    text_fields = ["cloze"] if kind == "cloze" else ["question", "answer"]

    def text() -> str:
        # JSON strings are YAML double-quoted scalars; \uXXXX escapes carry any code point.
        return json.dumps(provider.ConsumeUnicode(provider.ConsumeIntInRange(0, 40)))

    # An id or tag that fails its check stops the card before rendering, so mostly not.
    card_id = text() if provider.ConsumeProbability() < 0.1 else "card"
    tag = text() if provider.ConsumeProbability() < 0.1 else "tag"
    lines = ["cards:", f"  - id: {card_id}", f"    type: {kind}", f"    tags: [{tag}]"]
    lines += [f"    {name}: {text()}" for name in [*text_fields, "extra", "source"]]
    return "\n".join(lines).encode("utf-8") + b"\n"


def test_one_input(data: bytes) -> None:
    _CARD_FILE.write_bytes(card_file_of_fields(data) if _FIELDS else data)
    report = Report()
    with contextlib.suppress(DeckgenError):
        compile_project(_CARDS, now=1_700_000_000, report=report, packages_dir=_ROOT / "decks")
    for diagnostic in report.sorted():  # printing a diagnostic must not fail either
        str(diagnostic)


def main() -> None:
    # libFuzzer ends the process itself, so the deck's folder (under TMPDIR) outlives the run;
    # test_fuzz.py points TMPDIR at a folder pytest removes.
    _make_deck()
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
