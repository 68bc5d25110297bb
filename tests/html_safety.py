"""What a browser would run in a piece of HTML, read by a real HTML parser (for tests)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_MATH = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_UNSAFE_TEX = re.compile(
    r"\\(href|url|class|cssId|style|data|html|unicode|require|csname)(?![A-Za-z])"
)
_EXECUTABLE_TAGS = {"script", "style", "iframe", "object", "embed", "svg", "math", "form", "base"}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _EXECUTABLE_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                self.found.append(f"<{tag} {name}>")
            url = re.sub(r"[\x00-\x20]", "", value or "").lower()
            if url.startswith(("javascript:", "data:", "vbscript:")):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def executable_constructs(rendered: str) -> list[str]:
    """Scripts, event handlers, script URLs, and MathJax commands that make links or HTML."""
    collector = _Collector()
    collector.feed(rendered)
    collector.close()
    shown = html.unescape(re.sub(r"<[^>]*>", "", rendered))
    for math in _MATH.finditer(shown):
        collector.found.extend(f"math {m.group(0)}" for m in _UNSAFE_TEX.finditer(math.group(0)))
    return collector.found
