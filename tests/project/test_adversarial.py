"""The adversarial corpus (tests/adversarial/cases.py) through the CLI.

Every case: the expected exit code, a message at its place that says what to do, no traceback,
no raw control character in the output, and every project file byte-identical afterwards.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from adversarial.cases import CASES, Case
from conftest import FIRST_BUILD_TIME, run_deckgen
from deckgen.diagnostics import Report
from deckgen.source import full_yaml
from deckgen.source.yamlsource import load_yaml
from hostile_project import snapshot

_RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


@pytest.fixture(scope="module")
def built_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-deck project built once: its package and lock are what a case must not touch."""
    root = tmp_path_factory.mktemp("template")
    (root / "cards/d").mkdir(parents=True)
    (root / "cards/d/deck.yaml").write_text("name: D\nid: d\n")
    (root / "cards/d/c.yaml").write_text("cards:\n  - id: ok\n    question: Q\n    answer: A\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME))
        result = run_deckgen("build")
    assert result.exit_code == 0, result.output
    return root


def test_the_corpus_is_large_and_its_names_unique() -> None:
    assert len(CASES) >= 60
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_input_is_refused_cleanly(
    case: Case, built_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "project"
    shutil.copytree(built_template, root, symlinks=True)
    for relative, content in case.files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    if case.setup is not None:
        case.setup(root)
    before = snapshot(root)
    monkeypatch.chdir(root)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(FIRST_BUILD_TIME))
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)

    result = run_deckgen(case.command)

    output = result.stdout + result.stderr
    assert result.exit_code == case.exit_code, output
    assert "Traceback" not in output and "internal error" not in output
    assert not _RAW_CONTROL.search(output), repr(output)
    assert re.search(case.expect, output, re.MULTILINE), output
    assert "secretsecret" not in output
    assert snapshot(root) == before


YAML_CASES = [
    (case.name, content)
    for case in CASES
    for relative, content in case.files.items()
    if relative.endswith(".yaml")
]


@pytest.mark.parametrize(("name", "content"), YAML_CASES, ids=[name for name, _ in YAML_CASES])
def test_libyaml_and_pure_python_report_hostile_yaml_alike(
    name: str, content: str | bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    results = []
    for loader in (yaml.CSafeLoader, yaml.SafeLoader):
        monkeypatch.setattr(full_yaml, "_FAST_LOADER", loader)
        report = Report()
        node = load_yaml(path, report)
        results.append((node, [str(d) for d in report.sorted()]))
    assert results[0] == results[1]
