"""``deckgen watch``: rebuild whenever a card file or an image under the cards folder changes.

It polls the folder's listing (names, sizes, modification times) instead of relying on the
operating system's file events: polling sees the same changes on every platform, on network
and container file systems too, and editors' save-by-rename is just another change. A burst of
saves (an editor writing several files, a `git checkout`) is waited out: a build starts only
once the folder has been still for ``settle`` seconds.
"""

from __future__ import annotations

import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from deckgen.anki.identity import LOCK_FILE
from deckgen.pipeline.cache import CACHE_DIR
from deckgen.source.safe_files import TooDeep, walk_tree

Snapshot = dict[Path, tuple[int, int]]
"""Every watched file with its size and modification time in nanoseconds."""


def snapshot(cards_dir: Path) -> Snapshot:
    """The watched files under ``cards_dir``: everything but the lock files deckgen writes
    itself, its cache, and hidden or backup files editors leave behind."""
    files: Snapshot = {}
    try:
        for path in walk_tree(cards_dir, skip=_unwatched):
            try:
                status = path.stat()
            except OSError:  # deleted between listing and looking: the next poll sees it
                continue
            if not stat.S_ISDIR(status.st_mode):
                files[path] = (status.st_size, status.st_mtime_ns)
    except TooDeep:
        pass  # what lies deeper is not watched; the build reports the folder
    return files


def _unwatched(path: Path) -> bool:
    name = path.name
    return name.startswith(".") or name.endswith("~") or name in (LOCK_FILE, CACHE_DIR)


def changed_paths(before: Snapshot, after: Snapshot) -> list[Path]:
    """Files added, removed or modified between two snapshots, in name order."""
    everything = before.keys() | after.keys()
    return sorted(path for path in everything if before.get(path) != after.get(path))


@dataclass(frozen=True)
class Watcher:
    """Calls ``rebuild`` with the changed files each time the cards folder settles after a
    change; ``rebuild`` reports its own results and errors."""

    cards_dir: Path
    rebuild: Callable[[list[Path]], None]
    interval: float = 0.3
    """Seconds between looks at the folder."""
    settle: float = 0.3
    """Seconds the folder must stay unchanged before a build starts."""

    def run(self, *, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Build once, then after every settled change until ``should_stop`` says so."""
        seen = snapshot(self.cards_dir)
        self.rebuild([])
        while not should_stop():
            time.sleep(self.interval)
            current = snapshot(self.cards_dir)
            if current == seen:
                continue
            current = self._settled(current, should_stop)
            changes = changed_paths(seen, current)
            seen = current
            if changes:
                self.rebuild(changes)

    def _settled(self, current: Snapshot, should_stop: Callable[[], bool]) -> Snapshot:
        while not should_stop():
            time.sleep(self.settle)
            later = snapshot(self.cards_dir)
            if later == current:
                break
            current = later
        return current
