"""SIGKILL at random points of a large build, and between every two renames of its outputs.

After every kill each package on disk is whole and Anki imports it, and each lock is whole
JSON. A student imports whatever is on disk after every kill; after the next complete build
every one of their notes shows the latest text, so no kill ever made Anki skip an update.
The next build leaves no temporary file, and ``build --check`` then finds nothing stale.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from anki_engine import StudentCollection
from conftest import FIRST_BUILD_TIME
from deckgen.values import usable_cores

DECKS = {"big": 1800, "small": 200}
"""Cards per deck: a few thousand in all, in files of 300."""
ROUNDS = int(os.environ.get("DECKGEN_CRASH_ROUNDS", "6"))
SEED = int(os.environ.get("DECKGEN_CRASH_SEED", str(random.randrange(1 << 32))))


def _write_sources(root: Path, version: int) -> None:
    for deck, count in DECKS.items():
        folder = root / "cards" / deck
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "deck.yaml").write_text(f"name: {deck.title()}\nid: {deck}\n")
        for part, first in enumerate(range(0, count, 300)):
            lines = ["cards:"]
            for number in range(first, min(first + 300, count)):
                lines += [
                    f"  - id: {deck}-{number}",
                    f"    question: What is **item {number}** of {deck}?",
                    f"    answer: Item {number}, version {version}",
                ]
            (folder / f"part{part}.yaml").write_text("\n".join(lines) + "\n")


def _start_build(root: Path, *wrapper: str) -> subprocess.Popen[bytes]:
    environment = {**os.environ, "SOURCE_DATE_EPOCH": str(FIRST_BUILD_TIME)}
    return subprocess.Popen(
        [*wrapper, sys.executable, "-m", "deckgen", "build"],
        cwd=root,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _temporary_files(root: Path) -> list[Path]:
    folders = [root / "decks", *(root / "cards" / deck for deck in DECKS)]
    return [
        Path(entry.path)
        for folder in folders
        if folder.is_dir()
        for entry in os.scandir(folder)
        if entry.name.endswith(".tmp")
    ]


def _kill_during_write(process: subprocess.Popen[bytes], root: Path, rng: random.Random) -> None:
    """Kill soon after the first temporary file appears: inside the write phase."""
    while process.poll() is None and not _temporary_files(root):
        time.sleep(0.0005)
    time.sleep(rng.uniform(0, 0.02))
    process.kill()


def _kill_at_random(
    process: subprocess.Popen[bytes], full_build: float, rng: random.Random
) -> None:
    time.sleep(rng.uniform(0.3, 1.1) * full_build)
    process.kill()


def _assert_outputs_whole(root: Path, student: StudentCollection) -> None:
    for deck in DECKS:
        lock = root / "cards" / deck / "deck.lock"
        assert len(json.loads(lock.read_text())["notes"]) == DECKS[deck]
        package = root / "decks" / f"{deck}.apkg"
        with zipfile.ZipFile(package) as archive:
            assert archive.testzip() is None
        log = student.import_package(package)
        assert len(log.new) + len(log.updated) + len(log.duplicate) == DECKS[deck]


def _assert_next_build_repairs_everything(
    root: Path, student: StudentCollection, *, version: int
) -> None:
    """The next build succeeds and leaves no temporary file, ``--check`` finds nothing
    stale, and the student who imported every intermediate package gets every update."""
    environment = {**os.environ, "SOURCE_DATE_EPOCH": str(FIRST_BUILD_TIME)}
    for args in (["build"], ["build", "--check"]):
        result = subprocess.run(
            [sys.executable, "-m", "deckgen", *args],
            cwd=root,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert _temporary_files(root) == []
    _assert_outputs_whole(root, student)
    versions = {
        int(match[1])
        for note in student.notes().values()
        if (match := re.search(r"version (\d+)", note.fields[1]))
    }
    assert len(student.notes()) == sum(DECKS.values())
    assert versions == {version}, "a kill made Anki skip an update"


@pytest.mark.crash
def test_sigkill_at_random_points_leaves_whole_importable_outputs(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    rng = random.Random(SEED)
    print(f"crash test seed {SEED} (DECKGEN_CRASH_SEED reproduces it), {ROUNDS} rounds")
    _write_sources(tmp_path, version=0)
    started = time.monotonic()
    first = _start_build(tmp_path)
    assert first.wait(timeout=120) == 0, first.stderr.read() if first.stderr else ""
    full_build = time.monotonic() - started
    student = StudentCollection(tmp_path_factory.mktemp("student"))
    try:
        _assert_outputs_whole(tmp_path, student)
        killed = in_write_phase = 0
        for version in range(1, ROUNDS + 1):
            _write_sources(tmp_path, version)
            process = _start_build(tmp_path)
            if version % 2:
                _kill_during_write(process, tmp_path, rng)
            else:
                _kill_at_random(process, full_build, rng)
            code = process.wait(timeout=120)
            killed += code == -signal.SIGKILL
            in_write_phase += bool(_temporary_files(tmp_path))
            assert code in (0, -signal.SIGKILL)
            _assert_outputs_whole(tmp_path, student)
        print(
            f"full build {full_build:.1f} s; {killed} of {ROUNDS} builds killed, "
            f"{in_write_phase} left temporary files behind"
        )
        assert killed > 0

        _assert_next_build_repairs_everything(tmp_path, student, version=ROUNDS)
    finally:
        student.close()


def _strace() -> str:
    found = shutil.which("strace")
    if found:
        return found
    if os.environ.get("DECKGEN_REQUIRE_STRACE"):
        pytest.fail("strace is required (DECKGEN_REQUIRE_STRACE is set) but not installed")
    pytest.skip("strace is not installed (apt-get install strace)")


@pytest.mark.crash
def test_sigkill_before_each_rename_of_the_write_phase(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """strace kills the build on entering its n-th rename (no hook in deckgen): every state
    between "nothing renamed" and "all but the last output renamed" is visited."""
    renames = "rename,renameat,renameat2"
    outputs = 2 * len(DECKS)  # a package and a lock per deck
    _write_sources(tmp_path, version=0)
    assert _start_build(tmp_path).wait(timeout=120) == 0
    student = StudentCollection(tmp_path_factory.mktemp("student"))
    try:
        _assert_outputs_whole(tmp_path, student)
        for version in range(1, outputs + 1):
            _write_sources(tmp_path, version)
            kill_at = f"inject={renames}:signal=KILL:when={version}"
            wrapper = (_strace(), "-f", "-qq", "-o", os.devnull, "-e", f"trace={renames}")
            process = _start_build(tmp_path, *wrapper, "-e", kill_at)
            assert process.wait(timeout=120) != 0, f"not killed at rename {version}"
            assert len(_temporary_files(tmp_path)) == outputs - version + 1
            _assert_outputs_whole(tmp_path, student)
        _assert_next_build_repairs_everything(tmp_path, student, version=outputs)
    finally:
        student.close()


def _children(pid: int) -> list[int]:
    try:
        return [
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]
    except OSError:
        return []


@pytest.mark.crash
@pytest.mark.skipif(usable_cores() < 2, reason="card files compile in workers on 2 cores or more")
def test_a_worker_killed_mid_build_stops_it_with_a_clear_error(tmp_path: Path) -> None:
    """A worker killed by the system (short of memory, say) while another sends its cards
    back: the build stops at once with a clear error, writes nothing and leaves no cache
    entry. (The other worker, blocked on the pipe nobody read any more, used to turn the pool's
    SIGTERM into a SystemExit it reported down that pipe: the build hung for ever.)"""
    folder = tmp_path / "cards" / "big"
    folder.mkdir(parents=True)
    (folder / "deck.yaml").write_text("name: Big\nid: big\n")
    for part in range(40):
        lines = ["cards:"]
        for number in range(part * 400, part * 400 + 400):
            lines += [
                f"  - id: card-{number}",
                f"    question: What is **item {number}** of this rather long deck of cards?",
                f"    answer: Item {number}, which the build sends back from its worker.",
            ]
        (folder / f"part{part}.yaml").write_text("\n".join(lines) + "\n")
    build = _start_build(tmp_path)
    entries = tmp_path / "cards" / ".deckgen-cache" / "files"
    started = time.monotonic()
    # Once a few files' entries are written, the workers are sending cards back.
    while build.poll() is None and len(list(entries.glob("*")) if entries.is_dir() else []) < 20:
        assert time.monotonic() - started < 60, "no card file compiled"
        time.sleep(0.001)
    workers = _children(build.pid)
    assert workers, "the build ended before a worker could be killed"
    os.kill(workers[0], signal.SIGKILL)
    try:
        _, said = build.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        build.kill()
        pytest.fail("the build hung after a worker was killed")
    assert build.returncode == 1, said
    assert b"a worker process compiling the card files was stopped" in said
    assert not (tmp_path / "decks").exists() or not list((tmp_path / "decks").iterdir())
    assert not list(entries.iterdir())
