"""Stage 1: YAML read safely, verbatim, with locations."""

from __future__ import annotations

from pathlib import Path

import pytest

from deckgen.diagnostics import Report
from deckgen.yamlsource import Mapping, Node, Scalar, Sequence, load_yaml


def load(tmp_path: Path, text: str) -> tuple[Node | None, list[str]]:
    path = tmp_path / "cards.yaml"
    path.write_text(text)
    report = Report()
    node = load_yaml(path, report)
    return node, [f"{d.location.line}:{d.location.column}: {d.message}" for d in report.sorted()]


def test_scalars_stay_the_text_the_author_wrote(tmp_path: Path) -> None:
    node, problems = load(tmp_path, "a: no\nb: 1.10\nc: null\nd: ~\ne: 2024-01-01\nf: 0x1F\ng:\n")
    assert problems == []
    assert isinstance(node, Mapping)
    values = {key.text: value.text for key, value in node.entries if isinstance(value, Scalar)}
    assert values == {
        "a": "no",
        "b": "1.10",
        "c": "null",
        "d": "~",
        "e": "2024-01-01",
        "f": "0x1F",
        "g": "",
    }


def test_locations_are_one_based_lines_and_columns(tmp_path: Path) -> None:
    node, _ = load(tmp_path, "cards:\n  - id: x\n    answer: y\n")
    assert isinstance(node, Mapping)
    cards = node.get("cards")
    assert isinstance(cards, Sequence)
    card = cards.items[0]
    assert isinstance(card, Mapping)
    assert (card.location.line, card.location.column) == (2, 5)
    answer = card.get("answer")
    assert answer is not None and (answer.location.line, answer.location.column) == (3, 13)


def test_duplicate_keys_are_errors_not_silently_dropped(tmp_path: Path) -> None:
    _, problems = load(tmp_path, "answer: first\nquestion: q\nanswer: second\n")
    assert problems == [
        "3:1: duplicate key 'answer' (first at line 1); YAML would keep only the last one: "
        "remove or rename one of them"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: !!python/object/apply:os.system [echo hi]\n",
            "1:4: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed: "
            "card files hold plain text",
        ),
        (
            "a: ![x](images/x.svg) text\n",
            "1:4: YAML reads '![x](images/x.svg)' as a tag because the value starts with '!': "
            'put the whole value in quotes, e.g. "![x](images/x.svg) ..."',
        ),
        (
            "base: &b {a: 1}\nother:\n  <<: *b\n",
            "3:3: YAML merge keys ('<<') are not supported: write the keys out",
        ),
        ("a: &a [*a]\n", "1:4: an alias refers to a value that contains it"),
        (
            "question: **Bold** start\n",
            "1:12: YAML syntax: expected alphabetic or numeric character, but found '*' "
            "(while scanning an alias); a value that starts with '*' or '&' must be put in quotes",
        ),
        (
            "a: [1, 2\n",
            "2:1: YAML syntax: expected ',' or ']', but got '<stream end>' "
            "(while parsing a flow sequence)",
        ),
        (
            "a: 1\n---\nb: 2\n",
            "3:1: a card file holds one YAML document: remove the '---' separator",
        ),
        ("", "0:0: file is empty"),
        ("? [a]\n: b\n", "1:3: a key must be plain text"),
    ],
)
def test_refused_input_is_reported_with_its_place(tmp_path: Path, text: str, expected: str) -> None:
    _, problems = load(tmp_path, text)
    assert problems == [expected]


def test_alias_bomb_is_refused_by_budget_not_expanded(tmp_path: Path) -> None:
    levels = ["a: &a [" + ", ".join(["x"] * 10) + "]"]
    for name, previous in zip("bcdef", "abcde", strict=True):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    node, problems = load(tmp_path, "\n".join(levels) + "\n")
    assert node is None
    assert problems == [
        "5:20: aliases expand to more than 50000 values: refused as an alias bomb; "
        "write the values out instead"
    ]


def test_small_aliases_are_expanded(tmp_path: Path) -> None:
    node, problems = load(tmp_path, "common: &tags [a, b]\nmine: *tags\n")
    assert problems == []
    assert isinstance(node, Mapping)
    mine = node.get("mine")
    assert isinstance(mine, Sequence) and [i.text for i in mine.items if isinstance(i, Scalar)] == [
        "a",
        "b",
    ]


def test_non_utf8_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("answer: caf\xe9\n".encode("latin-1"))
    report = Report()
    assert load_yaml(path, report) is None
    assert report.diagnostics[0].message == "not UTF-8 text (byte 12): save the file as UTF-8"
