"""Shared fixtures: a sample project in a temporary folder, the CLI, and a student's Anki."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import settings
from playwright.sync_api import Browser, sync_playwright

from anki_engine import StudentCollection
from browser import chromium
from deckgen.cli import cli

# In CI the property tests replay one fixed sequence of examples, so a run can be repeated
# and a landing never hangs on a lucky draw; on a developer's machine every run explores new
# inputs (and keeps failures in .hypothesis/ to replay).
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

FIXTURES = Path(__file__).parent / "fixtures"
FIRST_BUILD_TIME = 1_700_000_000

# The key that signs build-cache entries lives in the user's cache folder: the tests (and the
# deckgen processes they start, which inherit this) make their own instead of the user's.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="deckgen-tests-cache-home-")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample project (tests/fixtures/sample) copied into an empty folder, which is the
    working directory, with the build clock pinned."""
    shutil.copytree(FIXTURES / "sample", tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME))
    return tmp_path


@pytest.fixture
def empty_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory with a cards/ folder, for tests that write their own decks."""
    (tmp_path / "cards").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME))
    return tmp_path


def run_deckgen(*args: str) -> Result:
    """Run the CLI in-process, as a user would from a shell."""
    return CliRunner().invoke(cli, list(args), prog_name="deckgen")


@pytest.fixture
def student(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudentCollection]:
    """A fresh Anki collection, as a student who has never imported the deck has."""
    collection = StudentCollection(tmp_path_factory.mktemp("student"))
    yield collection
    collection.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Chromium driven through Playwright, for pages whose scripts must run (or must not)."""
    executable = chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()
