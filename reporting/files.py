"""Writing report files so a reader never sees half of one, nor a folder of mixed runs.

A file is written beside its final name and renamed into place (``replacing``). A report folder
is written whole into a hidden sibling and swapped into place (``replacing_folder``): a run
killed while writing leaves the previous folder as it was (or, killed between the two renames of
the swap, no folder and the previous one hidden beside it, which the next write puts back).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Everything a report folder may hold (docs/decisions.md "Report folders are swapped whole"): a
# folder with anything else in it is not replaced, so a swap never deletes a user's file.
REPORT_FILES = frozenset(
    {
        "exposure.json",
        "findings.csv",
        "findings.parquet",
        "index.html",
        "audit.json",
        "audit.csv",
        "audit.html",
        "reverify.csv",  # nightly: reporting/prevention.py
        "providers",  # nightly: one fix-list page per rendering provider
        "changes.csv",  # a nightly's changes since the previous stored night (reporting/changes.py)
        "disputes.csv",  # takebacks to dispute (reporting/disputes.py)
        "disputes",  # a packet folder per disputable takeback
    }
)


class NotAReportFolder(ValueError):
    """The folder a report would replace holds something that is not part of a recoup report."""


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename
    (atomic on one file system), on failure it is removed and ``path`` is left as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically."""
    with replacing(path) as temporary:
        temporary.write_text(text, encoding="utf-8", newline="\n")
    return path


def check_report_folder(folder: Path) -> None:
    """Raise ``NotAReportFolder`` unless ``folder`` is missing, or a folder holding only report
    files (``REPORT_FILES``)."""
    if not folder.exists() and not folder.is_symlink():
        return
    if folder.is_symlink() or not folder.is_dir():
        raise NotAReportFolder(f"{folder} is not a folder: a report folder is written in its place")
    foreign = sorted(entry.name for entry in folder.iterdir() if entry.name not in REPORT_FILES)
    if foreign:
        more = len(foreign) - 3
        shown = ", ".join(foreign[:3]) + (f" and {more} more" if more > 0 else "")
        raise NotAReportFolder(
            f"{folder} holds files that are not part of a recoup report ({shown}): the report "
            "replaces the whole folder, so choose a new or empty folder"
        )


@contextmanager
def replacing_folder(folder: Path) -> Iterator[Path]:
    """Yield an empty hidden sibling of ``folder`` to write a whole report into; on success it
    takes ``folder``'s place (the previous folder is renamed aside, the new one renamed in, the
    previous one removed), on failure it is removed and ``folder`` is left as it was.

    Hidden siblings left by killed runs are removed first (a previous folder renamed aside by a
    run killed mid-swap is put back when ``folder`` is missing). ``folder`` must be missing or a
    report folder (``check_report_folder``)."""
    folder = Path(folder)
    parent = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    check_report_folder(folder)
    _clear_stale(folder)
    pid = os.getpid()
    staging = parent / f".{folder.name}.tmp-{pid}"
    aside = parent / f".{folder.name}.old-{pid}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
        if folder.exists():
            os.rename(folder, aside)
        try:
            os.rename(staging, folder)
        except OSError:
            if aside.exists():
                os.rename(aside, folder)
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(aside, ignore_errors=True)


def _clear_stale(folder: Path) -> None:
    """Remove the hidden staging and set-aside siblings of ``folder`` whose run is gone."""
    pattern = re.compile(rf"\.{re.escape(folder.name)}\.(tmp|old)-(\d+)")
    stale = []
    for entry in folder.parent.iterdir():
        match = pattern.fullmatch(entry.name)
        if match and entry.is_dir() and not entry.is_symlink():
            pid = int(match.group(2))
            if pid == os.getpid() or not _running(pid):
                stale.append((match.group(1), entry))
    if not folder.exists():
        set_aside = [entry for kind, entry in stale if kind == "old"]
        if set_aside:  # killed between the swap's renames: the previous folder, whole
            newest = max(set_aside, key=lambda entry: entry.stat().st_mtime)
            os.rename(newest, folder)
            stale = [(kind, entry) for kind, entry in stale if entry != newest]
    for _, entry in stale:
        shutil.rmtree(entry, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True
