"""A progress bar on stderr for builds long enough to want one, and only on a terminal.

A short build prints nothing extra, and output that goes to a file or a CI log never holds
carriage returns: the bar appears once a build has run for ``DELAY`` seconds, on a terminal.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from deckgen.source.safe_files import TooDeep, walk_tree

DELAY = 1.0
"""Seconds a build runs before the bar appears."""
_WIDTH = 30


@dataclass
class ProgressBar:
    """Counts card files as the per-file stage finishes them."""

    total: int
    stream: TextIO
    clock: Callable[[], float] = time.monotonic
    done: int = 0
    _started: float = field(init=False)
    _drawn: int = 0
    """Length of the line last drawn, 0 while nothing is shown."""

    def __post_init__(self) -> None:
        self._started = self.clock()

    def advance(self) -> None:
        self.done += 1
        if self.clock() - self._started < DELAY:
            return
        shown = min(self.done, self.total)
        filled = _WIDTH * shown // max(self.total, 1)
        line = f"[{'#' * filled}{'.' * (_WIDTH - filled)}] {shown}/{self.total} card files"
        self.stream.write("\r" + line.ljust(self._drawn))
        self.stream.flush()
        self._drawn = len(line)

    def finish(self) -> None:
        """Clear the bar, so the messages that follow start on a clean line."""
        if self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self.stream.flush()
            self._drawn = 0


def progress_bar(cards_dir: Path, stream: TextIO) -> ProgressBar | None:
    """A bar for a build of ``cards_dir`` when ``stream`` is a terminal, else None."""
    if not stream.isatty() or os.environ.get("TERM") == "dumb":
        return None
    # Counts names only: nothing is read, so no link is followed to a file.
    card_files = 0
    with contextlib.suppress(TooDeep):  # the build reports it; the bar counts what it saw
        for path in walk_tree(cards_dir):
            if path.suffix == ".yaml" and path.name != "deck.yaml":
                card_files += 1
    return ProgressBar(card_files, stream)
