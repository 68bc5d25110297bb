"""Resident memory around each stage of one deckgen command, in one process.

    cd /tmp/m && python /path/to/bench/memory_stages.py build cards -o decks

The card files are compiled in this process (no worker processes), and each stage prints
the resident memory before and after it and the process's peak so far, on stderr: what the
per-file results, the per-deck stage and the package each add to a build's peak.
"""

from __future__ import annotations

import functools
import resource
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

import deckgen.pipeline.build as build
import deckgen.pipeline.filestage as filestage
import deckgen.pipeline.project as project
from deckgen.cli import cli

STAGES = [
    (build, "read_decks"),  # every card file loaded, checked and rendered (or from the cache)
    (build, "compile_deck"),  # guids, fingerprints and the lock of one deck
    (project, "compile_project"),  # both of the above and the cache entries written
    (build, "package_bytes"),  # one deck's SQLite collection and zip
    (project, "plan"),  # every package, the lock's text
]


def resident_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measured(module: ModuleType, name: str) -> None:
    inner: Callable[..., Any] = getattr(module, name)

    @functools.wraps(inner)
    def outer(*args: Any, **kwargs: Any) -> Any:
        before = resident_mib()
        result = inner(*args, **kwargs)
        print(
            f"{name}: {before:.0f} -> {resident_mib():.0f} MiB, peak so far {peak_mib():.0f} MiB",
            file=sys.stderr,
        )
        return result

    setattr(module, name, outer)


def main() -> None:
    filestage.PARALLEL_MIN_BYTES = 10**15  # every file in this process, where it is measured
    for module, name in STAGES:
        measured(module, name)
    print(f"imports: {resident_mib():.0f} MiB", file=sys.stderr)
    try:
        cli.main(sys.argv[1:], standalone_mode=False)
    finally:
        print(f"end: {resident_mib():.0f} MiB, peak {peak_mib():.0f} MiB", file=sys.stderr)


if __name__ == "__main__":
    main()
