"""`deckgen --help` stays quick: the heavy libraries load only when a command runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIRST_BUILD_TIME
from deckgen.diagnostics import Report
from deckgen.pipeline import freshness
from deckgen.pipeline.build import build_decks
from deckgen.values import usable_cores
from helpers import OUTPUT_LIBRARIES, output_libraries_imported, write_deck_folder

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
    # A real build again; markdown-it and defusedxml only if that file needs them (Markdown
    # beyond plain sentences, an SVG image).
    assert set(_imports("build")[0]) >= set(OUTPUT_LIBRARIES) - {"markdown_it", "defusedxml"}


def test_the_environment_digest_follows_each_output_library() -> None:
    """Each library that shapes the output is found installed (its version and RECORD are
    hashed), so upgrading one invalidates every cached result."""
    for distribution, module in freshness._OUTPUT_DISTRIBUTIONS.items():
        version = freshness._installed(distribution, module).split()[0]
        assert version not in {"?", ""}, distribution
    assert freshness._installed("no-such-distribution", "no_such_module") == "?"
    assert freshness._installed("no-such-distribution", "yaml") == "?"


def test_plain_cards_build_without_the_markdown_engine(empty_project: Path) -> None:
    """Plain sentences and simple emphasis never need markdown-it, so a build of such cards
    does not import it (a fifth of a cold build's imports); a field with a list does."""
    card = "cards:\n  - id: q{n}\n    question: Why {n}?\n    answer: Because **{n}**.\n"
    write_deck_folder(empty_project, {f"p{n}.yaml": card.format(n=n) for n in range(3)})
    imported, said = _imports("build")
    assert "built 1 deck" in said
    assert "markdown_it" not in imported and "nh3" in imported
    (empty_project / "cards/d/p3.yaml").write_text(
        'cards:\n  - id: q3\n    question: Which?\n    answer: "- one\\n- two"\n'
    )
    imported, said = _imports("build")
    assert "built 1 deck" in said
    assert "markdown_it" in imported


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


_WORKER_PROBE = """
import os
import sys
from deckgen.cli import cli
from deckgen.pipeline import filestage

filestage.PARALLEL_MIN_BYTES = 0  # the card files compile in worker processes
compile_job = filestage._compile_job


def job_noting_imports(job):
    compiled = compile_job(job)
    noted = " ".join(str(name in sys.modules) for name in sys.argv[1:])
    os.write(2, f"worker {noted}\\n".encode())  # one write: no interleaving
    return compiled


filestage._compile_job = job_noting_imports
try:
    cli(["build"], prog_name="deckgen")
except SystemExit:
    pass
print("main", *(name in sys.modules for name in sys.argv[1:]), file=sys.stderr)
"""


def _noted_imports(*modules: str) -> tuple[list[str], str]:
    """Build the project in the working folder with every card file compiled in a worker;
    whether each of ``modules`` was imported, as each worker finished a file and in the main
    process at the end (lines "worker ..." and "main ..."), and what the build said."""
    result = subprocess.run(
        [sys.executable, "-c", _WORKER_PROBE, *modules], capture_output=True, text=True, check=True
    )
    noted = [line for line in result.stderr.splitlines() if line.startswith(("worker", "main"))]
    return noted, result.stdout


_FOUR_PLAIN_FILES = {
    f"part{n}.yaml": f"cards:\n  - id: q{n}\n    question: Q{n}\n    answer: A\n" for n in range(4)
}
"""Card files each compiled in a worker (``_noted_imports``), read by the line reader."""


@pytest.mark.skipif(usable_cores() < 2, reason="card files compile in workers on 2 cores or more")
def test_workers_start_before_the_package_writer_is_imported(empty_project: Path) -> None:
    """Only the main process writes packages: genanki (whose import pulls in asyncio) is
    imported once the workers compiling the card files are forked, not held up before them."""
    write_deck_folder(empty_project, _FOUR_PLAIN_FILES)
    noted, said = _noted_imports("genanki")
    assert "wrote: decks/d.apkg (4 notes" in said
    assert noted == ["worker False"] * 4 + ["main True"]


@pytest.mark.skipif(usable_cores() < 2, reason="card files compile in workers on 2 cores or more")
def test_card_files_of_one_line_values_are_read_without_pyyaml(empty_project: Path) -> None:
    """The line reader takes card files whose values each fit on a line, and PyYAML is
    imported only for a file it leaves to the full reader: not before the workers fork, not
    in them (genanki, which imports it, comes later and only in the main process)."""
    write_deck_folder(empty_project, _FOUR_PLAIN_FILES)
    noted, said = _noted_imports("yaml")
    assert "wrote: decks/d.apkg (4 notes" in said
    assert noted == ["worker False"] * 4 + ["main True"]
    block_scalar = "cards:\n  - id: q4\n    question: Q4\n    answer: |\n      A\n"
    (empty_project / "cards/d/part4.yaml").write_text(block_scalar)
    noted, said = _noted_imports("yaml")
    assert "wrote: decks/d.apkg (5 notes" in said
    assert "worker True" in noted


def test_the_environment_digest_is_taken_while_the_card_files_compile(
    empty_project: Path,
) -> None:
    """The digest of deckgen's environment (its sources hashed), which the package's inputs
    and the project's record need at the end, is taken once the first card file is done, in
    the time the main process would otherwise spend waiting for the rest."""
    write_deck_folder(empty_project, _FOUR_PLAIN_FILES)
    freshness.environment_digest.cache_clear()
    taken_at_each_file: list[bool] = []
    build_decks(
        empty_project / "cards",
        now=FIRST_BUILD_TIME,
        report=Report(),
        out_dir=empty_project / "decks",
        on_file_done=lambda: taken_at_each_file.append(
            freshness.environment_digest.cache_info().currsize == 1
        ),
    )
    assert taken_at_each_file == [True] * 4
