"""A time-boxed coverage-guided fuzz run (atheris) of the load-validate-render path.

DECKGEN_FUZZ_SECONDS sets its length (default 60). It starts from the corpus kept in
tests/fuzz/corpus; inputs it finds interesting go to a temporary folder, so the repository is
never changed by a run. Any exception other than deckgen's own error types, an input that
takes over 10 seconds or 2 GB of memory is a failure, and its input is named in the message.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO

FUZZ = REPO / "tests" / "fuzz"


@pytest.mark.fuzz
@pytest.mark.parametrize("spelled_as", ["cards", "fields"])
def test_fuzzing_the_compile_path_finds_nothing(tmp_path: Path, spelled_as: str) -> None:
    """Half the time on raw card files, half on one card's fields in any Unicode."""
    seconds = max(1, int(os.environ.get("DECKGEN_FUZZ_SECONDS", "60")) // 2)
    found = tmp_path / "corpus"
    found.mkdir()
    result = subprocess.run(
        [
            sys.executable,
            str(FUZZ / "fuzz_compile.py"),
            f"-max_total_time={seconds}",
            "-timeout=10",
            "-rss_limit_mb=2048",
            "-max_len=16384",
            f"-dict={FUZZ / 'deckgen.dict'}",
            f"-artifact_prefix={tmp_path}/",
            str(found),
            str(FUZZ / "corpus"),
        ],
        env={**os.environ, "TMPDIR": str(tmp_path), "DECKGEN_FUZZ_INPUT": spelled_as},
        capture_output=True,
        text=True,
        timeout=seconds + 300,
        check=False,
    )
    findings = [path.name for path in tmp_path.iterdir() if path.is_file()]
    log = result.stderr[-4000:]
    assert result.returncode == 0 and not findings, f"fuzzing found {findings}:\n{log}"
    done = re.search(r"Done (\d+) runs in (\d+) second", result.stderr)
    assert done is not None, log
    print(f"fuzzed {done[2]} s: {done[1]} inputs, {len(list(found.iterdir()))} new in corpus")
