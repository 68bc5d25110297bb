"""The adversarial corpus: hostile and edge-case inputs, one small case each.

Each case starts from a small deck that builds cleanly (its package and lock already written),
overwrites or adds files, then runs the CLI. ``expect`` is a regular expression the output
must match: a ``file:line`` diagnostic that names the problem and what to do.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DECK = "cards/d/deck.yaml"
CARDS = "cards/d/c.yaml"
LOCK = "cards/d/deck.lock"


@dataclass(frozen=True)
class Case:
    name: str
    files: dict[str, str | bytes] = field(default_factory=dict)
    expect: str = ""
    """A regex searched in stdout + stderr."""
    exit_code: int = 1
    env: dict[str, str] = field(default_factory=dict)
    setup: Callable[[Path], None] | None = None
    command: str = "build"
    """'check' for inputs that are cleaned with a warning rather than refused."""


def card(field_yaml: str, *, key: str = "question") -> str:
    """A card file of one basic card whose ``key`` is written as ``field_yaml`` on line 3."""
    other = "answer" if key == "question" else "question"
    return f"cards:\n  - id: x\n    {key}: {field_yaml}\n    {other}: A\n"


def cloze(field_yaml: str) -> str:
    """A card file of one cloze card whose text is ``field_yaml``, on line 3."""
    return f"cards:\n  - id: x\n    cloze: {field_yaml}\n"


def _symlink(link: str, target: str) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        path = root / link
        path.unlink(missing_ok=True)
        os.symlink(target, path)

    return make


def _loop(root: Path) -> None:
    os.symlink("b.png", root / "cards/d/a.png")
    os.symlink("a.png", root / "cards/d/b.png")


def _nested_flow(depth: int) -> str:
    return "cards: " + "[" * depth + "]" * depth + "\n"


def _nested_block(depth: int) -> str:
    return "cards:\n" + "".join("  " * (level + 1) + "-\n" for level in range(depth))


def _lock(mod: str) -> str:
    note = f'{{"fingerprint": "f", "mod": {mod}, "type": "basic"}}'
    return f'{{"format": 1, "notes": {{"ok": {note}}}, "notetypes": {{}}}}\n'


def _alias_bomb() -> str:
    lines = ["a: &a [" + ", ".join(["x"] * 10) + "]"]
    for name, previous in zip("bcdefg", "abcdef", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    return "\n".join(lines) + "\n"


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
E = r"error: .*"
AT3 = r"cards/d/c\.yaml:3:\d+: "

CASES = [
    # Control characters and lone surrogates, in every kind of value and after entities.
    Case("field-unit-separator-escape", {CARDS: card('"a\\x1fb"')}, AT3 + E + r".*U\+001F"),
    Case(
        "field-unit-separator-entity",
        {CARDS: card('"<div>\\n&#x1f;\\n</div>"')},
        AT3 + E + r".*U\+001F.*remove it",
    ),
    Case(
        "field-entity-in-attribute",
        {CARDS: card("'<a href=\"&#x1f;\">x</a>'")},
        AT3 + E + r".*U\+001F",
    ),
    Case("field-carriage-return-escape", {CARDS: card('"a\\rb"')}, AT3 + E + r".*U\+000D"),
    Case("field-escape-character", {CARDS: card('"\\e[2J"')}, AT3 + E + r".*U\+001B"),
    Case("field-lone-surrogate", {CARDS: card('"a\\ud800b"')}, AT3 + E + r".*surrogate U\+D800"),
    Case(
        "tag-lone-surrogate",
        {CARDS: 'cards:\n  - id: x\n    tags: ["\\udfff"]\n    question: Q\n    answer: A\n'},
        AT3 + E + r".*surrogate U\+DFFF",
    ),
    Case(
        "tag-bell",
        {CARDS: 'cards:\n  - id: x\n    tags: ["a\\a"]\n    question: Q\n    answer: A\n'},
        AT3 + E + r".*U\+0007",
    ),
    Case(
        "key-escape-osc52",
        {CARDS: 'cards:\n  - id: x\n    "\\e]52;c;aGk=\\a": 1\n    question: Q\n    answer: A\n'},
        AT3 + E + r".*U\+001B",
    ),
    Case("id-nul-escape", {CARDS: card("Q").replace("id: x", 'id: "x\\0"')}, E + r".*U\+0000"),
    Case("deck-name-bell", {DECK: 'name: "D\\a"\nid: d\n'}, r"deck\.yaml:1:7: " + E + ".*U\\+0007"),
    Case(
        "raw-nul-byte",
        {CARDS: b"cards:\n  - id: x\n    question: a\x00b\n"},
        AT3 + E + ".*U\\+0000",
    ),
    Case(
        "raw-escape-byte",
        {CARDS: b"cards:\n  - id: x\n    question: \x1b[2J\n"},
        AT3 + E + ".*U\\+001B",
    ),
    Case(
        "raw-delete-byte",
        {CARDS: b"cards:\n  - id: x\n    question: a\x7f\n"},
        AT3 + E + ".*U\\+007F",
    ),
    Case(
        "raw-c1-control",
        {CARDS: "cards:\n  - id: x\n    question: a\x9b2J\n".encode()},
        AT3 + E + ".*U\\+009B",
    ),
    Case(
        "not-utf8",
        {CARDS: b"cards:\n  - id: x\n    question: caf\xe9\n"},
        r"cards/d/c\.yaml:3:18: " + E + r"not UTF-8 text \(byte 35\): save the file as UTF-8",
    ),
    # Ids: a trailing newline must not pass.
    Case(
        "card-id-trailing-newline", {CARDS: card("Q").replace("id: x", 'id: "x\\n"')}, E + "card id"
    ),
    Case(
        "card-id-block-scalar",
        {CARDS: "cards:\n  - id: |\n      x\n    question: Q\n    answer: A\n"},
        r"cards/d/c\.yaml:2:\d+: " + E + "card id",
    ),
    Case(
        "deck-id-trailing-newline",
        {DECK: 'name: D\nid: "d\\n"\n'},
        r"deck\.yaml:2:5: " + E + "deck id",
    ),
    Case("deck-id-space", {DECK: "name: D\nid: a b\n"}, r"deck\.yaml:2:5: " + E + "deck id 'a b'"),
    # Clozes as Anki's engine makes cards from them.
    Case("cloze-zero", {CARDS: cloze('"{{c0::x}}"')}, AT3 + E + "cloze number c0: .*renumber"),
    Case("cloze-double-zero", {CARDS: cloze('"{{c00::x}}"')}, AT3 + E + "cloze number c00"),
    Case("cloze-above-limit", {CARDS: cloze('"{{c501::x}}"')}, AT3 + E + "c1 to c500"),
    Case(
        "cloze-huge-number", {CARDS: cloze('"{{c' + "9" * 5000 + '::x}}"')}, AT3 + E + "c1 to c500"
    ),
    Case(
        "cloze-empty", {CARDS: cloze('"{{c1::}}"')}, AT3 + E + r"empty cloze deletion \{\{c1::\}\}"
    ),
    Case(
        "cloze-empty-after-sanitising",
        {CARDS: cloze('"{{c1::<!-- x -->}}"')},
        AT3 + E + "empty cloze deletion",
    ),
    Case(
        "cloze-in-comment",
        {CARDS: cloze('"a <!-- {{c1::x}} -->"')},
        AT3 + E + "no cloze deletion left",
    ),
    Case(
        "cloze-in-script",
        {CARDS: cloze('"a <script>{{c1::x}}</script>"')},
        AT3 + E + "no cloze deletion left",
    ),
    Case(
        "cloze-entity-number",
        {CARDS: cloze('"{{c1::x}} {{c&#48;::y}}"')},
        AT3 + E + "cloze number c0",
    ),
    Case("cloze-never-closed", {CARDS: cloze('"{{c1::x"')}, AT3 + E + "never closed"),
    Case(
        "question-empty-once-sanitised",
        {CARDS: card('"<script>alert(1)</script>"')},
        AT3 + E + "question that is empty once its HTML is cleaned",
    ),
    Case(
        "question-only-comment",
        {CARDS: card('"<!-- nothing -->"')},
        AT3 + E + "question that is empty once",
    ),
    # Integers bounded where they enter.
    Case(
        "epoch-superscript-two",
        env={"SOURCE_DATE_EPOCH": "²"},
        exit_code=2,
        expect="SOURCE_DATE_EPOCH must be",
    ),
    Case(
        "epoch-arabic-digits",
        env={"SOURCE_DATE_EPOCH": "\u0661\u0667\u0660\u0660"},
        exit_code=2,
        expect="ASCII digits",
    ),
    Case(
        "epoch-huge",
        env={"SOURCE_DATE_EPOCH": "9" * 30},
        exit_code=2,
        expect="at most 253402300799",
    ),
    Case(
        "epoch-negative",
        env={"SOURCE_DATE_EPOCH": "-5"},
        exit_code=2,
        expect="SOURCE_DATE_EPOCH must be",
    ),
    Case(
        "lock-mod-huge",
        {LOCK: _lock("10000000000000000")},
        r"deck\.lock: " + E + "lock file is damaged .*between 0 and 253402300799.*restore it",
    ),
    Case(
        "lock-mod-negative",
        {LOCK: _lock("-1")},
        r"deck\.lock: " + E + "lock file is damaged",
    ),
    Case(
        "lock-mod-thousands-of-digits",
        {LOCK: _lock("9" * 5000)},
        r"deck\.lock: " + E + "lock file is damaged",
    ),
    Case(
        "lock-mod-boolean",
        {LOCK: _lock("true")},
        r"deck\.lock: " + E + "lock file is damaged",
    ),
    # Deep structures never reach a recursion limit.
    Case(
        "lock-deeply-nested",
        {LOCK: "[" * 100_000 + "]" * 100_000},
        r"deck\.lock: " + E + "nested too deeply",
    ),
    Case(
        "yaml-deep-flow",
        {CARDS: _nested_flow(100_000)},
        r"c\.yaml:1:\d+: " + E + "nested more than 64 levels",
    ),
    Case(
        "yaml-deep-block",
        {CARDS: _nested_block(1000)},
        r"c\.yaml:\d+:\d+: " + E + "nested more than 64 levels",
    ),
    Case(
        "deck-yaml-deep",
        {DECK: "name: D\nid: d\nx: " + "{a: " * 5000 + "}" * 5000 + "\n"},
        r"deck\.yaml:3:\d+: " + E + "nested",
    ),
    # Foreign files are never quoted.
    Case(
        "lock-foreign-content",
        {LOCK: "-----BEGIN OPENSSH PRIVATE KEY-----\nsecretsecret\n"},
        r"deck\.lock: " + E + r"lock file is damaged \(not valid JSON at line 1, column 1\)",
    ),
    Case(
        "lock-foreign-json",
        {LOCK: '{"format": "secretsecret"}\n'},
        r"deck\.lock: " + E + "not a deckgen lock",
    ),
    Case(
        "deck-yaml-foreign-text",
        {DECK: "secretsecret\n"},
        r"deck\.yaml:1:1: " + E + "deck.yaml must be a mapping of keys, not text$",
    ),
    # Aliases: a budget on expansions, with a line.
    Case("alias-bomb", {CARDS: _alias_bomb()}, r"c\.yaml:\d+:\d+: " + E + "alias bomb"),
    Case(
        "alias-text-bomb",
        {
            CARDS: "q: &q '"
            + "a " * 5000
            + "'\ncards:\n"
            + "".join(f"  - {{id: c{i}, question: *q, answer: *q}}\n" for i in range(200))
        },
        r"c\.yaml:\d+:\d+: " + E + "characters of text: refused as an alias bomb",
    ),
    Case(
        "alias-recursive",
        {CARDS: "cards: &a [*a]\n"},
        r"c\.yaml:1:8: " + E + "alias refers to a value that contains it",
    ),
    Case("alias-undefined", {CARDS: "cards: *nowhere\n"}, r"c\.yaml:1:8: " + E + "undefined alias"),
    Case(
        "anchor-twice",
        {CARDS: "a: &x 1\nb: &x 2\ncards: []\n"},
        r"c\.yaml:2:4: " + E + "defined twice",
    ),
    Case(
        "merge-key",
        {CARDS: "base: &b {id: x}\ncards:\n  - <<: *b\n"},
        r"c\.yaml:3:\d+: " + E + "merge keys",
    ),
    # Tags and YAML syntax.
    Case(
        "python-tag",
        {CARDS: "cards: !!python/object/apply:os.system [echo hi]\n"},
        r"c\.yaml:1:8: " + E + "YAML tag .* is not allowed",
    ),
    Case("local-tag", {CARDS: card("!x y")}, AT3 + E + "YAML reads '!x' as a tag"),
    Case(
        "duplicate-key",
        {CARDS: "cards: []\ncards: []\n"},
        r"c\.yaml:2:1: " + E + "duplicate key 'cards'",
    ),
    Case("syntax-error", {CARDS: "cards: [\n"}, r"c\.yaml:2:1: " + E + "YAML syntax"),
    Case(
        "two-documents",
        {CARDS: "cards: []\n---\ncards: []\n"},
        r"c\.yaml:3:1: " + E + "one YAML document",
    ),
    # Terminal injection: echoed values are escaped.
    Case(
        "key-newline-forges-a-line",
        {
            CARDS: 'cards:\n  - id: x\n    "a\\nbuilt 1 deck; 0 errors": 1\n'
            "    question: Q\n    answer: A\n"
        },
        AT3 + E + r"unknown key 'a\\x0abuilt 1 deck",
    ),
    Case(
        "folder-name-escape",
        {"cards/d/\x1b[2Jsub/c.yaml": cloze('"{{c0::x}}"')},
        r"cards/d/\\x1b\[2Jsub/c\.yaml:3:\d+: " + E + "cloze number c0",
    ),
    # Resource bounds.
    Case(
        "file-too-big",
        {CARDS: "cards: []\n" + "#" * (2 * 1024 * 1024) + "\n"},
        r"c\.yaml: " + E + r"file is \d+ bytes; at most 2097152 are allowed: split it",
    ),
    Case("field-too-long", {CARDS: card("a" * 10_001)}, AT3 + E + "at most 10000: split it"),
    Case(
        "brackets-megabytes", {CARDS: card("'" + "[" * 1_900_000 + "'")}, AT3 + E + "at most 10000"
    ),
    Case(
        "brackets-flood",
        {CARDS: card("'" + "[" * 9_000 + "'")},
        AT3 + E + "line breaks and characters .* at most 1000",
    ),
    Case(
        "comment-flood",
        {CARDS: card("'" + "<!--" * 900 + "</" * 900 + "'")},
        AT3 + E + "line breaks and characters",
    ),
    # Images: names, places and contents.
    Case(
        "image-nul-name",
        {CARDS: card("'![x](a%00.png)'")},
        AT3 + E + "control character in its name",
    ),
    Case(
        "image-name-too-long", {CARDS: card("'![x](" + "a" * 300 + ".png)'")}, AT3 + E + "too long"
    ),
    Case(
        "image-symlink-loop",
        {CARDS: card("'![x](a.png)'")},
        AT3 + E + "is a symlink loop: replace the link with the file",
        setup=_loop,
    ),
    Case(
        "image-outside-deck",
        {CARDS: card("'![x](../../secret.png)'")},
        AT3 + E + "outside the deck folder",
    ),
    Case("image-absolute", {CARDS: card("'![x](/etc/passwd.png)'")}, AT3 + E + "absolute path"),
    Case(
        "image-url",
        {CARDS: card("'![x](https://example.org/x.png)'")},
        AT3 + E + "only local images",
    ),
    Case(
        "image-svg-script",
        {
            CARDS: card("'![x](x.svg)'"),
            "cards/d/x.svg": '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        },
        AT3 + E + "contains <script>",
    ),
    Case(
        "image-wrong-signature",
        {CARDS: card("'![x](x.png)'"), "cards/d/x.png": b"GIF89a"},
        AT3 + E + "bytes do not match",
    ),
    Case(
        "card-file-links-outside",
        {},
        r"c2\.yaml: " + E + "links outside",
        setup=_symlink("cards/d/c2.yaml", "/etc/hostname"),
    ),
    # MathJax that would make links or load code.
    Case(
        "mathjax-href",
        {CARDS: card("'\\(\\href{javascript:alert(1)}{x}\\)'")},
        AT3 + E + r"math uses \\href",
    ),
    Case(
        "mathjax-require",
        {CARDS: card("'\\[\\require{html}\\]'")},
        AT3 + E + r"math uses \\require",
    ),
    Case("mathjax-class", {CARDS: card("'\\(\\class{x}{y}\\)'")}, AT3 + E + r"math uses \\class"),
    Case(
        "mathjax-href-from-entities",
        {CARDS: card("'&#92;(\\href{javascript:alert(1)}{x}&#92;)'")},
        AT3 + E + r"math uses \\href",
    ),
    # Raw HTML is cleaned with a warning (these build; 'check' writes nothing).
    Case(
        "html-script",
        {CARDS: card("'<script>alert(1)</script>Q'")},
        AT3 + r"warning: removed <script>",
        0,
        command="check",
    ),
    Case(
        "html-onclick",
        {CARDS: card("'<b onclick=\"x()\">Q</b>'")},
        AT3 + r"warning: removed attribute 'onclick'",
        0,
        command="check",
    ),
    Case(
        "html-javascript-link",
        {CARDS: card("'<a href=\"javascript:x()\">Q</a>'")},
        AT3 + r"warning: removed link 'javascript:",
        0,
        command="check",
    ),
    Case(
        "html-iframe",
        {CARDS: card("'Q<iframe src=\"https://x\"></iframe>'")},
        AT3 + r"warning: removed <iframe>",
        0,
        command="check",
    ),
    Case(
        "html-img-src",
        {CARDS: card("'Q<img src=\"x.png\">'")},
        AT3 + r"warning: removed <img src=",
        0,
        command="check",
    ),
    Case(
        "html-unclosed-tag-flood", {CARDS: card("'Q " + "<a " * 900 + "'")}, "", 0, command="check"
    ),
    Case(
        "math-breaking-out-of-an-attribute",
        {CARDS: card('\'<span title="\\(" onmouseover=alert(1) x="\\)">Q</span>\'')},
        "",
        0,
        command="check",
    ),
    Case(
        "every-private-use-character-of-the-first-plane",
        {CARDS: card("'" + "".join(map(chr, range(0xE000, 0xF900))) + " \\(x\\)'")},
        "",
        0,
        command="check",
    ),
    Case(
        "private-use-characters-like-placeholders",
        {CARDS: card("'\ue000 5 \ue001 \\(x\\) &#xe000;0&#xe001;'")},
        "",
        0,
        command="check",
    ),
]
