"""How long `deckgen verify` takes on the shipped deck (target: under 10 s).

Run from the repository root: python bench/verify_shipped_deck.py
It rehearses the upgrade from the package in decks/ to what the sources build now, three
times, and prints each time and the figures of the last run.
"""

from __future__ import annotations

import time
from pathlib import Path

from deckgen.diagnostics import Report
from deckgen.workflow.verify import format_results, verify_project

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    for attempt in range(1, 4):
        start = time.perf_counter()
        results = verify_project(
            REPO / "cards",
            now=int(time.time()),
            packages_dir=REPO / "decks",
            previous=REPO / "decks",
            report=Report(),
        )
        print(f"run {attempt}: {time.perf_counter() - start:.2f} s")
    print(format_results(results, "text"))


if __name__ == "__main__":
    main()
