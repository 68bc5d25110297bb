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
from typing import Any

import deckgen.pipeline.build as build
import deckgen.pipeline.filestage as filestage
import deckgen.pipeline.project as project
from deckgen.cli import cli

STAGES: list[tuple[Any, str]] = [
    (filestage.FileCompiler, "__call__"),  # one deck's card files (or their cache entries)
    (build, "compile_deck"),  # guids, fingerprints and the lock of one deck
    (build, "package_bytes"),  # one deck's SQLite collection and zip
    (build, "plan_deck"),  # one deck's lock, package inputs and package
    (project, "build_decks"),  # every deck, one at a time (workers write the cache entries)
]


def resident_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measured(module: Any, name: str) -> None:
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
