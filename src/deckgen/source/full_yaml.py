"""The full reader of a YAML file: PyYAML's events into located nodes, every problem reported.

yamlsource.py sends here every file the line reader (simple_yaml.py) does not take. Card
files come from many authors, so they are treated as untrusted:
- PyYAML only *composes* the document (no constructors run, so no objects from tags);
- every scalar stays the text the author wrote: ``no`` is not false, ``1.10`` is not 1.1,
  ``null`` is the word null;
- a key given twice in one mapping is an error (PyYAML would silently keep the last value);
- aliases are expanded against a budget, so an alias bomb is refused instead of eating memory.

A module of its own so that a build whose card files all have the simple shape never imports
PyYAML (a tenth of the start-up before the per-file stage's workers fork).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from deckgen.diagnostics import Location, Report
from deckgen.source.yamlnodes import (
    FORBIDDEN_IN_TEXT,
    MAX_DEPTH,
    Mapping,
    Node,
    Scalar,
    Sequence,
    text_problem,
)

MAX_EXPANDED_NODES = 50_000
"""How many values aliases may add to one file once expanded (an alias bomb adds billions)."""

MAX_EXPANDED_CHARACTERS = 1024 * 1024
"""How much text aliases may add to one file: every field they add is rendered."""


_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML was built with it: the same events, many times faster."""

_SWALLOWED_COMMENT = re.compile("[ \t]+(#[^\\s#][^\n\r\x85\u2028\u2029]*)")
"""A comment that starts right at a word ('#1', '#hashtag'): text the author meant to keep."""
_COMMENT = re.compile("[ \t]+(#[^\n\r\x85\u2028\u2029]*)")

_STANDARD_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")
}


class _Refused(Exception):
    """The file cannot be loaded at all; reported alone, at its place."""

    def __init__(self, location: Location, message: str) -> None:
        super().__init__(message)
        self.location = location
        self.message = message


@dataclass
class _Open:
    """A sequence or mapping whose end event has not come yet."""

    is_mapping: bool
    location: Location
    anchor: str | None
    tag_ok: bool
    children: list[Node | None]
    size: int = 1
    characters: int = 0


class _Builder:
    """Builds our located nodes straight from parser events, with an explicit stack.

    Working from events rather than PyYAML's composer means no recursion (deep nesting is a
    clear error, never a RecursionError or a crash inside libyaml's composer) and aliases are
    counted as they are expanded.
    """

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self.diagnostics: list[tuple[Location, str]] = []
        self.warnings: list[tuple[Location, str]] = []
        self.documents: list[Node | None] = []
        self.document_locations: list[Location] = []
        self.stack: list[_Open] = []
        self.anchors: dict[str, tuple[Node | None, int, int] | _Open] = {}
        self.expanded = 0
        self.expanded_characters = 0
        self.resolver = yaml.resolver.Resolver()

    def location(self, event: yaml.Event) -> Location:
        mark = event.start_mark
        assert mark is not None  # both parsers mark every event
        return Location(self.path, mark.line + 1, mark.column + 1)

    def feed(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.ScalarEvent):
            self.scalar(event)
        elif isinstance(event, yaml.AliasEvent):
            self.alias(event)
        elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            self.start(event)
        elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            self.end()
        elif isinstance(event, yaml.DocumentStartEvent):
            self.anchors = {}

    def attach(self, node: Node | None, size: int, characters: int, location: Location) -> None:
        if self.stack:
            self.stack[-1].children.append(node)
            self.stack[-1].size += size
            self.stack[-1].characters += characters
        else:
            self.documents.append(node)
            self.document_locations.append(location)

    def tag_ok(
        self,
        tag: str | None,
        kind: type[yaml.Node],
        value: object,
        implicit: object,
        location: Location,
    ) -> bool:
        if tag is None or tag == "!":
            if kind is yaml.ScalarNode and _surely_text(value, implicit):
                return True
            tag = self.resolver.resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        if tag not in _STANDARD_TAGS:
            self.diagnostics.append((location, _tag_problem(str(tag))))
            return False
        return True

    def register(self, anchor: str | None, value: tuple[Node | None, int, int] | _Open) -> None:
        if anchor is not None:
            self.anchors[anchor] = value

    def check_new_anchor(self, anchor: str | None, location: Location) -> None:
        # YAML 1.2 allows redefining an anchor, but in a card file it is a mistake that would
        # make later aliases silently mean something else.
        if anchor is not None and anchor in self.anchors:
            raise _Refused(
                location, f"anchor '&{anchor}' is defined twice in one document: rename one"
            )

    def scalar(self, event: yaml.ScalarEvent) -> None:
        location = self.location(event)
        self.check_new_anchor(event.anchor, location)
        node: Scalar | None = None
        if self.tag_ok(event.tag, yaml.ScalarNode, event.value, event.implicit, location):
            text = str(event.value)
            problem = text_problem(text)
            if problem:
                self.diagnostics.append((location, problem))
                # Keep the value, so no "missing key" follows, but never the bad characters.
                text = FORBIDDEN_IN_TEXT.sub("\ufffd", text)
            node = Scalar(text, location)
            if not event.style:  # plain: the only style in which YAML ends text at ' #'
                self.check_swallowed_comment(event)
        characters = len(node.text) if node is not None else 0
        self.register(event.anchor, (node, 1, characters))
        self.attach(node, 1, characters, location)

    def check_swallowed_comment(self, event: yaml.ScalarEvent) -> None:
        """Refuse ' #word' right after plain text: YAML drops it as a comment, so
        ``answer: ranked #1 in strength`` would silently ship as "ranked".

        A comment written as ``# note`` (a space after the '#') is taken as meant."""
        end = event.end_mark
        assert end is not None  # both parsers mark every event
        comment = _COMMENT.match(self.text, end.index)
        if comment is None:  # almost every value: the line ends, or a ':' or ',' follows
            return
        swallowed = _SWALLOWED_COMMENT.match(self.text, end.index)
        if swallowed is None and self.in_text_field():
            self.warnings.append(
                (
                    Location(
                        self.path, end.line + 1, end.column + comment.start(1) - end.index + 1
                    ),
                    "the text after ' #' is a YAML comment and not on the card: if it "
                    "belongs to the text, put the whole value in quotes",
                )
            )
        if swallowed:
            shown = swallowed.group(1)
            if len(shown) > 40:
                shown = shown[:37] + "..."
            self.diagnostics.append(
                (
                    Location(
                        self.path, end.line + 1, end.column + swallowed.start(1) - end.index + 1
                    ),
                    f"YAML reads '{shown}' as a comment, so it would be left off the card: "
                    "put the whole value in quotes if it belongs to the text "
                    "(a comment meant as one: write '# ' with a space after the '#')",
                )
            )

    def in_text_field(self) -> bool:
        """Whether the scalar being read is the value of a card-text key."""
        if not self.stack or not self.stack[-1].is_mapping:
            return False
        children = self.stack[-1].children
        key = children[-1] if len(children) % 2 else None
        return isinstance(key, Scalar) and key.text in _TEXT_KEYS

    def alias(self, event: yaml.AliasEvent) -> None:
        location = self.location(event)
        target = self.anchors.get(str(event.anchor))
        if target is None:
            start = event.start_mark
            assert start is not None  # both parsers mark every event
            hint = _indicator_hint(_line_at(self.text, start.index)) or (
                "; a value that starts with '*' must be put in quotes"
            )
            raise _Refused(location, f"YAML syntax: found undefined alias {event.anchor!r}{hint}")
        if isinstance(target, _Open):
            self.diagnostics.append(
                (target.location, "an alias refers to a value that contains it")
            )
            self.attach(None, 0, 0, location)
            return
        node, size, characters = target
        self.expanded += size
        self.expanded_characters += characters
        if self.expanded > MAX_EXPANDED_NODES:
            raise _Refused(
                location,
                f"aliases expand to more than {MAX_EXPANDED_NODES} values: "
                "refused as an alias bomb; write the values out instead",
            )
        if self.expanded_characters > MAX_EXPANDED_CHARACTERS:
            raise _Refused(
                location,
                f"aliases expand to more than {MAX_EXPANDED_CHARACTERS} characters of text: "
                "refused as an alias bomb; write the values out instead",
            )
        self.attach(node, size, characters, location)

    def start(self, event: yaml.SequenceStartEvent | yaml.MappingStartEvent) -> None:
        location = self.location(event)
        if len(self.stack) >= MAX_DEPTH:
            raise _Refused(
                location,
                f"values are nested more than {MAX_DEPTH} levels deep: flatten the structure",
            )
        is_mapping = isinstance(event, yaml.MappingStartEvent)
        kind = yaml.MappingNode if is_mapping else yaml.SequenceNode
        tag_ok = self.tag_ok(event.tag, kind, None, event.implicit, location)
        self.check_new_anchor(event.anchor, location)
        frame = _Open(is_mapping, location, event.anchor, tag_ok, [])
        self.register(event.anchor, frame)
        self.stack.append(frame)

    def end(self) -> None:
        frame = self.stack.pop()
        node: Node | None = None
        if frame.tag_ok:
            if frame.is_mapping:
                node = self.mapping(frame)
            else:
                items = tuple(item for item in frame.children if item is not None)
                node = Sequence(items, frame.location)
        self.register(frame.anchor, (node, frame.size, frame.characters))
        self.attach(node, frame.size, frame.characters, frame.location)

    def mapping(self, frame: _Open) -> Mapping:
        entries: list[tuple[Scalar, Node]] = []
        first_seen: dict[str, Location] = {}
        children = frame.children
        for key, value in zip(children[::2], children[1::2], strict=True):
            if key is None or value is None:
                continue
            if not isinstance(key, Scalar):
                self.diagnostics.append((key.location, "a key must be plain text"))
                continue
            if key.text in first_seen:
                first = first_seen[key.text]
                self.diagnostics.append(
                    (
                        key.location,
                        f"duplicate key '{key.text}' (first at line {first.line}); "
                        "YAML would keep only the last one: remove or rename one of them",
                    )
                )
                continue
            first_seen[key.text] = key.location
            entries.append((key, value))
        return Mapping(tuple(entries), frame.location)


def _tag_problem(tag: str) -> str:
    if tag.startswith("!"):
        # Most often an image at the start of a value: YAML reads a leading '!' as a tag.
        return (
            f"YAML reads '{tag}' as a tag because the value starts with '!': "
            f'put the whole value in quotes, e.g. "{tag} ..."'
        )
    if tag == "tag:yaml.org,2002:merge":
        return "YAML merge keys ('<<') are not supported: write the keys out"
    return f"YAML tag '{tag}' is not allowed: card files hold plain text"


def read_full_yaml(path: Path, text: str, report: Report) -> Node | None:
    """The located nodes of ``text``, the content of ``path``; on any problem report it and
    return None. ``text`` has passed yamlsource's character check."""
    whole_file = Location(path)
    try:
        try:
            builder = _build(path, text, _FAST_LOADER)
        except yaml.YAMLError:
            # The pure-Python parser's messages are the ones we document and test, so a file
            # libyaml refuses is parsed again to report it in the same words.
            builder = _build(path, text, yaml.SafeLoader)
    except _Refused as exc:
        report.error(exc.location, exc.message)
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context == "while scanning a quoted scalar" and exc.context_mark is not None:
            mark = exc.context_mark  # where the quote opens, not the end of the file
        where = Location(path, mark.line + 1, mark.column + 1) if mark else whole_file
        problem = exc.problem or exc.context or "invalid YAML"
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        hint = _syntax_hint(exc, text)
        report.error(where, f"YAML syntax: {problem}{context}{hint}")
        return None
    except yaml.YAMLError as exc:
        report.error(whole_file, f"YAML syntax: {exc}")
        return None
    if not builder.documents:
        report.error(whole_file, "file is empty")
        return None
    if len(builder.documents) > 1:
        report.error(
            builder.document_locations[1],
            "a card file holds one YAML document: remove the '---' separator",
        )
        return None
    for location, message in builder.diagnostics:
        report.error(location, message)
    for location, message in builder.warnings:
        report.warning(location, message)
    return builder.documents[0]


_KEY_ONLY = re.compile(r"\s*(?:-\s+)?[\w-]+\s*")
_KEY_AND_VALUE = re.compile(r"(\s*(?:-\s+)?[\w-]+):\s+(.*?)\s*")
_IMPLICIT_FIRST = yaml.resolver.Resolver.yaml_implicit_resolvers
"""The first characters by which YAML's resolver reads a plain scalar as another type than
text (a number, a date, true...); ``None`` would mean any character."""
_ANY_FIRST = None in _IMPLICIT_FIRST


def _surely_text(value: object, implicit: object) -> bool:
    """Whether the resolver would read this untagged scalar as text without asking it: a
    quoted one, or a plain one whose first character no other type starts with (most card
    text). The resolver is a fifth of reading a card file."""
    if _ANY_FIRST or not isinstance(implicit, tuple) or not isinstance(value, str):
        return False
    return not implicit[0] or (value != "" and value[0] not in _IMPLICIT_FIRST)


_TEXT_KEYS = frozenset(
    {"question", "answer", "extra", "cloze", "header", "source", "description", "name"}
)
"""Keys whose value is card text: the ones where a beginner's Markdown meets YAML's syntax."""
_INDICATORS = ("[", "]", "{", "}", "*", "&", "!", "|", ">", "%", "@", "`", ",", "- ", "? ")
"""How a plain value may not start: YAML reads each as its own syntax (a list, a mapping, an
alias, a tag, a block of text...)."""


def _syntax_hint(exc: yaml.MarkedYAMLError, text: str) -> str:
    """Advice for the parser messages beginners meet most, phrased as what to do.

    PyYAML says where the file stops making sense but not why; these patterns are the usual
    why: a value starting with YAML syntax (Markdown often does), a colon inside a value, a
    key indented unlike its neighbours, a tab, a quote never closed."""
    problem = exc.problem or ""
    if exc.context == "while scanning a quoted scalar":
        return "; this quoted value is never closed: end it with the quote it starts with"
    if "found character '\\t'" in problem:
        return "; YAML does not allow tabs for indentation: indent with spaces"
    for mark in (exc.problem_mark, exc.context_mark):
        if mark is not None and (hint := _indicator_hint(_line_at(text, mark.index))):
            return hint
    if exc.context in ("while scanning an alias", "while scanning an anchor"):
        return "; a value that starts with '*' or '&' must be put in quotes"
    if problem.startswith("expected <block end>"):
        return (
            "; this line is indented differently from the lines above it: "
            "give every key of one card the same indentation, using spaces"
        )
    mark = exc.problem_mark
    if problem == "mapping values are not allowed here" and mark is not None:
        line = _line_at(text, mark.index)
        before_colon = line[: mark.column]
        if _KEY_ONLY.fullmatch(before_colon):
            return (
                "; this key is indented more than the keys above it: "
                "give every key of one card the same indentation"
            )
        written = _KEY_AND_VALUE.fullmatch(line)
        if written:
            return (
                "; the value contains ': ', which YAML reads as the start of another key: "
                f"put the whole value in quotes, e.g. {_quoted_example(*written.groups())}"
            )
    return ""


def _indicator_hint(line: str) -> str:
    """The advice for a card text that starts with YAML syntax (a Markdown link '[', bold or
    italics '*', code '`', a list '- '...); '' when the line holds no such text."""
    written = _KEY_AND_VALUE.fullmatch(line)
    if written is None or written.group(1).strip(" -") not in _TEXT_KEYS:
        return ""
    key, value = written.groups()
    start = next((mark for mark in _INDICATORS if value.startswith(mark)), None)
    if start is None:
        return ""
    return (
        f"; a value that starts with '{start.strip()}' means something else to YAML: "
        f"put the whole value in quotes, e.g. {_quoted_example(key, value)}"
    )


def _quoted_example(key: str, value: str) -> str:
    quoted = value.replace("\\", "\\\\").replace('"', '\\"')
    example = f'{key.strip(" -")}: "{quoted}"'
    return example if len(example) <= 80 else example[:77] + '..."'


def _line_at(text: str, index: int) -> str:
    """The line of ``text`` that holds ``index``, whatever line breaks YAML saw."""
    starts = [text.rfind(end, 0, index) for end in ("\n", "\r", "\x85", "\u2028", "\u2029")]
    start = max(starts) + 1
    rest = re.match("[^\n\r\x85\u2028\u2029]*", text[start:])
    return rest.group() if rest else ""


def _build(path: Path, text: str, loader: type[yaml.SafeLoader]) -> _Builder:
    builder = _Builder(path, text)
    for event in yaml.parse(text, Loader=loader):
        builder.feed(event)
    return builder
