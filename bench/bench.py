"""deckgen's benchmark: generated question banks, deckgen against the floor, side by side.

    python bench/bench.py                      # 1k and 10k cards, 3 repetitions
    python bench/bench.py --sizes 100000 --repeat 1
    python bench/bench.py --sizes 1000 --repeat 1 --keep /tmp/banks

Each bank is one deck over 100 card files: 80% basic cards with Markdown, 10% cloze, 5%
reversed, 5% type-in, with tags and sources, about 1% with an image and 0.5% with a body map.

Every measurement runs as its own process and is read back with os.wait4 (the kernel's
rusage of that process and the workers it waited for): wall seconds, CPU seconds (user +
system, workers included) and peak RSS (of the largest single process). Rows:
- floor: the same YAML loaded with libyaml's C loader (yaml.CSafeLoader) and the same notes
  written with bare genanki: no checks, no Markdown, no identity, no reproducible zip;
- floor+Markdown: the floor, with every field rendered by markdown-it and cleaned by nh3
  (the engine and sanitiser deckgen must keep: another would change every card's HTML);
  how far above the floor any build that renders the Markdown must be;
- cold: `deckgen build` with no cache, no lock and no package;
- no-op: `deckgen build` again with nothing changed;
- unchanged check: `deckgen check` (what the pre-commit hook runs) on the same unchanged bank;
- one-card edit: one card's answer edited in one file;
- add a file: a new card file of 20 cards;
- --help: `deckgen --help`.
Medians over the repetitions; ratios against the floor and against the cold build. Targets
are judged on CPU seconds, which a busy machine disturbs far less than wall seconds.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FILES = 100
EPOCH = "1700000000"
DECKGEN = [sys.executable, "-m", "deckgen"]
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff"
    b"\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)
TOPICS = ["anatomy", "palpation", "referral", "treatment", "contraindications", "history"]
MUSCLES = ["gluteus medius", "piriformis", "quadratus lumborum", "psoas", "TFL", "adductors"]


# --- generating a bank ----------------------------------------------------------------------


def card_yaml(number: int, rng: random.Random) -> str:
    muscle = rng.choice(MUSCLES)
    roll = rng.random()
    lines = [f"  - id: card-{number}"]
    if roll < 0.10:
        lines.append(
            f'    cloze: "The {{{{c1::{muscle}}}}} is palpated with the client '
            f'{{{{c2::side-lying}}}} (card {number})."'
        )
    else:
        if roll < 0.15:
            lines.append("    type: reversed")
        elif roll < 0.20:
            lines.append("    type: typein")
        lines.append(f'    question: "Card {number}: where is **{muscle}** palpated?"')
        if roll < 0.20:
            lines.append(f"    answer: {muscle} lateral {number}")
        else:
            answer = (
                f"Along the *iliac crest*, then:\n\n      - above the `greater trochanter`\n"
                f"      - see [the atlas](https://example.org/atlas/{number})"
            )
            if rng.random() < 0.01:
                answer = f"![Figure](images/figure{number % 10}.png) " + answer
            lines.append(f'    answer: "{answer}"')
    if rng.random() < 0.3:
        lines.append(f'    extra: "Compare with {rng.choice(MUSCLES)}; see card {number + 1}."')
    if rng.random() < 0.5:
        lines.append(f"    tags: [{rng.choice(TOPICS)}, level-{number % 3}]")
    if rng.random() < 0.005:
        lines += [
            "    bodymap:",
            "      view: posterior",
            "      side: right",
            "      essential: [posterior-iliac-crest, sacroiliac-joint]",
            "      spillover: [buttock-upper]",
            "      trigger_points:",
            "        - {label: TrP1, at: psis}",
        ]
    return "\n".join(lines) + "\n"


def card_file(name: str, first: int, count: int, rng: random.Random) -> str:
    header = (
        f"deck: {name.title()}\nsource: Bench textbook, chapter {first % 17}\n"
        f"tags: [{name}]\ncards:\n"
    )
    return header + "".join(card_yaml(number, rng) for number in range(first, first + count))


def generate(root: Path, cards: int) -> Path:
    """A project with one deck of ``cards`` cards in FILES files; returns its cards folder."""
    rng = random.Random(cards)
    deck = root / "cards" / "bank"
    (deck / "images").mkdir(parents=True)
    for number in range(10):
        (deck / "images" / f"figure{number}.png").write_bytes(PNG + bytes([number]))
    (deck / "deck.yaml").write_text(
        "name: Bench bank\nid: bench-bank\ndescription: A generated question bank.\ntags: [bench]\n"
    )
    per_file = cards // FILES
    for index in range(FILES):
        text = card_file(f"topic{index:03d}", index * per_file, per_file, rng)
        (deck / f"topic{index:03d}.yaml").write_text(text)
    return root / "cards"


# --- the floor ------------------------------------------------------------------------------


def floor(cards_dir: Path, out: Path, *, markdown: bool = False) -> None:
    """The least any tool must do: parse the YAML with libyaml, write the notes with genanki.
    With ``markdown``, also render every field with markdown-it and clean it with nh3, the
    least a tool must do that renders this Markdown to safe HTML with the same library (any
    other engine would change the HTML of every card, and every note's time with it)."""
    import genanki
    import yaml

    render = _markdown_to_safe_html() if markdown else str

    fields = [{"name": "Front"}, {"name": "Back"}]
    basic = genanki.Model(
        1607392319,
        "Basic",
        fields=fields,
        templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{Back}}"}],
    )
    cloze = genanki.Model(
        1607392320,
        "Cloze",
        fields=[{"name": "Text"}, {"name": "Extra"}],
        templates=[{"name": "Cloze", "qfmt": "{{cloze:Text}}", "afmt": "{{cloze:Text}}"}],
        model_type=genanki.Model.CLOZE,
    )
    for deck_folder in sorted(p for p in cards_dir.iterdir() if (p / "deck.yaml").is_file()):
        meta = yaml.load((deck_folder / "deck.yaml").read_text(), Loader=yaml.CSafeLoader)
        deck = genanki.Deck(1234567890, meta["name"])
        media = set()
        for path in sorted(deck_folder.rglob("*.yaml")):
            if path.name == "deck.yaml":
                continue
            document = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
            for card in document["cards"]:
                tags = [str(tag) for tag in document.get("tags", []) + card.get("tags", [])]
                if "cloze" in card:
                    fields = [card["cloze"], card.get("extra", "")]
                    note = genanki.Note(cloze, [render(field) for field in fields], tags=tags)
                else:
                    fields = [card["question"], card["answer"]]
                    note = genanki.Note(basic, [render(field) for field in fields], tags=tags)
                deck.add_note(note)
                if "images/" in card.get("answer", ""):
                    media.add(str(deck_folder / "images" / card["answer"].split("images/")[1][:11]))
        genanki.Package(deck, media_files=sorted(media)).write_to_file(out)


def _markdown_to_safe_html() -> Callable[[str], str]:
    import nh3
    from markdown_it import MarkdownIt

    markdown = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    return lambda text: nh3.clean(markdown.render(text))


# --- measuring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    peak_mib: float


def measure(command: list[str], cwd: Path) -> Run:
    env = os.environ | {"SOURCE_DATE_EPOCH": EPOCH}
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed with exit code {process.returncode}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def bench_size(cards: int, repeat: int, keep: Path | None) -> dict[str, list[Run]]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix=f"deckgen-bench-{cards}-", dir=keep))
    cards_dir = generate(base, cards)
    deck = cards_dir / "bank"
    rows: dict[str, list[Run]] = {
        name: []
        for name in (
            "floor",
            "floor+Markdown",
            "cold",
            "no-op",
            "unchanged check",
            "one-card edit",
            "add a file",
            "--help",
        )
    }
    build = [*DECKGEN, "build", "cards", "-o", "decks"]
    floor_command = [sys.executable, __file__, "--floor", "cards", "floor.apkg"]
    edited = deck / "topic050.yaml"
    original = edited.read_text()
    for repetition in range(repeat):
        rows["floor"].append(measure(floor_command, base))
        rows["floor+Markdown"].append(measure([*floor_command, "--markdown"], base))
        shutil.rmtree(base / "decks", ignore_errors=True)
        shutil.rmtree(cards_dir / ".deckgen-cache", ignore_errors=True)
        (deck / "deck.lock").unlink(missing_ok=True)
        rows["cold"].append(measure(build, base))
        rows["no-op"].append(measure(build, base))
        rows["unchanged check"].append(measure([*DECKGEN, "check", "cards"], base))
        edited.write_text(original.replace("then:", f"then (edit {repetition}):", 1))
        rows["one-card edit"].append(measure(build, base))
        added = deck / f"added{repetition}.yaml"
        added.write_text(card_file("added", 10_000_000 + 100 * repetition, 20, random.Random(1)))
        rows["add a file"].append(measure(build, base))
        rows["--help"].append(measure([*DECKGEN, "--help"], base))
        added.unlink()
        edited.write_text(original)
        print(f"  {cards} cards: repetition {repetition + 1}/{repeat} done", file=sys.stderr)
    if keep is None:
        shutil.rmtree(base)
    return rows


TARGETS = {
    "floor+Markdown": ("floor", None),
    "cold": ("floor", 1.5),
    "no-op": ("cold", 0.05),
    "unchanged check": ("cold", 0.05),
    "one-card edit": ("cold", 0.15),
    "add a file": ("cold", None),
}


def report(cards: int, rows: dict[str, list[Run]]) -> None:
    median = {
        name: Run(*(statistics.median(getattr(r, k) for r in runs) for k in Run.__annotations__))
        for name, runs in rows.items()
    }
    print(f"\n{cards:,} cards in {FILES} files, median of {len(rows['cold'])}:")
    print(f"{'':16} {'wall s':>8} {'CPU s':>8} {'peak MiB':>9}  {'ratio (wall, CPU)':<28} target")
    for name, run in median.items():
        ratio, target = "", ""
        if name in TARGETS:
            against, limit = TARGETS[name]
            base = median[against]
            ratio = f"{run.wall / base.wall:.2f}x, {run.cpu / base.cpu:.2f}x {against}"
            if limit is not None:
                met = "met" if run.cpu / base.cpu <= limit else "MISSED"
                target = f"<= {limit}x {against} (CPU): {met}"
            if name == "cold":  # what any build rendering this Markdown must cost at least
                markdown = median["floor+Markdown"].cpu / base.cpu
                target += f" (floor+Markdown alone: {markdown:.2f}x)"
        elif name == "--help":
            target = f"<= 0.25 s: {'met' if run.wall <= 0.25 else 'MISSED'}"
        print(f"{name:16} {run.wall:8.2f} {run.cpu:8.2f} {run.peak_mib:9.0f}  {ratio:<28} {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="card counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per size")
    parser.add_argument("--keep", type=Path, help="generate the banks here and keep them")
    parser.add_argument("--floor", nargs=2, metavar=("CARDS", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--markdown", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        floor(Path(args.floor[0]), Path(args.floor[1]), markdown=args.markdown)
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine: {cores} cores, Python {sys.version.split()[0]}, {os.uname().machine}")
    for size in (int(s) for s in args.sizes.split(",")):
        report(size, bench_size(size, args.repeat, args.keep))


if __name__ == "__main__":
    main()
