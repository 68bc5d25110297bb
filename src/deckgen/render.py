"""Stage 4: turn a field's Markdown into the safe HTML Anki shows.

- CommonMark (markdown-it-py) with tables and strikethrough;
- MathJax ``\\( \\)`` and ``\\[ \\]`` pass through untouched (Markdown would eat the backslashes
  and read ``_`` as emphasis, so math is set aside before and put back after);
- images are resolved to content-hashed media files (see media.py);
- raw HTML is cut down to an allowlist (no script, no event handlers, no javascript: links),
  and the author is warned about anything removed.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from deckgen.diagnostics import Location, Report
from deckgen.media import MediaFile, MediaResolver

ALLOWED_TAGS = frozenset(
    {
        "a", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4",
        "hr", "i", "img", "kbd", "li", "mark", "ol", "p", "pre", "s", "small", "span",
        "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"alt", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start"},
    "span": {"class"},
    "div": {"class"},
}
_LINK_SCHEMES = {"http", "https", "mailto"}
_REMOVED_WITH_CONTENT = {"script", "style"}

_MATH = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_MATH_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")
_SINGLE_PARAGRAPH = re.compile(r"^<p>((?:(?!<p>).)*)</p>$", re.DOTALL)

_markdown = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


@dataclass
class RenderedField:
    """A field's HTML and the images it shows."""

    html: str
    media: list[MediaFile] = field(default_factory=list)


def render_field(
    markdown: str,
    *,
    location: Location,
    card_folder: Path,
    media: MediaResolver | None,
    report: Report,
) -> RenderedField:
    """Render one field. ``media`` is None where images are not allowed (deck descriptions)."""
    math_spans: list[str] = []

    def set_aside(match: re.Match[str]) -> str:
        math_spans.append(match.group(0))
        return f"\ue000{len(math_spans) - 1}\ue001"

    protected = _MATH.sub(set_aside, markdown.strip())
    tokens = _markdown.parse(protected)
    images = _resolve_images(tokens, location, card_folder, media, report)
    raw_html = _markdown.renderer.render(tokens, _markdown.options, {})
    image_names = {image.name for image in images}
    for removed in _disallowed_html(raw_html, image_names):
        report.warning(location, f"removed {removed} (not allowed in cards)")
    clean = nh3.clean(
        raw_html,
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        tag_attribute_values={"img": {"src": image_names}},
        url_schemes=_LINK_SCHEMES,
        clean_content_tags=_REMOVED_WITH_CONTENT,
    ).strip()
    paragraph = _SINGLE_PARAGRAPH.match(clean)
    if paragraph:
        clean = paragraph.group(1)
    restored = _MATH_PLACEHOLDER.sub(
        lambda match: html.escape(math_spans[int(match.group(1))], quote=False), clean
    )
    return RenderedField(restored, images)


def _resolve_images(
    tokens: list[Token],
    location: Location,
    card_folder: Path,
    media: MediaResolver | None,
    report: Report,
) -> list[MediaFile]:
    """Point every Markdown image at its shipped media name."""
    images: list[MediaFile] = []
    for token in tokens:
        for child in token.children or ():
            if child.type != "image":
                continue
            reference = str(child.attrs.get("src", ""))
            if media is None:
                report.error(location, f"image '{reference}': images are not allowed here")
                resolved = None
            else:
                resolved = media.resolve(reference, relative_to=card_folder, location=location)
            if resolved is None:
                # Already reported; drop the image so the sanitiser check does not report it again.
                child.type, child.content, child.children = "text", "", None
                continue
            child.attrs["src"] = resolved.name
            images.append(resolved)
    return images


def _disallowed_html(raw_html: str, image_names: set[str]) -> list[str]:
    """What the sanitiser will strip, named for the author."""
    finder = _DisallowedFinder(image_names)
    finder.feed(raw_html)
    finder.close()
    return finder.found


class _DisallowedFinder(HTMLParser):
    def __init__(self, image_names: set[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.image_names = image_names
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.found.append(f"<{tag}>")
            return
        allowed = ALLOWED_ATTRIBUTES.get(tag, set())
        for name, value in attrs:
            if tag == "img" and name == "src":
                if value not in self.image_names:
                    self.found.append(
                        f'<img src="{value}"> (write images as Markdown: ![alt]({value}))'
                    )
            elif name not in allowed:
                self.found.append(f"attribute '{name}' of <{tag}>")
            elif name == "href" and value and _is_unsafe_link(value):
                self.found.append(f"link '{value}'")


def _is_unsafe_link(href: str) -> bool:
    scheme, colon, _ = href.partition(":")
    return bool(colon) and "/" not in scheme and scheme.strip().lower() not in _LINK_SCHEMES
