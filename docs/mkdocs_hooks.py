"""MkDocs hooks: the site shows the repository's own front documents too.

The README is the site's home page, and SECURITY.md, CHANGELOG.md and bench/PROFILE.md are
pages of their own, so each fact has one source file, read on GitHub and on the site alike.
Their links are written for GitHub, relative to where the file lies in the repository; a
link that reaches one of these documents is rewritten to the page the site makes of it.
Every other link is left as written, for `mkdocs build --strict` to judge.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from urllib.parse import urlsplit

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"

# A document outside docs/ (path from the repository root) → its page on the site.
FRONT_DOCUMENTS = {
    "README.md": "index.md",
    "SECURITY.md": "security-policy.md",
    "CHANGELOG.md": "changelog.md",
    "bench/PROFILE.md": "profile.md",
}

# An inline Markdown link or image target: ](target#anchor)
_LINK = re.compile(r"(\]\()([^()\s#]+)(#[^()\s]*)?(\))")


def on_files(files: Files, config: MkDocsConfig) -> Files:
    for source, uri in FRONT_DOCUMENTS.items():
        files.append(File.generated(config, uri, abs_src_path=str(REPO / source)))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    uri = page.file.src_uri
    sources = {site_uri: source for source, site_uri in FRONT_DOCUMENTS.items()}
    folder = posixpath.dirname(sources.get(uri, f"docs/{uri}"))
    to_site = {
        source: posixpath.relpath(site_uri, posixpath.dirname(uri) or ".")
        for source, site_uri in FRONT_DOCUMENTS.items()
    }

    def rewrite(link: re.Match[str]) -> str:
        target = link.group(2)
        if urlsplit(target).scheme or target.startswith("/"):
            return link.group(0)
        in_repository = posixpath.normpath(posixpath.join(folder, target))
        if in_repository in to_site:
            site_target = to_site[in_repository]
        elif in_repository.startswith("docs/"):
            site_target = posixpath.relpath(in_repository[5:], posixpath.dirname(uri) or ".")
        else:
            return link.group(0)
        return f"{link.group(1)}{site_target}{link.group(3) or ''}{link.group(4)}"

    return _LINK.sub(rewrite, markdown)
