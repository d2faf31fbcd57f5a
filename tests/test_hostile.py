"""Hostile inputs through the real command line: sources that are not files, and file names
that are not UTF-8. Each ends in a clear error or a clean result, never a hang or a
traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SMALL


def deckgen(*args: str | bytes, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run deckgen as a process with a strict UTF-8 stdout, as a CI log or a pipe may be."""
    env = os.environ | {"PYTHONIOENCODING": "utf-8:strict", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "deckgen", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        errors="backslashreplace",
        timeout=timeout,
        check=False,
    )


class TestSourcesThatAreNotFiles:
    @pytest.mark.parametrize("command", ["validate", "build", "stats"])
    def test_fifo_is_refused_at_once(self, tmp_path: Path, command: str) -> None:
        """A FIFO with no writer would block a reader forever: it is refused instead."""
        os.mkfifo(tmp_path / "bank.yaml")
        result = deckgen(command, "bank.yaml", cwd=tmp_path, timeout=20)
        assert (result.returncode, result.stdout) == (1, "")
        assert result.stderr == (
            "Error: cannot read bank.yaml: it is a FIFO (named pipe), not a regular file\n"
        )

    @pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
    def test_endless_devices_are_refused(self, tmp_path: Path, device: str) -> None:
        """A device that never ends is refused before a byte is read."""
        if not Path(device).exists():
            pytest.skip(f"no {device} here")
        result = deckgen("validate", device, cwd=tmp_path, timeout=20)
        assert (result.returncode, result.stdout) == (1, "")
        assert result.stderr == (
            f"Error: cannot read {device}: it is a character device, not a regular file\n"
        )

    def test_folder_is_a_usage_error(self, tmp_path: Path) -> None:
        """A folder named as a source is refused by the command line itself (exit 2)."""
        result = deckgen("validate", str(tmp_path), cwd=tmp_path)
        assert result.returncode == 2
        assert "is a directory" in result.stderr
        assert "Traceback" not in result.stderr


NAME = os.fsdecode(b"caf\xe9.yaml")  # Latin-1 bytes: not UTF-8, kept as a lone surrogate
SHOWN = "caf\\xe9.yaml"


@pytest.fixture
def odd_name(tmp_path: Path) -> Path:
    """The small bank under a file name that is not UTF-8."""
    try:
        (tmp_path / NAME).write_bytes(SMALL.read_bytes())
    except (OSError, UnicodeEncodeError):  # pragma: no cover - a file system that refuses it
        pytest.skip("this file system refuses names that are not UTF-8")
    return tmp_path


class TestFileNamesThatAreNotUtf8:
    def test_validate_text(self, odd_name: Path) -> None:
        """The name is shown with its odd byte escaped."""
        result = deckgen("validate", NAME, cwd=odd_name)
        assert (result.returncode, result.stdout, result.stderr) == (
            0,
            f"{SHOWN}: valid, 3 questions in 2 topics\n",
            "",
        )

    @pytest.mark.parametrize("style", ["json", "github", "text"])
    def test_problems_on_a_strict_stdout(self, odd_name: Path, style: str) -> None:
        """Problems in a file with such a name print in every format, exit 1."""
        text = (odd_name / NAME).read_text(encoding="utf-8")
        (odd_name / NAME).write_text(text.replace("answer: ", "answer: \n  bad: ", 1))
        result = deckgen("validate", "--format", style, NAME, cwd=odd_name)
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        if style == "json":
            assert {problem["file"] for problem in json.loads(result.stdout)} == {SHOWN}
        else:
            assert SHOWN in (result.stderr if style == "text" else result.stdout)

    def test_stats_and_init(self, odd_name: Path) -> None:
        """stats names nothing it cannot print; init writes the name it can show."""
        assert deckgen("stats", NAME, cwd=odd_name).returncode == 0
        new = os.fsdecode(b"n\xe9w.yaml")
        result = deckgen("init", new, cwd=odd_name)
        assert (result.returncode, result.stderr) == (0, "")
        assert result.stdout == (
            "Wrote n\\xe9w.yaml: check it with 'deckgen validate n\\xe9w.yaml'\n"
        )
        assert deckgen("validate", new, cwd=odd_name).returncode == 0

    def test_diff(self, odd_name: Path) -> None:
        """diff between two sources with such names prints its notes."""
        result = deckgen("diff", NAME, NAME, cwd=odd_name)
        assert (result.returncode, result.stderr) == (0, "")
        assert result.stdout.startswith("## Interview::Python Basics\n")

    def test_build(self, odd_name: Path) -> None:
        """build writes the package and the lock, and names them as it can show them."""
        result = deckgen("build", NAME, "-o", "out.apkg", cwd=odd_name)
        assert (result.returncode, result.stderr) == (0, "")
        lock = odd_name / os.fsdecode(b"caf\xe9.lock")
        assert f"# Lock file for {SHOWN}," in lock.read_text(encoding="utf-8")
        assert "Updated caf\\xe9.lock: 3 added" in result.stdout
