"""The GitHub Actions workflow offered to content repositories (docs/deckgen-workflow.yml):
its shell steps run here, in a content repository with a recorded release, as a runner would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import FIRST_BUILD_TIME, FIXTURES
from helpers import REPO

pytestmark = pytest.mark.slow  # the CI workflow's steps, run for real

WORKFLOW = REPO / "docs/deckgen-workflow.yml"


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def run_steps(repo: Path, runner_temp: Path) -> list[subprocess.CompletedProcess[str]]:
    """Every step's script except the installation (deckgen is installed here already)."""
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["deck"]["steps"]
    scripts = [step["run"] for step in steps if "run" in step and "pip install" not in step["run"]]
    assert len(scripts) == 3
    environ = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "RUNNER_TEMP": str(runner_temp),
    }
    return [
        subprocess.run(
            ["bash", "-e", "-c", script], cwd=repo, env=environ, capture_output=True, text=True
        )
        for script in scripts
    ]


def test_the_workflow_passes_a_good_release_and_annotates_a_broken_identity(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "content"
    shutil.copytree(FIXTURES / "sample", repo)
    environ = {**os.environ, "SOURCE_DATE_EPOCH": str(FIRST_BUILD_TIME)}
    deckgen = [sys.executable, "-m", "deckgen"]
    subprocess.run(
        [*deckgen, "release", "1.0.0", "--first"],
        cwd=repo,
        env=environ,
        check=True,
        capture_output=True,
    )
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "first release")
    anatomy = repo / "cards/demo/anatomy.yaml"
    anatomy.write_text(anatomy.read_text().replace("femur.", "femur, laterally."))
    environ["SOURCE_DATE_EPOCH"] = str(FIRST_BUILD_TIME + 30)
    subprocess.run([*deckgen, "build"], cwd=repo, env=environ, check=True, capture_output=True)
    git(repo, "commit", "-qam", "a good edit")

    good = run_steps(repo, tmp_path / "runner-good")

    assert [step.returncode for step in good] == [0, 0, 0], good[2].stdout
    assert "1 updated, 5 unchanged" in good[2].stdout

    deck_yaml = repo / "cards/demo/deck.yaml"
    deck_yaml.write_text(deck_yaml.read_text().replace("id: demo-gm", "id: demo-gm-2"))
    environ["SOURCE_DATE_EPOCH"] = str(FIRST_BUILD_TIME + 60)
    subprocess.run([*deckgen, "build"], cwd=repo, env=environ, check=True, capture_output=True)
    git(repo, "commit", "-qam", "a broken identity")

    check, stale, rehearsal = run_steps(repo, tmp_path / "runner")

    assert check.returncode == 0 and stale.returncode == 0, check.stderr + stale.stdout
    assert rehearsal.returncode == 1
    assert "::error file=cards/demo/anatomy.yaml,line=" in rehearsal.stdout
    assert "title=deckgen [duplicate]::card 'origin' arrives as a second note" in rehearsal.stdout
