"""Timing of YAML loading (libyaml vs pure Python) and of the worst inputs the bounds allow.

Run: python bench/hostile_and_large_inputs.py
Prints seconds per case; every hostile case must finish (refused or built) within seconds.
The lint cases are the near-duplicate rule's worst inputs: it once compared every pair.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path

import yaml
from click.testing import CliRunner

from deckgen.cli import cli
from deckgen.diagnostics import Report
from deckgen.source import full_yaml, yamlsource


def ordinary_cards(count: int) -> str:
    return "cards:\n" + "".join(
        f"  - id: c{i}\n    question: What is **{i}**?\n    answer: It is {i}.\n    tags: [a, b]\n"
        for i in range(count)
    )


def fields_file(field: str, quote: str = "'") -> str:
    """As many cards with ``field`` as a question as fit in a card file (2 MiB)."""
    card = f"  - id: c{{}}\n    question: {quote}{field}{quote}\n    answer: A\n"
    count = (yamlsource.MAX_FILE_BYTES - 100) // (len(card) + 8)
    return "cards:\n" + "".join(card.format(i) for i in range(count))


def time_load(text: str, loader: type[yaml.SafeLoader], folder: Path) -> float:
    path = folder / "cards.yaml"
    path.write_text(text)
    original = full_yaml._FAST_LOADER
    full_yaml._FAST_LOADER = loader
    try:
        started = time.perf_counter()
        yamlsource.load_yaml(path, Report())
        return time.perf_counter() - started
    finally:
        full_yaml._FAST_LOADER = original


def alike_questions(count: int, per_file: int = 2_000) -> list[str]:
    """Questions differing in one word: each is a near-duplicate of every other."""
    return [
        "cards:\n"
        + "".join(
            f"  - {{id: c{i}, question: What is the origin of muscle number {i}?, "
            f"answer: Bone {i}, source: S}}\n"
            for i in range(start, min(start + per_file, count))
        )
        for start in range(0, count, per_file)
    ]


def shuffled_questions(count: int, per_file: int = 1_000) -> list[str]:
    """Questions of the same 60 words in shuffled order: alike by words and letters, not by
    text, so every candidate costs a full character-by-character comparison."""
    rng = random.Random(1)
    words = [f"w{number}" for number in range(60)]
    files = []
    for start in range(0, count, per_file):
        cards = []
        for i in range(start, min(start + per_file, count)):
            rng.shuffle(words)
            cards.append(f"  - {{id: c{i}, question: '{' '.join(words * 3)}', answer: A{i}}}\n")
        files.append("cards:\n" + "".join(cards))
    return files


def time_check(
    card_file: str | list[str], folder: Path, command: str = "check"
) -> tuple[float, int, str]:
    deck = folder / "cards/d"
    deck.mkdir(parents=True, exist_ok=True)
    (deck / "deck.yaml").write_text("name: D\nid: d\nlint: {ignore: [no-source]}\n")
    for number, text in enumerate([card_file] if isinstance(card_file, str) else card_file):
        (deck / f"c{number}.yaml").write_text(text)
    os.chdir(folder)
    started = time.perf_counter()
    result = CliRunner().invoke(cli, [command])
    first_error = next((line for line in result.output.splitlines() if "error:" in line), "")
    return time.perf_counter() - started, result.exit_code, first_error.partition("error: ")[2]


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        text = ordinary_cards(7100)
        print(f"7,100 ordinary cards ({len(text) / 1e6:.2f} MB):")
        for loader in (yaml.CSafeLoader, yaml.SafeLoader):
            print(f"  load with {loader.__name__:12} {time_load(text, loader, folder):6.2f} s")
        cases = {
            "ordinary cards filling a file (22,000)": ordinary_cards(22_000),
            "1.9 MB of '['": "cards:\n  - id: x\n    answer: A\n    question: '"
            + "[" * 1_900_000
            + "'\n",
            "fields of 1,000 '![' pairs": fields_file("![" * 500 + "a" * 8_000),
            "fields of 1,000 '[x](' links": fields_file("[x](" * 250 + "a" * 8_000),
            "fields of '<!--' then '</'": fields_file("<!--" * 250 + "</" * 250 + "a" * 8_000),
            "fields of 9,900 characters of short lines": fields_file("a\\n" * 3_300, '"'),
            "aliases of a 10,000-character field": "q: &q '"
            + "a " * 5_000
            + "'\ncards:\n"
            + "".join(f"  - {{id: c{i}, question: *q, answer: *q}}\n" for i in range(40_000)),
            "flow nesting 1,000,000 deep": "cards: " + "[" * 1_000_000 + "]" * 1_000_000,
        }
        for name, card_file in cases.items():
            seconds, code, error = time_check(card_file, folder / name.replace(" ", "_")[:20])
            print(f"check, {name:42} {seconds:6.2f} s  exit {code}  {error[:60]}")
        lint_cases = {
            "6,000 alike questions": alike_questions(6_000),
            "6,000 questions of one shuffled word set": shuffled_questions(6_000),
        }
        for name, card_files in lint_cases.items():
            seconds, code, _ = time_check(card_files, folder / f"lint{len(name)}", "lint")
            print(f"lint,  {name:42} {seconds:6.2f} s  exit {code}")


if __name__ == "__main__":
    main()
