"""deck.yaml's ``report_url``: where a student reports a problem with a card.

```yaml
report_url: https://github.com/me/deck/issues/new?title={deck}%20{card}&body=Release%20{release}
```

``{deck}``, ``{card}`` and ``{release}`` are replaced by the deck name, the card id and the
release, each URL-encoded (every character but letters, digits and ``-._~``), so no value can
add a parameter, a path or a fragment. The template must be an http or https URL without
spaces, quotes, angle brackets or control characters, and name no other placeholder.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from deckgen.diagnostics import Location, Report
from deckgen.source.yamlnodes import Mapping, Scalar, describe

PLACEHOLDERS = ("deck", "card", "release")
MAX_URL_CHARACTERS = 2000
"""Longer URLs are cut by some browsers and servers."""

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_UNSAFE = re.compile(r"[\s\"'<>\\`\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ReportUrl:
    """A checked URL template."""

    template: str
    location: Location

    def filled(self, *, deck: str, card: str, release: str) -> str:
        values = {"deck": deck, "card": card, "release": release}
        return _PLACEHOLDER.sub(
            lambda match: urllib.parse.quote(values[match[1]], safe=""), self.template
        )


def read_report_url(mapping: Mapping, report: Report) -> ReportUrl | None:
    """deck.yaml's ``report_url``, checked; None when absent or wrong (reported)."""
    node = mapping.get("report_url")
    if node is None:
        return None
    if not isinstance(node, Scalar):
        report.error(node.location, f"'report_url' must be a URL, not {describe(node)}")
        return None
    problem = url_problem(node.text)
    if problem is not None:
        report.error(node.location, f"'report_url' {problem}")
        return None
    return ReportUrl(node.text, node.location)


def url_problem(template: str) -> str | None:
    """Why ``template`` is no report URL template; None when it is one."""
    example = "e.g. https://example.org/report?card={card}"
    if len(template) > MAX_URL_CHARACTERS:
        return f"is {len(template)} characters long; at most {MAX_URL_CHARACTERS} are allowed"
    if _UNSAFE.search(template):
        return f"must be a URL without spaces, quotes or angle brackets ({example})"
    unknown = sorted({name for name in _PLACEHOLDER.findall(template) if name not in PLACEHOLDERS})
    if unknown or "{" in _PLACEHOLDER.sub("", template) or "}" in _PLACEHOLDER.sub("", template):
        named = f" (not {{{unknown[0]}}})" if unknown else ""
        return f"may hold only the placeholders {{deck}}, {{card}} and {{release}}{named}"
    parsed = urllib.parse.urlsplit(_PLACEHOLDER.sub("x", template))
    if parsed.scheme.lower() not in ("http", "https") or not parsed.netloc:
        return f"must start with http:// or https:// and name a host ({example})"
    return None
