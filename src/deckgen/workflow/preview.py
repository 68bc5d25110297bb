"""The review site: every card of every deck, front and back, as students will see it.

One static ``index.html`` plus the decks' media files side by side (Anki's media folder is
flat too), so it opens from disk with no server and no network:
- each card is rendered by ``cardrender`` from the same notes, templates and CSS that go into
  the package, so the page shows what Anki shows;
- math (``\\( \\)``, ``\\[ \\]``) is turned into MathML here, which Chromium, Firefox and Safari
  draw natively, instead of loading MathJax from the web as Anki's viewer does. The converter
  copies ``\\text{}`` contents into its output unescaped, so its tree is written out here
  instead: MathML elements and attributes from an allowlist only, every text escaped, so math
  shows as inert text exactly where Anki's MathJax shows inert text;
- ``[[type:Answer]]`` becomes an input box on the front and the expected answer on the back,
  as Anki's reviewer does when nothing was typed;
- image occlusion masks, which Anki's reviewer paints on a canvas with a script, are drawn as
  a static SVG over the picture from the same rendered shapes (``occlusion_overlay``).

It reads only the notes and where each card is written, both of which the build cache keeps,
so an unchanged card file is read from the cache, not compiled again (the page's bytes are
the same either way). Every field on the page went through the sanitiser when its card was
compiled (for a cached one, by this user's deckgen: the cache's entries are signed with the
user's key, and a planted one is ignored), and the page escapes what it adds.
"""

from __future__ import annotations

import html
import os
import re
import urllib.parse
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element

from latex2mathml.converter import convert_to_element as latex_to_mathml

from deckgen.anki.cardrender import CardFaces, render_cards
from deckgen.anki.compiled import CompiledDeck, DeckCounts, Note, total_counts
from deckgen.anki.identity import LOCK_FILE
from deckgen.anki.retire import RETIRED_TAG
from deckgen.diagnostics import DeckgenError, Location, display_path
from deckgen.render.render import SERIALISED_TAG
from deckgen.source.safe_files import write_atomically
from deckgen.workflow.occlusion_preview import OVERLAY_CSS, TOGGLE_SCRIPT, occlusion_overlay

INDEX = "index.html"

_MATH = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_TYPE_ANSWER = re.compile(r"\[\[type:([^\]]+)\]\]")


@dataclass(frozen=True)
class Preview:
    """What ``write_preview`` produced."""

    index: Path
    """The page to open."""
    cards: int
    """Card elements on the page: one per card Anki creates, retired notices included."""
    counts: DeckCounts
    """What the decks hold, counted as everywhere else."""
    media: int
    """Media files copied next to the page."""


def write_preview(compiled: list[CompiledDeck], out_dir: Path) -> Preview:
    """Write the site into ``out_dir``; files from an earlier preview are replaced."""
    sections = []
    tags: set[str] = set()
    cards = 0
    for deck in compiled:
        by_subdeck: dict[str, list[str]] = {}
        places = {card.id: card.location for card in deck.spec.cards}
        # A retired card ships as a notice and no card file holds it: it is shown as students
        # get it, marked retired, and linked to the lock that keeps it.
        lock = Location(deck.spec.folder / LOCK_FILE)
        for note in deck.notes:
            tags.update(note.tags)
            for rendered in render_cards(note.notetype, note.fields):
                by_subdeck.setdefault(note.deck_name, []).append(
                    _card_html(note, places.get(note.card_id, lock), rendered, out_dir)
                )
                cards += 1
        subdecks = "".join(
            f'<section class="dg-subdeck"><h2>{html.escape(name)}</h2>{"".join(items)}</section>'
            for name, items in by_subdeck.items()
        )
        sections.append(
            f'<section class="dg-deck" data-deck="{html.escape(deck.spec.name)}">'
            f"<h1>{html.escape(deck.spec.name)}</h1>{subdecks}</section>"
        )
    css = sorted({note.notetype.css for deck in compiled for note in deck.notes})
    page = _PAGE.format(
        notetype_css="\n".join(css),
        page_css=_PAGE_CSS + OVERLAY_CSS,
        tag_buttons="".join(
            f'<button type="button" class="dg-tag" data-tag="{html.escape(tag)}" '
            f'aria-pressed="false">{html.escape(tag)}</button>'
            for tag in sorted(tags)
        ),
        total=cards,
        decks="".join(sections),
        script=_SCRIPT + TOGGLE_SCRIPT,
    )
    media = {file.name: file for deck in compiled for file in deck.media}
    index = out_dir / INDEX
    outputs = [(out_dir / file.name, file.data) for file in media.values()]
    for path, data in [*outputs, (index, page.encode("utf-8"))]:
        try:  # in the preview folder, never through a link in it
            write_atomically(path, data, within=out_dir)
        except OSError as exc:
            raise DeckgenError(f"cannot write {display_path(path)}: {exc.strerror}") from exc
    return Preview(index=index, cards=cards, counts=total_counts(compiled), media=len(media))


def open_in_browser(index: Path) -> bool:
    """Open the page in the user's browser; False when none could be opened."""
    return webbrowser.open(index.resolve().as_uri())


def _card_html(note: Note, location: Location, rendered: CardFaces, out_dir: Path) -> str:
    where = str(location)
    answer_text = ""
    if "Answer" in note.notetype.fields:
        answer = note.fields[note.notetype.fields.index("Answer")]
        answer_text = html.unescape(SERIALISED_TAG.sub("", answer))
    front = _for_page(rendered.question, typed=None)
    back = _for_page(rendered.answer, typed=answer_text)
    retired = RETIRED_TAG in note.tags
    badge = '<span class="dg-retired-badge">Retired</span> ' if retired else ""
    return (
        f'<article class="dg-card{" dg-retired" if retired else ""}" '
        f'data-card-id="{html.escape(note.card_id)}" '
        f'data-card-ord="{rendered.ord}" data-tags="{html.escape(" ".join(note.tags))}">'
        f'<header>{badge}<code class="dg-id">{html.escape(note.card_id)}</code> '
        f'<a class="dg-where" href="{html.escape(_relative_link(location.path, out_dir))}">'
        f"{html.escape(where)}</a> "
        f'<span class="dg-kind">{html.escape(note.notetype.name)} · '
        f"{html.escape(rendered.template_name)}</span> "
        f'<span class="dg-card-tags">{html.escape(" ".join(note.tags))}</span></header>'
        f'<div class="dg-sides">'
        f'<div class="dg-side dg-front"><div class="dg-label">Front</div>'
        f'<div class="card card{rendered.ord + 1}">{front}</div></div>'
        f'<div class="dg-side dg-back"><div class="dg-label">Back</div>'
        f'<div class="card card{rendered.ord + 1}">{back}</div></div>'
        "</div></article>"
    )


def _relative_link(source: Path, out_dir: Path) -> str:
    """A link from the page to a card file that still works when the project is moved or
    shared, and names none of the author's folders above it."""
    relative = os.path.relpath(os.path.abspath(source), os.path.abspath(out_dir))
    return urllib.parse.quote(Path(relative).as_posix())


def _for_page(card_html: str, *, typed: str | None) -> str:
    """What Anki's reviewer does after rendering: type-in boxes and math."""

    def type_answer(match: re.Match[str]) -> str:
        if typed is None:
            return (
                '<input type="text" class="dg-typeans" aria-label="Type the answer" '
                'placeholder="type the answer">'
            )
        return f'<code class="dg-typeans">{html.escape(typed)}</code>'

    # Only between tags: math or a box put into an attribute value would end the attribute
    # (MathJax does not typeset attribute values either).
    pieces = []
    position = 0
    for tag in SERIALISED_TAG.finditer(card_html):
        text = card_html[position : tag.start()]
        pieces += [_MATH.sub(_mathml, _TYPE_ANSWER.sub(type_answer, text)), tag.group()]
        position = tag.end()
    text = card_html[position:]
    pieces.append(_MATH.sub(_mathml, _TYPE_ANSWER.sub(type_answer, text)))
    return occlusion_overlay("".join(pieces))


def _mathml(match: re.Match[str]) -> str:
    inline, display = match.group(1), match.group(2)
    # The text MathJax reads in Anki: the field's HTML as text, entities decoded.
    latex = html.unescape(inline if inline is not None else display)
    # The converter writes its symbols as character references into the same texts; the
    # author's own "&#" is set aside so that it shows as written, as MathJax shows it.
    ampersand = next(chr(code) for code in range(0xE000, 0xF900) if chr(code) not in latex)
    try:
        tree = latex_to_mathml(
            latex.replace("&#", f"{ampersand}#"),
            display="inline" if inline is not None else "block",
        )
        return _serialise_mathml(tree, ampersand)
    # An author's typo in LaTeX, or math nested too deep to draw: show the source rather than
    # fail the preview.
    except Exception:
        return f'<code class="dg-math-error">{html.escape(match.group(0))}</code>'


_MATHML_NAMESPACE = "http://www.w3.org/1998/Math/MathML"
MATHML_ELEMENTS = frozenset(
    {
        "math", "menclose", "merror", "mfrac", "mi", "mmultiscripts", "mn", "mo", "mover",
        "mpadded", "mphantom", "mprescripts", "mroot", "mrow", "ms", "mspace", "msqrt",
        "mstyle", "msub", "msubsup", "msup", "mtable", "mtd", "mtext", "mtr", "munder",
        "munderover", "none",
    }
)  # fmt: skip
"""Presentation MathML: layout only, nothing that links, loads or holds HTML."""
MATHML_ATTRIBUTES = frozenset(
    {
        "accent", "accentunder", "columnalign", "columnlines", "columnspacing", "depth",
        "display", "displaystyle", "fence", "form", "height", "largeop", "linethickness",
        "lspace", "mathbackground", "mathsize", "mathvariant", "maxsize", "minsize",
        "movablelimits", "notation", "rowalign", "rowlines", "rowspacing", "rspace",
        "scriptlevel", "separator", "stretchy", "symmetric", "voffset", "width",
    }
)  # fmt: skip
"""Attributes that only size, space or style the layout (no href, no style, no events)."""
_CHARACTER_REFERENCE = re.compile(r"&#(?:[xX][0-9A-Fa-f]{1,8}|[0-9]{1,10});")


def _serialise_mathml(tree: Element, ampersand: str) -> str:
    """The converter's tree as MathML markup that can only draw math.

    The converter writes symbols into its texts as character references (``&#x0003C;``) and
    copies ``\\text{}`` contents raw; a text is therefore decoded (references only, the author's
    ``&`` written as ``ampersand`` put back after) and then escaped, so whatever it holds is
    shown, never parsed. An element outside the allowlist
    becomes an ``mrow`` (its content still shows); an attribute outside it is dropped."""
    pieces: list[str] = []

    def write(element: Element) -> None:
        name = str(element.tag) if element.tag in MATHML_ELEMENTS else "mrow"
        attributes = "".join(
            f' {key}="{html.escape(str(value))}"'
            for key, value in element.attrib.items()
            if key in MATHML_ATTRIBUTES
        )
        if name == "math":
            attributes = f' xmlns="{_MATHML_NAMESPACE}"{attributes}'
        pieces.append(f"<{name}{attributes}>{_mathml_text(element.text, ampersand)}")
        for child in element:
            write(child)
            pieces.append(_mathml_text(child.tail, ampersand))
        pieces.append(f"</{name}>")

    write(tree)
    return "".join(pieces)


def _mathml_text(text: str | None, ampersand: str) -> str:
    if not text:
        return ""
    decoded = _CHARACTER_REFERENCE.sub(lambda reference: html.unescape(reference.group()), text)
    return html.escape(decoded.replace(ampersand, "&"), quote=False)


_PAGE = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>deckgen preview</title>
<style>
{notetype_css}
{page_css}
</style>
</head>
<body class="dg-page">
<header class="dg-controls">
<input type="search" id="dg-search" placeholder="Search cards" aria-label="Search cards">
<label><input type="checkbox" id="dg-night"> Night</label>
<label><input type="checkbox" id="dg-phone"> Phone width</label>
<span id="dg-count">{total} cards</span>
<div class="dg-tags">{tag_buttons}</div>
</header>
<main>
{decks}
</main>
<script>
{script}
</script>
</body>
</html>
"""

_PAGE_CSS = """\
[hidden] { display: none !important; }
body.dg-page { margin: 0; font-family: system-ui, sans-serif; background: #f2f2f4; color: #1d1d1f; }
body.dg-page.nightMode { background: #121212; color: #e8e8e8; }
.dg-controls { position: sticky; top: 0; z-index: 1; padding: 0.6em 1em; background: inherit;
  border-bottom: 1px solid #bbb; display: flex; flex-wrap: wrap; gap: 0.5em 1em;
  align-items: center; }
#dg-search { font-size: 1em; padding: 0.3em 0.5em; min-width: 16em; }
.dg-tags { flex-basis: 100%; display: flex; flex-wrap: wrap; gap: 0.3em; }
.dg-tag { font-size: 0.8em; border-radius: 1em; border: 1px solid #999; background: none;
  color: inherit; padding: 0.1em 0.7em; cursor: pointer; }
.dg-tag[aria-pressed="true"] { background: #0b5cad; border-color: #0b5cad; color: #fff; }
main { padding: 0 1em 2em; }
.dg-card.dg-retired { opacity: 0.75; border-left: 0.4em solid #b3261e; }
.dg-retired-badge { font-size: 0.8em; font-weight: bold; color: #fff; background: #b3261e;
  border-radius: 0.3em; padding: 0.1em 0.5em; }
.dg-card { margin: 1em 0; border: 1px solid #bbb; border-radius: 6px; overflow: hidden; }
.dg-card > header { padding: 0.3em 0.6em; font-size: 0.8em; border-bottom: 1px solid #bbb;
  display: flex; flex-wrap: wrap; gap: 0 1em; }
.dg-where { color: inherit; font-family: ui-monospace, monospace; }
.dg-card-tags { opacity: 0.7; }
.dg-sides { display: grid; grid-template-columns: 1fr 1fr; }
.dg-side + .dg-side { border-left: 1px solid #bbb; }
.dg-label { font-size: 0.7em; text-transform: uppercase; letter-spacing: 0.08em; opacity: 0.6;
  padding: 0.3em 0.6em 0; }
.dg-side .card { padding: 1em; overflow-wrap: anywhere; }
.dg-typeans { font-size: 1em; }
.dg-id { font-weight: bold; }
.dg-card { scroll-margin-top: 7em; }
body.dg-phone main { max-width: 390px; margin: 0 auto; }
body.dg-phone .dg-sides { grid-template-columns: 1fr; }
body.dg-phone .dg-side + .dg-side { border-left: 0; border-top: 1px solid #bbb; }
/* A phone (or a narrow window) stacks front and back as "Phone width" does, and scrolls the
   controls away instead of keeping a fifth of the screen. */
@media (max-width: 700px) {
  .dg-controls { position: static; }
  #dg-search { min-width: 0; flex: 1 1 10em; }
  .dg-card { scroll-margin-top: 0; }
  .dg-sides { grid-template-columns: 1fr; }
  .dg-side + .dg-side { border-left: 0; border-top: 1px solid #bbb; }
}
@media print {
  .dg-controls { display: none; }
  body.dg-page, body.dg-page.nightMode { background: #fff; color: #000; }
  .dg-card { break-inside: avoid; }
  .dg-sides { grid-template-columns: 1fr 1fr; }
  .dg-side .card { color: #000; background: #fff; }
}
"""

_SCRIPT = """\
"use strict";
const cards = Array.from(document.querySelectorAll(".dg-card"));
const search = document.getElementById("dg-search");
const count = document.getElementById("dg-count");
const tagButtons = Array.from(document.querySelectorAll(".dg-tag"));
const texts = new Map(cards.map((card) => [card, card.textContent.toLowerCase()]));

function applyFilters() {
  const words = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
  const wanted = tagButtons
    .filter((button) => button.getAttribute("aria-pressed") === "true")
    .map((button) => button.dataset.tag);
  let shown = 0;
  for (const card of cards) {
    const tags = card.dataset.tags.split(" ");
    const text = texts.get(card);
    const visible = words.every((word) => text.includes(word)) &&
      wanted.every((tag) => tags.includes(tag));
    card.hidden = !visible;
    if (visible) shown += 1;
  }
  for (const section of document.querySelectorAll(".dg-subdeck, .dg-deck")) {
    section.hidden = section.querySelector(".dg-card:not([hidden])") === null;
  }
  count.textContent = shown === cards.length ? `${cards.length} cards` :
    `${shown} of ${cards.length} cards`;
}

search.addEventListener("input", applyFilters);
for (const button of tagButtons) {
  button.addEventListener("click", () => {
    const pressed = button.getAttribute("aria-pressed") === "true";
    button.setAttribute("aria-pressed", String(!pressed));
    applyFilters();
  });
}
document.getElementById("dg-night").addEventListener("change", (event) => {
  document.body.classList.toggle("nightMode", event.target.checked);
});
document.getElementById("dg-phone").addEventListener("change", (event) => {
  document.body.classList.toggle("dg-phone", event.target.checked);
});
"""
