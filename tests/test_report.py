"""Tests for deckgen.report and the problem codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import INVALID

from deckgen.checker import load_deck
from deckgen.errors import (
    BANK_SIZE,
    BLANK,
    CODES,
    SOURCE_SIZE,
    TEXT_SIZE,
    TOO_MANY_PROBLEMS,
    YAML_NODES,
    Problem,
    SourceError,
)
from deckgen.report import format_problems, github_annotation

PROBLEM = Problem("decks/a,b.yaml", 3, 7, "answer is blank: 100% sure\nreally", BLANK)


def test_github_annotation_escapes() -> None:
    """Workflow-command syntax in paths and messages is escaped as GitHub requires."""
    assert github_annotation(PROBLEM) == (
        "::error file=decks/a%2Cb.yaml,line=3,col=7,title=DG105 blank"
        "::answer is blank: 100%25 sure%0Areally"
    )


def test_json_document() -> None:
    """JSON is one list of problems with file, line, column, code, name and message."""
    assert json.loads(format_problems([PROBLEM], style="json")) == [
        {
            "file": "decks/a,b.yaml",
            "line": 3,
            "column": 7,
            "code": "DG105",
            "name": "blank",
            "message": "answer is blank: 100% sure\nreally",
        }
    ]


def test_text_is_file_line_column() -> None:
    """Text is the FILE:LINE:COL: message lines."""
    assert format_problems([PROBLEM], style="text") == (
        "decks/a,b.yaml:3:7: answer is blank: 100% sure\nreally"
    )


def test_codes_are_unique_and_stable_in_shape() -> None:
    """Every code is DG plus three digits, and codes and names are unique."""
    assert all(len(c.code) == 5 and c.code.startswith("DG") for c in CODES)
    assert len({c.code for c in CODES}) == len({c.name for c in CODES}) == len(CODES)


# Limits that only a large file can pass: test_limits.py generates those files instead, each
# with its exact expected problem.
GENERATED = {SOURCE_SIZE, YAML_NODES, TEXT_SIZE, BANK_SIZE, TOO_MANY_PROBLEMS}


def test_every_code_has_an_invalid_fixture() -> None:
    """The invalid fixtures, files and folder banks, between them produce every problem code
    but the size limits'."""
    seen = set(GENERATED)
    folders = [p for p in (INVALID.parent / "folders" / "invalid").iterdir() if p.is_dir()]
    for source in [*INVALID.glob("*.yaml"), *folders]:
        with pytest.raises(SourceError) as raised:
            load_deck(source)
        seen |= {problem.code for problem in raised.value.problems}
    assert sorted(c.code for c in set(CODES) - seen) == []


def test_readme_lists_every_code() -> None:
    """The README's table of problem codes is complete."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    missing = [c.code for c in CODES if f"| {c.code} | `{c.name}` |" not in readme]
    assert missing == []
