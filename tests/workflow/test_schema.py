"""The JSON Schemas accept every real deck and card file, refuse wrong ones, match validate.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from conftest import FIXTURES, run_deckgen
from deckgen.bodymap import occlusion
from deckgen.bodymap import spec as bodymap
from deckgen.cards import validate
from deckgen.source import deck_options
from deckgen.workflow.schema import schema
from helpers import REPO

CARD_FOLDERS = [REPO / "cards", FIXTURES / "sample/cards", FIXTURES / "lint/cards"]


def validator(kind: str) -> Draft202012Validator:
    document = schema(kind)
    Draft202012Validator.check_schema(document)
    return Draft202012Validator(document)


class _Yaml12Loader(yaml.SafeLoader):
    """As editors' YAML 1.2 language servers read a file: `released: 2026-12-02` is text (a
    YAML 1.1 timestamp only for PyYAML's default resolvers), as deckgen reads it too."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def errors(kind: str, text: str) -> list[str]:
    document = yaml.load(text, Loader=_Yaml12Loader)
    return [error.message for error in validator(kind).iter_errors(document)]


@pytest.mark.parametrize(
    "path",
    [path for folder in CARD_FOLDERS for path in sorted(folder.rglob("*.yaml"))],
    ids=lambda path: str(path.relative_to(REPO)),
)
def test_real_files_are_valid(path: Path) -> None:
    kind = "deck" if path.name == "deck.yaml" else "cards"
    assert errors(kind, path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("deck", "name: A\nid: a\ncolour: red\n", "'colour' was unexpected"),
        ("deck", "name: A\n", "'id' is a required property"),
        ("deck", "name: A\nid: a\ntags: anatomy\n", "'anatomy' is not of type 'array'"),
        ("deck", "name: A\nid: a b\n", "does not match"),
        ("deck", "name: A\nid: a\nlint: {ignore: [no-sorce]}\n", "'no-sorce' is not one of"),
        ("cards", "cards:\n  - {id: a, question: Q, answr: A}\n", "'answr' was unexpected"),
        ("cards", "cards:\n  - {id: a, question: [Q], answer: A}\n", "is not of type"),
        ("cards", "cards: {id: a}\n", "is not of type 'array'"),
        ("cards", "cards:\n  - {id: a, type: flip, cloze: '{{c1::x}}'}\n", "'flip' is not one of"),
        (
            "cards",
            "cards:\n  - {id: a, question: Q, answer: A, bodymap: {view: top, essential: [knee]}}",
            "'top' is not one of",
        ),
        (
            "cards",
            "cards:\n  - {id: a, question: Q, answer: A, bodymap: {view: posterior, "
            "essential: [kneee]}}\n",
            "'kneee' is not one of",
        ),
        (
            "cards",
            "cards:\n  - {id: a, type: occlusion, bodymap: {view: posterior, muscles: "
            "[gluteus-medius]}, hide: {landmark: all}}\n",
            "'landmark' was unexpected",
        ),
        (
            "cards",
            "cards:\n  - {id: a, type: occlusion, image: a.png, masks: [{rect: {left: 0.1, "
            "top: 0.1, width: 1.5, height: 0.1}}]}\n",
            "is not valid under any of the given schemas",
        ),
    ],
)
def test_wrong_keys_and_types_are_invalid(kind: str, text: str, message: str) -> None:
    found = errors(kind, text)
    assert any(message in error for error in found), found


def properties(document: dict[str, Any], *path: str) -> set[str]:
    node = document
    for step in path:
        node = node[step]
    return set(node["properties"])


def test_every_key_validate_accepts_is_in_the_schema() -> None:
    deck, cards = schema("deck"), schema("cards")
    assert properties(deck) == validate._DECK_KEYS
    assert properties(deck, "properties", "options") == deck_options.OPTION_KEYS
    assert properties(cards) == validate._FILE_KEYS
    assert properties(cards, "$defs", "card") == validate._CARD_KEYS | validate._OCCLUSION_KEYS
    assert properties(cards, "$defs", "hide") == set(occlusion.HIDE_KINDS)
    assert properties(cards, "$defs", "mask") == set(occlusion.SHAPES)
    assert properties(cards, "$defs", "lint") == validate._LINT_KEYS
    assert properties(cards, "$defs", "bodymap") == bodymap._KEYS
    trigger_point = cards["$defs"]["bodymap"]["properties"]["trigger_points"]["items"]
    assert set(trigger_point["properties"]) == bodymap._TRIGGER_POINT_KEYS


def test_schema_command_prints_the_schema() -> None:
    for kind in ("deck", "cards"):
        result = run_deckgen("schema", "--for", kind)
        assert result.exit_code == 0
        assert json.loads(result.stdout) == schema(kind)
    default = run_deckgen("schema")
    assert json.loads(default.stdout)["title"] == "deckgen card file"
    assert json.loads(default.stdout)["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    wrong = run_deckgen("schema", "--for", "notes")
    assert wrong.exit_code == 2
    assert "'notes' is not one of 'deck', 'cards'" in wrong.stderr


def test_the_cli_offers_every_schema_kind() -> None:
    from deckgen.cli import review as cli
    from deckgen.workflow import schema

    assert cli.SCHEMA_KINDS == schema.KINDS
