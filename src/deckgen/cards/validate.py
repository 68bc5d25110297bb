"""Stage 2: find the decks under a cards folder and check their YAML into typed card specs.

Layout: ``<cards>/<deck folder>/deck.yaml`` defines a deck; every other ``*.yaml`` below that
folder is a card file. Every problem is reported with its place; nothing stops at the first.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from deckgen.cards.cloze import CLOZE_OPENING, SINGLE_BRACE_OPENING
from deckgen.diagnostics import Location, Report, did_you_mean, display_path, value_class
from deckgen.source.deck_options import DeckOptions, read_deck_options
from deckgen.source.report_url import ReportUrl, read_report_url
from deckgen.source.safe_files import TooDeep, UnsafeFile, check_folder, resolve_within, walk_tree
from deckgen.source.versions import RELEASE_KEYS, DeckRelease, read_deck_release
from deckgen.values import CardKind, Text

if TYPE_CHECKING:
    from deckgen.bodymap.occlusion import MaskColours, OcclusionSpec
    from deckgen.bodymap.spec import BodymapSpec

from deckgen.source.yamlnodes import (
    Mapping,
    Node,
    Scalar,
    Sequence,
    describe,
    report_unknown_keys,
)
from deckgen.source.yamlsource import load_yaml

DECK_FILE = "deck.yaml"

_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

MAX_FIELD_CHARACTERS = 10_000
"""A field is one side of a flashcard; the shipped deck's longest is about 200."""
MAX_MARKUP_CHARACTERS = 1_000
"""Markdown's link, image, emphasis, code, HTML and table markers and line breaks per field:
its parser slows down with the square of their number, so a flood of '[' is refused up front."""
MAX_MARKUP_WORK_PER_FILE = 30_000_000
"""Markers times field length, summed over a card file: what Markdown's parser spends grows
with both, so a file of many long marker-heavy fields is refused rather than rendered for
minutes. A 2 MiB file of ordinary cards uses about a twentieth of it."""
_MARKUP = re.compile(r"[\[!*_`<|\n]")
MAX_CARDS_PER_DECK = 200_000
MAX_MARKS_PER_MAP = 12
"""Trigger points, and landmarks, per map (per panel): the shipped deck uses at most 3, and
laying out the labels grows faster than the square of their number (96 took 16 seconds)."""
MAX_DECK_NAME_PARTS = 11
"""Parts of a full deck name (deck.yaml's ``name`` and a card file's ``deck`` together, split at
``::``): Anki refuses to import a package with a deeper deck ("deck nesting level too deep";
measured with Anki 26.09's engine: 11 parts import, 12 do not)."""


@value_class
class CardSpec:
    """One card as written in a card file, checked."""

    id: str
    """Unique within its deck; with the deck id it makes the note's identity."""
    kind: CardKind
    question: Text | None
    """Basic, reversed and type-in cards only."""
    answer: Text | None
    """Basic, reversed and type-in cards only."""
    cloze: Text | None
    """Cloze cards only."""
    extra: Text | None
    source: Text | None
    """The card's own source, else its file's."""
    tags: tuple[str, ...]
    """Deck, file and card tags together, sorted, without repeats."""
    subdeck: str | None
    """The file's ``deck`` key, appended to the deck name with ``::``."""
    bodymap: BodymapSpec | None
    """A referral chart drawn from data and added to one of the card's fields."""
    location: Location
    """Where the card starts."""
    lint_ignore: tuple[Text, ...] = ()
    """Lint rules silenced for this card (``lint: {ignore: [...]}``), checked by lint.py."""
    occlusion: OcclusionSpec | None = None
    """Occlusion cards only: what to hide on the body map, or the masks on ``image``."""
    header: Text | None = None
    """Occlusion cards only: shown above the picture."""
    image: Text | None = None
    """Occlusion cards on an author's own image: its path, relative to the card file."""


class SourcedCard(Protocol):
    """What the deck stage needs of a card, whether checked only or also rendered."""

    @property
    def id(self) -> str: ...

    @property
    def location(self) -> Location: ...

    @property
    def subdeck(self) -> str | None: ...


CardT = TypeVar("CardT", bound=SourcedCard)


@dataclass(frozen=True)
class DeckSpec(Generic[CardT]):
    """One deck folder, checked."""

    folder: Path
    """The deck folder; its name names the package."""
    name: str
    """The Anki deck name; ``::`` makes subdecks."""
    id: str
    """The stable key every note's identity derives from."""
    description: Text | None
    cards: tuple[CardT, ...]
    location: Location
    """Where deck.yaml starts."""
    lint_ignore: tuple[Text, ...] = ()
    """Lint rules silenced for the whole deck (``lint: {ignore: [...]}``)."""
    release: DeckRelease = field(default_factory=DeckRelease)
    """Version, release date and when to stop shipping retired cards."""
    options: DeckOptions | None = None
    """The study settings shipped as the deck's preset; None ships none."""
    report_url: ReportUrl | None = None
    """Where students report a problem with a card; None puts no link on the cards."""
    mask_colours: MaskColours | None = None
    """The deck's own colours for image occlusion masks (``mask_colours:``)."""


_DECK_KEYS = {
    "name", "id", "description", "tags", "lint", "options", "report_url", "mask_colours",
    *RELEASE_KEYS,
}  # fmt: skip
_FILE_KEYS = {"deck", "tags", "source", "cards"}
_CARD_KEYS = {
    "id", "type", "question", "answer", "cloze", "extra", "source", "tags", "bodymap", "lint",
}  # fmt: skip
_OCCLUSION_KEYS = {"image", "hide", "masks", "mode", "header"}
"""Keys of occlusion cards only (``type: occlusion``)."""
_LINT_KEYS = {"ignore"}


def is_identifier(text: str) -> bool:
    """Whether ``text`` is a valid deck or card id; fullmatch, since with match and '$',
    'x\n' would pass and change every guid of the deck."""
    return _ID_PATTERN.fullmatch(text) is not None


def find_deck_folders(cards_dir: Path, report: Report) -> list[Path]:
    """Every folder directly under ``cards_dir`` that has a deck.yaml, in name order.

    ``cards_dir`` may also be one deck folder itself (``deckgen check cards/my-deck``).
    """
    if (cards_dir / DECK_FILE).is_file():
        return [cards_dir]
    folders = []
    holders = []
    try:  # listings read names only; every file found is read through safe_files
        children = sorted(cards_dir.iterdir())
    except OSError as exc:  # gone while `deckgen watch` waits, say, or not readable
        report.error(
            Location(cards_dir),
            f"cards folder cannot be read: {exc.strerror}; restore it, or name the folder "
            "that holds the decks",
        )
        return []
    for child in children:
        if not child.is_dir() or child.name.startswith("."):
            continue
        try:
            check_folder(child, within=cards_dir)
        except UnsafeFile as exc:
            report.error(Location(child), f"deck folder {exc}")
            continue
        # Whatever is there, even a FIFO or a link out, makes a deck, so reading it says why
        # it is refused instead of skipping the deck without a word.
        if os.path.lexists(child / DECK_FILE):
            folders.append(child)
        elif any(child.glob(f"*/{DECK_FILE}")):
            holders.append(child)  # a cards folder one level down, e.g. the repository root
        elif _holds(child, lambda path: path.name == DECK_FILE):
            continue  # decks further down (test fixtures, say) are not this folder's
        elif _holds(child, lambda path: path.suffix == ".yaml"):
            report.warning(
                Location(child),
                f"folder has card files but no {DECK_FILE}: skipped (add {DECK_FILE} to build it)",
            )
    if not folders:
        hint = (
            f"; {' and '.join(display_path(holder) for holder in holders)} holds decks: "
            "pass that folder"
            if holders
            else ""
        )
        report.error(
            Location(cards_dir),
            f"no decks found: a deck is a folder with a {DECK_FILE}, e.g. "
            f"{Path(display_path(cards_dir)) / 'my-deck' / DECK_FILE}{hint}",
        )
    return folders


def load_decks(cards_dir: Path, report: Report) -> list[DeckSpec[CardSpec]]:
    """Check every deck under ``cards_dir``; problems go to ``report``. (The build renders
    the cards too, through its per-file stage: pipeline/build.py's ``read_decks``.)"""
    return checked_decks(
        (
            (
                deck_file,
                check_card_files(deck_file.folder, deck_file.card_files, deck_file.tags, report),
            )
            for deck_file in read_deck_files(cards_dir, report)
        ),
        report,
    )


def read_deck_files(cards_dir: Path, report: Report) -> Iterator[DeckFile]:
    """The deck.yaml of every deck under ``cards_dir``, checked, one deck at a time (a deck
    whose deck.yaml cannot be read is reported and left out)."""
    for folder in find_deck_folders(cards_dir, report):
        if (deck_file := read_deck_file(folder, report)) is not None:
            yield deck_file


def checked_decks(
    with_cards: Iterable[tuple[DeckFile, list[CardT]]], report: Report
) -> list[DeckSpec[CardT]]:
    """The decks of deck files with their cards, checked for what needs all of a deck's
    cards and for what needs all the decks (two decks share neither an id nor a name)."""
    distinct = DistinctDecks()
    decks = []
    for deck_file, cards in with_cards:
        if (deck := deck_file.deck(cards, report)) is not None:
            distinct.check(deck, report)
            decks.append(deck)
    return decks


@dataclass
class DistinctDecks:
    """Checks one deck at a time that no two decks share an id or a name, so a build can let
    each deck's cards go before it reads the next deck: the later deck is reported."""

    _ids: dict[str, Location] = field(default_factory=dict)
    _names: dict[str, Location] = field(default_factory=dict)

    def check(self, deck: DeckSpec[CardT], report: Report) -> None:
        _report_repeats(
            report,
            [(deck.id, deck.location)],
            lambda deck_id, first: (
                f"deck id '{deck_id}' is already used by {first}: "
                "two decks with one id would overwrite each other's notes"
            ),
            first=self._ids,
        )
        _report_repeats(
            report,
            [(deck.name, deck.location)],
            lambda name, first: (
                f"deck name '{name}' is already used by {first}: Anki would merge the two decks"
            ),
            first=self._names,
        )


def _report_repeats(
    report: Report,
    keyed_places: Iterable[tuple[str, Location]],
    message: Callable[[str, Location], str],
    *,
    first: dict[str, Location] | None = None,
) -> None:
    """Report every place whose key was already seen (here, or in ``first``: where each key
    was first seen, which this updates), naming the first place."""
    if first is None:
        first = {}
    for key, location in keyed_places:
        if key in first:
            report.error(location, message(key, first[key]))
        else:
            first[key] = location


def read_deck_file(folder: Path, report: Report) -> DeckFile | None:
    """A deck folder's deck.yaml checked, and its card files found; None when deck.yaml is
    no mapping (reported)."""
    deck_file = folder / DECK_FILE
    checker = _Checker(report)
    root = load_yaml(deck_file, report)
    if root is None:
        return None
    mapping = checker.mapping(root, "deck.yaml", whole_file=True)
    if mapping is None:
        return None
    report_unknown_keys(mapping, _DECK_KEYS, "deck.yaml", checker.report)
    name = checker.required_text(mapping, "name", "deck.yaml")
    deck_id = checker.required_text(mapping, "id", "deck.yaml")
    if name is not None:
        checker.deck_name(name.text, name.location, max_parts=MAX_DECK_NAME_PARTS)
    if deck_id is not None:
        checker.identifier(deck_id, "deck id")
    description = checker.optional_text(mapping, "description")
    deck_tags = checker.tags(mapping.get("tags"))
    options = read_deck_options(mapping, report)
    release = dataclasses.replace(
        read_deck_release(mapping, report), changes=checker.optional_text(mapping, "changes")
    )
    mask_colours = None
    if (colours_node := mapping.get("mask_colours")) is not None:
        from deckgen.bodymap.occlusion import parse_mask_colours

        mask_colours = parse_mask_colours(colours_node, report)

    return DeckFile(
        folder=folder,
        card_files=_card_files(folder, report),
        tags=deck_tags,
        mapping=mapping,
        checker=checker,
        name=name,
        id=deck_id,
        description=description,
        options=options,
        release=release,
        mask_colours=mask_colours,
        report_url=read_report_url(mapping, report),
    )


@dataclass(frozen=True)
class DeckFile:
    """A deck folder's deck.yaml, checked: what its card files are read with, and the deck
    they make (``deck``), checked for what needs all its cards."""

    folder: Path
    card_files: list[Path]
    """In the order their cards come."""
    tags: tuple[str, ...]
    """deck.yaml's tags, which every card gets."""
    mapping: Mapping
    checker: _Checker
    name: Scalar | None
    id: Scalar | None
    description: Text | None
    options: DeckOptions | None
    release: DeckRelease
    mask_colours: MaskColours | None
    report_url: ReportUrl | None

    def deck(self, cards: list[CardT], report: Report) -> DeckSpec[CardT] | None:
        """The deck of ``cards`` (its card files' cards, in file order); None on an error
        that leaves no deck (reported)."""
        _report_repeats(
            report,
            ((card.id, card.location) for card in cards),
            lambda card_id, first: (
                f"duplicate card id '{card_id}' (first at {first}): "
                "ids must be unique within a deck"
            ),
        )
        if len(cards) > MAX_CARDS_PER_DECK:
            report.error(
                self.mapping.location,
                f"deck has {len(cards)} cards; a deck may hold at most {MAX_CARDS_PER_DECK}: "
                "split it into several decks",
            )
            return None
        if self.name is None or self.id is None:
            return None
        _check_nesting(self.name.text.strip(), cards, report)
        if not cards:
            report.warning(self.mapping.location, "deck has no cards")
        return DeckSpec(
            folder=self.folder,
            name=self.name.text.strip(),
            id=self.id.text,
            description=self.description,
            cards=tuple(cards),
            location=self.mapping.location,
            lint_ignore=self.checker.lint_ignore(self.mapping.get("lint")),
            release=self.release,
            options=self.options,
            report_url=self.report_url,
            mask_colours=self.mask_colours,
        )


def _holds(folder: Path, wanted: Callable[[Path], bool]) -> bool:
    """Whether anything below ``folder`` is ``wanted``; a folder too deep to look through is
    not a deck's, and holds nothing."""
    try:
        return any(wanted(path) for path in walk_tree(folder))
    except TooDeep:
        return False


def _card_files(folder: Path, report: Report) -> list[Path]:
    """Card files of a deck; files that resolve outside the deck folder are refused."""
    paths: list[Path] = []
    try:
        paths.extend(walk_tree(folder))  # names only; no linked folder is entered
    except TooDeep as exc:  # the files found before it are still checked
        report.error(Location(exc.folder), f"folder {exc}")
    files = []
    for path in paths:
        if path.name == DECK_FILE and path.parent == folder:
            continue
        if path.suffix == ".yml":
            report.warning(Location(path), "ignored: card files end in .yaml, rename it")
            continue
        if path.suffix != ".yaml":
            continue
        try:
            resolved = resolve_within(path, folder)
        except UnsafeFile as exc:
            report.error(Location(path), f"card file {exc}")
            continue
        if not resolved.is_dir():  # folders are walked; anything else is read, or refused
            files.append(path)
    return files


def deck_name_problem(name: str, *, max_parts: int | None = MAX_DECK_NAME_PARTS) -> str | None:
    """What Anki would refuse or change in the deck name ``name`` (phrased to follow the
    name), or None. Anki strips spaces around each part and drops a ':' next to '::', so such a
    name would differ between the lock and the students' collections; it refuses a name of more
    than ``max_parts`` parts (None: not checked here)."""
    parts = name.strip().split("::")
    if any(not part.strip() for part in parts):
        return "has an empty part between '::'"
    if any(part != part.strip() for part in parts):
        return "has spaces around a part: Anki removes them; write 'Part::Subpart'"
    if any(part.startswith(":") or part.endswith(":") for part in parts):
        return "has a ':' next to '::': Anki drops it; separate parts with exactly '::'"
    if max_parts is not None and len(parts) > max_parts:
        return (
            f"has {len(parts)} parts: Anki refuses a deck nested deeper than {max_parts} parts; "
            "use fewer '::'"
        )
    return None


def _check_nesting(deck_name: str, cards: Iterable[SourcedCard], report: Report) -> None:
    """A card file's ``deck`` nests under the deck's name: each part may be fine alone and the
    two together too deep for Anki. Reported once per file, at its first card."""
    deck_parts = len(deck_name.split("::"))
    seen: set[tuple[Path, str]] = set()
    for card in cards:
        if card.subdeck is None or (card.location.path, card.subdeck) in seen:
            continue
        seen.add((card.location.path, card.subdeck))
        parts = deck_parts + len(card.subdeck.split("::"))
        if parts > MAX_DECK_NAME_PARTS:
            report.error(
                card.location,
                f"the cards of this file go to the deck '{deck_name}::{card.subdeck}' of "
                f"{parts} parts: Anki refuses a deck nested deeper than {MAX_DECK_NAME_PARTS} "
                "parts; shorten the file's 'deck' or the deck's name",
            )


def check_card_files(
    folder: Path, paths: list[Path], deck_tags: tuple[str, ...], report: Report
) -> list[CardSpec]:
    """The cards of every card file of the deck in ``folder``, in file order."""
    return [card for path in paths for card in check_card_file(path, folder, deck_tags, report)]


def check_card_file(
    path: Path,
    deck_folder: Path,
    deck_tags: tuple[str, ...],
    report: Report,
    *,
    data: bytes | None = None,
) -> list[CardSpec]:
    """The cards of one card file, checked; needs nothing from the deck's other files.
    ``data``: the file's bytes when already read (see ``load_yaml``)."""
    checker = _Checker(report)
    root = load_yaml(path, checker.report, within=deck_folder, data=data)
    if root is None:
        return []
    mapping = checker.mapping(root, "a card file", whole_file=True)
    if mapping is None:
        return []
    report_unknown_keys(mapping, _FILE_KEYS, "a card file", checker.report)
    subdeck_node = checker.optional_text(mapping, "deck")
    subdeck = None
    if subdeck_node is not None:
        # How deep it nests depends on the deck's name too: checked per deck (_check_nesting).
        checker.deck_name(subdeck_node.markdown, subdeck_node.location, max_parts=None)
        subdeck = subdeck_node.markdown.strip()
    file_tags = checker.tags(mapping.get("tags"))
    file_source = checker.optional_text(mapping, "source")
    cards_node = mapping.get("cards")
    if cards_node is None:
        checker.report.error(mapping.location, "card file has no 'cards:' list")
        return []
    if not isinstance(cards_node, Sequence):
        checker.report.error(
            cards_node.location, f"'cards' must be a list of cards, not {describe(cards_node)}"
        )
        return []
    cards = []
    for card_node in cards_node.items:
        card = _load_card(card_node, checker, subdeck, deck_tags + file_tags, file_source)
        if card is not None:
            cards.append(card)
    if checker.markup_work > MAX_MARKUP_WORK_PER_FILE:
        return []  # already reported; rendering them is what the budget prevents
    return cards


def _load_card(
    node: Node,
    checker: _Checker,
    subdeck: str | None,
    inherited_tags: tuple[str, ...],
    file_source: Text | None,
) -> CardSpec | None:
    mapping = checker.mapping(node, "a card")
    if mapping is None:
        return None
    # Read in one pass: a card's checks look up a dozen keys, most of them absent. (Reversed,
    # so that a key written twice reads as Mapping.get reads it, though the reader keeps one.)
    keys = {key.text: value for key, value in reversed(mapping.entries)}
    card_id = checker.required_text(mapping, "id", "a card")
    if card_id is not None:
        checker.identifier(card_id, "card id")
    label = f"card '{card_id.text}'" if card_id is not None else "card"
    question = checker.text(keys.get("question"), "question")
    answer = checker.text(keys.get("answer"), "answer")
    cloze = checker.text(keys.get("cloze"), "cloze")
    extra = checker.text(keys.get("extra"), "extra")
    source = checker.text(keys.get("source"), "source") or file_source
    tags = tuple(sorted(set(inherited_tags + checker.tags(keys.get("tags")))))
    kind = _card_kind(checker.text(keys.get("type"), "type"), checker, label, cloze=cloze)
    # Almost every card: every key known, none to report and no occlusion key misplaced.
    all_known = keys.keys() <= _CARD_KEYS
    if not all_known:
        if kind is CardKind.OCCLUSION:
            report_unknown_keys(mapping, _CARD_KEYS | _OCCLUSION_KEYS, "a card", checker.report)
        else:  # an occlusion key in another card is reported below, with what to do
            others = tuple(e for e in mapping.entries if e[0].text not in _OCCLUSION_KEYS)
            report_unknown_keys(
                Mapping(others, mapping.location), _CARD_KEYS, "a card", checker.report
            )
    if kind is None:
        return None
    if kind is CardKind.OCCLUSION:
        return _load_occlusion_card(mapping, checker, card_id, label, extra, source, tags, subdeck)
    for key in () if all_known else sorted(_OCCLUSION_KEYS):
        if (misplaced := keys.get(key)) is not None:
            checker.report.error(
                misplaced.location,
                f"'{key}' belongs to occlusion cards: add 'type: occlusion' to {label}",
            )
    if kind is CardKind.CLOZE:
        ok = _check_cloze_card(mapping, checker, label, question, answer, cloze)
    else:
        ok = _check_question_card(mapping, checker, label, kind, question, answer, cloze, extra)
    bodymap_node = keys.get("bodymap")
    bodymap = None
    if bodymap_node is not None:
        bodymap = _card_bodymap(bodymap_node, checker, is_cloze=kind is CardKind.CLOZE)
        ok = ok and bodymap is not None
    if card_id is None or not ok:
        return None
    return CardSpec(
        id=card_id.text,
        kind=kind,
        question=question,
        answer=answer,
        cloze=cloze,
        extra=extra,
        source=source,
        tags=tags,
        subdeck=subdeck,
        bodymap=bodymap,
        location=mapping.location,
        lint_ignore=checker.lint_ignore(keys.get("lint")),
    )


def _check_cloze_card(
    mapping: Mapping,
    checker: _Checker,
    label: str,
    question: Text | None,
    answer: Text | None,
    cloze: Text | None,
) -> bool:
    ok = True
    for key, value in (("question", question), ("answer", answer)):
        if value is not None:
            checker.report.error(
                value.location,
                f"{label} is a cloze card and cannot have '{key}': "
                "put the text in 'cloze' or drop 'type: cloze'",
            )
            ok = False
    if cloze is None:
        checker.report.error(mapping.location, f"{label} has type cloze but no 'cloze' text")
        return False
    return _check_cloze(cloze, label, checker.report) and ok


def _check_question_card(
    mapping: Mapping,
    checker: _Checker,
    label: str,
    kind: CardKind,
    question: Text | None,
    answer: Text | None,
    cloze: Text | None,
    extra: Text | None,
) -> bool:
    ok = True
    if cloze is not None:
        checker.report.error(
            cloze.location,
            f"{label} has both 'cloze' and question/answer: a card is one or the other",
        )
        ok = False
    for key, value in (("question", question), ("answer", answer)):
        if value is None:
            # A key of the wrong type or misspelt is reported as such, with what to do.
            if mapping.get(key) is None and not did_you_mean(key, _unknown_keys(mapping)):
                checker.report.error(mapping.location, f"{label} has no {key}")
            ok = False
        elif not value.markdown.strip():
            checker.report.error(value.location, f"{label} has an empty {key}")
            ok = False
    for key, value in (("question", question), ("answer", answer), ("extra", extra)):
        if value is not None and (deletion := CLOZE_OPENING.search(value.markdown)):
            # Only a cloze card hides a deletion; anywhere else students see the braces.
            checker.report.error(
                value.location,
                f"{label} is a {kind.value} card but its {key} holds the cloze deletion "
                f"'{deletion.group(0)}': students would see the braces; put the text in "
                "'cloze:' to make it a cloze card, or remove the braces",
            )
            ok = False
    return ok


def _card_bodymap(node: Node, checker: _Checker, *, is_cloze: bool) -> BodymapSpec | None:
    """A card's body map, or None after reporting why it cannot be drawn."""
    if not _map_sizes_allowed(node, checker.report):
        return None
    # Imported on first use: the body-map atlas is a tenth of a build's imports, and most
    # card files draw none.
    from deckgen.bodymap.spec import parse_bodymap

    return parse_bodymap(
        node,
        fields=("cloze", "extra") if is_cloze else ("question", "answer", "extra"),
        default_field="extra" if is_cloze else "answer",
        report=checker.report,
    )


def _map_sizes_allowed(node: Node, report: Report) -> bool:
    """Count the marks of each map before anything is parsed or laid out (the shapes are left
    to ``parse_bodymap``)."""
    if not isinstance(node, Mapping):
        return True
    panels = node.get("panels")
    maps = panels.items if isinstance(panels, Sequence) else [node]
    allowed = True
    for map_node in maps:
        if not isinstance(map_node, Mapping):
            continue
        for key in ("trigger_points", "landmarks"):
            marks = map_node.get(key)
            if isinstance(marks, Sequence) and len(marks.items) > MAX_MARKS_PER_MAP:
                report.error(
                    marks.location,
                    f"'{key}' has {len(marks.items)} entries; a map may have at most "
                    f"{MAX_MARKS_PER_MAP}: spread them over several maps (panels or cards)",
                )
                allowed = False
    return allowed


def _load_occlusion_card(
    mapping: Mapping,
    checker: _Checker,
    card_id: Scalar | None,
    label: str,
    extra: Text | None,
    source: Text | None,
    tags: tuple[str, ...],
    subdeck: str | None,
) -> CardSpec | None:
    """An occlusion card: a body map whose labels ``hide`` names, or an ``image`` with
    ``masks``; a header and an extra (Anki's Back Extra) as Markdown."""
    from deckgen.bodymap.occlusion import parse_occlusion

    ok = True
    for key in ("question", "answer", "cloze"):
        if (node := mapping.get(key)) is not None:
            checker.report.error(
                node.location,
                f"{label} is an occlusion card and takes no '{key}': the picture is the "
                "question; put text in 'header' (above it) or 'extra' (below the answer)",
            )
            ok = False
    header = checker.optional_text(mapping, "header")
    image = checker.optional_text(mapping, "image")
    bodymap_node = mapping.get("bodymap")
    bodymap = None
    if (bodymap_node is None) == (image is None):
        checker.report.error(
            mapping.location,
            f"{label} is an occlusion card: give it either a 'bodymap' (deckgen draws it and "
            "masks what 'hide' names) or an 'image' with 'masks'",
        )
        ok = False
    elif bodymap_node is not None:
        from deckgen.bodymap.spec import parse_bodymap

        reveal = bodymap_node.get("reveal") if isinstance(bodymap_node, Mapping) else None
        if reveal is not None:
            checker.report.error(
                reveal.location,
                "an occlusion card hides its own labels: drop 'reveal' (the masks do that)",
            )
            return None
        bodymap = parse_bodymap(
            bodymap_node, fields=("image",), default_field="image", report=checker.report
        )
        if bodymap is not None and len(bodymap.panels) > 1:
            checker.report.error(
                bodymap_node.location,
                f"{label} is an occlusion card: its body map is one picture, so it takes no "
                "'panels'; make one occlusion card per map",
            )
            bodymap = None
        ok = ok and bodymap is not None
    if not ok:
        return None
    occlusion = parse_occlusion(
        mapping, bodymap=bodymap, has_image=image is not None, report=checker.report
    )
    if card_id is None or occlusion is None:
        return None
    return CardSpec(
        id=card_id.text,
        kind=CardKind.OCCLUSION,
        question=None,
        answer=None,
        cloze=None,
        extra=extra,
        source=source,
        tags=tags,
        subdeck=subdeck,
        bodymap=bodymap,
        location=mapping.location,
        lint_ignore=checker.lint_ignore(mapping.get("lint")),
        occlusion=occlusion,
        header=header,
        image=image,
    )


def _card_kind(
    type_node: Text | None, checker: _Checker, label: str, *, cloze: Text | None
) -> CardKind | None:
    """The card's ``type`` (its text, checked); without one, a card with a cloze is one."""
    if type_node is None:
        return CardKind.CLOZE if cloze is not None else CardKind.BASIC
    try:
        return CardKind(type_node.markdown.strip())
    except ValueError:
        names = [kind.value for kind in CardKind]
        checker.report.error(
            type_node.location,
            f"{label} has unknown type '{type_node.markdown}'"
            f"{did_you_mean(type_node.markdown, names)}; types are {', '.join(names)}",
        )
        return None


def _check_cloze(cloze: Text, label: str, report: Report) -> bool:
    """A cloze needs at least one ``{{cN::...}}`` and Anki drops the inner card of a nested one."""
    text = cloze.markdown
    depth = 0
    position = 0
    found = False
    while position < len(text):
        opening = CLOZE_OPENING.match(text, position)
        if opening:
            if depth > 0:
                report.error(
                    cloze.location,
                    f"{label} nests a cloze deletion inside another ('{opening.group(0)}'): "
                    "Anki loses the inner card; split it into separate deletions",
                )
                return False
            depth += 1
            found = True
            position = opening.end()
        elif text.startswith("}}", position) and depth > 0:
            depth -= 1
            position += 2
        else:
            position += 1
    if depth > 0:
        report.error(
            cloze.location, f"{label} has a cloze deletion that is never closed with '}}}}'"
        )
        return False
    if not found:
        single = " (with two braces on each side)" if SINGLE_BRACE_OPENING.search(text) else ""
        report.error(
            cloze.location,
            f"{label} has no cloze deletion: mark one like {{{{c1::hidden text}}}}{single}",
        )
        return False
    return True


class _Checker:
    """Type and form checks shared by deck files, card files and cards."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.markup_work = 0
        """Markers times length of the fields read so far from the current card file."""

    def mapping(self, node: Node, what: str, *, whole_file: bool = False) -> Mapping | None:
        if isinstance(node, Mapping):
            return node
        self.report.error(
            node.location,
            f"{what} must be a mapping of keys, not {describe(node, quote=not whole_file)}",
        )
        return None

    def optional_text(self, mapping: Mapping, key: str) -> Text | None:
        return self.text(mapping.get(key), key)

    def text(self, node: Node | None, key: str) -> Text | None:
        """The text of ``key``'s value ``node`` (None: no such key), or None after reporting
        why it cannot be a field."""
        if node is None:
            return None
        if not isinstance(node, Scalar):
            self.report.error(
                node.location,
                f"'{key}' must be text, not {describe(node)}: a value that starts with '[', "
                "'{' or '- ' is read by YAML as a list or mapping; put the whole value in "
                "quotes (a cloze deletion is written {{c1::...}}, with two braces)",
            )
            return None
        if len(node.text) > MAX_FIELD_CHARACTERS:
            self.report.error(
                node.location,
                f"'{key}' is {len(node.text)} characters long; a field may hold at most "
                f"{MAX_FIELD_CHARACTERS}: split it into several cards",
            )
            return None
        markup = len(_MARKUP.findall(node.text))
        if markup > MAX_MARKUP_CHARACTERS:
            self.report.error(
                node.location,
                f"'{key}' holds {markup} line breaks and characters [ ! * _ ` < |; a field "
                f"may hold at most {MAX_MARKUP_CHARACTERS}: split it into several cards",
            )
            return None
        within_budget = self.markup_work <= MAX_MARKUP_WORK_PER_FILE
        self.markup_work += markup * len(node.text)
        if within_budget and self.markup_work > MAX_MARKUP_WORK_PER_FILE:
            # Reported at the first field over it; none of the file's cards is rendered.
            self.report.error(
                node.location,
                "the fields of this file hold too much Markdown to render in reasonable "
                f"time (markers times length over {MAX_MARKUP_WORK_PER_FILE}): "
                "split the file, or its longest marker-heavy fields",
            )
        return Text(node.text, node.location)

    def required_text(self, mapping: Mapping, key: str, what: str) -> Scalar | None:
        node = mapping.get(key)
        if node is None:
            self.report.error(mapping.location, f"{what} has no '{key}'")
            return None
        if not isinstance(node, Scalar):
            self.report.error(node.location, f"'{key}' must be text, not {describe(node)}")
            return None
        if not node.text.strip():
            self.report.error(node.location, f"'{key}' is empty")
            return None
        return node

    def identifier(self, node: Scalar, what: str) -> None:
        if not is_identifier(node.text):
            self.report.error(
                node.location,
                f"{what} '{node.text}' may hold only letters, digits, '.', '_' and '-', "
                "starting with a letter or digit",
            )

    def deck_name(self, name: str, location: Location, *, max_parts: int | None) -> None:
        problem = deck_name_problem(name, max_parts=max_parts)
        if problem is not None:
            self.report.error(location, f"deck name '{name}' {problem}")

    def lint_ignore(self, node: Node | None) -> tuple[Text, ...]:
        """The rule names of ``lint: {ignore: [...]}`` (``node``: the value of ``lint``, if
        any); lint.py knows which names exist."""
        if node is None:
            return ()
        lint = self.mapping(node, "'lint'")
        if lint is None:
            return ()
        report_unknown_keys(lint, _LINT_KEYS, "'lint'", self.report)
        ignore = lint.get("ignore")
        if ignore is None:
            return ()
        if not isinstance(ignore, Sequence):
            self.report.error(
                ignore.location,
                f"'ignore' must be a list of rule names, e.g. ignore: [no-source], "
                f"not {describe(ignore)}",
            )
            return ()
        names = []
        for item in ignore.items:
            if isinstance(item, Scalar):
                names.append(Text(item.text, item.location))
            else:
                self.report.error(item.location, f"a rule name must be text, not {describe(item)}")
        return tuple(names)

    def tags(self, node: Node | None) -> tuple[str, ...]:
        """The tags in ``node``, the value of ``tags`` (None: no tags)."""
        if node is None:
            return ()
        if not isinstance(node, Sequence):
            self.report.error(
                node.location,
                f"'tags' must be a list, e.g. tags: [anatomy, exam], not {describe(node)}",
            )
            return ()
        tags = []
        for item in node.items:
            if not isinstance(item, Scalar):
                self.report.error(item.location, f"a tag must be text, not {describe(item)}")
            # Empty, or a space anywhere: what str.split splits at is what isspace() calls a
            # space, so only a tag without one splits into itself.
            elif item.text.split() != [item.text]:
                self.report.error(
                    item.location,
                    f"tag '{item.text}' is empty or has spaces: Anki splits tags at spaces; "
                    "use '_' or '-' instead",
                )
            else:
                tags.append(item.text)
        return tuple(tags)


def _unknown_keys(mapping: Mapping) -> list[str]:
    return [key.text for key in mapping.key_nodes() if key.text not in _CARD_KEYS]
