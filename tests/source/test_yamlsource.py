"""Stage 1: YAML read safely, verbatim, with locations."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from deckgen.diagnostics import Report
from deckgen.source import full_yaml
from deckgen.source.yamlnodes import Mapping, Node, Scalar, Sequence
from deckgen.source.yamlsource import load_yaml


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
            "(while scanning an alias); a value that starts with '*' means something else to "
            'YAML: put the whole value in quotes, e.g. question: "**Bold** start"',
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


# --- libyaml and the pure-Python parser give the same nodes and the same diagnostics ---------

COMPARED_INPUTS = [
    "cards:\n  - id: x\n    question: 'é ü \"q\"'\n    answer: |\n      line\n      two\n",
    "a: no\nb: 1.10\nc: null\nd: ~\ne: 2024-01-01\nf: 0x1F\ng:\n",
    "base: &b {a: 1}\nother:\n  <<: *b\n",
    "a: &a [*a]\n",
    "question: **Bold** start\n",
    "a: [1, 2\n",
    "a: b: c\n",
    "a: 'unclosed\n",
    'a: "\\ud800"\n',
    'a: "\\x1f"\n',
    "a: 1\n---\nb: 2\n",
    "",
    "? [a]\n: b\n",
    "a: !!python/object/apply:os.system [echo hi]\n",
    "a: ![x](images/x.svg) text\n",
    "answer: first\nquestion: q\nanswer: second\n",
    "a: *undefined\n",
    "a: &x 1\nb: &x 2\n",
    "- a\nb: c\n",
    "a:\n\t- b\n",
    "a: %x\n",
    "a: @x\n",
    "{a: 1, a: 2}\n",
    "a: [" * 70 + "]" * 70 + "\n",
    "x: =\n",
]


def load_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, loader: type[yaml.SafeLoader]
) -> tuple[Node | None, list[str]]:
    monkeypatch.setattr(full_yaml, "_FAST_LOADER", loader)
    return load(tmp_path, text)


def test_libyaml_is_available_so_the_fast_path_is_tested() -> None:
    assert full_yaml._FAST_LOADER is yaml.CSafeLoader


@pytest.mark.parametrize("text", COMPARED_INPUTS)
def test_libyaml_and_pure_python_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    fast = load_with(tmp_path, monkeypatch, text, yaml.CSafeLoader)
    pure = load_with(tmp_path, monkeypatch, text, yaml.SafeLoader)
    assert fast == pure


def test_deep_nesting_is_an_error_not_a_crash(tmp_path: Path) -> None:
    for text in (
        "a: " + "[" * 200_000 + "]" * 200_000 + "\n",
        "a: " + "{b: " * 5000 + "}" * 5000 + "\n",
        "".join("  " * level + "-\n" for level in range(500)),
        "".join("  " * level + "k:\n" for level in range(500)),
    ):
        node, problems = load(tmp_path, text)
        assert node is None
        assert len(problems) == 1
        assert "nested more than 64 levels deep: flatten the structure" in problems[0]
        assert not problems[0].startswith("0:")


def test_a_large_legal_file_is_not_mistaken_for_an_alias_bomb(tmp_path: Path) -> None:
    cards = "".join(
        f"  - id: c{i}\n    question: What is {i}?\n    answer: '{i}'\n    tags: [a, b]\n"
        for i in range(7100)
    )
    node, problems = load(tmp_path, "tags: &t [x, y]\nsame: *t\ncards:\n" + cards)
    assert problems == []
    assert isinstance(node, Mapping)
    cards_node = node.get("cards")
    assert isinstance(cards_node, Sequence) and len(cards_node.items) == 7100


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"a: b\nc: d\x00e\n", "2:5: the control character U+0000 is not allowed in a card file"),
        (b"a: b\n  \x1b[2J\n", "2:3: the control character U+001B is not allowed in a card file"),
        (b"a: b\nc: caf\xc3\n", "2:7: not UTF-8 text (byte 12): save the file as UTF-8"),
        (b'a: "x\\x1fy"\n', "1:4: the control character U+001F is not allowed in card text"),
        (b'"k\\ud83d": v\n', "1:1: the lone surrogate U+D83D is not allowed in card text"),
    ],
)
def test_bad_characters_are_reported_at_their_place(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "cards.yaml"
    path.write_bytes(content)
    report = Report()
    load_yaml(path, report)
    problems = [f"{d.location.line}:{d.location.column}: {d.message}" for d in report.sorted()]
    assert len(problems) == 1 and problems[0].startswith(expected), problems


@settings(max_examples=3000, deadline=None)
@given(
    value=st.one_of(
        st.text(max_size=12),
        st.sampled_from(
            [
                "yes",
                "No",
                "~",
                "null",
                "1",
                "-1",
                ".5",
                "+3",
                "<<",
                "=",
                "2024-01-01",
                "0x1F",
                "Off",
                "true",
                "!x",
                "&a",
                "*a",
                "",
                "Text",
                "Ünïcode",
            ]
        ),
    ),
    plain=st.booleans(),
)
def test_text_taken_without_the_resolver_is_what_the_resolver_reads_as_text(
    value: str, plain: bool
) -> None:
    """The loader skips YAML's resolver for scalars it can tell are text; the resolver must
    agree on every one of them."""
    implicit = (plain, not plain)
    if full_yaml._surely_text(value, implicit):
        resolved = yaml.resolver.Resolver().resolve(yaml.ScalarNode, value, implicit)
        assert resolved == "tag:yaml.org,2002:str"
