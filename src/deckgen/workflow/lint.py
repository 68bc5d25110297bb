"""Card quality: warnings for cards that are valid but hard to learn from.

The rules follow the well-known principles of writing flashcards (one small fact per card,
no lists, no guessable or ambiguous questions, name your source). They read what the author
wrote of each card (``AuthoredCard``: where each part is, the cloze markup, the rules
silenced) and the fields as rendered for the package, and change neither. Both come from the
build cache for an unchanged card file (``compile_cards(authored=True)``), so linting an
unchanged deck costs the rules, not a compile. Each
finding is a warning ``path:line:col: warning: message [rule]``; a rule is silenced for a
deck with ``lint: {ignore: [rule]}`` in deck.yaml and for one card with the same key on it.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from deckgen.anki.compiled import CompiledDeck, Note
from deckgen.anki.occlusion import card_keys, hides_all, read_occlusion_field
from deckgen.bodymap.occlusion import FINGERTIP, PHONE_WIDTH, Mask, css_size, image_size
from deckgen.cards.cloze import CLOZE, CLOZE_OPENING
from deckgen.diagnostics import Location, Report, did_you_mean
from deckgen.render.card import AuthoredCard
from deckgen.render.render import plain_text
from deckgen.values import CardKind, Text

MAX_ANSWER_WORDS = 25
MAX_LIST_ITEMS = 3
MAX_DELETIONS_PER_NUMBER = 3
MAX_MASKS_PER_CARD = 12
"""Masks covering one occlusion card's picture: past a dozen the picture is mostly masks."""
OVERLAP_SHARE = 0.25
"""How much of a mask another card's may cover before the asked mask hides under it."""
SIMILAR_QUESTIONS = 0.85
"""difflib ratio from which two different questions count as near-duplicates."""
_SHARED_WORDS = 0.6
"""Share of words (Jaccard) two questions need in common before their text is compared."""
_RECENT_CANDIDATES = 16
"""Per rare word of a question, how many of the latest cards holding it are candidates."""
_MAX_COMPARED = 32
"""Candidates compared with one question at most, latest first, by their words."""
_MAX_TEXT_COMPARISONS = 2
"""Of those, compared character by character (the costly part) at most. With the two bounds
above, what keeps the near-duplicate rule linear on a bank of thousands of alike questions (the
shipped deck's questions have at most 16 candidates)."""

RULES: dict[str, str] = {
    "long-answer": f"an answer longer than {MAX_ANSWER_WORDS} words",
    "enumeration": f"an unordered list of more than {MAX_LIST_ITEMS} items to recall",
    "answer-in-question": "the question contains its own answer",
    "yes-no": "a yes/no question",
    "interference": "a near-duplicate question with a different answer elsewhere in the deck",
    "duplicate-question": "the same question text as another card",
    "cloze-deletions": f"more than {MAX_DELETIONS_PER_NUMBER} deletions under one cloze number",
    "no-source": "a card without a source",
    "typein-case": "a type-in answer that starts with a small letter",
    "occlusion-masks": f"more than {MAX_MASKS_PER_CARD} masks on one occlusion card",
    "occlusion-mask-size": f"an occlusion mask smaller than a fingertip ({FINGERTIP} CSS px) "
    f"on a phone {PHONE_WIDTH} px wide",
    "occlusion-overlap": "masks of two cards overlap on a hide-all occlusion card",
}

_IMAGE_SOURCE = re.compile(r'<img[^>]*\ssrc="([^"]+)"')
_LIST = re.compile(r"<ul>(.*?)</ul>", re.DOTALL)
_WORD = re.compile(r"[^\W_]+(?:['\u2019-][^\W_]+)*")
# "a, b, c and d" (or "a, b, c, and d"): items separated by commas, the last by "and"/"or".
_INLINE_SERIES = re.compile(r"(?:[^,;.:()]+,){2,}([^,;.:()]*?)\b(?:and|or)\b", re.IGNORECASE)
_YES_NO_START = re.compile(
    r"^(?:is|are|was|were|do|does|did|can|could|should|would|will|shall|has|have|had|may|"
    r"might|must|isn't|aren't|doesn't|don't|can't)\b",
    re.IGNORECASE,
)
_YES_NO_ANSWER = re.compile(r"^(?:yes|no)\b", re.IGNORECASE)


@dataclass(frozen=True)
class _Card:
    """A card as the rules see it: as written, its note and its texts as students read them."""

    spec: AuthoredCard
    note: Note
    question: str
    """The question (or cloze text) as plain text."""
    answer: str
    pictures: tuple[str, ...]
    """Media names shown in the question field: Anki's duplicate check counts them."""


_Warn = Callable[[_Card, str, Location, str], None]
"""Reports one finding unless the card or its deck silenced the rule."""


def lint(compiled: list[CompiledDeck], report: Report) -> None:
    """Add every finding of every deck to ``report`` as a warning with its rule name."""
    for deck in compiled:
        cards = [_card(spec, note) for spec, note in deck.authored_cards()]
        warn = _Findings(deck, report).warn
        for card in cards:
            _check_card(card, warn)
        _check_repeats(cards, warn)


class _Findings:
    """One deck's findings, less the rules its deck.yaml or the card itself silenced."""

    def __init__(self, deck: CompiledDeck, report: Report) -> None:
        self.report = report
        deck_silenced = _silenced(deck.spec.lint_ignore, report)
        self.silenced = {
            card.id: deck_silenced | _silenced(card.lint_ignore, report)
            for card, _ in deck.authored_cards()
        }

    def warn(self, card: _Card, rule: str, location: Location, message: str) -> None:
        if rule not in self.silenced[card.spec.id]:
            self.report.warning(location, message, rule=rule)


def _silenced(names: tuple[Text, ...], report: Report) -> set[str]:
    known = set()
    for name in names:
        if name.markdown in RULES:
            known.add(name.markdown)
        else:
            report.warning(
                name.location,
                f"unknown lint rule '{name.markdown}'{did_you_mean(name.markdown, RULES)}; "
                f"rules are {', '.join(RULES)}",
            )
    return known


def _card(spec: AuthoredCard, note: Note) -> _Card:
    if spec.kind is CardKind.OCCLUSION:  # the picture and its header are the question
        return _Card(
            spec=spec,
            note=note,
            # Anki's duplicate check reads the first field: the masks.
            question=f"{plain_text(note.fields[2])} {note.fields[0]}",
            answer="",
            pictures=tuple(_IMAGE_SOURCE.findall(note.fields[1])),
        )
    first_field = note.fields[0]
    answer = "" if spec.kind is CardKind.CLOZE else plain_text(note.fields[1])
    return _Card(
        spec=spec,
        note=note,
        question=plain_text(first_field),
        answer=answer,
        pictures=tuple(_IMAGE_SOURCE.findall(first_field)),
    )


def _check_card(card: _Card, warn: _Warn) -> None:
    spec = card.spec
    if not spec.sourced:
        warn(
            card,
            "no-source",
            spec.location,
            f"card '{spec.id}' has no source: add 'source:' to the card or its file",
        )
    if spec.kind is CardKind.OCCLUSION:
        _check_occlusion(card, warn)
        return
    if spec.kind is CardKind.CLOZE:
        assert spec.cloze is not None
        _check_cloze(card, spec.cloze, warn)
        _check_enumeration(card, spec.cloze.location, card.note.fields[0], warn)
        return
    assert spec.question is not None and spec.answer is not None
    if spec.kind is CardKind.TYPEIN and card.answer[:1].islower():
        warn(
            card,
            "typein-case",
            spec.answer,
            f"the type-in answer of card '{spec.id}' starts with a small letter: Anki "
            "compares a typed answer letter for letter, capitals included, so a student who "
            "starts with a capital is marked wrong; write it as students will type it",
        )
    recalled = [(spec.answer, card.answer, card.note.fields[1])]
    if spec.kind is CardKind.REVERSED:  # the second card asks the answer and recalls the question
        recalled.append((spec.question, card.question, card.note.fields[0]))
    for where, plain, field_html in recalled:
        words = len(_WORD.findall(plain))
        if words > MAX_ANSWER_WORDS:
            warn(
                card,
                "long-answer",
                where,
                f"answer of card '{spec.id}' has {words} words (more than {MAX_ANSWER_WORDS}): "
                "keep one short fact per card; split it or move detail to 'extra'",
            )
        _check_enumeration(card, where, field_html, warn)
    answer_words = " ".join(_words(card.answer))
    question_words = " ".join(_words(card.question))
    if answer_words and re.search(rf"\b{re.escape(answer_words)}\b", question_words):
        warn(
            card,
            "answer-in-question",
            spec.question,
            f"the question of card '{spec.id}' contains its answer '{card.answer}': "
            "students can read it off instead of recalling it",
        )
    if (_YES_NO_START.match(card.question) and " or " not in f" {card.question} ") or (
        _YES_NO_ANSWER.match(card.answer)
    ):
        warn(
            card,
            "yes-no",
            spec.question,
            f"card '{spec.id}' asks a yes/no question: a coin toss is right half the time; "
            "ask for the fact itself (what, where, which)",
        )


def _check_enumeration(card: _Card, where: Location, field_html: str, warn: _Warn) -> None:
    longest = max((item.count("<li>") for item in _LIST.findall(field_html)), default=0)
    plain = CLOZE.sub(r"\2", plain_text(field_html))
    for series in _INLINE_SERIES.finditer(plain):
        # Items: one before each comma, plus the last one after "and" (and a middle one
        # unless the comma is the Oxford comma right before "and").
        items = series.group(0).count(",") + (2 if series.group(1).strip() else 1)
        longest = max(longest, items)
    if longest > MAX_LIST_ITEMS:
        warn(
            card,
            "enumeration",
            where,
            f"card '{card.spec.id}' asks to recall a list of {longest} items "
            f"(more than {MAX_LIST_ITEMS}): unordered lists are hard to learn; "
            "split it into cards or a cloze per item",
        )


def _check_cloze(card: _Card, cloze: Text, warn: _Warn) -> None:
    numbers = Counter(int(number) for number in CLOZE_OPENING.findall(cloze.markdown))
    for number, count in sorted(numbers.items()):
        if count > MAX_DELETIONS_PER_NUMBER:
            warn(
                card,
                "cloze-deletions",
                cloze.location,
                f"cloze of card '{card.spec.id}' hides {count} deletions under c{number} "
                f"(more than {MAX_DELETIONS_PER_NUMBER}): give them their own numbers",
            )


def _check_occlusion(card: _Card, warn: _Warn) -> None:
    """Too many masks on one card, and masks a finger cannot tap on a phone."""
    spec = card.spec
    groups = read_occlusion_field(card.note.fields[0])
    written = spec.occlusion_groups
    # A hidden label's card keeps its number across releases; masks are numbered in order.
    by_key = dict(spec.hidden_keys)
    keys = card_keys(card.note.fields[0])
    every_mask = sum(len(masks) for masks in groups.values())
    pictures = {file.name: file.data for file in card.note.media}
    size = image_size(pictures.get(card.pictures[0], b"")) if card.pictures else None
    if hides_all(card.note.fields[0]) and every_mask > MAX_MASKS_PER_CARD:
        # Every mask covers every card: one finding for the note.
        location = written[0] if written else spec.location
        _too_many(card, location, every_mask, warn, advice="or use mode: hide-one")

    def location_of(number: int) -> Location:
        if number in keys:
            return by_key.get(keys[number], spec.location)
        return written[number - 1] if number <= len(written) else spec.location

    if hides_all(card.note.fields[0]):
        _check_overlaps(card, groups, location_of, warn)
    for number, masks in sorted(groups.items()):
        location = location_of(number)
        if not hides_all(card.note.fields[0]) and len(masks) > MAX_MASKS_PER_CARD:
            _too_many(card, location, len(masks), warn, advice="split the group")
        if size is None:
            continue
        for mask in masks:
            width, height = css_size(mask, image_width=size[0], image_height=size[1])
            if width < FINGERTIP and height < FINGERTIP:
                warn(
                    card,
                    "occlusion-mask-size",
                    location,
                    f"a mask of card {number} of occlusion card '{spec.id}' is "
                    f"{width:.0f}x{height:.0f} CSS px on a phone {PHONE_WIDTH} px wide, "
                    f"smaller than a fingertip ({FINGERTIP} px): students cannot tap it to "
                    "reveal it; make it larger",
                )


def _check_overlaps(
    card: _Card, groups: dict[int, list[Mask]], location_of: Callable[[int], Location], warn: _Warn
) -> None:
    """Anki's reviewer paints the asked card's masks first and every other card's masks over
    them, so a mask overlapping another card's hides the question under the wrong colour."""
    for later in sorted(groups):
        for earlier in sorted(number for number in groups if number < later):
            if any(_overlap(a, b) > OVERLAP_SHARE for a in groups[later] for b in groups[earlier]):
                warn(
                    card,
                    "occlusion-overlap",
                    location_of(later),
                    f"a mask of card {later} of occlusion card '{card.spec.id}' overlaps one of "
                    f"card {earlier}: with hide-all, Anki paints the other cards' masks over the "
                    "one asked about, so it hides under them; use masks that do not overlap, "
                    "or mode: hide-one",
                )
                break


def _overlap(a: Mask, b: Mask) -> float:
    """The share of the smaller mask's box that the two boxes have in common."""
    ax0, ay0, ax1, ay1 = a.bounds()
    bx0, by0, bx1, by1 = b.bounds()
    common = max(0.0, min(ax1, bx1) - max(ax0, bx0)) * max(0.0, min(ay1, by1) - max(ay0, by0))
    smaller = min((ax1 - ax0) * (ay1 - ay0), (bx1 - bx0) * (by1 - by0))
    return common / smaller if smaller > 0 else 0.0


def _too_many(card: _Card, location: Location, masks: int, warn: _Warn, *, advice: str) -> None:
    warn(
        card,
        "occlusion-masks",
        location,
        f"occlusion card '{card.spec.id}' covers the picture with {masks} masks on one card "
        f"(more than {MAX_MASKS_PER_CARD}): students see more mask than picture; hide fewer, "
        f"{advice}",
    )


def _check_repeats(cards: list[_Card], warn: _Warn) -> None:
    """Identical questions, then near-identical ones whose answers differ."""
    first_by_key: dict[tuple[str, tuple[str, ...]], _Card] = {}
    for card in cards:
        key = (card.question.casefold(), card.pictures)
        first = first_by_key.setdefault(key, card)
        if first is not card:
            warn(
                card,
                "duplicate-question",
                _question_location(card),
                f"card '{card.spec.id}' has the same question as card '{first.spec.id}' "
                f"({first.spec.location}): Anki flags it as a duplicate and students cannot "
                "tell which answer is wanted; reword one or merge them",
            )
    for earlier, later in _similar_pairs([card for card in cards if card.answer]):
        warn(
            later,
            "interference",
            _question_location(later),
            f"the question of card '{later.spec.id}' is nearly the same as card "
            f"'{earlier.spec.id}' ({earlier.spec.location}) but the answers differ: students "
            "will mix them up; make the questions clearly different",
        )


def _similar_pairs(cards: list[_Card]) -> list[tuple[_Card, _Card]]:
    """Each card paired with the latest earlier card whose question is nearly, not exactly,
    alike and whose answer differs; a card is paired once (its warning names one card).

    Only questions sharing at least ``_SHARED_WORDS`` of their words (Jaccard) are compared
    character by character. Candidates come from prefix filtering: with each question's words
    ordered rarest first, two questions that alike must share one of their first few words, so
    only those are indexed. Each of those words offers the latest ``_RECENT_CANDIDATES`` cards
    holding it; at most ``_MAX_COMPARED`` of them are compared, latest first, up to the first
    match, and at most ``_MAX_TEXT_COMPARISONS`` character by character. A deck's rare words
    are held by few cards, which are all compared; a bank of thousands of alike questions finds
    its match among the latest. The work per card is bounded: the rule is linear.
    """
    words = [set(_words(card.question)) for card in cards]
    frequency = Counter(word for question in words for word in question)
    index: dict[str, list[int]] = defaultdict(list)
    pairs = []
    for position, card in enumerate(cards):
        ordered = sorted(words[position], key=lambda word: (frequency[word], word))
        prefix = ordered[: len(ordered) - math.ceil(_SHARED_WORDS * len(ordered)) + 1]
        candidates: set[int] = set()
        for word in prefix:
            holders = index[word]
            candidates.update(holders[-_RECENT_CANDIDATES:])
            holders.append(position)
        text_comparisons = 0
        # The card's question is the matcher's second text, indexed once for all candidates.
        matcher = difflib.SequenceMatcher(None, "", card.question.casefold())
        for other in sorted(candidates, reverse=True)[:_MAX_COMPARED]:
            if not _alike_enough(cards[other], card, words[other], words[position], matcher):
                continue
            if matcher.ratio() >= SIMILAR_QUESTIONS:
                pairs.append((cards[other], card))
                break
            text_comparisons += 1
            if text_comparisons == _MAX_TEXT_COMPARISONS:
                break
    return pairs


def _alike_enough(
    earlier: _Card,
    card: _Card,
    earlier_words: set[str],
    words: set[str],
    matcher: difflib.SequenceMatcher[str],
) -> bool:
    """Whether the cheap tests leave two questions possibly near-alike, ``matcher`` (holding
    the card's question) then set to compare them: its ratio decides. False for different
    words, pictures or answers, or identical text."""
    shared = len(words & earlier_words)
    if shared < _SHARED_WORDS * (len(words) + len(earlier_words) - shared):
        return False
    if earlier.pictures != card.pictures:
        return False  # a different picture tells the questions apart
    if earlier.answer.casefold() == card.answer.casefold():
        return False  # asking one fact two ways is harmless
    a = earlier.question.casefold()
    if a == card.question.casefold():
        return False  # identical is duplicate-question's
    matcher.set_seq1(a)
    # The quick ratios bound the ratio cheaply.
    return (
        matcher.real_quick_ratio() >= SIMILAR_QUESTIONS
        and matcher.quick_ratio() >= SIMILAR_QUESTIONS
    )


def _question_location(card: _Card) -> Location:
    if card.spec.question is not None:
        return card.spec.question
    return card.spec.cloze.location if card.spec.cloze is not None else card.spec.location


def _words(text: str) -> list[str]:
    return [word.casefold() for word in _WORD.findall(text)]
