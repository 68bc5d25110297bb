"""`deckgen --help` stays quick: the heavy libraries load only when a command runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from helpers import OUTPUT_LIBRARIES, output_libraries_imported

HEAVY = ["genanki", "markdown_it", "nh3", "yaml", "sqlite3", "importlib.metadata"]


def test_help_imports_none_of_the_heavy_libraries() -> None:
    probe = (
        "import sys\n"
        "from deckgen.cli import cli\n"
        "try:\n"
        "    cli(['--help'], prog_name='deckgen')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print([name for name in {HEAVY!r} if name in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines()[-1] == "[]"
    assert "Usage: deckgen" in result.stdout


def _imports(*args: str) -> tuple[list[str], str]:
    imported, said, _ = output_libraries_imported(*args)
    return imported, said


def test_a_no_op_build_decides_before_importing_the_pipeline(project: Path) -> None:
    """A build (or build --check) that finds nothing changed answers from the cache's record
    without importing Markdown, the sanitiser, YAML or genanki; any change builds in full."""
    first_imports, first_said = _imports("build")
    assert set(first_imports) == set(OUTPUT_LIBRARIES)  # the probe sees a real build's imports
    assert "built 1 deck" in first_said
    assert _imports("build") == ([], first_said.replace("wrote", "up to date"))
    assert _imports("build", "--check")[0] == []
    card_file = next((project / "cards").rglob("*.yaml"))
    card_file.write_text(card_file.read_text() + "\n")
    assert set(_imports("build")[0]) == set(OUTPUT_LIBRARIES)


def test_the_environment_digest_follows_each_output_library() -> None:
    """Each library that shapes the output is found installed (its version and RECORD are
    hashed), so upgrading one invalidates every cached result."""
    from deckgen.pipeline import freshness

    for distribution, module in freshness._OUTPUT_DISTRIBUTIONS.items():
        version = freshness._installed(distribution, module).split()[0]
        assert version not in {"?", ""}, distribution
    assert freshness._installed("no-such-distribution", "no_such_module") == "?"
    assert freshness._installed("no-such-distribution", "yaml") == "?"


def test_an_unchanged_check_decides_before_importing_the_pipeline(project: Path) -> None:
    """`deckgen check` (the pre-commit hook) after a build with nothing left to do says what
    a real check says, without importing the pipeline."""
    assert _imports("build")[1].startswith("wrote")
    replayed_imports, replayed_said = _imports("check")
    assert replayed_imports == []
    shutil.rmtree(project / "cards" / ".deckgen-cache")
    checked_imports, checked_said = _imports("check")
    assert set(checked_imports) >= {"markdown_it", "nh3", "yaml"}  # a real check this time
    assert replayed_said == checked_said
    assert checked_said.startswith("checked 1 deck, ")
