"""The lock describes the source, not the libraries: a maintainer or CI with other versions of
the Markdown parser and of Pygments than the pinned ones builds with the committed lock, and
re-stamps no note."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, package_notes
from pipindex import require_index

# Released versions other than the pins in constraints.txt, that deckgen still supports.
OTHER_VERSIONS = ("pygments==2.18.0", "pyromark==0.10.2")


@pytest.fixture(scope="module")
def other_libraries(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the other versions, to put first on the import path."""
    require_index()
    folder = tmp_path_factory.mktemp("other-libraries")
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--only-binary=:all:"]
    subprocess.run(
        [*pip, "--target", str(folder), *OTHER_VERSIONS],
        check=True,
        capture_output=True,
    )
    return folder


def deckgen(*args: str, cwd: Path, path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1800000000"}
    if path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(path), str(ROOT)])
    return subprocess.run(
        [sys.executable, "-m", "deckgen", *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_locked_build_passes_with_other_versions(other_libraries: Path, tmp_path: Path) -> None:
    """questions.lock, made with the pinned versions, passes ``build --locked`` with Pygments
    2.18 and an older pyromark, and the libraries really are the other ones."""
    for name in ("questions.yaml", "questions.lock", "deckgen.schema.json"):
        shutil.copy(ROOT / name, tmp_path / name)
    probe = subprocess.run(
        [sys.executable, "-c", "import deckgen.render as r; print(r.renderer_versions())"],
        env={**os.environ, "PYTHONPATH": str(other_libraries)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "'pygments': '2.18.0'" in probe.stdout
    assert "'pyromark': '0.10.2'" in probe.stdout
    lock = (tmp_path / "questions.lock").read_bytes()
    result = deckgen("build", "--locked", "questions.yaml", cwd=tmp_path, path=other_libraries)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "questions.lock").read_bytes() == lock
    # The other versions do render differently (0.1's HTML-based hashes failed here).
    other = package_notes(tmp_path / "dist" / "fastapi-interview-questions.apkg")
    pinned = deckgen("build", "--locked", "questions.yaml", "-o", "pinned.apkg", cwd=tmp_path)
    assert pinned.returncode == 0, pinned.stderr
    assert other != package_notes(tmp_path / "pinned.apkg")
