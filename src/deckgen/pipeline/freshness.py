"""Whether a build has anything to do, decided without the pipeline: the state of a project,
the environment that shapes a build's output, the user's key and the signed record of what a
build that had nothing to do printed.

A no-op ``deckgen build`` reads only this module (and the safe file layer), so it answers
without importing Markdown, the sanitiser, YAML or genanki; so do ``deckgen check``, ``stats``
and text ``lint`` on a project unchanged since their last run (``recorded_review``). The
build cache (cache.py) uses the same key, header and digests for its entries.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import importlib.util
import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Protocol

from deckgen.source.safe_files import (
    MissingFile,
    TooLarge,
    UnsafeFile,
    file_digest,
    first_link,
    publish_file,
    read_file,
    walk_tree,
    write_atomically,
)

CACHE_DIR = ".deckgen-cache"
DEFAULT_PACKAGES_DIR = Path("decks")
"""Where packages are written, and where the last release is found unless told otherwise."""
MAX_ENTRY_BYTES = 512 * 1024 * 1024
"""A card file's rendered cards with their pictures: far below this, even for the largest."""
MAX_PACKAGE_BYTES = 2 * 1024 * 1024 * 1024
"""The largest package read back (to compare or hash it); a larger one is rewritten."""
MAX_HASHED_BYTES = 2 * 1024 * 1024 * 1024
"""The largest file in the cards folder a build hashes to see whether anything changed; with
a larger one (nothing a deck needs), builds always run in full."""
CACHE_FORMAT = 3
_MAGIC = b"deckgen-cache"
KEY_BYTES = 32
"""The length of the key that signs entries."""
_OUTPUT_DISTRIBUTIONS = {
    "markdown-it-py": "markdown_it",
    "nh3": "nh3",
    "PyYAML": "yaml",
    "defusedxml": "defusedxml",
    "genanki": "genanki",
}
"""The libraries that shape the output, by distribution and the module deckgen imports. Each
is known by its installed distribution's record (version, and the hash of every file it
installed), read without importing the library: importing them costs a no-op build most of
its time."""


@functools.cache
def environment_digest() -> str:
    """Changes whenever deckgen could produce other output from the same sources: another
    version, an edited source file (a development checkout), another library or SQLite.
    deckgen's own version is not needed: every source file of it is hashed."""
    digest = hashlib.sha256(f"format {CACHE_FORMAT}\nsqlite {sqlite3.sqlite_version}\n".encode())
    for distribution, module in _OUTPUT_DISTRIBUTIONS.items():
        digest.update(f"{distribution} {_installed(distribution, module)}\n".encode())
    package = Path(__file__).parent.parent  # deckgen/, this module being in deckgen/pipeline/
    for source in sorted(package.rglob("*.py")):
        name = source.relative_to(package).as_posix()
        # deckgen's own installed source, not a project file: read plainly.
        digest.update(name.encode() + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()


def _installed(distribution: str, module: str) -> str:
    """``distribution``'s version and the digest of its RECORD (every file it installed, with
    its hash), from the ``*.dist-info`` folder beside ``module`` where Python's import finds
    it (not executed); "?" when it is not installed that way."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return "?"
    origin = Path(spec.origin)
    folder = origin.parent.parent if spec.submodule_search_locations else origin.parent
    wanted = distribution.lower().replace("-", "_")
    try:
        names = os.listdir(folder)
    except OSError:
        return "?"
    for name in names:
        stem, _, suffix = name.rpartition(".")
        project, _, version = stem.partition("-")
        if suffix != "dist-info" or project.lower().replace("-", "_") != wanted:
            continue
        try:  # the installed environment, not a project file: read plainly
            record = (folder / name / "RECORD").read_bytes()
        except OSError:
            record = b""
        return f"{version} {hashlib.sha256(record).hexdigest()}"
    return "?"


def project_state(cards_dir: Path, out_dir: Path) -> str | None:
    """A hash of everything a build reads and writes: every file under ``cards_dir`` but the
    cache (card files, images, locks, temporary files), every name and package in
    ``out_dir``, the working folder (messages show paths relative to it) and deckgen itself
    (its notetypes included). None when a file is unreadable."""
    digest = hashlib.sha256()
    where = [str(Path.cwd()), str(cards_dir), str(out_dir)]
    # The notetypes are part of deckgen's source, which environment_digest hashes.
    digest.update(json.dumps([environment_digest(), *where]).encode())
    try:
        cache = cards_dir / CACHE_DIR
        for path in walk_tree(cards_dir, skip=lambda path: path == cache):
            digest.update(f"\0{path}\0".encode())
            if path.is_symlink():
                digest.update(f"link {os.readlink(path)}\0".encode())
            elif path.is_file():  # a link's target is not read: it may lie outside
                content = file_digest(path, within=cards_dir, max_bytes=MAX_HASHED_BYTES)
                digest.update(content.encode())
        if out_dir.is_dir():
            # Every name counts, so a temporary file a killed build left there makes the next
            # build a real one, which removes it.
            for entry in sorted(out_dir.iterdir()):
                digest.update(f"\0{entry}\0".encode())
                if entry.suffix == ".apkg" and (entry.is_file() or entry.is_symlink()):
                    package = file_digest(entry, within=out_dir, max_bytes=MAX_PACKAGE_BYTES)
                    digest.update(package.encode())
    except (OSError, UnsafeFile):  # unreadable, a link out, too large or deep: build in full
        return None
    return digest.hexdigest()


def entry_header(body: bytes, key: bytes) -> bytes:
    signature = hmac.new(key, body, hashlib.sha256).hexdigest()
    return _MAGIC + f" {CACHE_FORMAT} {signature}".encode()


@functools.cache
def cache_key() -> bytes | None:
    """This user's secret for signing cache entries, kept outside every project (in
    ``$XDG_CACHE_HOME/deckgen/cache-key``, else ``~/.cache/deckgen/cache-key``) and made on
    first use. A checksum alone would not do: whoever plants an entry can compute one, and
    an entry's fields go into the package as they are. None when it cannot be read or made:
    the build then runs without a cache."""
    base = Path(os.environ.get("XDG_CACHE_HOME", ""))
    if not base.is_absolute():  # unset, or relative: the XDG spec says to ignore it
        base = Path(os.path.expanduser("~")) / ".cache"
    folder = base / "deckgen"
    path = folder / "cache-key"
    try:
        # The user's own cache folder, outside every project: made as the user named it.
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = _read_key(path, folder)
        if key is None:
            # Written and synced beside it, then linked into place, so a build killed halfway
            # leaves no half key; when builds race, the first link wins and the others read
            # its key. A file that is no key (empty, truncated) is replaced.
            publish_file(path, os.urandom(KEY_BYTES), within=folder, mode=0o600)
            key = _read_key(path, folder)
            if key is None:
                write_atomically(path, os.urandom(KEY_BYTES), within=folder, mode=0o600)
                key = _read_key(path, folder)
    except (OSError, UnsafeFile):  # a read-only home, a link or FIFO where the key should be
        return None
    return key


def _read_key(path: Path, folder: Path) -> bytes | None:
    """The key at ``path``; None when there is none, or the file is not one deckgen made
    (empty, truncated, too long)."""
    try:
        key = read_file(path, within=folder, max_bytes=KEY_BYTES)
    except (MissingFile, TooLarge):
        return None
    return key if len(key) == KEY_BYTES else None


class ReplayOutput(Protocol):
    @property
    def format(self) -> str:
        """``text``, ``json`` or ``github``: only text output is recorded."""

    def replay(self, line: str, *, to_stderr: bool) -> None: ...


def replayed(cards_dir: Path, out_dir: Path, mode: str, output: ReplayOutput) -> bool:
    """Print what the last build said it would print in ``mode`` (``build``, ``check`` for
    ``build --check``, ``checked`` for ``deckgen check``), if it left nothing to do and
    nothing changed since; False when the command must run."""
    recorded = recorded_quiet_output(cards_dir, out_dir, mode) if output.format == "text" else None
    for line, to_stderr in recorded or ():
        output.replay(line, to_stderr=to_stderr)
    return recorded is not None


def recorded_quiet_output(
    cards_dir: Path, out_dir: Path, mode: str
) -> list[tuple[str, bool]] | None:
    """What a command in ``mode`` (see ``replayed``) prints (line, to stderr) when it
    found the project exactly as it is now and had nothing to do; None when that state is not
    recorded, or the cache cannot be trusted (no key, a link in its folder)."""
    folder = cards_dir / CACHE_DIR
    key = cache_key()
    if key is None or first_link(folder, within=cards_dir, max_depth=1) is not None:
        return None
    document = read_entry(folder / "project", within=cards_dir, key=key)
    if document is None:
        return None  # nothing recorded (a first build): hashing every file would be for nothing
    state = project_state(cards_dir, out_dir)
    if state is None or document.get("state") != state:
        return None
    lines = []
    try:
        for line, to_stderr in document[mode]:
            if not isinstance(line, str):
                return None
            lines.append((line, bool(to_stderr)))
    except (KeyError, TypeError, ValueError):
        return None
    return lines


REVIEWS_ENTRY = "reviews"
"""The cache entry recording what ``deckgen stats`` and ``deckgen lint`` last printed, with
the state of the project they found (``recorded_review``)."""


def recorded_review(cards_dir: Path, command: str) -> tuple[list[tuple[str, bool]], int] | None:
    """What ``command`` (``stats``, or ``lint`` in text) printed (line, to stderr) and the
    warnings it counted, when it last found the project exactly as it is now; None when that
    is not recorded or the cache cannot be trusted. Like a no-op build, this is decided
    without importing the pipeline."""
    folder = cards_dir / CACHE_DIR
    key = cache_key()
    if key is None or first_link(folder, within=cards_dir, max_depth=1) is not None:
        return None
    document = read_entry(folder / REVIEWS_ENTRY, within=cards_dir, key=key)
    if document is None:
        return None
    recorded = document.get(command)
    if not isinstance(recorded, dict):
        return None
    lines, warnings = recorded.get("lines"), recorded.get("warnings")
    if type(lines) is not list or type(warnings) is not int:
        return None
    if document.get("state") != project_state(cards_dir, DEFAULT_PACKAGES_DIR):
        return None
    checked = []
    for line in lines:
        if type(line) is not list or len(line) != 2:
            return None
        text, to_stderr = line
        if type(text) is not str or type(to_stderr) is not bool:
            return None
        checked.append((text, to_stderr))
    return checked, warnings


def read_entry(entry: Path, *, within: Path, key: bytes) -> dict[str, Any] | None:
    """A cache entry's document when its header is ours (signed with ``key``, this format);
    None for a missing, truncated, corrupt, foreign or stale one."""
    try:
        raw = read_file(entry, within=within, max_bytes=MAX_ENTRY_BYTES)
    except UnsafeFile:
        return None
    header, newline, body = raw.partition(b"\n")
    if not newline or not hmac.compare_digest(header, entry_header(body, key)):
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get("format") != CACHE_FORMAT:
        return None
    return document
