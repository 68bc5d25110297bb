"""`deckgen watch`: real file changes trigger builds; bursts are waited out; errors keep the
last good package."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import webbrowser
from pathlib import Path

import pytest

from conftest import FIRST_BUILD_TIME
from deckgen.cli.build import refresh_preview
from deckgen.workflow.watch import Watcher

pytestmark = pytest.mark.slow  # watch's real timers and processes

ANATOMY = Path("cards/demo/anatomy.yaml")
PACKAGE = Path("decks/demo.apkg")


def wait_for(condition: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_burst_of_saves_makes_one_build(project: Path) -> None:
    builds: list[list[Path]] = []
    stop = threading.Event()
    watcher = Watcher(Path("cards"), builds.append, interval=0.05, settle=0.4)
    thread = threading.Thread(target=watcher.run, kwargs={"should_stop": stop.is_set})
    thread.start()
    try:
        wait_for(lambda: len(builds) == 1, "the first build")
        for number in range(6):  # an editor saving repeatedly, faster than the settle time
            ANATOMY.write_text(ANATOMY.read_text() + f"# save {number}\n")
            Path("cards/demo/images/new.svg").write_text(f"<svg>{number}</svg>")
            time.sleep(0.1)
        wait_for(lambda: len(builds) == 2, "the build after the burst")
        time.sleep(1.0)  # long enough for any further (wrong) build
    finally:
        stop.set()
        thread.join()
    assert builds == [[], [Path("cards/demo/anatomy.yaml"), Path("cards/demo/images/new.svg")]]


def test_its_own_writes_do_not_trigger_builds(project: Path) -> None:
    builds: list[list[Path]] = []
    stop = threading.Event()
    watcher = Watcher(Path("cards"), builds.append, interval=0.05, settle=0.1)
    thread = threading.Thread(target=watcher.run, kwargs={"should_stop": stop.is_set})
    thread.start()
    try:
        wait_for(lambda: len(builds) == 1, "the first build")
        Path("cards/demo/deck.lock").write_text("{}")
        (Path("cards/.deckgen-cache/files")).mkdir(parents=True)
        Path("cards/.deckgen-cache/files/entry").write_text("x")
        Path("cards/demo/.anatomy.yaml.swp").write_text("x")
        time.sleep(0.6)
    finally:
        stop.set()
        thread.join()
    assert builds == [[]]


def test_watch_rebuilds_on_real_changes_and_keeps_the_last_good_package(project: Path) -> None:
    log = project / "watch.log"
    env = os.environ | {"SOURCE_DATE_EPOCH": str(FIRST_BUILD_TIME)}
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "deckgen", "watch"],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        wait_for(lambda: "built 1 deck" in log.read_text(), "the first build")
        first = PACKAGE.read_bytes()

        ANATOMY.write_text(ANATOMY.read_text().replace("Hip abduction", "Abduction of the hip"))
        wait_for(lambda: log.read_text().count("built 1 deck") == 2, "the rebuild")
        assert "changed: cards/demo/anatomy.yaml\nwrote: decks/demo.apkg" in log.read_text()
        edited = PACKAGE.read_bytes()
        assert edited != first

        good = ANATOMY.read_text()
        ANATOMY.write_text(good + "  - id: [broken\n")
        wait_for(lambda: "nothing was written" in log.read_text(), "the error")
        assert "cards/demo/anatomy.yaml:" in log.read_text()
        assert PACKAGE.read_bytes() == edited

        ANATOMY.write_text(good)
        wait_for(lambda: log.read_text().count("built 1 deck") == 3, "the build after the fix")
        assert PACKAGE.read_bytes() == edited
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode == 0
    assert log.read_text().endswith("stopped watching\n")


def test_a_cards_folder_that_vanishes_is_reported_and_watched_again(project: Path) -> None:
    """A `git checkout` or a sync tool may take the whole folder away for a moment: watch
    says so (no internal error) and builds again once it is back."""
    log = project / "watch.log"
    env = os.environ | {"SOURCE_DATE_EPOCH": str(FIRST_BUILD_TIME)}
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "deckgen", "watch"],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        wait_for(lambda: "built 1 deck" in log.read_text(), "the first build")
        Path("cards").rename("cards-away")
        wait_for(lambda: "nothing was written" in log.read_text(), "the error")
        assert (
            "cards: error: cards folder cannot be read: No such file or directory; restore it, "
            "or name the folder that holds the decks\n"
        ) in log.read_text()
        Path("cards-away").rename("cards")
        wait_for(lambda: log.read_text().count("built 1 deck") == 2, "the build once it is back")
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode == 0
    assert "internal error" not in log.read_text() and "Traceback" not in log.read_text()


def test_an_existing_preview_folder_is_refreshed_after_a_good_build(project: Path) -> None:
    refresh_preview(Path("cards"), Path("preview"))
    assert not Path("preview").exists()  # no preview folder: the author never asked for one
    Path("preview").mkdir()
    refresh_preview(Path("cards"), Path("preview"))
    assert 'data-card-id="' in Path("preview/index.html").read_text()


@pytest.mark.parametrize("name", ["--open", "-o", "--help"])
def test_a_cards_folder_named_like_an_option_is_previewed_as_a_folder(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """The refresh once re-parsed the folder name as a command line: '--open' opened a
    browser on another folder's preview, '-o' swallowed the next argument."""
    opened: list[object] = []
    monkeypatch.setattr(webbrowser, "open", lambda *args, **kwargs: opened.append(args))
    Path("cards").rename(name)
    Path("preview").mkdir()
    refresh_preview(Path(name), Path("preview"))
    assert opened == []
    assert capsys.readouterr().out.startswith("wrote preview/index.html (")
    assert f"{name}/demo/" in Path("preview/index.html").read_text()


def test_builds_pause_the_cycle_collector_only_while_they_run(project: Path) -> None:
    """A build runs without Python's cyclic collector for speed; a long-lived watch must get
    it back after every build, good or failed."""
    import gc

    from conftest import run_deckgen

    assert gc.isenabled()
    assert run_deckgen("build").exit_code == 0
    assert gc.isenabled()
    (project / "cards/demo/broken.yaml").write_text("cards:\n  - id: [unclosed\n")
    assert run_deckgen("build").exit_code == 1
    assert gc.isenabled()


def test_a_build_leaves_nothing_for_the_cycle_collector(project: Path) -> None:
    """Pausing the collector during a build is free only while a build makes no reference
    cycles: reference counting then frees everything, and memory stays what it was."""
    import gc

    from deckgen.diagnostics import Report
    from deckgen.pipeline.build import compile_project, plan
    from deckgen.pipeline.cache import BuildCache

    cards = project / "cards"
    for _ in range(2):  # compiled, then from the cache
        gc.collect()
        gc.disable()
        try:
            compiled = compile_project(
                cards,
                now=FIRST_BUILD_TIME,
                report=Report(),
                packages_dir=project / "decks",
                cache=BuildCache.for_cards(cards),
            )
            plan(compiled, project / "decks")
            del compiled
            assert gc.collect() == 0
        finally:
            gc.enable()
