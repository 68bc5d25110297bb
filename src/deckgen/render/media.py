"""Stage 3: resolve the images a card refers to into media files with content-hashed names.

Anki keeps one flat media folder for every deck of a student, and never replaces a file whose
name already exists there. Naming each file after a hash of its bytes means a changed image
gets a new name (so it reaches students) and two decks can never collide on a name.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree.ElementTree import Element

import defusedxml.ElementTree

from deckgen.diagnostics import Location, Report, did_you_mean
from deckgen.source.safe_files import MissingFile, UnsafeFile, check_folder, read_file, resolve
from deckgen.source.yamlsource import text_problem

MAX_IMAGE_BYTES = 10 * 1024 * 1024
_MAX_NAME_BYTES = 255
_MAX_PATH_BYTES = 4000
"""Common file-system limits (ext4, APFS, NTFS): longer names cannot exist, only fail."""

_SVG_FORBIDDEN_ELEMENTS = {"script", "foreignObject"}


def _is_png(data: bytes) -> bool:
    return data.startswith(b"\x89PNG\r\n\x1a\n")


def _is_jpeg(data: bytes) -> bool:
    return data.startswith(b"\xff\xd8\xff")


def _is_gif(data: bytes) -> bool:
    return data[:6] in (b"GIF87a", b"GIF89a")


def _is_webp(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


_BITMAP_SIGNATURES = {"png": _is_png, "jpg": _is_jpeg, "gif": _is_gif, "webp": _is_webp}
_EXTENSION_ALIASES = {"jpeg": "jpg"}
SUPPORTED_EXTENSIONS = (*_BITMAP_SIGNATURES, "jpeg", "svg")


@dataclass(frozen=True)
class MediaFile:
    """An image as it is shipped in a package."""

    name: str
    """The file name in the package and in Anki's media folder: a hash of the bytes."""
    data: bytes


def media_name(data: bytes, extension: str) -> str:
    """The shipped name of a file: changes exactly when its bytes change."""
    digest = hashlib.sha256(data).hexdigest()[:24]
    return f"deckgen-{digest}.{extension}"


@dataclass
class MediaResolver:
    """Resolves image references of one deck, reading each file once."""

    deck_folder: Path
    report: Report
    _by_path: dict[Path, MediaFile | None] = field(default_factory=dict)

    def resolve(self, reference: str, *, relative_to: Path, location: Location) -> MediaFile | None:
        """The media file for ``reference`` (written in a field of a card file in folder
        ``relative_to``), or None after reporting why it cannot be used."""
        problem = _reference_problem(reference)
        if problem:
            self.report.error(location, f"image '{reference}' {problem}")
            return None
        name = urllib.parse.unquote(reference)
        problem = _name_problem(name)
        if problem:
            self.report.error(location, f"image '{reference}' {problem}")
            return None
        try:
            path = resolve(relative_to / name)
        except UnsafeFile as exc:
            self.report.error(location, f"image '{reference}' {exc}")
            return None
        if not path.is_relative_to(self.deck_folder.resolve()):
            self.report.error(
                location,
                f"image '{reference}' lies outside the deck folder "
                f"'{self.deck_folder.name}': copy it into the deck folder",
            )
            return None
        if path not in self._by_path:
            self._by_path[path] = self._read(path, reference, location)
        return self._by_path[path]

    @property
    def files_looked_up(self) -> dict[Path, MediaFile | None]:
        """Every image file a reference pointed at, with what it gave (None: refused)."""
        return dict(self._by_path)

    def _read(self, path: Path, reference: str, location: Location) -> MediaFile | None:
        raw_extension = path.suffix.lower().lstrip(".")
        extension = _EXTENSION_ALIASES.get(raw_extension, raw_extension)
        if raw_extension not in SUPPORTED_EXTENSIONS:
            self.report.error(
                location,
                f"image '{reference}' is not a supported type; use one of "
                f"{', '.join('.' + ext for ext in SUPPORTED_EXTENSIONS)}",
            )
            return None
        try:
            data = read_file(path, within=self.deck_folder, max_bytes=MAX_IMAGE_BYTES)
        except MissingFile:
            self.report.error(
                location,
                f"image '{reference}' not found (looked for {path})"
                f"{did_you_mean(path.name, self._neighbours(path))}",
            )
            return None
        except UnsafeFile as exc:
            self.report.error(location, f"image '{reference}' {exc}")
            return None
        problem = _content_problem(data, extension)
        if problem:
            self.report.error(location, f"image '{reference}' {problem}")
            return None
        return MediaFile(media_name(data, extension), data)

    def _neighbours(self, path: Path) -> list[str]:
        """The image names next to a missing one, to suggest ``pelvis.jpg`` for ``pelvis.jpeg``
        (listed only when that folder lies inside the deck folder)."""
        try:
            check_folder(path.parent, within=self.deck_folder)
            return [entry.name for entry in path.parent.iterdir() if entry.suffix]
        except (UnsafeFile, OSError):
            return []


def _reference_problem(reference: str) -> str | None:
    parsed = urllib.parse.urlsplit(reference)
    if parsed.scheme or parsed.netloc:
        return "is not a file in the deck folder: deckgen ships only local images"
    if PurePosixPath(parsed.path).is_absolute() or Path(parsed.path).is_absolute():
        return "is an absolute path: write it relative to the card file, e.g. images/x.svg"
    if not parsed.path or parsed.query or parsed.fragment:
        return "is not a plain file path"
    return None


def _name_problem(name: str) -> str | None:
    """A decoded image path the file system cannot hold, or that names no ordinary file."""
    if text_problem(name) or "\x00" in name:
        return "has a control character in its name (written as %00 or similar): remove it"
    if len(name.encode("utf-8", "surrogatepass")) > _MAX_PATH_BYTES or any(
        len(part.encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES for part in name.split("/")
    ):
        return (
            f"has a name too long for the file system (at most {_MAX_NAME_BYTES} bytes per "
            "folder or file name): shorten it"
        )
    return None


def _content_problem(data: bytes, extension: str) -> str | None:
    if extension in _BITMAP_SIGNATURES:
        if not _BITMAP_SIGNATURES[extension](data):
            return f"is not a valid .{extension} file (its bytes do not match the extension)"
        return None
    return _svg_problem(data)


def _svg_problem(data: bytes) -> str | None:
    """SVG is XML that can carry scripts; a card image must be a plain drawing."""
    try:
        root = defusedxml.ElementTree.fromstring(data)
    except Exception as exc:  # defusedxml raises parse errors and its own refusals
        return f"is not a well-formed SVG file ({exc})"
    if _local_name(root) != "svg":
        return "is not an SVG file (its root element is not <svg>)"
    for element in root.iter():
        name = _local_name(element)
        if name in _SVG_FORBIDDEN_ELEMENTS:
            return f"contains <{name}>, which is not allowed in card images"
        for attribute in element.attrib:
            if _local_name_of(attribute).lower().startswith("on"):
                return f"has an event handler '{attribute}', which is not allowed in card images"
    return None


def _local_name(element: Element) -> str:
    return _local_name_of(str(element.tag))


def _local_name_of(qualified: str) -> str:
    return qualified.rsplit("}", 1)[-1]
