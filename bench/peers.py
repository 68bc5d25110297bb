"""The peers' case: the same 10,000 simple notes written for deckgen, for bare genanki and for
each peer tool in its own input format.

The notes are what other tools' users write: a short plain question and answer, one or two
tags, and now and then a **bold** word; no other Markdown. They are spread over FILES files
(one subdeck each) for every tool that reads files.

- deckgen: one deck folder, a YAML card file per subdeck (every card needs an `id`).
- genanki, bare: a JSON list of the notes, prepared beforehand with `**x**` already turned
  into `<b>x</b>` (what a genanki script's author writes); the timed script reads that list
  with the json module and writes one package with genanki. Nothing is parsed or checked.
- ankdown: a Markdown file per subdeck, `front % back % tags ---` per card; renders
  Markdown (misaka); one package.
- markdown-anki-decks: a Markdown file per subdeck (`# deck`, `## question`, answer
  paragraphs); renders Markdown (Python-Markdown, BeautifulSoup); one package per file, its
  only mode. It has no tags.
- Brain Brew: one CSV of the notes (guids filled in, as in a repository that has run once),
  a note model, a header and a recipe; it writes a CrowdAnki folder (its output; it makes no
  .apkg) and renders no Markdown (fields are HTML, so the CSV holds the `<b>` form).
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FILES = 100
SUBJECTS = [
    "heart", "liver", "kidney", "lung", "spleen", "pancreas", "stomach", "brain", "skin",
    "thyroid", "femur", "tibia", "humerus", "retina", "cochlea", "tongue", "bladder", "colon",
    "aorta", "vein", "nerve", "muscle", "tendon", "ligament", "cartilage",
]  # fmt: skip
PARTNERS = [
    "blood", "oxygen", "water", "salt", "sugar", "protein", "fat", "calcium", "iron", "light",
    "sound", "heat", "pressure", "movement", "balance", "growth", "repair", "waste",
]  # fmt: skip
QUESTIONS = [
    "What does the {s} do with {p}?",
    "Why does the {s} need {p}?",
    "Which cells of the {s} respond to {p}?",
    "How does the {s} react when {p} runs low?",
    "Where in the {s} is {p} handled first?",
]
ANSWERS = [
    "The {s} keeps the level of {p} steady for the rest of the body.",
    "It uses {p} to do its work, and stops working well without it.",
    "Its outer cells respond to {p} first, then pass the signal inward.",
    "It slows down and sends a signal asking for more {p}.",
    "Mostly near its surface, where {p} arrives from the blood.",
]
TOPICS = ["anatomy", "physiology", "exam", "review", "week-1", "week-2", "week-3", "hard"]


@dataclass(frozen=True)
class SimpleNote:
    """One question/answer note; ``question`` and ``answer`` hold at most ``**bold**``."""

    number: int
    question: str
    answer: str
    tags: tuple[str, ...]

    @property
    def file_index(self) -> int:
        return self.number % FILES


def simple_notes(count: int) -> list[SimpleNote]:
    rng = random.Random(count)
    notes = []
    for number in range(count):
        subject, partner = rng.choice(SUBJECTS), rng.choice(PARTNERS)
        question = rng.choice(QUESTIONS).format(s=subject, p=partner)
        if rng.random() < 0.08:  # now and then a bold word
            question = question.replace(subject, f"**{subject}**", 1)
        # A number users would not write, so that no two fronts are equal (some tools warn).
        question = f"{question[:-1]} (case {number})?"
        answer = rng.choice(ANSWERS).format(s=subject, p=partner)
        tags = tuple(sorted(rng.sample(TOPICS, rng.choice((1, 1, 2)))))
        notes.append(SimpleNote(number, question, answer, tags))
    return notes


def by_file(notes: list[SimpleNote]) -> list[list[SimpleNote]]:
    files: list[list[SimpleNote]] = [[] for _ in range(FILES)]
    for note in notes:
        files[note.file_index].append(note)
    return files


def bold_as_html(text: str) -> str:
    """``**x**`` as ``<b>x</b>``: what a genanki or Brain Brew user writes instead."""
    parts = text.split("**")
    return "".join(f"<b>{part}</b>" if index % 2 else part for index, part in enumerate(parts))


def _yaml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


# --- deckgen --------------------------------------------------------------------------------


def write_deckgen(root: Path, notes: list[SimpleNote]) -> Path:
    """A deckgen project of the notes; returns its cards folder."""
    deck = root / "cards" / "peers"
    deck.mkdir(parents=True)
    (deck / "deck.yaml").write_text("name: Peers\nid: peers\ndescription: Simple notes.\n")
    for index, group in enumerate(by_file(notes)):
        lines = [f"deck: Part {index:03d}", "cards:"]
        for note in group:
            lines += [
                f"  - id: q{note.number}",
                f"    question: {_yaml_string(note.question)}",
                f"    answer: {_yaml_string(note.answer)}",
                f"    tags: [{', '.join(note.tags)}]",
            ]
        (deck / f"part{index:03d}.yaml").write_text("\n".join(lines) + "\n")
    return root / "cards"


# --- genanki, bare --------------------------------------------------------------------------


def write_bare_notes(path: Path, notes: list[SimpleNote]) -> None:
    rows = [
        [f"Part {note.file_index:03d}", bold_as_html(note.question), bold_as_html(note.answer),
         list(note.tags)]
        for note in notes
    ]  # fmt: skip
    path.write_text(json.dumps(rows))


def genanki_bare(notes_json: Path, out: Path) -> None:
    """What a genanki user's script does: the notes, already in a list, into one package
    with a subdeck per file."""
    import genanki

    model = genanki.Model(
        1607392319,
        "Basic",
        fields=[{"name": "Front"}, {"name": "Back"}],
        templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{Back}}"}],
    )
    decks: dict[str, genanki.Deck] = {}
    for subdeck, question, answer, tags in json.loads(notes_json.read_text()):
        if subdeck not in decks:
            decks[subdeck] = genanki.Deck(2059400110 + len(decks), f"Peers::{subdeck}")
        decks[subdeck].add_note(genanki.Note(model, [question, answer], tags=tags))
    genanki.Package(list(decks.values())).write_to_file(out)


# --- the peers, each in its own format ------------------------------------------------------


def write_ankdown(root: Path, notes: list[SimpleNote]) -> None:
    folder = root / "ankdown" / "Peers"
    folder.mkdir(parents=True)
    for index, group in enumerate(by_file(notes)):
        cards = [f"{n.question}\n\n%\n\n{n.answer}\n\n%\n\n{', '.join(n.tags)}\n" for n in group]
        (folder / f"part{index:03d}.md").write_text("\n---\n\n".join(cards))


def write_markdown_anki_decks(root: Path, notes: list[SimpleNote]) -> None:
    folder = root / "mdankideck"
    folder.mkdir()
    (root / "mdankideck-out").mkdir()
    for index, group in enumerate(by_file(notes)):
        cards = [f"## {note.question}\n\n{note.answer}\n" for note in group]
        (folder / f"part{index:03d}.md").write_text(f"# Part {index:03d}\n\n" + "\n".join(cards))


BRAIN_BREW_TEMPLATE = "{{Front}}\n\n---\n\n{{FrontSide}}<hr id=answer>{{Back}}\n"
BRAIN_BREW_MODEL = """name: Simple
id: 5d4c0ac2-9f63-4d1b-8e3f-2b7d2f0e1a01
css_file: src/style.css
fields:
  - name: Front
  - name: Back
templates:
  - name: Card 1
    html_file: src/card.html
"""
BRAIN_BREW_HEADER = """crowdanki_uuid: 7a1f2c9e-0b7d-4f7e-9a51-6c3e2d1b0a02
deck_config_uuid: 7a1f2c9e-0b7d-4f7e-9a51-6c3e2d1b0a03
deck_configurations:
- __type__: DeckConfig
  autoplay: true
  crowdanki_uuid: 7a1f2c9e-0b7d-4f7e-9a51-6c3e2d1b0a03
  dyn: false
  lapse: {delays: [10], leechAction: 0, leechFails: 8, minInt: 1, mult: 0.0}
  maxTaken: 60
  name: Default
  new: {bury: false, delays: [1, 10], initialFactor: 2500, ints: [1, 4, 7], order: 1,
        perDay: 20, separate: true}
  replayq: true
  rev: {bury: false, ease4: 1.3, fuzz: 0.05, hardFactor: 1.2, ivlFct: 1.0, maxIvl: 36500,
        minSpace: 1, perDay: 200}
  timer: 0
desc: Simple notes.
dyn: 0
extendNew: 10
extendRev: 50
name: Peers
"""
BRAIN_BREW_RECIPE = """- build_parts:
  - note_model_from_yaml_part:
      part_id: Simple
      file: src/simple.yaml
  - headers_from_yaml_part:
      part_id: header
      file: src/header.yaml
  - notes_from_csvs:
      part_id: notes
      note_model_mappings:
        - note_models: [Simple]
          columns_to_fields:
            guid: guid
            tags: tags
            front: Front
            back: Back
          personal_fields: []
      file_mappings:
        - file: src/notes.csv
          note_model: Simple
- generate_crowd_anki:
    headers: header
    note_models:
      parts:
        - part_id: Simple
    folder: build/Peers
    notes:
      part_id: notes
"""


def write_brain_brew(root: Path, notes: list[SimpleNote]) -> None:
    src = root / "brainbrew" / "src"
    src.mkdir(parents=True)
    (src / "card.html").write_text(BRAIN_BREW_TEMPLATE)
    (src / "style.css").write_text(".card { font-family: sans-serif; }\n")
    (src / "simple.yaml").write_text(BRAIN_BREW_MODEL)
    (src / "header.yaml").write_text(BRAIN_BREW_HEADER)
    (src.parent / "recipe.yaml").write_text(BRAIN_BREW_RECIPE)
    with (src / "notes.csv").open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["guid", "front", "back", "tags"])
        for note in notes:
            writer.writerow(
                [f"bb{note.number:08d}", bold_as_html(note.question), bold_as_html(note.answer),
                 ", ".join(note.tags)]
            )  # fmt: skip


@dataclass(frozen=True)
class Peer:
    name: str
    renders_markdown: bool
    write: Callable[[Path, list[SimpleNote]], None]
    folder: str  # where the tool runs, under the case's folder
    command: Callable[[Path], list[str]]  # the venv's bin folder -> the command


PEERS = [
    Peer("ankdown", True, write_ankdown, ".",
         lambda bin_: [str(bin_ / "ankdown"), "-r", "ankdown", "-p", "ankdown.apkg"]),
    Peer("markdown-anki-decks", True, write_markdown_anki_decks, ".",
         lambda bin_: [str(bin_ / "mdankideck"), "mdankideck", "mdankideck-out"]),
    Peer("Brain Brew", False, write_brain_brew, "brainbrew",
         lambda bin_: [str(bin_ / "brain-brew"), "run", "recipe.yaml"]),
]  # fmt: skip
