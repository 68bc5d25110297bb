"""The build cache: a cached build gives exactly what a cold build gives, whatever happened."""

from __future__ import annotations

import gc
import hashlib
import hmac
import json
import os
import random
import shutil
import subprocess
import sys
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES, run_deckgen
from deckgen.diagnostics import Report
from deckgen.pipeline import build, filestage
from deckgen.pipeline import project as build_run
from deckgen.pipeline.cache import CACHE_DIR, KEY_BYTES, cache_key
from hostile_project import run_build

BODYMAP = {
    "view": "posterior",
    "side": "right",
    "essential": ["posterior-iliac-crest"],
    "trigger_points": [{"label": "TrP1", "at": "psis"}],
}
WORDS = ["hip", "**abduction**", "`TrP1`", "*ilium*", "sacrum", "[link](https://example.org)"]


@dataclass
class Sources:
    """A deck's sources as data, written out in full before every build."""

    files: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    deck_tags: list[str] = field(default_factory=lambda: ["demo"])
    deck_id: str = "demo"
    report_url: str | None = None
    colour: int = 0
    broken: str | None = None
    """A card file written as invalid YAML this step."""

    def write(self, root: Path) -> None:
        deck = root / "cards" / "demo"
        for old in deck.rglob("*.yaml"):
            old.unlink()
        deck.mkdir(parents=True, exist_ok=True)
        deck_yaml = {"name": "Demo", "id": self.deck_id, "tags": self.deck_tags}
        if self.report_url is not None:
            deck_yaml["report_url"] = self.report_url
        (deck / "deck.yaml").write_text(yaml.safe_dump(deck_yaml))
        images = deck / "images"
        images.mkdir(exist_ok=True)
        shutil.copy(FIXTURES / "sample/cards/demo/images/chart.png", images / "chart.png")
        (images / "dot.svg").write_text(
            '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
            f'<rect width="10" height="10" fill="#{self.colour:06x}"/></svg>'
        )
        for name, cards in self.files.items():
            path = deck / f"{name}.yaml"
            if name == self.broken:
                path.write_text("cards:\n  - id: [unclosed\n")
            else:
                path.write_text(yaml.safe_dump({"tags": [name], "cards": cards}))


def random_card(rng: random.Random, number: int) -> dict[str, object]:
    card: dict[str, object] = {
        "id": f"c{number}",
        "question": f"Question {number} about {rng.choice(WORDS)}?",
        "answer": " ".join(rng.choices(WORDS, k=3)),
    }
    roll = rng.random()
    if roll < 0.15:
        card["answer"] = f"![dot](images/dot.svg) {card['answer']}"
    elif roll < 0.25:
        card["answer"] = f"![chart](images/chart.png) {card['answer']}"
    elif roll < 0.35:
        card["bodymap"] = BODYMAP
    elif roll < 0.45:
        card["type"] = rng.choice(["reversed", "typein"])
    elif roll < 0.55:
        del card["question"], card["answer"]
        card["cloze"] = f"The {{{{c1::{rng.choice(WORDS)}}}}} is here."
    return card


def edit(sources: Sources, rng: random.Random, counter: list[int], cache: Path) -> None:
    """One random change an author (or a damaged disk) could make."""
    sources.broken = None
    names = list(sources.files)
    operation = rng.choice(
        ["edit", "edit", "add card", "remove card", "add file", "remove file", "image",
         "break", "deck tags", "deck id", "report url", "retype", "damage cache", "nothing"]
    )  # fmt: skip
    if operation == "add file" or not names:
        counter[0] += 1
        sources.files[f"file{counter[0]}"] = []
        names = list(sources.files)
    name = rng.choice(names)
    cards = sources.files[name]
    if operation in ("edit", "add card", "add file") or not cards:
        counter[0] += 1
        if cards and operation == "edit":
            index = rng.randrange(len(cards))
            cards[index] = random_card(rng, int(str(cards[index]["id"])[1:]))
        else:
            cards.append(random_card(rng, counter[0]))
    elif operation == "remove card":
        cards.pop(rng.randrange(len(cards)))
    elif operation == "remove file" and len(sources.files) > 1:
        del sources.files[name]
    elif operation == "image":
        sources.colour = rng.randrange(1 << 24)
    elif operation == "break":
        sources.broken = name
    elif operation == "deck tags":
        sources.deck_tags = rng.sample(["demo", "hip", "exam", "review"], k=rng.randint(0, 3))
    elif operation == "deck id":  # every guid and fingerprint changes: none may be cached
        sources.deck_id = rng.choice(["demo", "demo-2", "hip"])
    elif operation == "report url":  # every fingerprint changes: none may be cached
        sources.report_url = rng.choice(
            [None, "https://example.org/r?card={card}", "https://example.org/s?c={card}"]
        )
    elif operation == "retype":
        card = rng.choice(cards)
        if "question" in card:
            card["type"] = "reversed" if card.get("type") != "reversed" else "basic"
    elif operation == "damage cache":
        entries = sorted((cache / "files").glob("*")) if (cache / "files").is_dir() else []
        if entries:
            victim = rng.choice(entries)
            data = victim.read_bytes()
            cut = rng.randrange(len(data))
            damaged = data[:cut] if rng.random() < 0.5 else data[:cut] + b"#" + data[cut + 1 :]
            victim.write_bytes(damaged)


def build_in(root: Path, monkeypatch: pytest.MonkeyPatch, epoch: int) -> tuple[object, ...]:
    monkeypatch.chdir(root)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
    result = run_deckgen("build")
    package = root / "decks" / "demo.apkg"
    lock = root / "cards" / "demo" / "deck.lock"
    return (
        result.exit_code,
        result.stdout,
        result.stderr.replace(str(root.resolve()), "<root>"),
        package.read_bytes() if package.exists() else None,
        lock.read_bytes() if lock.exists() else None,
    )


@pytest.mark.parametrize(("seed", "beside_the_cache_read"), [(1, False), (2, False), (3, True)])
def test_cached_builds_equal_cold_builds_over_random_edits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, beside_the_cache_read: bool
) -> None:
    """Also with the deck's id and report link changing, which every cached guid and
    fingerprint depend on; and with edited files compiled in a worker process while the
    unchanged files' entries are read (on a large bank only, unless forced as here)."""
    if beside_the_cache_read:
        monkeypatch.setattr(filestage, "OVERLAP_MIN_BYTES", 0)
    rng = random.Random(seed)
    warm = tmp_path / "warm"
    sources, counter = Sources(), [0]
    for step in range(14):
        edit(sources, rng, counter, warm / "cards" / CACHE_DIR)
        sources.write(warm)
        cold = tmp_path / f"cold{step}"
        shutil.copytree(warm, cold, ignore=shutil.ignore_patterns(CACHE_DIR))
        epoch = 1_700_000_000 + 1000 * step
        cold_result = build_in(cold, monkeypatch, epoch)
        warm_result = build_in(warm, monkeypatch, epoch)
        assert warm_result == cold_result, f"seed {seed}, step {step}"
        shutil.rmtree(cold)


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: data.replace(b"Hip", b"Hop"),  # corrupt: the checksum no longer matches
        lambda data: b"",  # empty
        lambda data: b"\x80\x04\x95 not json, not ours",  # foreign
    ],
)
def test_a_damaged_entry_is_ignored_and_rebuilt(
    project: Path, monkeypatch: pytest.MonkeyPatch, damage: object
) -> None:
    assert run_deckgen("build").exit_code == 0
    package = (project / "decks/demo.apkg").read_bytes()
    entries = sorted((project / "cards" / CACHE_DIR / "files").iterdir())
    assert len(entries) == 2  # one per card file
    for entry in entries:
        entry.write_bytes(damage(entry.read_bytes()))  # type: ignore[operator]
    (project / "decks/demo.apkg").unlink()  # force the package to be written again

    again = run_deckgen("build")
    assert again.exit_code == 0, again.output
    assert (project / "decks/demo.apkg").read_bytes() == package
    assert all(entry.read_bytes().startswith(b"deckgen-cache ") for entry in entries)


def test_an_entry_of_another_file_is_not_used(project: Path) -> None:
    """Entries are named by their key and also carry it, so a copied entry is refused."""
    assert run_deckgen("build").exit_code == 0
    package = (project / "decks/demo.apkg").read_bytes()
    first, second = sorted((project / "cards" / CACHE_DIR / "files").iterdir())
    first_bytes = first.read_bytes()
    first.write_bytes(second.read_bytes())
    second.write_bytes(first_bytes)
    (project / "decks/demo.apkg").unlink()

    assert run_deckgen("build").exit_code == 0
    assert (project / "decks/demo.apkg").read_bytes() == package


def test_a_changed_image_is_noticed(project: Path) -> None:
    assert run_deckgen("build").exit_code == 0
    before = (project / "decks/demo.apkg").read_bytes()
    svg = project / "cards/demo/images/pelvis.svg"
    svg.write_text(svg.read_text().replace("</svg>", "<circle r='1'/></svg>"))

    assert run_deckgen("build").stdout.startswith("wrote: decks/demo.apkg")
    assert (project / "decks/demo.apkg").read_bytes() != before
    shutil.rmtree(project / "cards" / CACHE_DIR)
    cold = (project / "decks/demo.apkg").read_bytes()
    assert run_deckgen("build").stdout.startswith("up to date: decks/demo.apkg")
    assert (project / "decks/demo.apkg").read_bytes() == cold


def test_an_unchanged_deck_is_not_rendered_again(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_deckgen("build").exit_code == 0

    def no_rendering(deck: object) -> bytes:
        raise AssertionError("the package was rendered again")

    monkeypatch.setattr(build, "package_bytes", no_rendering)
    assert run_deckgen("build").stdout.startswith("up to date: decks/demo.apkg")
    assert run_deckgen("build", "--check").exit_code == 0

    # A package replaced behind deckgen's back is noticed and rewritten.
    monkeypatch.undo()
    monkeypatch.chdir(project)
    written = (project / "decks/demo.apkg").read_bytes()
    (project / "decks/demo.apkg").write_bytes(b"not a package")
    assert run_deckgen("build").stdout.startswith("wrote: decks/demo.apkg")
    assert (project / "decks/demo.apkg").read_bytes() == written


def test_old_entries_are_pruned(project: Path) -> None:
    assert run_deckgen("build").exit_code == 0
    anatomy = project / "cards/demo/anatomy.yaml"
    for number in range(3):
        extra = f"  - id: extra{number}\n    cloze: '{{{{c1::x}}}}'\n"
        anatomy.write_text(anatomy.read_text() + extra)
        assert run_deckgen("build").exit_code == 0
    assert len(list((project / "cards" / CACHE_DIR / "files").iterdir())) == 2


def test_files_compiled_on_both_cores_give_the_same_deck(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_core = build.compile_project(
        Path("cards"), now=1, report=Report(), packages_dir=Path("decks")
    )
    monkeypatch.setattr(filestage, "PARALLEL_MIN_BYTES", 0)
    spread = build.compile_project(
        Path("cards"), now=1, report=Report(), packages_dir=Path("decks")
    )
    assert [build.package_bytes(deck) for deck in spread] == [
        build.package_bytes(deck) for deck in one_core
    ]


def test_a_package_made_from_other_content_is_replaced_without_reading_it_back(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_deckgen("build").exit_code == 0
    anatomy = project / "cards/demo/anatomy.yaml"
    anatomy.write_text(anatomy.read_text().replace("Hip abduction", "Abduction"))

    def no_reading_back(data: bytes) -> object:
        raise AssertionError("the packages were compared")

    monkeypatch.setattr(build, "package_content", no_reading_back)
    assert run_deckgen("build").stdout.startswith("wrote: decks/demo.apkg")
    # Reordering cards changes only the package's bytes: that one is compared.
    monkeypatch.undo()
    monkeypatch.chdir(project)
    text = anatomy.read_text()
    first, rest = text.split("  - id: insertion", 1)
    head, origin = first.split("cards:\n", 1)
    anatomy.write_text(f"{head}cards:\n  - id: insertion{rest}{origin}")
    assert run_deckgen("build").stdout.startswith("up to date: decks/demo.apkg")


def test_a_build_with_nothing_to_do_repeats_what_the_last_one_said(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    anatomy = project / "cards/demo/anatomy.yaml"
    anatomy.write_text(anatomy.read_text().replace("Hip abduction", "Hip <u>abduction</u><b x=1>"))
    first = run_deckgen("build")
    assert "warning: removed attribute 'x' of <b>" in first.stderr
    full = run_deckgen("build")  # after a build that wrote and warned: the whole pipeline
    assert full.stdout.startswith("up to date: decks/demo.apkg")
    full_check = run_deckgen("build", "--check")

    def no_compiling(*args: object, **kwargs: object) -> object:
        raise AssertionError("the project was compiled again")

    monkeypatch.setattr(build_run, "build_decks", no_compiling)
    again = run_deckgen("build")
    assert (again.exit_code, again.stdout, again.stderr) == (0, full.stdout, full.stderr)
    check = run_deckgen("build", "--check")
    assert (check.exit_code, check.stdout, check.stderr) == (
        0,
        full_check.stdout,
        full_check.stderr,
    )

    # Any change to a source, a lock or a package runs the pipeline again.
    for changed in ("cards/demo/images/chart.png", "cards/demo/deck.lock", "decks/demo.apkg"):
        data = (project / changed).read_bytes()
        (project / changed).write_bytes(data + b" ")
        compiled = run_deckgen("build")
        assert compiled.exit_code == 3 and "compiled again" in compiled.stderr, changed
        (project / changed).write_bytes(data)
    assert run_deckgen("build").stdout == full.stdout


@pytest.mark.parametrize("planted", ["fifo", "link out"])
def test_a_cache_folder_planted_with_links_and_fifos_is_never_followed(
    project: Path, tmp_path_factory: pytest.TempPathFactory, planted: str
) -> None:
    """A hostile checkout may carry its own .deckgen-cache: its links must not make a build
    write outside the project, and a FIFO in it must not hang the build."""
    assert run_deckgen("build").exit_code == 0
    entries = sorted((project / "cards" / CACHE_DIR / "files").iterdir())
    assert entries
    outside = tmp_path_factory.mktemp("outside") / "victim"
    outside.write_text("keep me")
    for entry in entries:
        entry.unlink()
        if planted == "fifo":
            os.mkfifo(entry)
        else:
            entry.symlink_to(outside)
    # Every entry is refused, so every file is compiled again and its entry written anew
    # (with the package gone, the build cannot replay the last one's output instead).
    shutil.rmtree(project / "decks")
    # A build that waits on a FIFO fails on run_build's timeout instead of hanging the suite.
    result = run_build(project, timeout=120)

    assert result.code == 0, result.stderr
    assert outside.read_text() == "keep me"


def test_editing_any_source_file_of_deckgen_changes_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A development checkout's edit to a module in a sub-package (render/, anki/...) must
    make every cached result stale, as an edit at the top does."""
    import deckgen.pipeline.freshness

    package = tmp_path / "deckgen"
    shutil.copytree(Path(deckgen.pipeline.freshness.__file__).parent.parent, package)
    monkeypatch.setattr(
        deckgen.pipeline.freshness, "__file__", str(package / "pipeline" / "freshness.py")
    )
    digest = deckgen.pipeline.freshness.environment_digest.__wrapped__
    before = digest()
    nested = package / "render" / "render.py"
    nested.write_text(nested.read_text() + "\n# an edit\n")
    assert digest() != before


@pytest.mark.parametrize("signature", ["checksum", "another user's key"])
def test_a_planted_entry_is_not_trusted_even_with_a_valid_checksum(
    project: Path, signature: str
) -> None:
    """Whoever controls the cards folder can plant an entry and compute its checksum; only
    this user's key makes an entry count, so a planted script never reaches a package."""
    assert run_deckgen("build").exit_code == 0
    package = (project / "decks/demo.apkg").read_bytes()
    for entry in (project / "cards" / CACHE_DIR / "files").iterdir():
        header, body = entry.read_bytes().split(b"\n", 1)
        document = json.loads(body)
        document["cards"][0][2][0] += "<script>alert(1)</script>"  # the first card's first field
        planted = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        if signature == "checksum":
            digest = hashlib.sha256(planted).hexdigest()
        else:
            digest = hmac.new(b"k" * KEY_BYTES, planted, hashlib.sha256).hexdigest()
        magic, format_, _ = header.split(b" ")
        entry.write_bytes(b" ".join([magic, format_, digest.encode()]) + b"\n" + planted)
    (project / "decks/demo.apkg").unlink()  # force the package to be written again

    assert run_deckgen("build").exit_code == 0
    assert (project / "decks/demo.apkg").read_bytes() == package
    assert b"<script" not in package


def test_without_a_key_builds_run_without_a_cache(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key that cannot be made (a read-only home, a file in the way) costs speed only."""
    assert run_deckgen("build").exit_code == 0
    package = (project / "decks/demo.apkg").read_bytes()
    shutil.rmtree(project / "cards" / CACHE_DIR)
    (project / "decks/demo.apkg").unlink()
    (project / "not-a-folder").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(project / "not-a-folder"))
    cache_key.cache_clear()
    try:
        assert cache_key() is None
        built = run_deckgen("build")
    finally:
        cache_key.cache_clear()
    assert built.exit_code == 0, built.output
    assert (project / "decks/demo.apkg").read_bytes() == package
    assert not (project / "cards" / CACHE_DIR).exists()


def test_the_key_is_made_once_and_kept_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    cache_key.cache_clear()
    try:
        first = cache_key()
        cache_key.cache_clear()
        assert cache_key() == first
    finally:
        cache_key.cache_clear()
    assert first is not None and len(first) == KEY_BYTES
    key_file = tmp_path / "home-cache" / "deckgen" / "cache-key"
    assert key_file.read_bytes() == first
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_a_relative_cache_home_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative XDG_CACHE_HOME would put the key in whatever folder deckgen runs in (a
    project anyone may have written); the XDG spec says to ignore it, and so does deckgen."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative-cache")
    cache_key.cache_clear()
    try:
        assert cache_key() is not None
    finally:
        cache_key.cache_clear()
    assert not (tmp_path / "relative-cache").exists()
    assert (tmp_path / "home" / ".cache" / "deckgen" / "cache-key").is_file()


def test_builds_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    """The first builds on a machine race to make the key; each must read the same whole
    key (none an empty or half-written one, which would turn its cache off)."""
    script = (
        "from deckgen.pipeline.cache import cache_key; import sys; "
        "key = cache_key(); sys.stdout.write(key.hex() if key else 'none')"
    )
    env = os.environ | {"XDG_CACHE_HOME": str(tmp_path / "fresh-cache-home")}
    processes = [
        subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE)
        for _ in range(8)
    ]
    keys = {process.communicate(timeout=60)[0] for process in processes}
    assert len(keys) == 1 and b"none" not in keys
    assert [p.name for p in (tmp_path / "fresh-cache-home" / "deckgen").iterdir()] == ["cache-key"]


def test_a_key_file_that_is_no_key_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty or truncated key file (a disk that filled up) must not turn the cache off
    for good: it is replaced by a whole new key."""
    home = tmp_path / "cache-home"
    (home / "deckgen").mkdir(parents=True)
    for broken in (b"", b"short"):
        (home / "deckgen" / "cache-key").write_bytes(broken)
        monkeypatch.setenv("XDG_CACHE_HOME", str(home))
        cache_key.cache_clear()
        try:
            key = cache_key()
        finally:
            cache_key.cache_clear()
        assert key is not None and len(key) == KEY_BYTES
        assert (home / "deckgen" / "cache-key").read_bytes() == key
        assert [p.name for p in (home / "deckgen").iterdir()] == ["cache-key"]


def test_maps_draws_unchanged_files_from_the_cache(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`deckgen maps` needs only what the cache keeps (each card's pictures): after a build
    it compiles no card file again, and writes the same pictures as without the cache."""
    assert run_deckgen("maps", "-o", "cold-maps").exit_code == 0
    cold = {path.name: path.read_bytes() for path in (project / "cold-maps").rglob("*.svg")}
    assert cold  # the sample deck has body maps
    shutil.rmtree(project / "cards" / CACHE_DIR)
    assert run_deckgen("build").exit_code == 0

    def no_compiling(*args: object, **kwargs: object) -> object:
        raise AssertionError("a card file was compiled again")

    monkeypatch.setattr(filestage, "_compile", no_compiling)
    result = run_deckgen("maps", "-o", "cached-maps")
    assert result.exit_code == 0, result.output
    cached = {path.name: path.read_bytes() for path in (project / "cached-maps").rglob("*.svg")}
    assert cached == cold


class _Node:
    """Something that can hold a reference cycle."""

    other: object = None


def test_what_a_build_leaves_for_the_collector_is_collected_when_the_next_build_starts() -> None:
    """A build freezes what it leaves alive instead of having the collector walk it all; a
    long-lived process (watch) must still get the cycles of one build back at the next."""
    try:
        with build.cycle_collection_paused():
            cycle = _Node()
            cycle.other = cycle
            left = weakref.ref(cycle)
            del cycle
        gc.collect()
        assert left() is not None  # frozen with the build's leftovers: no pass walks it
        with build.cycle_collection_paused():
            assert left() is None
    finally:
        gc.unfreeze()
