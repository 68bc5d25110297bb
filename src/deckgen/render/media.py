"""Stage 3: resolve the images a card refers to into media files with content-hashed names.

Anki keeps one flat media folder for every deck of a student, and never replaces a file whose
name already exists there. Naming each file after a hash of its bytes means a changed image
gets a new name (so it reaches students) and two decks can never collide on a name.
"""

from __future__ import annotations

import hashlib
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from deckgen.diagnostics import Location, Report, did_you_mean, shorten
from deckgen.source.safe_files import MissingFile, UnsafeFile, check_folder, read_file, resolve
from deckgen.source.yamlnodes import text_problem
from deckgen.values import MediaFile, folder_name

MAX_IMAGE_BYTES = 10 * 1024 * 1024
_MAX_NAME_BYTES = 255
_MAX_PATH_BYTES = 4000
"""Common file-system limits (ext4, APFS, NTFS): longer names cannot exist, only fail."""


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
                f"'{folder_name(self.deck_folder)}': copy it into the deck folder",
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
                f"{did_you_mean(reference, self._neighbours(path, reference))}",
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

    def _neighbours(self, path: Path, reference: str) -> list[str]:
        """The images next to a missing one, written as the reference is, to suggest
        ``images/pelvis.jpg`` for ``images/pelvis.jpeg`` (listed only when that folder lies
        inside the deck folder)."""
        folder = PurePosixPath(reference).parent
        try:
            check_folder(path.parent, within=self.deck_folder)
            return [str(folder / entry.name) for entry in path.parent.iterdir() if entry.suffix]
        except (UnsafeFile, OSError):
            return []


def _reference_problem(reference: str) -> str | None:
    parsed = urllib.parse.urlsplit(reference)
    if parsed.scheme or parsed.netloc:
        return (
            "is not a file in the deck folder: deckgen ships only local images; copy it into "
            "the deck folder and write its path, e.g. images/x.png"
        )
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
    """SVG is XML that can carry scripts, frames, links and loads; a card image must be a
    plain drawing. Students can open a media file on its own (where scripts in it run), so
    only an allowlist of drawing elements and attributes passes, references stay inside the
    file (``#id``; embedded bitmaps for <image>), and styles load nothing."""
    import defusedxml.ElementTree  # here: only SVG images need an XML parser at all

    checker = _SvgChecker()
    parser = defusedxml.ElementTree.DefusedXMLParser(target=checker)
    checker.line = lambda: int(parser.parser.CurrentLineNumber)
    try:
        parser.feed(data)
        parser.close()
    except Exception as exc:  # defusedxml raises parse errors and its own refusals
        return f"is not a well-formed SVG file ({exc})"
    return checker.problem


_SVG = "{http://www.w3.org/2000/svg}"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_XML_ATTRIBUTES = {"{http://www.w3.org/XML/1998/namespace}" + name for name in ("space", "lang")}
SVG_ELEMENTS = frozenset(
    {
        "svg", "g", "defs", "title", "desc", "symbol", "use", "style",
        "path", "rect", "circle", "ellipse", "line", "polyline", "polygon",
        "text", "tspan", "textPath", "image",
        "clipPath", "mask", "pattern", "marker", "linearGradient", "radialGradient", "stop",
        "filter", "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite",
        "feConvolveMatrix", "feDiffuseLighting", "feDisplacementMap", "feDistantLight",
        "feDropShadow", "feFlood", "feFuncA", "feFuncB", "feFuncG", "feFuncR",
        "feGaussianBlur", "feMerge", "feMergeNode", "feMorphology", "feOffset",
        "fePointLight", "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence",
    }
)  # fmt: skip
"""Drawing, text, paint servers and filters: no script, link, frame, foreign content,
animation (which can set an attribute to a script URL) or external image (feImage)."""
SVG_ATTRIBUTES = frozenset(
    {
        # structure and geometry
        "id", "class", "style", "transform", "viewBox", "preserveAspectRatio", "version",
        "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "fr",
        "width", "height", "d", "points", "pathLength", "href",
        "role", "lang", "type", "media",
        # painting
        "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity",
        "stroke-linecap", "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray",
        "stroke-dashoffset", "opacity", "color", "display", "visibility", "overflow",
        "vector-effect", "paint-order", "shape-rendering", "text-rendering",
        "image-rendering", "color-interpolation", "color-interpolation-filters", "mix-blend-mode",
        "isolation",
        # clipping, masking, markers, patterns, gradients
        "clip-path", "clip-rule", "clipPathUnits", "mask", "maskUnits", "maskContentUnits",
        "marker-start", "marker-mid", "marker-end", "markerWidth", "markerHeight",
        "markerUnits", "refX", "refY", "orient", "patternUnits", "patternContentUnits",
        "patternTransform", "gradientUnits", "gradientTransform", "spreadMethod", "offset",
        "stop-color", "stop-opacity",
        # text
        "font-family", "font-size", "font-weight", "font-style", "font-variant",
        "font-stretch", "text-anchor", "dominant-baseline", "alignment-baseline",
        "baseline-shift", "letter-spacing", "word-spacing", "text-decoration", "writing-mode",
        "direction", "unicode-bidi", "dx", "dy", "rotate", "textLength", "lengthAdjust",
        "startOffset", "method", "spacing", "side",
        # filters
        "filter", "filterUnits", "primitiveUnits", "in", "in2", "result", "stdDeviation",
        "mode", "operator", "k1", "k2", "k3", "k4", "values", "tableValues", "slope",
        "intercept", "amplitude", "exponent", "flood-color", "flood-opacity", "lighting-color",
        "scale", "xChannelSelector", "yChannelSelector", "baseFrequency", "numOctaves", "seed",
        "stitchTiles", "radius", "order", "kernelMatrix", "kernelUnitLength", "divisor", "bias",
        "targetX", "targetY", "edgeMode", "preserveAlpha", "surfaceScale", "diffuseConstant",
        "specularConstant", "specularExponent", "azimuth", "elevation", "z", "pointsAtX",
        "pointsAtY", "pointsAtZ", "limitingConeAngle",
    }
)  # fmt: skip
"""Presentation and geometry; ``data-*`` and ``aria-*`` pass too. No event handler, no
``xml:base`` and no attribute of another namespace than xlink:href, xml:space, xml:lang."""
_DATA_OR_ARIA = re.compile(r"(?:data|aria)-[A-Za-z0-9_.-]+")
_LOCAL_REFERENCE = re.compile(r"#[^\s\x00-\x1f'\"()\\]*")
_EMBEDDED_BITMAP = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*")
# An unclosed url( runs to the end, as CSS error recovery reads it.
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*(?:\)|$)", re.IGNORECASE | re.DOTALL)
_CSS_LOADS = re.compile(
    r"@import|image-set|expression\s*\(|javascript:|-moz-binding|behavior", re.I
)
_NOT_ALLOWED = "which card images may not hold: remove it, or save the drawing as plain SVG"
_OWN_PARTS = (
    "card images may only refer to their own parts ({form}); remove it, or save the drawing "
    "as plain SVG"
)


class _SvgChecker:
    """An XML parser target that checks every element as the parser meets it, so a refusal
    names its line; the first problem is kept."""

    def __init__(self) -> None:
        self.problem: str | None = None
        self.line: Callable[[], int] = lambda: 0
        self._open: list[str] = []
        self._style_text: list[str] = []

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        at = f"at line {self.line()}"
        if not self._open and tag != f"{_SVG}svg":
            self._refuse("is not an SVG file (its root element is not <svg> in the SVG namespace)")
        self._open.append(tag)
        if not tag.startswith(_SVG) or tag[len(_SVG) :] not in SVG_ELEMENTS:
            self._refuse(f"contains <{_shown_name(tag)}> {at}, {_NOT_ALLOWED}")
            return
        name = tag[len(_SVG) :]
        for attribute, value in attributes.items():
            problem = _attribute_problem(name, attribute, value, at)
            if problem:
                self._refuse(problem)

    def end(self, tag: str) -> None:
        self._open.pop()
        if tag == f"{_SVG}style":
            problem = _css_problem(
                "".join(self._style_text), f"<style> ending at line {self.line()}"
            )
            if problem:
                self._refuse(problem)
            self._style_text.clear()

    def data(self, text: str) -> None:
        if self._open and self._open[-1] == f"{_SVG}style":
            self._style_text.append(text)

    def pi(self, target: str, _: str) -> None:
        # <?xml-stylesheet href=...?> loads a style sheet from anywhere.
        self._refuse(f"has <?{target}?> at line {self.line()}, {_NOT_ALLOWED}")

    def comment(self, _: str) -> None:
        """Comments are inert."""

    def close(self) -> None:
        """Nothing to build: the checker only looks."""

    def _refuse(self, problem: str) -> None:
        if self.problem is None:
            self.problem = problem


def _attribute_problem(element: str, attribute: str, value: str, at: str) -> str | None:
    local = attribute.rsplit("}", 1)[-1]
    if local.lower().startswith("on"):
        return f"has an event handler '{local}' {at}, {_NOT_ALLOWED}"
    known = (
        attribute in SVG_ATTRIBUTES
        or attribute in (_XLINK_HREF, *_XML_ATTRIBUTES)
        or _DATA_OR_ARIA.fullmatch(attribute)
    )
    if not known:
        return f"has the attribute '{_shown_name(attribute)}' on <{element}> {at}, {_NOT_ALLOWED}"
    if local == "href" and not (
        _LOCAL_REFERENCE.fullmatch(value)
        or (element == "image" and _EMBEDDED_BITMAP.fullmatch(value))
    ):
        form = "#id, or a PNG, JPEG, GIF or WebP embedded as data:image/...;base64"
        return f"links to '{shorten(value)}' from <{element}> {at}: {_OWN_PARTS.format(form=form)}"
    where = f"'{local}' on <{element}> {at}"
    return _css_problem(value, where) if attribute == "style" else _url_problem(value, where)


def _css_problem(css: str, where: str) -> str | None:
    """Why a style could load or run something; escapes are refused too, as they can spell
    any of it."""
    if "\\" in css:
        return f"uses a CSS escape (\\) in {where}, {_NOT_ALLOWED}"
    loads = _CSS_LOADS.search(css)
    if loads:
        return f"uses '{loads.group()}' in {where}, {_NOT_ALLOWED}"
    return _url_problem(css, where)


def _url_problem(value: str, where: str) -> str | None:
    """Why a value's url() (in a style, or in fill, clip-path, ...) leaves the file."""
    for url in _CSS_URL.finditer(value):
        if not _LOCAL_REFERENCE.fullmatch(url.group(2).strip()):
            target = shorten(url.group(2).strip())
            return f"refers to '{target}' in {where}: {_OWN_PARTS.format(form='url(#id)')}"
    return None


def _shown_name(qualified: str) -> str:
    """An element or attribute name as written, its namespace named when it is not SVG's."""
    namespace, _, local = (
        qualified[1:].rpartition("}") if qualified.startswith("{") else ("", "", qualified)
    )
    known = {"http://www.w3.org/1999/xhtml": "XHTML", "http://www.w3.org/1999/xlink": "xlink"}
    if not namespace or namespace == _SVG[1:-1]:
        return local
    return f"{local} (namespace {known.get(namespace, namespace)})"
