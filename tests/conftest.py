"""Shared fixtures: a sample project in a temporary folder, the CLI, and a student's Anki."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

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


def _imports_ankis_engine(module: ModuleType) -> bool:
    """Whether a test module holds anything of Anki's engine (``anki``) or of its wrapper
    (``anki_engine``)."""
    for value in vars(module).values():
        name = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", "")
        if isinstance(name, str) and name.split(".")[0] in {"anki", "anki_engine"}:
            return True
    return False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by what they run, so a subset can leave them out: ``browser`` for tests
    that use the Chromium fixture, ``engine`` for those that use Anki's engine."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "browser" in fixtures:
            item.add_marker(pytest.mark.browser)
        module = getattr(item, "module", None)
        if "student" in fixtures or (module is not None and _imports_ankis_engine(module)):
            item.add_marker(pytest.mark.engine)
