"""Stage 2: decks and cards checked into typed specs, every problem with its place."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deckgen.cards.validate import DeckSpec, _Checker, check_card_file, load_decks
from deckgen.diagnostics import Location, Report, display_path
from deckgen.source.yamlnodes import Scalar, Sequence
from deckgen.values import CardKind
from helpers import write_deck_folder

DECK_YAML = "name: Test\nid: test\n"


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages name other files relative to the working directory."""
    monkeypatch.chdir(tmp_path)


def make_deck(root: Path, cards_yaml: str, deck_yaml: str = DECK_YAML) -> Path:
    files = {"cards.yaml": cards_yaml}
    return write_deck_folder(root, files, folder="test", deck_yaml=deck_yaml).parent


def check(
    root: Path, cards_yaml: str, deck_yaml: str = DECK_YAML
) -> tuple[list[DeckSpec], list[str]]:
    report = Report()
    decks = load_decks(make_deck(root, cards_yaml, deck_yaml), report)
    return decks, [
        f"{d.location.path.name}:{d.location.line}:{d.location.column}: {d.severity.value}: "
        f"{d.message}"
        for d in report.sorted()
    ]


def test_a_valid_file_becomes_typed_cards(tmp_path: Path) -> None:
    decks, problems = check(
        tmp_path,
        "deck: Anatomy\ntags: [anatomy]\nsource: Gray's Anatomy\ncards:\n"
        "  - {id: a, question: Q, answer: 'no', tags: [exam]}\n"
        "  - {id: b, type: reversed, question: Q, answer: A}\n"
        "  - {id: c, type: typein, question: Q, answer: A, source: Own}\n"
        "  - {id: d, cloze: 'It is {{c1::x}}', extra: E}\n",
        DECK_YAML + "tags: [gm]\n",
    )
    assert problems == []
    (deck,) = decks
    kinds = {card.id: card.kind for card in deck.cards}
    assert kinds == {
        "a": CardKind.BASIC,
        "b": CardKind.REVERSED,
        "c": CardKind.TYPEIN,
        "d": CardKind.CLOZE,
    }
    first = deck.cards[0]
    assert first.tags == ("anatomy", "exam", "gm")
    assert first.subdeck == "Anatomy"
    assert first.answer is not None and first.answer.markdown == "no"
    assert first.source is not None and first.source.markdown == "Gray's Anatomy"
    assert deck.cards[2].source is not None and deck.cards[2].source.markdown == "Own"


@pytest.mark.parametrize(
    ("cards_yaml", "expected"),
    [
        ("cards:\n  - id: a\n    question: Q\n", "cards.yaml:2:5: error: card 'a' has no answer"),
        (
            "cards:\n  - id: a\n    question: Q\n    answer: '  '\n",
            "cards.yaml:4:13: error: card 'a' has an empty answer",
        ),
        ("cards:\n  - question: Q\n    answer: A\n", "cards.yaml:2:5: error: a card has no 'id'"),
        (
            "cards:\n  - {id: 'a b', question: Q, answer: A}\n",
            "cards.yaml:2:10: error: card id 'a b' may hold only letters, digits, '.', '_' "
            "and '-', "
            "starting with a letter or digit",
        ),
        (
            "cards:\n  - {id: a, questoin: Q, answer: A}\n",
            "cards.yaml:2:13: error: unknown key 'questoin' in a card (did you mean 'question'?); "
            "allowed: answer, bodymap, cloze, extra, id, lint, question, source, tags, type",
        ),
        (
            "cards:\n  - {id: a, type: basc, question: Q, answer: A}\n",
            "cards.yaml:2:19: error: card 'a' has unknown type 'basc' (did you mean 'basic'?); "
            "types are basic, reversed, typein, cloze, occlusion",
        ),
        (
            "cards:\n  - {id: a, question: [Q], answer: A}\n",
            "cards.yaml:2:23: error: 'question' must be text, not a list: a value that starts "
            "with '[', '{' or '- ' is read by YAML as a list or mapping; put the whole value in "
            "quotes (a cloze deletion is written {{c1::...}}, with two braces)",
        ),
        (
            "cards:\n  - {id: a, question: Q, answer: A, tags: exam}\n",
            "cards.yaml:2:43: error: 'tags' must be a list, e.g. tags: [anatomy, exam], not the "
            "text 'exam'",
        ),
        (
            "cards:\n  - {id: a, question: Q, answer: A, tags: [trigger point]}\n",
            "cards.yaml:2:44: error: tag 'trigger point' is empty or has spaces: Anki splits tags "
            "at spaces; use '_' or '-' instead",
        ),
        (
            "cards:\n  - {id: a, cloze: no deletion here}\n",
            "cards.yaml:2:20: error: card 'a' has no cloze deletion: mark one like "
            "{{c1::hidden text}}",
        ),
        (
            "cards:\n  - {id: a, cloze: '{{c1::outer {{c2::inner}} }}'}\n",
            "cards.yaml:2:20: error: card 'a' nests a cloze deletion inside another ('{{c2::'): "
            "Anki loses the inner card; split it into separate deletions",
        ),
        (
            "cards:\n  - {id: a, cloze: '{{c1::open'}\n",
            "cards.yaml:2:20: error: card 'a' has a cloze deletion that is never closed with '}}'",
        ),
        (
            "cards:\n  - {id: a, cloze: '{{c1::x}}', question: Q}\n",
            "cards.yaml:2:43: error: card 'a' is a cloze card and cannot have 'question': put the "
            "text in 'cloze' or drop 'type: cloze'",
        ),
        (
            "cards:\n  - {id: a, question: Q, answer: A}\n  - {id: a, question: Q2, answer: A2}\n",
            "cards.yaml:3:5: error: duplicate card id 'a' (first at cards/test/cards.yaml:2:5): "
            "ids must be unique within a deck",
        ),
        (
            "deck: 'A::'\ncards: []\n",
            "cards.yaml:1:7: error: deck name 'A::' has an empty part between '::'",
        ),
        (
            "cards: {id: a}\n",
            "cards.yaml:1:8: error: 'cards' must be a list of cards, not a mapping",
        ),
        ("tags: [x]\n", "cards.yaml:1:1: error: card file has no 'cards:' list"),
        (
            "- just a list\n",
            "cards.yaml:1:1: error: a card file must be a mapping of keys, not a list",
        ),
    ],
)
def test_bad_cards_are_reported(tmp_path: Path, cards_yaml: str, expected: str) -> None:
    _, problems = check(tmp_path, cards_yaml)
    assert expected in problems, problems


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    _, problems = check(
        tmp_path,
        "cards:\n  - {id: a}\n  - {id: b, question: Q}\n  - {question: Q, answer: A}\n",
        "name: Test\n",
    )
    assert problems == [
        "cards.yaml:2:5: error: card 'a' has no answer",
        "cards.yaml:2:5: error: card 'a' has no question",
        "cards.yaml:3:5: error: card 'b' has no answer",
        "cards.yaml:4:5: error: a card has no 'id'",
        "deck.yaml:1:1: error: deck.yaml has no 'id'",
    ]


def test_card_files_are_found_in_subfolders_and_yml_is_flagged(tmp_path: Path) -> None:
    cards = make_deck(tmp_path, "cards:\n  - {id: a, question: Q, answer: A}\n")
    (cards / "test" / "more").mkdir()
    (cards / "test" / "more" / "b.yaml").write_text("cards:\n  - {id: b, question: Q, answer: A}\n")
    (cards / "test" / "c.yml").write_text("cards: []\n")
    report = Report()
    (deck,) = load_decks(cards, report)
    assert [card.id for card in deck.cards] == ["a", "b"]
    assert [d.message for d in report.diagnostics] == [
        "ignored: card files end in .yaml, rename it"
    ]


def test_card_file_linking_outside_the_deck_is_refused(tmp_path: Path) -> None:
    cards = make_deck(tmp_path, "cards:\n  - {id: a, question: Q, answer: A}\n")
    outside = tmp_path / "secret.yaml"
    outside.write_text("cards: []\n")
    (cards / "test" / "link.yaml").symlink_to(outside)
    report = Report()
    load_decks(cards, report)
    assert [d.message for d in report.diagnostics] == [
        f"card file links outside the folder {display_path(cards / 'test')}: refused; "
        "deckgen reads only "
        "files inside it, so copy the file there instead of linking to it"
    ]


def test_two_decks_with_one_id_are_an_error(tmp_path: Path) -> None:
    cards = make_deck(tmp_path, "cards: []\n")
    other = cards / "other"
    other.mkdir()
    (other / "deck.yaml").write_text("name: Other\nid: test\n")
    report = Report()
    load_decks(cards, report)
    assert any("deck id 'test' is already used" in d.message for d in report.diagnostics)


def test_no_decks_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "cards").mkdir()
    report = Report()
    assert load_decks(tmp_path / "cards", report) == []
    assert report.error_count == 1
    assert "no decks found" in report.diagnostics[0].message


def test_a_cards_keys_are_reported_in_the_order_written_then_misplaced_ones(
    tmp_path: Path,
) -> None:
    """A card's keys are read in one pass; what is reported, and in which order, is what
    looking each key up gave: unknown keys as written, then occlusion keys in name order."""
    deck = (
        make_deck(
            tmp_path,
            "cards:\n"
            "  - {id: a, question: Q, masks: [], answr: A, header: H, answer: A, colour: red}\n"
            "  - {id: b, type: occlusion, image: p.svg, answr: A, masks: []}\n"
            "  - {id: c, question: Q, answer: A, tags: [x, 'a b', '', y]}\n",
        )
        / "test"
    )
    report = Report()
    cards = check_card_file(deck / "cards.yaml", deck, ("d",), report)
    assert [card.id for card in cards] == ["a", "c"]  # (the errors fail the build)
    assert cards[1].tags == ("d", "x", "y")
    assert [(d.location.line, d.location.column, d.message[:40]) for d in report.diagnostics] == [
        (2, 37, "unknown key 'answr' in a card (did you m"),
        (2, 69, "unknown key 'colour' in a card; allowed:"),
        (2, 55, "'header' belongs to occlusion cards: add"),
        (2, 33, "'masks' belongs to occlusion cards: add "),
        (3, 44, "unknown key 'answr' in a card (did you m"),
        (3, 61, "'masks' must be a non-empty list of shap"),
        (4, 47, "tag 'a b' is empty or has spaces: Anki s"),
        (4, 54, "tag '' is empty or has spaces: Anki spli"),
    ]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=6))
def test_a_tag_is_refused_exactly_when_it_is_empty_or_holds_any_space(tag: str) -> None:
    report = Report()
    place = Location(Path("cards.yaml"), 1, 1)
    tags = _Checker(report).tags(Sequence((Scalar(tag, place),), place))
    refused = not tag or any(char.isspace() for char in tag)
    assert (tags == ()) is refused
    assert len(report.diagnostics) == int(refused)
