"""The pre-commit hooks a content repository uses, run by pre-commit itself: it installs
deckgen from this repository into its own environment, as a content repository's would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES
from helpers import REPO

pytestmark = pytest.mark.slow  # real git commits through pre-commit's hooks

ROOT = REPO


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def try_repo(repo: Path, hook: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook, "--all-files"],
        cwd=repo,
        env={**os.environ, "PRE_COMMIT_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_check_hook_passes_good_cards_and_points_at_bad_ones(tmp_path: Path) -> None:
    repo = tmp_path / "content"
    shutil.copytree(FIXTURES / "sample", repo)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "cards")

    passed = try_repo(repo, "deckgen-check", tmp_path / "pre-commit")

    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "deckgen check" in passed.stdout and "Passed" in passed.stdout

    anatomy = repo / "cards/demo/anatomy.yaml"
    anatomy.write_text(anatomy.read_text().replace("type: typein", "type: typing"))
    git(repo, "add", "-A")

    failed = try_repo(repo, "deckgen-check", tmp_path / "pre-commit")

    assert failed.returncode == 1
    assert "Failed" in failed.stdout
    assert (
        "cards/demo/anatomy.yaml:12:11: error: card 'nerve' has unknown type 'typing'"
        in failed.stdout
    )
