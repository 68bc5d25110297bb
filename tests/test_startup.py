"""`deckgen --help` stays quick: the heavy libraries load only when a command runs."""

from __future__ import annotations

import subprocess
import sys

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
