"""How diagnostics reach people and machines: ``text``, ``json`` or ``github``.

- ``text``: ``path:line:col: severity: message [rule]`` on stderr, coloured only on a terminal
  and never when ``NO_COLOR`` is set; summaries on stdout.
- ``json``: one JSON array of diagnostics on stdout (file, line, column, severity, rule,
  message), so ``deckgen lint --format json > findings.json`` is all a tool needs; the human
  summary moves to stderr to keep stdout parseable.
- ``github``: GitHub Actions workflow commands (``::error file=...,line=...,col=...::msg``) on
  stdout, where the runner turns them into annotations on the pull request.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import click

from deckgen.diagnostics import (
    Diagnostic,
    Report,
    Severity,
    bounded,
    display_path,
    printable,
    printable_message,
)

FORMATS = ("text", "json", "github")

_SEVERITY_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow"}


@dataclass(frozen=True)
class Output:
    """Where a command's diagnostics and summary lines go, in the chosen format."""

    format: str = "text"
    """One of FORMATS."""

    @property
    def colour(self) -> bool | None:
        """False when NO_COLOR asks for none; None lets click keep colour on terminals only."""
        return False if os.environ.get("NO_COLOR") else None

    def report(self, report: Report) -> None:
        diagnostics = report.sorted()
        if self.format == "json":
            click.echo(json_text([diagnostic_json(d) for d in diagnostics]))
        elif self.format == "github":
            for diagnostic in diagnostics:
                click.echo(github_annotation(diagnostic))
        else:
            for diagnostic in diagnostics:
                click.echo(self._styled(diagnostic), err=True, color=self.colour)

    def say(self, line: str) -> None:
        """A summary line for people: stdout, except in JSON where stdout holds only JSON."""
        click.echo(printable(line), err=self.format == "json")

    def replay(self, line: str, *, to_stderr: bool) -> None:
        """A line recorded by an earlier build (read back from the cache folder: escaped
        again), printed where it was printed then."""
        click.echo(printable(line), err=to_stderr)

    def _styled(self, diagnostic: Diagnostic) -> str:
        location = click.style(str(diagnostic.location), bold=True)
        severity = click.style(
            f"{diagnostic.severity.value}:", fg=_SEVERITY_COLOURS[diagnostic.severity], bold=True
        )
        rule = f" [{diagnostic.rule}]" if diagnostic.rule else ""
        return (
            f"{location}: {severity} {printable_message(diagnostic.message)}"
            f"{click.style(rule, dim=True)}"
        )


def json_text(document: object) -> str:
    """``document`` as indented JSON that is safe on a terminal and in a CI log: every
    non-ASCII character escaped, and the '#' of '##[' (which GitHub's runner would run as a
    workflow command anywhere in a log line) written as \\u0023, which decodes the same."""
    return json.dumps(document, indent=2).replace("##[", "#\\u0023[")


def diagnostic_json(diagnostic: Diagnostic) -> dict[str, object]:
    """A diagnostic as a JSON object, for ``json_text``."""
    location = diagnostic.location
    return {
        "file": display_path(location.path),
        "line": location.line or None,
        "column": location.column or None,
        "severity": diagnostic.severity.value,
        "rule": diagnostic.rule,
        "message": bounded(diagnostic.message),
    }


def github_annotation(diagnostic: Diagnostic) -> str:
    """A workflow command, escaped as the Actions runner expects: '%', CR and LF in the
    message; those and ':' and ',' in property values, so a file name cannot end its
    property and add one (``file=a,line=1``) or end the properties (``::``)."""
    location = diagnostic.location
    properties = [f"file={_escape_property(display_path(location.path))}"]
    if location.line:
        properties.append(f"line={location.line}")
    if location.column:
        properties.append(f"col={location.column}")
    title = f"deckgen [{diagnostic.rule}]" if diagnostic.rule else "deckgen"
    properties.append(f"title={_escape_property(title)}")
    message = _escape_data(printable_message(diagnostic.message))
    return f"::{diagnostic.severity.value} {','.join(properties)}::{message}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
