"""Every install line deckgen shows installs deckgen itself: "deckgen" on the public package
index is an unrelated project, so a line naming it (README, the CI recipe, the pre-commit
example, a hint deckgen prints) would install and run a stranger's code."""

from __future__ import annotations

import ast
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from deckgen import DISTRIBUTION
from helpers import REPO

ROOT = REPO

_PIP_INSTALL = re.compile(
    r"pip install((?:[ \t]+(?:-[-\w]+|'[^'\n]*'|\"[^\"\n]*\"|[^\s`'\"()&;#]+))+)"
)
_TOKEN = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|\S+")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_PINNED_GIT = re.compile(r"git\+https://\S+@(?:COMMIT|[0-9a-f]{40})$")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def install_problems(text: str) -> list[str]:
    """Each requirement of each ``pip install`` in ``text`` that would not install this
    project from a path, a pinned git URL or its own distribution name."""
    problems = []
    for match in _PIP_INSTALL.finditer(text):
        for token in _TOKEN.findall(match.group(1)):
            requirement = token.strip("'\"")
            if requirement.startswith("-") or requirement.startswith((".", "/")):
                continue
            name = _NAME.match(requirement)
            if name is None:
                problems.append(f"unreadable requirement {token!r}")
                continue
            normalized = _normalized(name.group())
            if normalized == "deckgen":
                problems.append(f"{token!r} installs the unrelated 'deckgen' distribution")
            elif " @ " in requirement:
                url = requirement.split(" @ ", 1)[1].strip()
                if normalized != DISTRIBUTION or not _PINNED_GIT.match(url):
                    problems.append(f"{token!r} is not {DISTRIBUTION} at a pinned commit")
    return problems


def _python_strings(path: Path) -> list[str]:
    """Every string literal of a module, f-strings with ``DISTRIBUTION`` filled in."""
    strings = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                if isinstance(value, ast.Constant):
                    parts.append(str(value.value))
                elif isinstance(value, ast.FormattedValue):
                    named = isinstance(value.value, ast.Name) and value.value.id == "DISTRIBUTION"
                    parts.append(DISTRIBUTION if named else "{}")
            strings.append("".join(parts))
    return strings


def _documents() -> list[tuple[str, str]]:
    documents = [
        (str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
        for path in [
            ROOT / "README.md",
            ROOT / ".pre-commit-hooks.yaml",
            ROOT / ".ci/run",
            *sorted((ROOT / "docs").rglob("*.yml")),
            *sorted((ROOT / "docs").rglob("*.md")),
        ]
        if path.is_file()
    ]
    for path in sorted((ROOT / "src").rglob("*.py")):
        for text in _python_strings(path):
            documents.append((str(path.relative_to(ROOT)), text))
    return documents


def test_every_install_line_installs_this_project() -> None:
    found = []
    for name, text in _documents():
        if "pip install" in text:
            found.append(name)
        assert install_problems(text) == [], name
    # The places that must say how to install deckgen all do.
    assert {
        "README.md",
        "docs/instructors.md",
        "docs/deckgen-workflow.yml",
        "src/deckgen/cli/release.py",
        ".ci/run",
    } <= set(found)


def test_the_distribution_is_named_as_the_install_lines_say() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == DISTRIBUTION != "deckgen"
    assert project["scripts"] == {"deckgen": "deckgen.cli:main"}
    assert "verify" in project["optional-dependencies"]


@pytest.mark.parametrize(
    ("line", "flagged"),
    [
        ("pip install 'deckgen[verify]'", True),
        ('python -m pip install "deckgen[verify]"  # pin it', True),
        ("pip install -U deckgen", True),
        ("pip install Deckgen==0.10.4", True),
        ("pip install 'deckgen-anki[verify] @ git+https://github.com/o/deckgen@main'", True),
        ("pip install -e '.[verify]'", False),
        ("pip install -e . && deckgen build", False),
        (
            f"pip install '{DISTRIBUTION}[verify] @ git+https://example.org/deckgen@{'a' * 40}'",
            False,
        ),
    ],
)
def test_the_install_check_flags_the_other_project(line: str, flagged: bool) -> None:
    assert bool(install_problems(line)) is flagged


def test_the_pre_commit_example_pins_no_tag_that_does_not_exist() -> None:
    revisions = [
        revision
        for _, text in _documents()
        for revision in re.findall(r"^\s*rev:\s*(\S+)", text, re.MULTILINE)
    ]
    assert revisions
    tags = subprocess.run(
        ["git", "tag", "--list"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.split()
    for revision in revisions:
        # A commit hash, the placeholder the docs explain, or a tag deckgen really has.
        assert re.fullmatch(r"[0-9a-f]{40}|COMMIT", revision) or revision in tags, revision
