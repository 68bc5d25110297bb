"""Anki's card templates, rendered the way Anki renders them, for the preview and the counts.

Covers what deckgen's notetypes use: ``{{Field}}``, ``{{#Field}}...{{/Field}}``,
``{{^Field}}...{{/Field}}``, ``{{FrontSide}}``, ``{{cloze:Field}}`` and ``{{type:Field}}``.
The output is meant to equal, byte for byte, what Anki's engine returns as a card's
question and answer text (``tests/workflow/test_preview.py`` checks every card of the shipped deck):
``{{type:Field}}`` stays the ``[[type:Field]]`` placeholder that Anki's reviewer later turns
into an input box, and MathJax stays for the viewer to typeset.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from deckgen.anki.notetypes import Notetype
from deckgen.cards.cloze import CLOZE, card_number

_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_CLOZE_FIELD = re.compile(r"\{\{cloze:([^}]+)\}\}")
# Anki's own test for an empty field: only whitespace and line breaks or empty divs.
_NAMED_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
_EMPTY_FIELD = re.compile(r"^(?:\s|</?(?:br|div) ?/?>)*$", re.IGNORECASE)


@dataclass(frozen=True)
class CardFaces:
    """One card as Anki shows it: its question and answer sides."""

    ord: int
    """Anki's card ordinal: the template index, or the cloze number minus one."""
    template_name: str
    question: str
    answer: str


def cloze_numbers(text: str) -> list[int]:
    """The distinct numbers of a field's clozes, ascending; each becomes one card. Only
    c1 to c500 with text to hide count: deckgen refuses the others in card files, but a
    hand-edited lock's retired card may hold them, and genanki wrote no card for them."""
    numbers = {
        number
        for match in CLOZE.finditer(text)
        if match.group(2) and (number := card_number(match.group(1))) is not None
    }
    return sorted(numbers)


def render_cards(notetype: Notetype, fields: tuple[str, ...]) -> list[CardFaces]:
    """Every card Anki creates for a note with ``fields``, in ordinal order."""
    by_name = dict(zip(notetype.fields, fields, strict=True))
    cards = []
    for ord_ in card_ords(notetype, fields):
        template = notetype.templates[0 if notetype.is_cloze else ord_]
        question = _render(template.question, by_name, ord_, question_side=True, front="")
        answer = _render(template.answer, by_name, ord_, question_side=False, front=question)
        cards.append(CardFaces(ord_, template.name, question, answer))
    return cards


def card_ords(notetype: Notetype, fields: tuple[str, ...]) -> tuple[int, ...]:
    """The ordinals of the cards Anki creates for the note, found without rendering the
    answers (every build counts and writes the cards of every note)."""
    if len(fields) != len(notetype.fields):
        raise ValueError(f"notetype '{notetype.name}' has {len(notetype.fields)} fields")
    if notetype.is_cloze:
        by_name = dict(zip(notetype.fields, fields, strict=True))
        template = notetype.templates[0]
        text = "".join(by_name[name] for name in _CLOZE_FIELD.findall(template.question))
        return tuple(number - 1 for number in cloze_numbers(text))
    # Anki creates no card whose front would be blank. A front that is one field as it is
    # (``{{Question}}``) is blank when that field is: it need not be rendered.
    ords = []
    for ord_, (template, field_index) in enumerate(
        zip(notetype.templates, _front_fields(notetype), strict=True)
    ):
        if field_index is not None:
            front = fields[field_index]
        else:
            by_name = dict(zip(notetype.fields, fields, strict=True))
            front = _render(template.question, by_name, ord_, question_side=True, front="")
        if not _is_empty(front):
            ords.append(ord_)
    return tuple(ords)


@functools.lru_cache(maxsize=32)
def _front_fields(notetype: Notetype) -> tuple[int | None, ...]:
    """For each template, the index of the field its question is when it is exactly
    ``{{Field}}`` (which renders as that field's text); None for a question that must be
    rendered. tests/anki/test_cardrender.py compares the two ways over random fields."""
    fronts: list[int | None] = []
    for template in notetype.templates:
        name = template.question.removeprefix("{{").removesuffix("}}")
        is_field = (
            template.question == f"{{{{{name}}}}}"
            and notetype.fields.count(name) == 1
            and name != "FrontSide"
            and _PLAIN_FIELD_NAME.fullmatch(name) is not None
        )
        fronts.append(notetype.fields.index(name) if is_field else None)
    return tuple(fronts)


_PLAIN_FIELD_NAME = re.compile(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*")
"""A field name that a tag can only mean as the field itself: no filter, section or space
around it."""


def _render(
    template: str, fields: dict[str, str], ord_: int, *, question_side: bool, front: str
) -> str:
    out: list[str] = []
    # A stack of (field name, whether the section's content is shown).
    sections: list[tuple[str, bool]] = []
    position = 0
    for match in _TAG.finditer(template):
        if all(shown for _, shown in sections):
            out.append(template[position : match.start()])
        position = match.end()
        tag = match.group(1).strip()
        if tag[:1] in "#^":
            name = tag[1:].strip()
            filled = not _is_empty(fields.get(name, ""))
            sections.append((name, filled if tag[0] == "#" else not filled))
        elif tag[:1] == "/":
            if not sections or sections[-1][0] != tag[1:].strip():
                raise ValueError(f"unbalanced section {{{{{tag}}}}} in a template")
            sections.pop()
        elif all(shown for _, shown in sections):
            out.append(_replacement(tag, fields, ord_, question_side=question_side, front=front))
    if sections:
        raise ValueError(f"unclosed section {{{{#{sections[-1][0]}}}}} in a template")
    out.append(template[position:])
    return "".join(out)


def _replacement(
    tag: str, fields: dict[str, str], ord_: int, *, question_side: bool, front: str
) -> str:
    if tag == "FrontSide":
        return front
    *filters, name = tag.split(":")
    if filters == ["type"]:
        return f"[[type:{name}]]"
    value = fields.get(name)
    if value is None:
        raise ValueError(f"template names unknown field '{name}'")
    if filters == ["cloze"]:
        return _reveal_cloze(value, ord_ + 1, question_side=question_side)
    if filters:
        raise ValueError(f"template filter '{':'.join(filters)}' is not supported")
    return value


def _reveal_cloze(text: str, number: int, *, question_side: bool) -> str:
    def replace(match: re.Match[str]) -> str:
        ordinal = int(match.group(1))
        content, hint = match.group(2), match.group(3)
        if content.startswith(_IMAGE_OCCLUSION):
            if ordinal != number:
                kind = "cloze-inactive"
            else:
                kind = "cloze" if question_side else "cloze-highlight"
            data = _image_cloze_data(content[len(_IMAGE_OCCLUSION) :])
            return f'<div class="{kind}" data-ordinal="{ordinal}" {data}></div>'
        if ordinal != number:
            return f'<span class="cloze-inactive" data-ordinal="{ordinal}">{content}</span>'
        if not question_side:
            return f'<span class="cloze" data-ordinal="{ordinal}">{content}</span>'
        shown = f"[{hint}]" if hint else "[...]"
        return (
            f'<span class="cloze" data-cloze="{_encode_attribute(content)}" '
            f'data-ordinal="{ordinal}">{shown}</span>'
        )

    return CLOZE.sub(replace, text)


_IMAGE_OCCLUSION = "image-occlusion:"
_IMAGE_CLOZE_KEYS = {
    "left": "left",
    "top": "top",
    "width": "width",
    "height": "height",
    "rx": "rx",
    "ry": "ry",
    "oi": "occludeInactive",
    "sx": "sx",
    "sy": "sy",
}
_ZERO_DROPPED = {"width", "height", "rx", "ry", "sx", "sy"}


def _image_cloze_data(text: str) -> str:
    """A mask's data attributes as Anki's engine writes them (``get_image_cloze_data`` in
    rslib/src/image_occlusion/imageocclusion.rs), for the reviewer's script to draw."""
    parts = text.split(":")
    if len(parts) < 2:
        return ""
    out = []
    if parts[0] in ("rect", "ellipse", "polygon", "text"):
        out.append(f'data-shape="{parts[0]}" ')
    for part in parts[1:]:
        values = part.split("=")
        if len(values) < 2:
            continue
        key, value = values[0], values[1]
        if key == "points" and value:
            pairs = [pair.split(",", 1) for pair in value.split(" ") if "," in pair]
            points = " ".join(f"{x},{y}" for x, y in pairs)
            if points:
                out.append(f'data-points="{points}" ')
        elif key == "text" and value:
            out.append(f'data-text="{_encode_attribute(value)}"')
        elif key in _IMAGE_CLOZE_KEYS and value and not (key in _ZERO_DROPPED and value == "0"):
            out.append(f'data-{_IMAGE_CLOZE_KEYS[key]}="{value}" ')
    return "".join(out)


def _encode_attribute(text: str) -> str:
    """Anki's attribute encoding (the htmlescape crate): named entities for the HTML
    specials, hex references for every other non-alphanumeric character below U+0100."""
    out = []
    for char in text:
        if char.isascii() and char.isalnum():
            out.append(char)
        elif char in _NAMED_ENTITIES:
            out.append(_NAMED_ENTITIES[char])
        elif ord(char) < 0x100:
            out.append(f"&#x{ord(char):02X};")
        else:
            out.append(char)
    return "".join(out)


def _is_empty(text: str) -> bool:
    return bool(_EMPTY_FIELD.match(text))
