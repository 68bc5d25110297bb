"""The line reader for simple card files (simple_yaml.py) against the full YAML reader.

Whatever the line reader accepts must give exactly the nodes (texts, places, order) that
the full reader gives from PyYAML's events, with libyaml and with the pure-Python parser,
and with no problem to report; everything else it must hand over (None). The random files
below are built from the pieces where YAML is subtle (indentation, dashes, colons, '#',
quotes, brackets, non-ASCII and wide characters), so that most of them fall on one side or
the other of the reader's rules.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from deckgen.diagnostics import Report
from deckgen.source import full_yaml, yamlsource
from deckgen.source.simple_yaml import read_simple_yaml
from deckgen.source.yamlnodes import Mapping, Node, Scalar, Sequence
from helpers import REPO, benchmark_modules

PATH = Path("cards") / "deck" / "part.yaml"


def full_reading(text: str, loader: type[yaml.SafeLoader]) -> Node | None:
    """The full reader's node when it reads ``text`` with nothing to report, else None."""
    try:
        builder = full_yaml._build(PATH, text, loader)
    except (yaml.YAMLError, full_yaml._Refused):
        return None
    if builder.diagnostics or builder.warnings or len(builder.documents) != 1:
        return None
    return builder.documents[0]


def assert_same_as_full_reader(text: str) -> Node | None:
    simple = read_simple_yaml(PATH, text)
    if simple is not None:
        assert simple == full_reading(text, yaml.CSafeLoader)
        assert simple == full_reading(text, yaml.SafeLoader)
    return simple


KEYS = ["id", "question", "answer", "tags", "cards", "x", "lint-ignore", "a_b", "yes", "null",
        "On", "n", "1a", "a b", "<<", "é", "-k", "?k", "k#", "K2"]  # fmt: skip
PIECES = ["word", "two words", "", " ", "  ", "#", " #", " # c", "#1", ":", ": ", "a:b", ":x",
          "-", "- ", "--", "---", "...", "?", "? ", ",", "[", "]", "[a, b]", "[a,b]", "[ a ]",
          "[]", "{", "}", "{a: b}", "'", "''", "'q''s'", '"', '"d"', '""', "\\", "\\n", "!",
          "!tag", "&a", "*a", "|", ">", "%", "@", "`", "<", "<<", "=", "~", "null", "yes",
          "1.10", "0x1F", "2024-01-01", "-1", "+3", ".5", "é", "日本", "😀", "\u00a0",
          "\u3000", "\u200b", "a\u00a0", "**bold**", "(x)", "x, y", "http://e.org/a#b",
          "\t", "\r", "\x85", "\u2028", "\ufeff"]  # fmt: skip

pieces = st.lists(st.sampled_from(PIECES), max_size=4).map("".join)
lines = st.builds(
    lambda indent, dash, key, separator, value, trailing: (
        " " * indent + dash + (key + separator if key is not None else "") + value + trailing
    ),
    indent=st.sampled_from([0, 0, 0, 1, 2, 2, 2, 3, 4, 4, 6]),
    dash=st.sampled_from(["", "", "- ", "-  ", "-", "- - "]),
    key=st.none() | st.sampled_from(KEYS),
    separator=st.sampled_from([": ", ": ", ":", ":  ", " :"]),
    value=pieces,
    trailing=st.sampled_from(["", "", " ", "  #", " # note"]),
)
files = st.builds(
    lambda written, line_end, last: line_end.join(written) + (line_end if last else ""),
    st.lists(lines, min_size=1, max_size=12),
    st.sampled_from(["\n", "\n", "\r\n"]),
    st.booleans(),
)


@settings(max_examples=4000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files)
def test_whatever_it_accepts_the_full_reader_reads_the_same(text: str) -> None:
    assume(yamlsource._FORBIDDEN_IN_FILE.search(text) is None)  # refused before either reader
    assert_same_as_full_reader(text)


# Card files in the shape the reader is for, with random texts: it must take them.
words = st.text(
    st.characters(blacklist_categories=["Cs", "Cc", "Zl", "Zp"], blacklist_characters="\ufeff"),
    min_size=1,
    max_size=15,
)
tags = st.lists(st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,8}", fullmatch=True), max_size=3)


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@st.composite
def card_files(draw: st.DrawFn) -> str:
    written = [f"deck: {quoted(draw(words))}", "cards:" if draw(st.booleans()) else "cards: "]
    dash_column = draw(st.sampled_from([0, 2, 4]))
    for number in range(draw(st.integers(1, 5))):
        key_indent = " " * (dash_column + 2)
        written.append(" " * dash_column + f"- id: c{number}")
        written.append(f"{key_indent}question: {quoted(draw(words))}")
        answer = draw(words)
        plain = not (
            answer[0] in "-?:,[]{}#&*!|>'\"%@`<="
            or answer[0].isspace()
            or answer[-1].isspace()
            or answer.endswith(":")
            or ": " in answer
            or " #" in answer
        )
        written.append(f"{key_indent}answer: {answer if plain else quoted(answer)}")
        if draw(st.booleans()):
            written.append(f"{key_indent}tags: [{', '.join(draw(tags))}]")
        if draw(st.booleans()):
            written.append(f"{key_indent}see:")
            written.extend(f"{key_indent}  - {quoted(draw(words))}" for _ in range(2))
        if draw(st.booleans()):
            written.append(f"{key_indent}# a comment")
            written.append("")
    return "\n".join(written) + "\n"


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(card_files())
def test_simple_card_files_are_taken_and_read_the_same(text: str) -> None:
    assume(all(ord(character) > 0x9F or character == "\n" or " " <= character <= "~"
               for character in text))  # fmt: skip
    assume(not set(text) & {"\x85", "\u2028", "\u2029", "\ufeff"})
    assert assert_same_as_full_reader(text) is not None


@st.composite
def near_misses(draw: st.DrawFn) -> str:
    """A simple card file with one line changed: replaced by a random line, re-indented, or
    with a random piece put into it, so that the reader's rules are tried at their edges."""
    written = draw(card_files()).split("\n")
    at = draw(st.integers(0, len(written) - 1))
    line = written[at]
    change = draw(st.sampled_from(["replace", "indent", "insert", "insert", "append"]))
    if change == "replace":
        written[at] = draw(lines)
    elif change == "indent":
        shift = draw(st.sampled_from([-2, -1, 1, 2]))
        written[at] = line[-shift:] if shift < 0 else " " * shift + line
    elif change == "insert":
        where = draw(st.integers(0, len(line)))
        written[at] = line[:where] + draw(pieces) + line[where:]
    else:
        written[at] = line + draw(st.sampled_from(["", "\n"])) + draw(lines)
    return "\n".join(written)


@settings(max_examples=4000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_misses())
def test_near_misses_are_read_the_same_or_handed_over(text: str) -> None:
    assume(yamlsource._FORBIDDEN_IN_FILE.search(text) is None)
    assert_same_as_full_reader(text)


def test_every_yaml_file_of_the_repository_and_the_benchmark_reads_the_same(
    tmp_path: Path,
) -> None:
    bench, peers = benchmark_modules()
    bench.generate(tmp_path / "bank", 1000)  # Markdown, cloze, images, body maps, sources
    peers.write_deckgen(tmp_path / "peers", peers.simple_notes(1000))
    files = [
        *REPO.glob("cards/**/*.yaml"),
        *REPO.glob("tests/fixtures/**/*.yaml"),
        *tmp_path.glob("**/*.yaml"),
    ]
    taken = 0
    for path in files:
        text = path.read_text("utf-8")
        if yamlsource._FORBIDDEN_IN_FILE.search(text) is None:
            taken += assert_same_as_full_reader(text) is not None
    assert taken >= 100  # the shortcut is in use on whole files, not only on generated ones


@pytest.mark.parametrize(
    "text",
    [
        "a: b\n  c\n",  # a value over two lines
        "a: b\n\n  c\n",
        "a: |\n  b\n",
        'a: "b\\"c"\n',  # an escape
        "a: b # c\n",  # a comment after a value
        "a: &x b\nc: *x\n",
        "a: !t b\n",
        "a:\tb\n",
        "a: b\r\nc: d\r\n",  # (taken: Windows line ends)
        "a: b\rc: d\r",
        "a: b\na: c\n",  # a key given twice
        "a:\nb: c\n",  # an empty value
        "a: b\n",  # (taken: the control)
        "---\na: b\n",
        " a: b\n",
        "- a\n- b: c\n  d: e\n",  # (taken)
        "- a\nb: c\n",
        "a:\n- b\n- c\nd: e\n",  # (taken: a list at its key's column)
        "a:\n  - b\n  c: d\n",
        "a: [b, [c]]\n",
        "a: {b: c}\n",
        "a: b\n" + "k" * 1030 + ": v\n",  # a key longer than YAML takes
        "- " + "k" * 1030 + ": v\n",
        "".join("  " * level + "k:\n" for level in range(80)) + "  " * 80 + "k: v\n",
        "# only a comment\n",
        "",
    ],
)
def test_what_it_hands_over_and_what_it_takes(text: str) -> None:
    simple = assert_same_as_full_reader(text)
    taken = text in ("a: b\n", "a: b\r\nc: d\r\n", "- a\n- b: c\n  d: e\n", "a:\n- b\n- c\nd: e\n")
    assert (simple is not None) == taken


def test_places_are_those_of_the_text_as_written() -> None:
    node = assert_same_as_full_reader("deck: 'Dé'\ncards:\n  - id: 😀x\n    tags: [ a ,b]\n")
    assert isinstance(node, Mapping)
    cards = node.get("cards")
    assert isinstance(cards, Sequence)
    assert (cards.location.line, cards.location.column) == (3, 3)
    card = cards.items[0]
    assert isinstance(card, Mapping)
    identifier, tag_list = card.get("id"), card.get("tags")
    assert isinstance(identifier, Scalar) and identifier.text == "😀x"
    assert (identifier.location.line, identifier.location.column) == (3, 9)
    assert isinstance(tag_list, Sequence)
    assert [(tag.text, tag.location.column) for tag in tag_list.items] == [("a", 13), ("b", 16)]


def test_load_yaml_takes_the_shortcut_and_reports_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "part.yaml"
    path.write_text("cards:\n  - id: a\n    question: Why?\n    answer: Because.\n")

    def refuse(*_: object) -> None:
        raise AssertionError("the full reader ran on a simple file")

    monkeypatch.setattr(full_yaml, "_build", refuse)
    report = Report()
    node = yamlsource.load_yaml(path, report)
    assert isinstance(node, Mapping) and report.diagnostics == []


@pytest.mark.parametrize("depth", range(58, 68))
@pytest.mark.parametrize("innermost", ["k: v", "k: [a]", "- v"])
def test_nesting_near_the_limit_is_read_or_refused_as_the_full_reader_does(
    depth: int, innermost: str
) -> None:
    text = "".join("  " * level + "k:\n" for level in range(depth)) + "  " * depth + innermost
    assert_same_as_full_reader(text + "\n")
