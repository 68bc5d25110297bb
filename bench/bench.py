"""deckgen's benchmark: generated question banks, deckgen against the floor, side by side.

    python bench/bench.py                      # 1k and 10k banks, the peers' case; 3 runs
    python bench/bench.py --sizes 100000 --repeat 1 --peers-notes 0
    python bench/bench.py --sizes 0 --peers-notes 10000 --peers /tmp/peers   # with the peer tools
    python bench/bench.py --sizes 0 --peers-notes 0 --memory                 # 300k cards; slow
    python bench/bench.py --sizes 1000 --repeat 1 --keep /tmp/banks

Every measurement runs as its own process and is read back with os.wait4 (the kernel's
rusage of that process and the workers it waited for): wall seconds, CPU seconds (user +
system, workers included) and peak RSS (of the largest single process). Medians over the
repetitions. At the end, the goals of issue 22 with "met" or "MISSED". The projects and
each run's temporary files go to the temporary folder: `TMPDIR=/dev/shm` keeps them in
memory, so that wall seconds do not include waiting for a busy disk (genanki, and so the
floor and every peer, syncs its SQLite file 56 times per package).

The bank (--sizes): one deck over 100 card files: 80% basic cards with Markdown, 10% cloze,
5% reversed, 5% type-in, with tags and sources, about 1% with an image and 0.5% with a body
map. Rows:
- floor: the same YAML loaded with libyaml's C loader (yaml.CSafeLoader) and the same notes
  written with bare genanki: no checks, no Markdown, no identity, no reproducible zip;
- floor+Markdown: the floor, with every field rendered by markdown-it and cleaned by nh3
  (the engine and sanitiser deckgen must keep: another would change every card's HTML);
  how far above the floor any build that renders the Markdown must be;
- cold: `deckgen build` with no cache, no lock and no package;
- no-op: `deckgen build` again with nothing changed; build --check: `deckgen build --check`;
- unchanged check, lint, stats, preview: `deckgen check` (what the pre-commit hook runs),
  `lint`, `stats` and `preview` (into a new folder) on the same unchanged bank;
- one-card edit: one card's answer edited in one file;
- add a file: a new card file of 20 cards;
- --help: `deckgen --help`.
deckgen's modules are compiled to bytecode first, as an installed package's are.
Ratios against the floor and the cold build; those targets are judged on CPU seconds, which
a busy machine disturbs far less than wall seconds. Peak memory per card is printed against
the floor's (judged from 100k cards on: below that the interpreter is most of either peak).

The peers' case (--peers-notes, default 10,000; bench/peers.py says what the notes and each
tool's input are): `deckgen build` cold against genanki writing the same notes bare (a script
that reads a prepared JSON list of them and writes one package; "genanki + libyaml" reads
deckgen's YAML instead), judged on wall seconds as the issue states it. With --peers VENV,
also ankdown, markdown-anki-decks and Brain Brew, each on the same notes in its own input
format. They must never be installed into deckgen's environment; make a venv of their own:
    python -m venv /tmp/peers
    /tmp/peers/bin/pip install ankdown markdown-anki-decks brain-brew "click<8.1"
(markdown-anki-decks 1.1.1 needs typer 0.4, which fails with click 8.1 and later.)

The memory case (--memory [CARDS], default 300,000): the bank's cards split over
--memory-decks decks (default 3 of 100,000, the benchmark's largest single deck, so the
case shows whether a build's memory follows its largest deck or the whole project); one
floor, one cold build and one one-card edit; peak memory per card and the 700 MiB limit.
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

import peers  # bench/peers.py, beside this file

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


def generate(root: Path, cards: int, decks: int = 1) -> Path:
    """A project of ``decks`` decks sharing ``cards`` cards, each deck in FILES files; returns
    its cards folder. One deck is ``bank``, several are ``bank1``, ``bank2``..."""
    rng = random.Random(cards)
    per_file = cards // decks // FILES
    for deck_number in range(1, decks + 1):
        name = "bank" if decks == 1 else f"bank{deck_number}"
        deck = root / "cards" / name
        (deck / "images").mkdir(parents=True)
        for number in range(10):
            (deck / "images" / f"figure{number}.png").write_bytes(PNG + bytes([number]))
        (deck / "deck.yaml").write_text(
            f"name: Bench {name}\nid: bench-{name}\ndescription: A generated question bank.\n"
            "tags: [bench]\n"
        )
        first = (deck_number - 1) * FILES * per_file
        for index in range(FILES):
            text = card_file(f"topic{index:03d}", first + index * per_file, per_file, rng)
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
    deck_folders = sorted(p for p in cards_dir.iterdir() if (p / "deck.yaml").is_file())
    for deck_folder in deck_folders:
        target = out if len(deck_folders) == 1 else out.with_stem(f"{out.stem}-{deck_folder.name}")
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
        genanki.Package(deck, media_files=sorted(media)).write_to_file(target)


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
    """One run of ``command``; its output is dropped (lint's findings, a peer's log) unless
    it fails. Its temporary files go to a folder of its own, removed after it: genanki
    leaves its SQLite collection behind in the temporary folder, one per package."""
    with (
        tempfile.TemporaryDirectory(prefix="deckgen-bench-") as scratch,
        tempfile.TemporaryFile() as errors,
    ):
        env = os.environ | {"SOURCE_DATE_EPOCH": EPOCH, "TMPDIR": scratch}
        start = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-2000:]
            raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{tail}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


@dataclass
class Goals:
    """The goals of issue 22's "Done means", each printed with met or MISSED at the end."""

    lines: list[str]

    def judge(self, goal: str, value: str, met: bool) -> None:
        self.lines.append(f"  {goal}: {value}: {'met' if met else 'MISSED'}")


def medians(rows: dict[str, list[Run]]) -> dict[str, Run]:
    return {
        name: Run(*(statistics.median(getattr(r, k) for r in runs) for k in Run.__annotations__))
        for name, runs in rows.items()
        if runs
    }


def print_row(name: str, run: Run, ratio: str = "", target: str = "", width: int = 18) -> None:
    print(
        f"{name:{width}} {run.wall:8.2f} {run.cpu:8.2f} {run.peak_mib:9.0f}  {ratio:<30} {target}"
    )


def print_header(title: str, width: int = 18) -> None:
    print(f"\n{title}")
    print(
        f"{'':{width}} {'wall s':>8} {'CPU s':>8} {'peak MiB':>9}  {'ratio (wall, CPU)':<30} target"
    )


def fresh(base: Path, cards_dir: Path) -> None:
    """No package, no cache, no lock: what a cold build starts from."""
    shutil.rmtree(base / "decks", ignore_errors=True)
    shutil.rmtree(cards_dir / ".deckgen-cache", ignore_errors=True)
    for lock in cards_dir.glob("*/deck.lock"):
        lock.unlink()


def memory_per_card(cards: int, cold: Run, floor_run: Run, goals: Goals) -> None:
    """Peak RSS per card, deckgen's cold build against the floor's; judged from 100k cards
    on (below that, Python and the imported libraries are most of either peak)."""
    above = (cold.peak_mib - floor_run.peak_mib) * 1024 / cards
    print(
        f"memory: cold build {cold.peak_mib * 1024 / cards:.2f} KiB/card, floor "
        f"{floor_run.peak_mib * 1024 / cards:.2f} KiB/card: {above:.2f} KiB/card above the floor"
    )
    if cards >= 100_000:
        goals.judge(
            f"peak memory above the floor <= 2 KiB/card ({cards:,} cards)",
            f"{above:.2f} KiB/card",
            above <= 2,
        )


# --- the benchmark bank ---------------------------------------------------------------------

BANK_ROWS = (
    "floor",
    "floor+Markdown",
    "cold",
    "no-op",
    "build --check",
    "unchanged check",
    "unchanged lint",
    "unchanged stats",
    "unchanged preview",
    "one-card edit",
    "add a file",
    "--help",
)


def bench_size(cards: int, repeat: int, keep: Path | None) -> dict[str, list[Run]]:
    base = workspace(f"deckgen-bench-{cards}-", keep)
    cards_dir = generate(base, cards)
    deck = cards_dir / "bank"
    rows: dict[str, list[Run]] = {name: [] for name in BANK_ROWS}
    build = [*DECKGEN, "build", "cards", "-o", "decks"]
    floor_command = [sys.executable, __file__, "--floor", "cards", "floor.apkg"]
    edited = deck / "topic050.yaml"
    original = edited.read_text()
    for repetition in range(repeat):
        rows["floor"].append(measure(floor_command, base))
        rows["floor+Markdown"].append(measure([*floor_command, "--markdown"], base))
        fresh(base, cards_dir)
        rows["cold"].append(measure(build, base))
        rows["no-op"].append(measure(build, base))
        rows["build --check"].append(measure([*build, "--check"], base))
        rows["unchanged check"].append(measure([*DECKGEN, "check", "cards"], base))
        rows["unchanged lint"].append(measure([*DECKGEN, "lint", "cards"], base))
        rows["unchanged stats"].append(measure([*DECKGEN, "stats", "cards"], base))
        shutil.rmtree(base / "preview", ignore_errors=True)
        preview = [*DECKGEN, "preview", "cards", "-o", "preview"]
        rows["unchanged preview"].append(measure(preview, base))
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
    "build --check": ("cold", 0.05),
    "unchanged check": ("cold", 0.05),
    "unchanged lint": ("cold", None),
    "unchanged stats": ("cold", None),
    "unchanged preview": ("cold", None),
    "one-card edit": ("cold", 0.15),
    "add a file": ("cold", None),
}


def report(cards: int, rows: dict[str, list[Run]], goals: Goals) -> None:
    median = medians(rows)
    print_header(f"{cards:,} cards in {FILES} files, median of {len(rows['cold'])}:")
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
        print_row(name, run, ratio, target)
    memory_per_card(cards, median["cold"], median["floor"], goals)
    check, build_check = median["unchanged check"], median["build --check"]
    goals.judge(
        f"unchanged check <= build --check ({cards:,} cards, CPU, 5% for noise)",
        f"{check.cpu:.2f} s against {build_check.cpu:.2f} s",
        check.cpu <= build_check.cpu * 1.05,
    )
    if cards >= 100_000:
        edit = median["one-card edit"]
        goals.judge(
            f"one-card edit at {cards:,} < 3 s wall",
            f"{edit.wall:.2f} s ({edit.cpu:.2f} CPU s)",
            edit.wall < 3,
        )


# --- the peers' case ------------------------------------------------------------------------


def bench_peers(
    count: int, repeat: int, keep: Path | None, venv: Path | None, goals: Goals
) -> None:
    base = workspace(f"deckgen-peers-{count}-", keep)
    notes = peers.simple_notes(count)
    cards_dir = peers.write_deckgen(base, notes)
    peers.write_bare_notes(base / "notes.json", notes)
    tools = peers.PEERS if venv is not None else []
    for tool in tools:
        tool.write(base, notes)
    rows: dict[str, list[Run]] = {
        "genanki, bare": [],
        "genanki + libyaml": [],
        "deckgen cold": [],
        **{tool.name: [] for tool in tools},
    }
    genanki_command = [sys.executable, __file__, "--genanki-bare", "notes.json", "bare.apkg"]
    floor_command = [sys.executable, __file__, "--floor", "cards", "floor.apkg"]
    for repetition in range(repeat):
        rows["genanki, bare"].append(measure(genanki_command, base))
        rows["genanki + libyaml"].append(measure(floor_command, base))
        fresh(base, cards_dir)
        rows["deckgen cold"].append(measure([*DECKGEN, "build", "cards", "-o", "decks"], base))
        for tool in tools:
            assert venv is not None
            for output in ("ankdown.apkg", "mdankideck-out/*.apkg", "brainbrew/build"):
                for path in base.glob(output):
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
            rows[tool.name].append(measure(tool.command(venv / "bin"), base / tool.folder))
        print(f"  peers' case: repetition {repetition + 1}/{repeat} done", file=sys.stderr)
    if keep is None:
        shutil.rmtree(base)

    median = medians(rows)
    genanki, deckgen = median["genanki, bare"], median["deckgen cold"]
    print_header(
        f"peers' case: {count:,} simple notes in {peers.FILES} files, median of {repeat}:", 20
    )
    for name, run in median.items():
        ratio = "" if name == "genanki, bare" else (
            f"{run.wall / genanki.wall:.2f}x, {run.cpu / genanki.cpu:.2f}x genanki"
        )  # fmt: skip
        target = ""
        if name == "deckgen cold":
            met = run.wall <= 1.5 * genanki.wall
            target = f"<= 1.5x genanki (wall): {'met' if met else 'MISSED'}"
        elif name in {tool.name for tool in tools}:
            renders = next(tool.renders_markdown for tool in tools if tool.name == name)
            target = "renders Markdown" if renders else "renders no Markdown"
        print_row(name, run, ratio, target, 20)
    ratio = deckgen.wall / genanki.wall
    goals.judge(
        f"peers' case: deckgen cold <= 1.5x genanki, bare ({count:,} notes, wall)",
        f"{ratio:.2f}x ({deckgen.wall:.2f} s against {genanki.wall:.2f} s)",
        ratio <= 1.5,
    )
    for tool in tools:
        if tool.renders_markdown:
            peer = median[tool.name]
            goals.judge(
                f"peers' case: deckgen cold faster than {tool.name} (wall)",
                f"{deckgen.wall:.2f} s against {peer.wall:.2f} s",
                deckgen.wall < peer.wall,
            )


# --- the memory case ------------------------------------------------------------------------


def bench_memory(cards: int, decks: int, keep: Path | None, goals: Goals) -> None:
    """One cold build and one one-card edit of a bank split over ``decks`` decks, and the
    floor over the same cards: peak memory per card."""
    base = workspace(f"deckgen-memory-{cards}-", keep)
    cards_dir = generate(base, cards, decks)
    rows: dict[str, list[Run]] = {"floor": [], "cold": [], "one-card edit": []}
    rows["floor"].append(measure([sys.executable, __file__, "--floor", "cards", "f.apkg"], base))
    build = [*DECKGEN, "build", "cards", "-o", "decks"]
    rows["cold"].append(measure(build, base))
    edited = cards_dir / "bank1" / "topic050.yaml"
    edited.write_text(edited.read_text().replace("then:", "then (edited):", 1))
    rows["one-card edit"].append(measure(build, base))
    if keep is None:
        shutil.rmtree(base)
    median = medians(rows)
    print_header(f"memory: {cards:,} cards in {decks} decks of {FILES} files, one run:")
    against = {"cold": "floor", "one-card edit": "cold"}
    for name, run in median.items():
        ratio, target = "", ""
        if name in against:
            base = median[against[name]]
            ratio = f"{run.wall / base.wall:.2f}x, {run.cpu / base.cpu:.2f}x {against[name]}"
            target = f"peak < 700 MiB: {'met' if run.peak_mib < 700 else 'MISSED'}"
        print_row(name, run, ratio, target)
    memory_per_card(cards, median["cold"], median["floor"], goals)
    peak = max(median["cold"].peak_mib, median["one-card edit"].peak_mib)
    goals.judge(f"peak memory at {cards:,} cards < 700 MiB", f"{peak:.0f} MiB", peak < 700)


def workspace(prefix: str, keep: Path | None) -> Path:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=keep))


def compile_deckgen() -> None:
    """Compile deckgen's modules to bytecode before timing, as installing a package does
    (genanki and the peers run from installed packages): a checkout run with
    PYTHONDONTWRITEBYTECODE set would compile every module at each start, 0.05 s of a cold
    build of the peers' case."""
    import compileall

    import deckgen

    compileall.compile_dir(Path(deckgen.__file__).parent, quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="1000,10000", help="bank sizes in cards, comma-separated (0: none)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per size")
    parser.add_argument("--keep", type=Path, help="generate the banks here and keep them")
    parser.add_argument(
        "--peers-notes", type=int, default=10_000, metavar="N",
        help="notes in the peers' case (default 10000; 0 skips it)",
    )  # fmt: skip
    parser.add_argument(
        "--peers", type=Path, metavar="VENV",
        help="a venv (kept apart from deckgen's) with ankdown, markdown-anki-decks and "
        "brain-brew installed: time them on the peers' case too",
    )  # fmt: skip
    parser.add_argument(
        "--memory", type=int, nargs="?", const=300_000, metavar="CARDS",
        help="also the memory case: a cold build and a one-card edit of CARDS cards "
        "(default 300000) over --memory-decks decks; slow",
    )  # fmt: skip
    parser.add_argument("--memory-decks", type=int, default=3, help="decks in the memory case")
    parser.add_argument("--floor", nargs=2, metavar=("CARDS", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--markdown", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--genanki-bare", nargs=2, metavar=("NOTES", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        floor(Path(args.floor[0]), Path(args.floor[1]), markdown=args.markdown)
        return
    if args.genanki_bare:
        peers.genanki_bare(Path(args.genanki_bare[0]), Path(args.genanki_bare[1]))
        return
    if args.peers is not None:
        missing = [
            t.name for t in peers.PEERS if not Path(t.command(args.peers / "bin")[0]).exists()
        ]
        if missing:
            parser.error(f"{args.peers} lacks {', '.join(missing)}: see --help for the peers' venv")
    compile_deckgen()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine: {cores} cores, Python {sys.version.split()[0]}, {os.uname().machine}")
    goals = Goals([])
    for size in (int(s) for s in args.sizes.split(",") if int(s) > 0):
        report(size, bench_size(size, args.repeat, args.keep), goals)
    if args.peers_notes > 0:
        bench_peers(args.peers_notes, args.repeat, args.keep, args.peers, goals)
    if args.memory:
        bench_memory(args.memory, args.memory_decks, args.keep, goals)
    large = any(int(size) >= 100_000 for size in args.sizes.split(","))
    if not large:
        goals.lines.append("  one-card edit at 100k < 3 s wall: not measured (--sizes 100000)")
    if args.peers_notes > 0 and args.peers is None:
        goals.lines.append(
            "  peers' case: faster than every peer rendering Markdown: not measured (--peers VENV)"
        )
    if not args.memory and not large:
        goals.lines.append("  peak memory above the floor <= 2 KiB/card: not measured (--memory)")
    if not args.memory:
        goals.lines.append("  300k peak memory < 700 MiB: not measured (--memory)")
    print("\ngoals of issue 22 on this machine:")
    print("\n".join(goals.lines))


if __name__ == "__main__":
    main()
