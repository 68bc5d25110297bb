"""Compiler-style diagnostics: every stage reports problems here instead of raising at the first.

A build collects every error and warning of every deck, prints them all as
``path:line:col: severity: message`` (the form editors and CI jump to), then stops once.
A location being the lowest of the values worker processes send back, the way they are
pickled is defined here too (``pickled_by_fields``).
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import operator
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, dataclass_transform, overload

_Class = TypeVar("_Class", bound=type)


@overload
def value_class(cls: _Class, /) -> _Class: ...
@overload
def value_class(*, order: bool = False, kw_only: bool = False) -> Callable[[_Class], _Class]: ...
@dataclass_transform(frozen_default=True)
def value_class(
    cls: _Class | None = None, /, *, order: bool = False, kw_only: bool = False
) -> _Class | Callable[[_Class], _Class]:
    """A dataclass of values never changed once made: frozen to the type checker (strict
    mypy refuses any assignment to a field, as for ``@dataclass(frozen=True)``), compared and
    hashed by value, slotted. Not frozen at run time: a frozen dataclass's ``__init__`` sets
    each field through ``object.__setattr__``, three times the cost of a plain one, and a
    build makes about twenty of these per card (each read value and its place, the checked,
    written and rendered card): a seventh of the per-file stage on plain notes."""

    def make(cls: _Class) -> _Class:
        made: type = dataclass(slots=True, unsafe_hash=True, order=order, kw_only=kw_only)(cls)
        return made  # type: ignore[return-value]  # slots=True makes a new class of cls's kind

    return make if cls is None else make(cls)


def pickled_by_fields(cls: _Class) -> _Class:
    """Pickle the dataclass ``cls`` (decorated above ``@dataclass`` or ``@value_class``) as
    itself and its field values in order, unpickled through its ``__init__``. For the values a
    worker process sends back to the main one (a compiled card file's cards, their places and
    problems): the dataclasses' own pickling of a slotted class calls ``fields()`` for every
    object on both sides, which was most of the time of sending 10,000 cards back, and the
    main process unpickles them one after the other."""
    fields = dataclasses.fields(cls)
    names = [f.name for f in fields if f.init and not f.kw_only]
    if len(names) != len(fields) or len(names) < 2:
        raise TypeError(f"{cls.__name__}: every field must be an argument, and at least two")
    values = operator.attrgetter(*names)  # a tuple of the values, in order

    def __reduce__(self: object) -> tuple[type, tuple[Any, ...]]:
        return cls, values(self)

    cls.__reduce__ = __reduce__  # type: ignore[method-assign, assignment]
    return cls


@pickled_by_fields
@value_class(order=True)
class Location:
    """A place in a source file."""

    path: Path
    """The file, as found under the cards folder."""
    line: int = 0
    """1-based line, or 0 when the problem concerns the whole file."""
    column: int = 0
    """1-based column, or 0 when unknown."""

    def __str__(self) -> str:
        shown = display_path(self.path)
        if self.line == 0:
            return shown
        if self.column == 0:
            return f"{shown}:{self.line}"
        return f"{shown}:{self.line}:{self.column}"


def display_path(path: Path) -> str:
    """The path as shown to the user: relative to the working directory when it lies below it,
    so messages stay short, and with control characters escaped (folder names are untrusted).

    Symlinks are not resolved: a message names the link the author wrote, never its target
    (which may lie outside the project, or be a loop)."""
    try:
        shown = str(Path(os.path.abspath(path)).relative_to(Path.cwd()))
    except (ValueError, OSError):
        shown = os.fspath(path)
    return printable(shown)


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@pickled_by_fields
@value_class
class Diagnostic:
    """One problem found in the sources."""

    location: Location
    severity: Severity
    message: str
    rule: str | None = None
    """The lint rule that found it; None for problems that make the sources invalid."""

    def __str__(self) -> str:
        suffix = f" [{self.rule}]" if self.rule else ""
        return f"{self.location}: {self.severity.value}: {printable_message(self.message)}{suffix}"


@dataclass
class Report:
    """Collects the diagnostics of a whole run."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, location: Location, message: str) -> None:
        self.diagnostics.append(Diagnostic(location, Severity.ERROR, message))

    def warning(self, location: Location, message: str, *, rule: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(location, Severity.WARNING, message, rule))

    @property
    def error_count(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.ERROR)

    def has_errors_in(self, folder: Path) -> bool:
        """Whether an error concerns ``folder`` or a file in it."""
        return any(
            d.severity is Severity.ERROR and d.location.path.is_relative_to(folder)
            for d in self.diagnostics
        )

    @property
    def warning_count(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.WARNING)

    def sorted(self) -> list[Diagnostic]:
        """Diagnostics in file order, so a reader walks each file top to bottom."""
        return sorted(
            self.diagnostics,
            key=lambda d: (d.location, d.severity.value, d.message, d.rule or ""),
        )

    def summary(self) -> str:
        return f"{plural(self.error_count, 'error')}, {plural(self.warning_count, 'warning')}"


class DeckgenError(Exception):
    """A problem that stops a command; the CLI prints it and exits with ``exit_code``."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def __str__(self) -> str:
        return printable_message(super().__str__())


class SourceErrors(DeckgenError):
    """The sources have errors; they are in the report, nothing was written."""

    def __init__(self, report: Report) -> None:
        super().__init__(f"stopped: {report.summary()}; nothing was written")
        self.report = report


# Control characters (C0, DEL, C1), lone surrogates, and the invisible marks that reorder or
# hide text on screen: bidi embeddings, overrides, isolates and marks (U+202A-E, U+2066-9,
# U+200E/F, U+061C), zero-width spaces, joiners and the BOM, line and paragraph separators.
# Messages quote card text, and card files are untrusted: an ESC could drive the terminal
# (clear it, set the clipboard), a newline could forge a line of output, a bidi override
# could show a different text than the one there.
_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064"
    "\u2066-\u2069\ufeff\ud800-\udfff]"
)
# GitHub's runner runs a log line as a workflow command when it starts with '::' (after
# spaces: `::error::...`, `::add-mask::...`) or holds '##[' anywhere (the older form). Output
# is read in CI logs, and a path, tag or quoted text can start a line or hold either.
_RUNNER_COMMAND = re.compile(r"^\s*:(?=:)|#(?=#\[)")
MAX_QUOTED_CHARS = 80
"""Foreign text quoted in a message ('...') is cut to this many characters."""
MAX_MESSAGE_CHARS = 1000
"""A whole message is cut in the middle beyond this, keeping its start and what to do."""
# A quotation opens after a space or bracket and closes before one (or punctuation), so the
# text between two quotations ("'a' is ... ('b'") is never taken for one.
_LONG_QUOTE = re.compile(
    rf"(?<![^\s(\[{{=,:])'([^'\n]{{{MAX_QUOTED_CHARS + 1},}}?)'(?![^\s)\]}},.:;!?])"
)


def printable(text: str) -> str:
    """``text`` with every character that could act on a terminal written as an escape, and
    nothing that GitHub's runner would take for a workflow command in a CI log."""
    escaped = _UNPRINTABLE.sub(lambda match: _escape(match.group()), text)
    # The match's last character (the first ':' or '#') is the one escaped.
    return _RUNNER_COMMAND.sub(lambda match: match[0][:-1] + _escape(match[0][-1]), escaped)


def printable_message(message: str) -> str:
    """A message as every output shows it: foreign text quoted in it ('...') cut to
    MAX_QUOTED_CHARS, the whole to MAX_MESSAGE_CHARS, each cut marked '…', and every
    character that could act on a terminal escaped. (A one-megabyte key in a card file is
    named by its start, not echoed whole.)"""
    return printable(bounded(message))


def bounded(message: str) -> str:
    """``message`` with long quoted text and a long whole cut, as ``printable_message``."""
    cut = _LONG_QUOTE.sub(lambda match: f"'{shorten(match.group(1), MAX_QUOTED_CHARS)}'", message)
    if len(cut) <= MAX_MESSAGE_CHARS:
        return cut
    tail = MAX_MESSAGE_CHARS // 4
    return f"{cut[: MAX_MESSAGE_CHARS - tail - 1]}…{cut[-tail:]}"


def _escape(character: str) -> str:
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def shorten(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis, for quoting content in messages."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ' (did you mean 'x'?)' hint for a misspelt name, or '' when nothing is close."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
