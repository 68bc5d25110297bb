"""The documentation: the site builds with warnings as errors (so no link, anchor or nav entry
is broken), the README reaches every page in one click, and its links resolve on GitHub."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from markdown.extensions.toc import slugify

from helpers import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
# What the site is made of: its configuration, its pages and the front documents it shows.
SITE_SOURCES = [
    "mkdocs.yml",
    "docs",
    "README.md",
    "SECURITY.md",
    "CHANGELOG.md",
    "bench/PROFILE.md",
]

_LINK = re.compile(r"\]\(([^()\s]+)\)")


def build_site(source: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=source, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def nav_pages() -> list[str]:
    config = yaml.load((REPO / "mkdocs.yml").read_text(), Loader=yaml.SafeLoader)

    def pages(entries: list[object]) -> list[str]:
        found: list[str] = []
        for entry in entries:
            value = next(iter(entry.values())) if isinstance(entry, dict) else entry
            found += pages(value) if isinstance(value, list) else [str(value)]
        return found

    return pages(config["nav"])


def test_the_site_builds_strictly_with_every_page(tmp_path: Path) -> None:
    result = build_site(REPO, tmp_path / "site")
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    for page in nav_pages():
        built = tmp_path / "site" / ("" if page == "index.md" else page.removesuffix(".md"))
        assert (built / "index.html").is_file(), page


def test_a_broken_link_fails_the_strict_build(tmp_path: Path) -> None:
    for source in SITE_SOURCES:
        copy = shutil.copytree if (REPO / source).is_dir() else shutil.copyfile
        (tmp_path / source).parent.mkdir(parents=True, exist_ok=True)
        copy(REPO / source, tmp_path / source)
    readme = tmp_path / "README.md"
    readme.write_text(README.replace("(docs/card-format.md)", "(docs/card-format.md#no-such)"))
    result = build_site(tmp_path, tmp_path / "site")
    assert result.returncode != 0
    assert "does not contain an anchor '#no-such'" in result.stderr


def test_the_readme_links_every_page_of_the_site() -> None:
    linked = {link.split("#")[0] for link in _LINK.findall(README)}
    front = {"index.md", "security-policy.md", "changelog.md", "profile.md"}
    assert {f"docs/{page}" for page in nav_pages() if page not in front} <= linked
    assert {"SECURITY.md", "CHANGELOG.md", "bench/PROFILE.md"} <= linked


def test_every_relative_link_of_the_readme_and_the_pages_resolves_on_github() -> None:
    """GitHub shows the Markdown files as they are: each relative link names a file of the
    repository, and each anchor a heading of that file (GitHub's slugs are MkDocs' here)."""
    documents = [REPO / "README.md", REPO / "SECURITY.md", *sorted((REPO / "docs").glob("*.md"))]
    for document in documents:
        text = re.sub(r"```.*?```|`[^`\n]*`", "", document.read_text(encoding="utf-8"), flags=re.S)
        for link in _LINK.findall(text):
            if re.match(r"[a-z]+:", link):
                continue
            path, _, anchor = link.partition("#")
            target = (document.parent / path).resolve() if path else document
            assert target.is_file(), f"{document.name}: {link}"
            if anchor:
                headings = re.findall(r"^#+ (.+)$", target.read_text(encoding="utf-8"), re.M)
                assert anchor in {slugify(h, "-") for h in headings}, f"{document.name}: {link}"


def test_no_page_points_outside_the_repository() -> None:
    for document in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        assert "../shared" not in document.read_text(encoding="utf-8"), document.name


def test_the_architecture_page_maps_every_module_of_the_tree() -> None:
    """Each module is a row of its folder's table on the architecture page, and every row
    names a module that exists: the map of the code matches the tree."""
    page = (REPO / "docs/architecture.md").read_text(encoding="utf-8")
    modules_part = page.split("## The modules", 1)[1]
    mapped = set()
    folder = ""
    for line in modules_part.splitlines():
        heading = re.match(r"^`(\w+)/`:", line)
        if heading or "at the top of `src/deckgen/`" in line:
            folder = f"{heading.group(1)}/" if heading else ""
        elif line.startswith("| `"):
            first_column = line.split(" | ")[0]
            mapped |= {folder + name for name in re.findall(r"`(\w+\.py)`", first_column)}
    package = REPO / "src/deckgen"
    tree = {
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if path.name != "__init__.py"
    }
    assert mapped == tree, (
        f"named on docs/architecture.md but not in src/deckgen: {sorted(mapped - tree)}; "
        f"in src/deckgen but not on the page: {sorted(tree - mapped)}"
    )
