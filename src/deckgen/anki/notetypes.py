"""deckgen's own notetypes: fixed ids and one field set, chosen once.

Anki matches notetypes by id and, on re-import, makes a ``Name+`` copy (stranding every
existing note) when a field or template is added or renamed. So:
- the ids below are deckgen's own, never genanki's bundled ids that every genanki user shares;
- the field names and template names never change. ``Extra`` and ``Source`` exist from the
  start so that later features fill fields instead of adding them. Templates and CSS may
  change: Anki updates those in place when the notetype's modification time is newer.
"""

from __future__ import annotations

from dataclasses import dataclass

from deckgen.anki import occlusion
from deckgen.anki.identity import fingerprint
from deckgen.values import CardKind

QA_FIELDS = ("Question", "Answer", "Extra", "Source")
CLOZE_FIELDS = ("Text", "Extra", "Source")

_ANSWER_TAIL = (
    '{{#Extra}}<div class="deckgen-extra">{{Extra}}</div>{{/Extra}}\n'
    '{{#Source}}<div class="deckgen-source">Source: {{Source}}</div>{{/Source}}'
)

CSS = """\
.card {
  font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 20px;
  line-height: 1.4;
  text-align: center;
  color: #1d1d1f;
  background-color: #ffffff;
}
.nightMode .card, .card.nightMode { color: #e8e8e8; background-color: #1e1e1e; }
.deckgen-extra { margin-top: 1em; font-size: 0.85em; }
.deckgen-source { margin-top: 1.2em; font-size: 0.65em; color: #6b6b6b; }
.nightMode .deckgen-source { color: #a0a0a0; }
img { max-width: 100%; height: auto; }
table { margin: 0 auto; border-collapse: collapse; }
td, th { border: 1px solid #999; padding: 0.2em 0.5em; }
.cloze { font-weight: bold; color: #0b5cad; }
.nightMode .cloze { color: #7ab8ff; }
.deckgen-bodymap img { max-width: calc(100% - 8px); margin: 4px; vertical-align: top; }
.deckgen-bodymap-title { font-weight: bold; }
.nightMode .deckgen-bodymap img { filter: brightness(0.85); }
.card:has(#answer) .deckgen-reveal-question { display: none; }
"""
# Body maps: panels are separate pictures of one size that sit side by side and stack on a
# narrow screen. A picture brings its own light paper (an <img> cannot see the nightMode
# class), dimmed in night mode. On the answer side a reveal card shows its map once, with
# the trigger points; a webview without :has() shows both maps, as before.


@dataclass(frozen=True)
class Template:
    name: str
    question: str
    answer: str


@dataclass(frozen=True)
class Notetype:
    """A notetype as shipped in every package that uses it."""

    kind: CardKind
    id: int
    """Anki's identity for the notetype: fixed forever."""
    name: str
    fields: tuple[str, ...]
    templates: tuple[Template, ...]
    css: str
    is_cloze: bool
    original_stock_kind: int | None = None
    """Anki's stock kind this notetype is, when Anki must treat it as one (image occlusion);
    its fields are then tagged with their index, as Anki finds them by tag."""

    def fingerprint(self) -> str:
        """Changes exactly when what Anki stores for the notetype changes."""
        content: dict[str, object] = {
            "id": self.id,
            "name": self.name,
            "fields": self.fields,
            "templates": [[t.name, t.question, t.answer] for t in self.templates],
            "css": self.css,
            "cloze": self.is_cloze,
        }
        if self.original_stock_kind is not None:  # absent otherwise: older stamps stay valid
            content["original_stock_kind"] = self.original_stock_kind
        return fingerprint(content)


def _front_to_back(name: str) -> Template:
    return Template(
        name,
        "{{Question}}",
        '{{FrontSide}}\n<hr id="answer">\n{{Answer}}\n' + _ANSWER_TAIL,
    )


NOTETYPES: dict[CardKind, Notetype] = {
    CardKind.BASIC: Notetype(
        CardKind.BASIC,
        1828422171,
        "deckgen Basic",
        QA_FIELDS,
        (_front_to_back("Card 1"),),
        CSS,
        is_cloze=False,
    ),
    CardKind.REVERSED: Notetype(
        CardKind.REVERSED,
        1221465982,
        "deckgen Basic and reversed",
        QA_FIELDS,
        (
            _front_to_back("Card 1"),
            Template(
                "Card 2",
                "{{Answer}}",
                '{{FrontSide}}\n<hr id="answer">\n{{Question}}\n' + _ANSWER_TAIL,
            ),
        ),
        CSS,
        is_cloze=False,
    ),
    CardKind.TYPEIN: Notetype(
        CardKind.TYPEIN,
        1552274595,
        "deckgen Type in the answer",
        QA_FIELDS,
        (
            Template(
                "Card 1",
                "{{Question}}\n\n{{type:Answer}}",
                '{{Question}}\n<hr id="answer">\n{{type:Answer}}\n' + _ANSWER_TAIL,
            ),
        ),
        CSS,
        is_cloze=False,
    ),
    CardKind.CLOZE: Notetype(
        CardKind.CLOZE,
        1485222714,
        "deckgen Cloze",
        CLOZE_FIELDS,
        (Template("Cloze", "{{cloze:Text}}", "{{cloze:Text}}\n" + _ANSWER_TAIL),),
        CSS,
        is_cloze=True,
    ),
}
NOTETYPES[CardKind.OCCLUSION] = Notetype(
    CardKind.OCCLUSION,
    1631520779,
    "deckgen Image Occlusion",  # exactly "Image Occlusion" would arrive as a "+" copy
    occlusion.FIELDS,
    (Template("Image Occlusion", occlusion.FRONT_TEMPLATE, occlusion.BACK_TEMPLATE),),
    occlusion.CSS_VARIABLES + "\n" + CSS,
    is_cloze=True,
    original_stock_kind=occlusion.ORIGINAL_STOCK_KIND,
)
