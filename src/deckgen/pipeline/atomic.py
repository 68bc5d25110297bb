"""Writing outputs all or nothing: each to a synced temporary file beside it, then every one
renamed over its target only once all are written. A failed write leaves every previous file
intact; a killed one leaves whole files (and temporary files the next write removes)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from deckgen.diagnostics import DeckgenError, display_path
from deckgen.source.safe_files import (
    TEMPORARY_NAME,
    list_files,
    remove_file,
    replace_file,
    stage_file,
    sync_folder,
)


def write_all(outputs: list[tuple[Path, bytes]], *, beside: list[Path]) -> list[Path]:
    """Write ``outputs`` in their order, all or nothing, holding every folder written to;
    first remove the temporary files a killed write left beside any path of ``beside`` (the
    outputs of this write and of the ones it skips as unchanged); those are returned."""
    with _exclusive(beside):
        removed = remove_stale_temporaries(beside)
        staged: list[tuple[Path, Path]] = []
        try:
            for path, data in outputs:
                staged.append((_stage(path, data), path))
        except BaseException:
            _remove_quietly(temporary for temporary, _ in staged)
            raise
        _rename_all(staged)
    return removed


@contextlib.contextmanager
def _exclusive(paths: list[Path]) -> Iterator[None]:
    """Hold a lock on every folder written to, so a second build waits instead of removing
    this one's temporary files as stale. The locks are released when the process ends, even
    when it is killed. (Opening a folder only to lock it writes nothing: safe through links.)"""
    with contextlib.ExitStack() as stack:
        for folder in sorted({path.parent.resolve() for path in paths if path.parent.is_dir()}):
            try:
                descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                stack.callback(os.close, descriptor)
                fcntl.flock(descriptor, fcntl.LOCK_EX)
            except OSError as exc:
                problem = f"cannot write in {display_path(folder)}: {exc.strerror}"
                raise DeckgenError(problem) from exc
        yield


def _stage(path: Path, data: bytes) -> Path:
    """Write ``data`` to a synced temporary file beside ``path``; returns the temporary file.
    Each output is written in its own folder (the output folder, a deck folder) and never
    through a link below it."""
    try:
        return stage_file(path, data, within=path.parent)
    except OSError as exc:
        raise DeckgenError(f"cannot write {display_path(path)}: {exc.strerror}") from exc


def _rename_all(staged: list[tuple[Path, Path]]) -> None:
    """Rename every staged file over its target, then make the renames durable."""
    for done, (temporary, path) in enumerate(staged):
        try:
            replace_file(temporary, path, within=path.parent)
        except OSError as exc:
            _remove_quietly(left for left, _ in staged[done:])
            replaced = ", ".join(display_path(target) for _, target in staged[:done]) or "none"
            raise DeckgenError(
                f"cannot write {display_path(path)}: {exc.strerror}; already replaced: "
                f"{replaced}; fix the problem and build again"
            ) from exc
    for folder in {path.parent for _, path in staged}:
        sync_folder(folder, within=folder)


def _remove_quietly(temporaries: Iterable[Path]) -> None:
    for temporary in temporaries:
        with contextlib.suppress(OSError):  # the write already failed; that is what is reported
            remove_file(temporary, within=temporary.parent)


def remove_stale_temporaries(paths: list[Path]) -> list[Path]:
    """Remove the temporary files a killed build left beside any of ``paths``; returns them.

    Only regular files named exactly as deckgen names its temporary files for one of these
    outputs are removed, never anything an author put there.
    """
    targets: dict[Path, set[str]] = {}
    for path in paths:
        targets.setdefault(path.parent, set()).add(path.name)
    removed = []
    for folder, names in targets.items():
        try:
            found = list_files(folder, within=folder)  # regular files only, never a link
        except OSError:  # writing there fails next, and says why
            continue
        for name in found:
            match = TEMPORARY_NAME.fullmatch(name)
            if match and match["target"] in names:
                try:
                    remove_file(folder / name, within=folder)
                except OSError:  # a read-only folder: writing there fails next, and says why
                    continue
                removed.append(folder / name)
    return removed
