"""JSON Schemas (draft 2020-12) for deck.yaml and card files, for editors.

yaml-language-server (VS Code's YAML extension, Neovim, Helix, JetBrains...) uses them for
completion, hover help and inline errors while typing. The schema is a convenience: deckgen's
own checks (cards/validate.py) stay the authority, and a test keeps every key they accept in here.
Every value deckgen reads as text may be written as any YAML scalar, because deckgen reads
``no`` as "no" and ``1.10`` as "1.10" where a YAML 1.1 reader would see false and 1.1.
"""

from __future__ import annotations

import json
from typing import Any

from deckgen.bodymap.atlas import LANDMARKS, REGIONS, VIEWS
from deckgen.bodymap.muscles import MUSCLES
from deckgen.bodymap.occlusion import HIDE_KINDS, MODES
from deckgen.bodymap.spec import FRAMES, PATTERNS, SIDES
from deckgen.cards.validate import MAX_MARKS_PER_MAP
from deckgen.values import CardKind
from deckgen.workflow.lint import RULES

KINDS = ("deck", "cards")
DRAFT = "https://json-schema.org/draft/2020-12/schema"

_TEXT = {"type": ["string", "number", "boolean", "null"]}
_VERSION = {
    "type": "string",
    "pattern": r"^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$",
}
_ID = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$"}


def _text(description: str) -> dict[str, Any]:
    return {**_TEXT, "description": description}


def _map_properties() -> dict[str, Any]:
    """The keys of one drawn map: a whole ``bodymap`` or one of its ``panels``."""
    return {
        "view": {"enum": list(VIEWS)},
        "side": {"enum": list(SIDES), "default": "right"},
        "title": _text("Shown above the picture."),
        "frame": {
            "enum": list(FRAMES),
            "default": "auto",
            "description": "auto: framed on what the map shows; full: the whole figure; "
            "pelvis: one fixed frame for maps that must not differ in size.",
        },
        "pattern": {
            "enum": list(PATTERNS),
            "default": "referral",
            "description": "referral: trigger-point zones; radicular: a nerve root's typical "
            "distribution (essential regions only).",
        },
        "both_sides": {
            "type": "array",
            "description": "Shaded regions drawn on the other side too, mirrored "
            "(posterior and anterior views).",
            "items": {"$ref": "#/$defs/region"},
        },
        "label_regions": {
            "type": "boolean",
            "description": "Outline and name each shaded region, as in an atlas.",
        },
        "muscles": {
            "type": "array",
            "description": "Muscles drawn (outline and fibre direction) under the zones.",
            "items": {"$ref": "#/$defs/muscle"},
        },
        "essential": {"type": "array", "items": {"$ref": "#/$defs/region"}},
        "spillover": {"type": "array", "items": {"$ref": "#/$defs/region"}},
        "landmarks": {
            "type": "array",
            "maxItems": MAX_MARKS_PER_MAP,
            "items": {"$ref": "#/$defs/landmark"},
        },
        "trigger_points": {
            "type": "array",
            "maxItems": MAX_MARKS_PER_MAP,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["label", "at"],
                "properties": {
                    "label": _text("The mark's label, e.g. TrP1."),
                    "at": {
                        "description": "A landmark, a region, a point on a muscle, "
                        "a point between two landmarks, or [x, y] in percent.",
                        "anyOf": [
                            {"$ref": "#/$defs/landmark"},
                            {"$ref": "#/$defs/region"},
                            {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["muscle", "across", "along"],
                                "properties": {
                                    "muscle": {"$ref": "#/$defs/muscle"},
                                    "across": {"$ref": "#/$defs/fraction"},
                                    "along": {"$ref": "#/$defs/fraction"},
                                },
                            },
                            {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["between", "fraction"],
                                "properties": {
                                    "between": {
                                        "type": "array",
                                        "items": {"$ref": "#/$defs/landmark"},
                                        "minItems": 2,
                                        "maxItems": 2,
                                    },
                                    "fraction": {"$ref": "#/$defs/fraction"},
                                },
                            },
                            {
                                "type": "array",
                                "items": {"type": "number", "minimum": 0, "maximum": 100},
                                "minItems": 2,
                                "maxItems": 2,
                            },
                        ],
                    },
                },
            },
        },
    }


def _defs() -> dict[str, Any]:
    return {
        "tags": {
            "type": "array",
            "description": "Anki tags: words without spaces; '::' makes a hierarchy.",
            "items": {"type": ["string", "number"], "pattern": r"^\S+$"},
        },
        "lint": {
            "type": "object",
            "description": "Silence lint rules here; say why in a comment next to it.",
            "additionalProperties": False,
            "properties": {
                "ignore": {
                    "type": "array",
                    "items": {
                        "enum": list(RULES),
                        "description": "; ".join(f"{name}: {text}" for name, text in RULES.items()),
                    },
                }
            },
        },
        "region": {"enum": sorted(REGIONS)},
        "landmark": {"enum": sorted(LANDMARKS)},
        "muscle": {"enum": sorted(MUSCLES)},
        "fraction": {"type": "number", "minimum": 0, "maximum": 1},
        "map": {
            "type": "object",
            "description": "One panel: a map of its own with its own title.",
            "additionalProperties": False,
            "required": ["view"],
            "properties": _map_properties(),
        },
        "bodymap": {
            "type": "object",
            "description": "A referral chart drawn from data into one of the card's fields: one "
            "map, or 'panels' of two or three maps side by side.",
            "additionalProperties": False,
            "anyOf": [{"required": ["view"]}, {"required": ["panels"]}],
            "properties": {
                **_map_properties(),
                "field": {
                    "enum": ["question", "answer", "cloze", "extra"],
                    "description": "Where the picture goes (default: answer; cloze: extra).",
                },
                "reveal": {
                    "type": "boolean",
                    "description": "The question shows the map without its trigger points, the "
                    "answer with them.",
                },
                "panels": {
                    "type": "array",
                    "minItems": 2,
                    "maxItems": 3,
                    "items": {"$ref": "#/$defs/map"},
                },
            },
        },
        **_occlusion_defs(),
        "card": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id"],
            "anyOf": [
                {"required": ["question", "answer"]},
                {"required": ["cloze"]},
                {"required": ["hide"]},
                {"required": ["masks"]},
            ],
            "properties": {
                "id": {**_ID, "description": "Unique in the deck; never change it once shipped."},
                "type": {"enum": [kind.value for kind in CardKind], "default": "basic"},
                "question": _text("Markdown."),
                "answer": _text("Markdown."),
                "cloze": _text("Markdown with {{c1::deletions}}."),
                "extra": _text("Markdown shown below the answer."),
                "source": _text("Where the fact comes from; overrides the file's source."),
                "tags": {"$ref": "#/$defs/tags"},
                "bodymap": {"$ref": "#/$defs/bodymap"},
                "lint": {"$ref": "#/$defs/lint"},
                "image": _text("Occlusion cards: your own picture, relative to the card file."),
                "header": _text("Occlusion cards: Markdown shown above the picture."),
                "mode": {
                    "enum": list(MODES),
                    "default": "hide-one",
                    "description": "Occlusion cards. hide-one: only the card's own masks "
                    "cover the picture; hide-all: every mask does, the card's own are guessed.",
                },
                "hide": {"$ref": "#/$defs/hide"},
                "masks": {
                    "type": "array",
                    "minItems": 1,
                    "description": "Occlusion cards on an image: one card per shape or group.",
                    "items": {
                        "anyOf": [
                            {"$ref": "#/$defs/mask"},
                            {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["group"],
                                "properties": {
                                    "group": {
                                        "type": "array",
                                        "minItems": 1,
                                        "items": {"$ref": "#/$defs/mask"},
                                    }
                                },
                            },
                        ]
                    },
                },
            },
        },
    }


def _occlusion_defs() -> dict[str, Any]:
    """``hide`` (labels of a body map) and ``mask`` (a shape on an image, in fractions)."""
    name_or_group = {
        "anyOf": [
            _TEXT,
            {"type": "array", "minItems": 1, "items": _TEXT, "description": "One card."},
        ]
    }
    fraction = {"$ref": "#/$defs/fraction"}
    return {
        "hide": {
            "type": "object",
            "description": "Occlusion cards on a body map: the labels to hide, one card each "
            "('all', or names; a list inside the list hides several on one card).",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                key: {
                    "anyOf": [
                        {"const": "all"},
                        {"type": "array", "minItems": 1, "items": name_or_group},
                    ],
                    "description": f"The {what}s to hide.",
                }
                for key, what in HIDE_KINDS.items()
            },
        },
        "mask": {
            "type": "object",
            "description": "One shape, in fractions of the image (0 to 1).",
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": False,
            "properties": {
                "rect": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["left", "top", "width", "height"],
                    "properties": dict.fromkeys(("left", "top", "width", "height"), fraction),
                },
                "ellipse": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["left", "top", "rx", "ry"],
                    "properties": dict.fromkeys(("left", "top", "rx", "ry"), fraction),
                },
                "polygon": {
                    "type": "array",
                    "minItems": 3,
                    "items": {"type": "array", "items": fraction, "minItems": 2, "maxItems": 2},
                },
            },
        },
    }


def schema(kind: str) -> dict[str, Any]:
    """The schema of a ``deck`` file (deck.yaml) or of ``cards`` files."""
    if kind == "deck":
        root: dict[str, Any] = {
            "title": "deckgen deck.yaml",
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "id"],
            "properties": {
                "name": _text("The Anki deck name; 'A::B' makes subdecks."),
                "id": {**_ID, "description": "Chosen once, never changed."},
                "description": _text("Markdown shown on Anki's deck overview."),
                "tags": {"$ref": "#/$defs/tags"},
                "lint": {"$ref": "#/$defs/lint"},
                "version": {
                    **_VERSION,
                    "description": "The last release, X.Y.Z; written by 'deckgen release'.",
                },
                "released": {
                    "type": "string",
                    "format": "date",
                    "description": "The day of that release (YYYY-MM-DD); written by 'deckgen "
                    "release'.",
                },
                "options": {
                    "type": "object",
                    "additionalProperties": False,
                    "minProperties": 1,
                    "description": "Study settings shipped as a deck options preset; students "
                    "get them only by ticking 'Import any deck presets'.",
                    "properties": {
                        "new_per_day": {"type": "integer", "minimum": 0, "maximum": 9999},
                        "learning_steps": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 20,
                            "items": {
                                "type": "string",
                                "pattern": "^[0-9]{1,6}(\\.[0-9]{1,3})?[smhd]$",
                            },
                            "description": "Durations like 1m, 10m, 1d.",
                        },
                        "desired_retention": {"type": "number", "minimum": 0.7, "maximum": 0.99},
                    },
                },
                "report_url": {
                    "type": "string",
                    "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://",
                    "maxLength": 2000,
                    "description": "Where students report a problem with a card: a URL with "
                    "{deck}, {card} and {release}; every card's back links to it.",
                },
                "changes": _text(
                    "What changed in that release, shown on the deck overview; written by "
                    "'deckgen release'."
                ),
                "mask_colours": {
                    "type": "object",
                    "description": "The deck's colours for image occlusion masks.",
                    "additionalProperties": False,
                    "properties": {
                        "guess": {
                            "type": "string",
                            "pattern": "^#[0-9A-Fa-f]{6}$",
                            "description": "The masks a card asks about (default #e69f00).",
                        },
                        "other": {
                            "type": "string",
                            "pattern": "^#[0-9A-Fa-f]{6}$",
                            "description": "The other masks with mode: hide-all (default #56b4e9).",
                        },
                    },
                },
                "drop_retired_after": {
                    **_VERSION,
                    "description": "Stop shipping retired cards announced in this release or "
                    "an earlier one.",
                },
            },
        }
    elif kind == "cards":
        root = {
            "title": "deckgen card file",
            "type": "object",
            "additionalProperties": False,
            "required": ["cards"],
            "properties": {
                "deck": _text("Subdeck of every card in this file."),
                "tags": {"$ref": "#/$defs/tags"},
                "source": _text("Default source of every card in this file."),
                "cards": {"type": "array", "items": {"$ref": "#/$defs/card"}},
            },
        }
    else:
        raise ValueError(f"unknown schema kind {kind!r}")
    return {"$schema": DRAFT, **root, "$defs": _defs()}


def schema_text(kind: str) -> str:
    return json.dumps(schema(kind), indent=2) + "\n"
