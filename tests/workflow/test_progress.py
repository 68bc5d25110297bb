"""The build's progress bar: on a terminal, after a second, cleared when the build is done."""

from __future__ import annotations

import io
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

from deckgen.pipeline.cache import CACHE_DIR
from deckgen.workflow.progress import DELAY, ProgressBar, progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_nothing_is_drawn_during_the_first_second() -> None:
    now = [0.0]
    bar = ProgressBar(4, Terminal(), clock=lambda: now[0])
    bar.advance()
    now[0] = DELAY - 0.01
    bar.advance()
    bar.finish()
    assert bar.stream.getvalue() == ""


def test_a_long_build_draws_the_bar_on_one_line_and_clears_it() -> None:
    now = [0.0]
    stream = Terminal()
    bar = ProgressBar(4, stream, clock=lambda: now[0])
    now[0] = DELAY
    bar.advance()
    bar.advance()
    assert stream.getvalue().split("\r")[1:] == [
        "[" + "#" * 7 + "." * 23 + "] 1/4 card files",
        "[" + "#" * 15 + "." * 15 + "] 2/4 card files",
    ]
    bar.finish()
    assert stream.getvalue().endswith("\r" + " " * len("[] 2/4 card files" + "." * 30) + "\r")
    assert "\n" not in stream.getvalue()


def test_no_bar_off_a_terminal(project: Path) -> None:
    assert progress_bar(project / "cards", io.StringIO()) is None
    bar = progress_bar(project / "cards", Terminal())
    assert bar is not None and bar.total == 2  # the sample deck's two card files


def test_a_build_on_a_terminal_shows_the_bar_and_a_piped_one_does_not(project: Path) -> None:
    script = (
        "import deckgen.workflow.progress as p; p.DELAY = 0.0\n"
        "import sys; from deckgen.cli import main; sys.argv = ['deckgen', 'build']; main()\n"
    )
    piped = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert piped.returncode == 0 and "card files" not in piped.stderr
    shutil.rmtree(project / "cards" / CACHE_DIR)  # so the second build compiles again
    leader, follower = pty.openpty()
    on_terminal = subprocess.run(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=follower, check=False
    )
    os.close(follower)
    shown = os.read(leader, 65536).decode()
    os.close(leader)
    assert on_terminal.returncode == 0
    assert "] 2/2 card files" in shown and shown.rstrip(" ").endswith("\r")
