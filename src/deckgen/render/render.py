"""Stage 4: turn a field's Markdown into the safe HTML Anki shows.

- CommonMark (markdown-it-py) with tables and strikethrough;
- MathJax ``\\( \\)`` and ``\\[ \\]`` pass through untouched (Markdown would eat the backslashes
  and read ``_`` as emphasis, so math is set aside before and put back after);
- images are resolved to content-hashed media files (see media.py);
- raw HTML is cut down to an allowlist (no script, no event handlers, no javascript: links),
  and the author is warned about anything removed;
- Anki's media markup (``[sound:x.mp3]``, ``[anki:tts ...]``, ``[latex]``, ``[$]``, ``[$$]``) is
  shown as text: Anki finds it in
  the card's HTML as written and plays it, so its ``[`` is written as ``&#91;`` (and a cloze
  hint that would become ``[sound:...]`` gets its first letter as an entity).

Math is put back only as escaped text: in text it cannot open a tag, and a span that ended up
inside an attribute is escaped quotes and all, so it can never end the attribute or add one.
MathJax commands that emit HTML or load extensions (``\\href``, ``\\class``, ``\\require``, ...)
are refused, because Anki's MathJax does not load the ``safe`` extension.
"""

from __future__ import annotations

import functools
import html
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import nh3

from deckgen.cards.cloze import CLOZE, MAX_CLOZE_NUMBER, card_number
from deckgen.diagnostics import Location, Report
from deckgen.render.media import MediaResolver
from deckgen.source.yamlnodes import text_problem
from deckgen.values import MediaFile

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

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
_GENERIC_ATTRIBUTES = {"lang", "title"}
"""Attributes the sanitiser (ammonia's defaults) keeps on every allowed tag."""
_LINK_SCHEMES = {"http", "https", "mailto"}
_LINK_REL = "noopener noreferrer"
"""The rel that the sanitiser (ammonia's default) puts on every link."""
_REMOVED_WITH_CONTENT = {"script", "style"}

_MATH = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_TEX_COMMAND = re.compile(r"\\([A-Za-z]+)")
UNSAFE_TEX_COMMANDS = frozenset(
    {"href", "url", "class", "cssId", "style", "data", "html", "unicode", "require", "csname"}
)
"""MathJax commands that turn math into links, HTML attributes or loaded code."""
_PRIVATE_USE = (range(0xE000, 0xF900), range(0xF0000, 0xFFFFE))
"""Placeholder candidates: more than a field may hold, so two are always free. Ranges, not
the codes themselves: a tuple of the 71,000 codes took a tenth of deckgen's start-up."""
_AV_MARKUP = re.compile(r"\[(?=sound:|anki:|latex\]|\$\]|\$\$\])", re.IGNORECASE)
_MARKUP_NAMES = ("sound:", "anki:", "latex]", "$]", "$$]")
"""What follows '[' in Anki's markup for audio, text to speech and LaTeX images (which Anki
typesets by running LaTeX on the student's machine, when they enable it)."""
SERIALISED_TAG = re.compile(r'<[^>"]*(?:"[^"]*"[^>"]*)*>')
"""A tag as html5ever writes it: every attribute value in double quotes, '"' escaped (a '>'
inside a value does not end the tag)."""
_SINGLE_PARAGRAPH = re.compile(r"^<p>((?:(?!<p>).)*)</p>$", re.DOTALL)
_BREAKING_TAG = re.compile(
    r"</?(?:p|br|div|li|ul|ol|h[1-6]|blockquote|pre|table|tr|td|th|img|hr)\b[^>]*>", re.I
)
"""Tags that separate words on the card (blocks, line breaks, pictures); the others
(bold, links, code) sit inside a sentence."""


def plain_text(field_html: str) -> str:
    """A field as the words a student reads, on one line: no markup, no pictures, and no
    space put before the '?' that follows bold text."""
    spaced = _BREAKING_TAG.sub(" ", field_html)
    return " ".join(html.unescape(SERIALISED_TAG.sub("", spaced)).split())


_PLAIN_TEXT = re.compile(
    r"[^\\`*_\[\]!<>&~|\x00-\x1f\x7f-\xa0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f"
    r"\u3000\ufeff]+"
)
"""A field made only of characters that mean nothing to Markdown or HTML on one line: no
escape, code, emphasis, strikethrough, link, image, tag, entity or table character, no line
break, tab or other control, no space but the plain one."""
_BLOCK_START = re.compile(r"[#>+=-]|\d+[.)]")
"""What opens a heading, quote, list or rule at the start of a line."""


@functools.cache
def markdown_engine() -> MarkdownIt:
    """The one Markdown engine, made on first use: plain sentences and simple emphasis (most
    fields of most card files) never need it, and importing it is a fifth of a cold build's
    imports before the card files compile."""
    from markdown_it import MarkdownIt

    engine = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    # markdown-it leaves an image or link whose URL it distrusts (file:, javascript:, data:,
    # ...) as literal text, so `![x](file:///etc/passwd)` would ship as text with no error.
    # Every URL is let through instead: an image then reaches the media check, which refuses
    # all but local files, and a link reaches the sanitiser, which drops the URL and warns.
    engine.validateLink = lambda url: True  # type: ignore[method-assign]
    return engine


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
    sentence = plain_field_html(markdown)
    if sentence is not None:
        return RenderedField(sentence)
    problem = text_problem(markdown)
    if problem:  # card files are checked when loaded; this guards other callers of the library
        report.error(location, problem)
        return RenderedField("")
    math_spans: list[str] = []
    protected = markdown.strip()
    placeholder = None
    # Most fields hold no math: then there is nothing to set aside or restore.
    if "\\(" in protected or "\\[" in protected:
        opening, closing = _placeholder_marks(markdown)
        placeholder = re.compile(f"{opening}(\\d+){closing}")

        def set_aside(match: re.Match[str]) -> str:
            math_spans.append(match.group(0))
            return f"{opening}{len(math_spans) - 1}{closing}"

        protected = _MATH.sub(set_aside, protected)
    images: list[MediaFile] = []
    plain = _is_plain_text(protected)
    if placeholder is None and plain:
        # A plain sentence with '::' (plain_field_html answered for the others), which
        # inert_av_markup below looks at. What the full path makes of it, without running
        # it: markdown-it makes it one paragraph (``_plain_paragraph``), the sanitiser writes
        # it back with its quotes as text, and the one paragraph is unwrapped; with no '\\',
        # '<' or '&' it holds no math and nothing the checks below could find (text_problem
        # passed above). tests/project/test_properties.py compares both paths over random
        # fields.
        restored = protected
    else:
        if plain:
            raw_html = _plain_paragraph(protected)
        elif (emphasised := _emphasis_paragraph(protected)) is not None:
            raw_html = emphasised
        else:
            engine = markdown_engine()
            tokens = engine.parse(protected)
            images = _resolve_images(tokens, location, card_folder, media, report)
            raw_html = engine.renderer.render(tokens, engine.options, {})
        image_names = {image.name for image in images}
        sanitised = _allowed_html(raw_html, image_names)
        # What the sanitiser left exactly as it was, it removed nothing from: no need to look
        # (tests/project/test_properties.py checks that disallowed_html then finds nothing).
        if sanitised != raw_html:
            for removed in disallowed_html(raw_html, image_names):
                report.warning(location, f"removed {removed} (not allowed in cards)")
        clean = sanitised.strip()
        paragraph = _SINGLE_PARAGRAPH.match(clean)
        if paragraph:
            clean = paragraph.group(1)
        restored = clean if placeholder is None else _restore_math(clean, math_spans, placeholder)
        problem = text_problem(restored) or _unsafe_math(restored)
        if problem:
            report.error(location, problem)
    # Last, on the field as Anki receives it, math included.
    inert = inert_av_markup(restored)
    if inert != restored:
        report.warning(
            location,
            "Anki's media markup ([sound:...], [anki:...] or [latex]) is shown as text: Anki "
            "would play or typeset it, and deckgen ships no audio or LaTeX",
        )
    return RenderedField(inert, images)


def plain_field_html(markdown: str) -> str | None:
    """What ``render_field`` makes of a field that is one plain sentence (``_is_plain_text``)
    with no ``::`` (a cloze hint's separator, which ``inert_av_markup`` looks after): the
    sentence itself, stripped, with no image and no diagnostic. None for any other field.

    Most fields are such sentences; this answers for them at a fraction of the full path's
    cost (tests/render/test_plain_fields.py compares the two), before the per-file stage
    sets anything up to collect a field's diagnostics and images."""
    if text_problem(markdown) is not None:
        return None
    stripped = markdown.strip()
    # No '[' (not plain), and no '::': inert_av_markup would leave it as it is.
    if "::" in stripped or not _is_plain_text(stripped):
        return None
    return stripped


def sanitise(raw_html: str, image_names: set[str]) -> str:
    """The HTML with everything a card may not hold removed; images only by these names;
    Anki's media markup made text."""
    return inert_av_markup(_allowed_html(raw_html, image_names))


def _is_plain_text(stripped: str) -> bool:
    """Whether Markdown can only make a paragraph of this (stripped) field's text as written.
    Conservative: anything else, even if Markdown would leave it alone, takes the full path."""
    return _PLAIN_TEXT.fullmatch(stripped) is not None and _BLOCK_START.match(stripped) is None


def _plain_paragraph(plain: str) -> str:
    """What markdown-it renders for a field that ``_is_plain_text`` accepts: one paragraph
    with its text escaped ('&', '<' and '>' cannot occur in it; '"' is escaped as markdown-it
    does). tests/project/test_properties.py compares the two over random fields."""
    return "<p>" + plain.replace('"', "&quot;") + "</p>\n"


_EMPHASIS = re.compile(r"(?<![^ ])(\*\*?)([^\W_](?:[^*]*[^\W_])?)\1(?![^ .,;:?)])")
"""``*emphasis*`` or ``**strong**`` around words, opened after a space (or at the start) and
closed before a space, the end or punctuation: where markdown-it can only read it one way."""


def _emphasis_paragraph(text: str) -> str | None:
    """What markdown-it renders for a (stripped) field that would be a plain sentence
    (``_is_plain_text``) but for ``*emphasis*`` and ``**strong**`` around words, as in
    'What does the **heart** do?'; None for any other field. Each pair's '*' can only open
    (a space or the start before it, a letter or digit after) or only close (a letter or
    digit before, a space, punctuation or the end after), and no other '*' is left, so
    CommonMark pairs them as written. tests/render/test_plain_fields.py compares the two."""
    if "*" not in text or _BLOCK_START.match(text):
        return None
    pieces = _EMPHASIS.split(text)  # text, stars, words, text, stars, words, ..., text
    html_pieces = []
    for index in range(0, len(pieces), 3):
        between = pieces[index]
        if between and _PLAIN_TEXT.fullmatch(between) is None:
            return None
        html_pieces.append(between)
        if index + 1 < len(pieces):
            words = pieces[index + 2]
            if _PLAIN_TEXT.fullmatch(words) is None:
                return None
            tag = "strong" if len(pieces[index + 1]) == 2 else "em"
            html_pieces.append(f"<{tag}>{words}</{tag}>")
    # Text escaped as markdown-it escapes it: '&', '<' and '>' are not plain.
    return "<p>" + "".join(html_pieces).replace('"', "&quot;") + "</p>\n"


def _allowed_html(raw_html: str, image_names: set[str]) -> str:
    return _cleaner(frozenset(image_names)).clean(raw_html)


@functools.lru_cache(maxsize=64)
def _cleaner(image_names: frozenset[str]) -> nh3.Cleaner:
    """The sanitiser's settings, built once per set of image names (almost every field has
    none) instead of on every call."""
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        tag_attribute_values={"img": {"src": set(image_names)}},
        url_schemes=_LINK_SCHEMES,
        clean_content_tags=_REMOVED_WITH_CONTENT,
    )


def inert_av_markup(card_html: str) -> str:
    """``card_html`` with Anki's audio, text-to-speech and LaTeX markup written so that Anki
    shows it as text instead of playing or typesetting it; every change reads the same.

    Anki looks for ``[sound:``, ``[anki:``, ``[latex]``, ``[$]`` and ``[$$]`` in the card's
    HTML exactly as written (in text
    and attribute values alike; an entity or a tag in between is not matched), so such a
    ``[`` becomes ``&#91;``. But a cloze field's MathJax is read with its tags stripped and
    its clozes written without spans (``\\([{{c1::s}}ound:a]\\)`` answers ``\\([sound:a]\\)``),
    so in a field with clozes and MathJax every ``[`` becomes ``&#91;`` (MathJax reads the
    entity as the bracket). A cloze hint is shown in brackets (``{{c1::x::sound:a.mp3}}`` asks
    ``[sound:a.mp3]``), so a hint that reads so gets its first letter as an entity."""
    if "[" not in card_html and "::" not in card_html:
        return card_html  # no markup to find, and no hint (tests/render/test_plain_fields.py)
    return _inert_av_markup(card_html)


def _inert_av_markup(card_html: str) -> str:
    if "{{c" in card_html and _MATHJAX_OPENING.search(card_html):
        escaped = card_html.replace("[", "&#91;")
    else:
        escaped = _AV_MARKUP.sub("&#91;", card_html)
    letters = [
        first
        for separator in _AFTER_SEPARATOR.finditer(escaped)
        if (first := _markup_start(escaped, separator.end())) is not None
    ]
    pieces, position = [], 0
    for letter in letters:
        pieces += [escaped[position:letter], f"&#{ord(escaped[letter])};"]
        position = letter + 1
    return "".join([*pieces, escaped[position:]])


_MATHJAX_OPENING = re.compile(r"\\[(\[]")
"""Where Anki's cloze filter starts reading MathJax (to a closing \\) or \\], either one)."""
_AFTER_SEPARATOR = re.compile(r"(?<=::)")
_HINT_END = ("::", "}}")


def _markup_start(card_html: str, position: int) -> int | None:
    """Where the text from ``position`` (a cloze hint's start) to the hint's end starts
    reading like Anki's markup ('sound:', 'latex]', ...) once tags are stripped, as Anki
    strips them in MathJax: the index of that first letter; else None. Looks at most six
    letters past the tags."""
    seen: list[str] = []
    first = None
    while position < len(card_html) and len(seen) < max(map(len, _MARKUP_NAMES)):
        if card_html.startswith(_HINT_END, position):
            break
        tag = SERIALISED_TAG.match(card_html, position)
        if tag:
            position = tag.end()
            continue
        if first is None:
            first = position
        seen.append(card_html[position].lower())
        position += 1
    return first if "".join(seen).startswith(_MARKUP_NAMES) else None


def _unsafe_math(rendered: str) -> str | None:
    """A MathJax command in the field as Anki will show it that would make a link or HTML.

    Checked on the final HTML with tags removed and entities decoded, which is the text MathJax
    reads, so math assembled from entities or around tags is caught too."""
    shown = html.unescape(SERIALISED_TAG.sub("", rendered))
    for math in _MATH.finditer(shown):
        for command in _TEX_COMMAND.findall(math.group(0)):
            if command in UNSAFE_TEX_COMMANDS:
                return (
                    f"math uses \\{command}, which Anki's MathJax would turn into a link, "
                    "HTML or loaded code: remove it"
                )
    return None


def cloze_problem(rendered: str) -> str | None:
    """Why Anki would make no card, or not the card meant, from a cloze field's final HTML.

    Checked on what Anki receives, after sanitising: a cloze that was only inside an HTML
    comment or a removed <script> is gone, and one spelt with entities has appeared."""
    found = False
    for cloze in CLOZE.finditer(rendered):
        number = cloze.group(1)
        if card_number(number) is None:
            return (
                f"has cloze number c{number[:10]}: Anki makes cards only for c1 to "
                f"c{MAX_CLOZE_NUMBER}; renumber it"
            )
        if is_blank(cloze.group(2)):
            return (
                f"has an empty cloze deletion {{{{c{number}::}}}}: Anki makes no card for it; "
                "put the text to hide after '::'"
            )
        found = True
    if not found:
        return (
            "has no cloze deletion left once its HTML is cleaned (one inside an HTML comment "
            "or a removed tag does not count): put it in the text"
        )
    return None


def is_blank(rendered: str) -> bool:
    """Whether HTML shows nothing: no image and no text but spaces once tags are removed."""
    if "<img src=" in rendered:
        return False
    text = html.unescape(SERIALISED_TAG.sub("", rendered))
    return not text.replace("\u200b", "").strip()


def _placeholder_marks(markdown: str) -> tuple[str, str]:
    """Two private-use characters the author did not write, neither as text nor as an entity,
    so a placeholder can never be forged. Usually U+E000 and U+E001."""
    written = set(markdown) | set(html.unescape(markdown))
    candidates = itertools.islice(itertools.chain(*_PRIVATE_USE), len(written) + 2)
    free = [chr(code) for code in candidates if chr(code) not in written]
    return free[0], free[1]


def _restore_math(clean: str, math_spans: list[str], placeholder: re.Pattern[str]) -> str:
    """Put the math back as text: escaped for text between tags, and with quotes escaped too
    where the sanitiser left a placeholder inside a tag (an attribute value)."""

    def restore(match: re.Match[str], *, in_tag: bool) -> str:
        index = int(match.group(1))
        if index >= len(math_spans):
            return match.group(0)
        return html.escape(math_spans[index], quote=in_tag)

    pieces = []
    position = 0
    for tag in SERIALISED_TAG.finditer(clean):
        text = clean[position : tag.start()]
        pieces.append(placeholder.sub(lambda m: restore(m, in_tag=False), text))
        pieces.append(placeholder.sub(lambda m: restore(m, in_tag=True), tag.group(0)))
        position = tag.end()
    pieces.append(placeholder.sub(lambda m: restore(m, in_tag=False), clean[position:]))
    return "".join(pieces)


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


def disallowed_html(raw_html: str, image_names: set[str]) -> list[str]:
    """What the sanitiser will strip, named for the author.

    A single forward scan: every search either finds its end and moves past it, or stops the
    scan, so hostile input (a megabyte of '<!--' or '<a ') costs linear time. (html.parser
    is quadratic on such input.) What a tag that is never closed would hold is dropped by the
    sanitiser anyway, so the scan stops there."""
    found: list[str] = []
    position = 0
    while (start := raw_html.find("<", position)) >= 0:
        if raw_html.startswith("<!--", start):
            end, skip = raw_html.find("-->", start + 4), 3
        elif raw_html.startswith(("</", "<!", "<?"), start):
            end, skip = raw_html.find(">", start + 2), 1
        else:
            name = _TAG_NAME.match(raw_html, start + 1)
            if name is None:
                position = start + 1
                continue
            tag = name.group().lower()
            scanned = _scan_attributes(raw_html, name.end())
            if scanned is None:
                break
            attributes, position = scanned
            found.extend(_tag_problems(tag, attributes, image_names))
            if tag in _RAW_TEXT_TAGS:
                closing = re.compile(f"</{tag}", re.IGNORECASE).search(raw_html, position)
                if closing is None:
                    break
                position = closing.start()
            continue
        if end < 0:
            break
        position = end + skip
    return found


_TAG_NAME = re.compile(r"[A-Za-z][^\s/>]*")
_ATTRIBUTE_NAME = re.compile(r"[^\s/>][^\s/>=]*")
_UNQUOTED_VALUE = re.compile(r"[^\s>]*")
_RAW_TEXT_TAGS = {"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"}


def _scan_attributes(
    raw_html: str, position: int
) -> tuple[list[tuple[str, str | None]], int] | None:
    """The attributes of a start tag from ``position`` on, and where the tag ends; None when
    the tag is never closed."""
    attributes: list[tuple[str, str | None]] = []
    length = len(raw_html)
    while True:
        while position < length and (raw_html[position].isspace() or raw_html[position] == "/"):
            position += 1
        if position >= length:
            return None
        if raw_html[position] == ">":
            return attributes, position + 1
        name_match = _ATTRIBUTE_NAME.match(raw_html, position)
        assert name_match is not None  # the character at position starts a name
        name, position = name_match.group().lower(), name_match.end()
        while position < length and raw_html[position].isspace():
            position += 1
        value: str | None = None
        if position < length and raw_html[position] == "=":
            position += 1
            while position < length and raw_html[position].isspace():
                position += 1
            if position < length and raw_html[position] in "\"'":
                end = raw_html.find(raw_html[position], position + 1)
                if end < 0:
                    return None
                value, position = raw_html[position + 1 : end], end + 1
            else:
                unquoted = _UNQUOTED_VALUE.match(raw_html, position)
                assert unquoted is not None  # matches the empty string at least
                value, position = unquoted.group(), unquoted.end()
            value = html.unescape(value)
        attributes.append((name, value))


def _tag_problems(
    tag: str, attributes: list[tuple[str, str | None]], image_names: set[str]
) -> list[str]:
    if tag not in ALLOWED_TAGS:
        return [f"<{tag}>"]
    problems = []
    allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | _GENERIC_ATTRIBUTES
    for name, value in attributes:
        if tag == "img" and name == "src":
            if value not in image_names:
                problems.append(f'<img src="{value}"> (write images as Markdown: ![alt]({value}))')
        elif tag == "a" and name == "rel" and value == _LINK_REL:
            continue  # what the sanitiser writes on every link itself: nothing is removed
        elif name not in allowed:
            problems.append(f"attribute '{name}' of <{tag}>")
        elif name == "href" and value and _is_unsafe_link(value):
            problems.append(f"link '{value}'")
    return problems


def _is_unsafe_link(href: str) -> bool:
    scheme, colon, _ = href.partition(":")
    return bool(colon) and "/" not in scheme and scheme.strip().lower() not in _LINK_SCHEMES
