"""Tests for deckgen.fileio: atomic replacement of files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deckgen import fileio
from deckgen.errors import BuildError


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in a transaction of one file, as a build does."""
    with fileio.transaction() as staged:
        staged.stage(path).write_bytes(data)
        staged.commit()


def test_creates_parent_folders(tmp_path: Path) -> None:
    """The file's folder is created when missing."""
    out = tmp_path / "a" / "b" / "deck.apkg"
    write_bytes_atomically(out, b"data")
    assert out.read_bytes() == b"data"


def test_failed_write_leaves_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure during the write leaves the old file and no temporary file behind."""
    out = tmp_path / "deck.apkg"
    out.write_bytes(b"old release")

    def fail(self: Path, target: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio.Path, "replace", fail)
    with pytest.raises(BuildError, match="No space left on device"):
        write_bytes_atomically(out, b"new release")
    assert out.read_bytes() == b"old release"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.apkg"]


def test_unwritable_folder(tmp_path: Path) -> None:
    """A folder that cannot be created is a BuildError, not an OSError."""
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(BuildError, match="cannot write"):
        write_bytes_atomically(blocker / "deck.apkg", b"data")


def test_output_is_not_private(tmp_path: Path) -> None:
    """The file gets the usual permissions, not the temporary file's 0600."""
    out = tmp_path / "deck.apkg"
    write_bytes_atomically(out, b"data")
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
