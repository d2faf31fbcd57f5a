"""Tests for deckgen.diff: release notes between two releases."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import build_apkg

from deckgen.checker import load_deck
from deckgen.diff import load_snapshot, release_notes
from deckgen.errors import DeckgenError


def edit(source: Path, *replacements: tuple[str, str], append: str = "") -> Path:
    text = source.read_text()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    out = source.with_name("v2.yaml")
    out.write_text(text + append)
    return out


@pytest.fixture
def v2(small_copy: Path) -> Path:
    """Small bank with one edit, one retirement, one removal and one addition."""
    text = small_copy.read_text()
    text = text[: text.index("  - name: Control Flow")]
    out = small_copy.with_name("v2.yaml")
    out.write_text(
        text.replace("Mention hashability.", "Hash it.").replace(
            "      - id: html-in-answer\n", "      - id: html-in-answer\n        retired: true\n"
        )
        + "      - id: sets\n        question: What is a `set`?\n        answer: Unique items.\n"
    )
    return out


def test_sources(small_copy: Path, v2: Path) -> None:
    """Each kind of change is listed with the question id and text."""
    notes = release_notes(load_snapshot(small_copy), load_snapshot(v2))
    assert notes == (
        "## Interview::Python Basics\n"
        "\n"
        "1 added, 1 changed, 1 retired, 1 removed.\n"
        "\n"
        "### Added\n"
        "\n"
        "- `sets`: What is a `set`?\n"
        "\n"
        "### Changed\n"
        "\n"
        "- `list-vs-tuple`: How does a `list` differ from a `tuple`? (How to answer)\n"
        "\n"
        "### Retired\n"
        "\n"
        "These cards stay in your collection with the tag `interview-python-basics::retired`;"
        " search for it to suspend them.\n"
        "\n"
        "- `html-in-answer`: What does &lt;b&gt;bold&lt;/b&gt; look like?\n"
        "\n"
        "### Removed\n"
        "\n"
        "Importing cannot delete notes: these cards stay in your collection until you delete"
        " them.\n"
        "\n"
        "- `for-else`: When does the `else` of a `for` loop run?\n"
        "\n"
        "### Note types\n"
        "\n"
        "- `basic`: Unchanged.\n"
    )


def test_packages_read_like_sources(small_copy: Path, v2: Path, tmp_path: Path) -> None:
    """Built packages give the same release notes as their sources."""
    old = build_apkg(load_deck(small_copy), tmp_path / "old.apkg", mod=1)
    new = build_apkg(load_deck(v2), tmp_path / "new.apkg", mod=2)
    from_packages = release_notes(load_snapshot(old), load_snapshot(new))
    assert from_packages == release_notes(load_snapshot(small_copy), load_snapshot(v2))


def test_tag_only_change(small_copy: Path) -> None:
    """A change of tags alone is listed as a tags change."""
    new = edit(small_copy, ("tags: [containers]", "tags: [containers, sequences]"))
    notes = release_notes(load_snapshot(small_copy), load_snapshot(new))
    assert "- `list-vs-tuple`: How does a `list` differ from a `tuple`? (tags)" in notes


def test_no_changes(small_copy: Path) -> None:
    """Identical releases say so."""
    snapshot = load_snapshot(small_copy)
    assert "0 added, 0 changed, 0 retired, 0 removed." in release_notes(snapshot, snapshot)


def test_not_a_package(tmp_path: Path) -> None:
    """A zip that is not an Anki package is a DeckgenError."""
    import zipfile

    path = tmp_path / "other.apkg"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(DeckgenError, match="not an Anki package"):
        load_snapshot(path)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"style": "other"}, "Templates or styling changed; Anki updates them in place"),
        ({"fields": ("Front", "Back")}, 'Import this release with "Merge note types" checked'),
    ],
)
def test_note_type_changes(small_copy: Path, change: dict[str, object], expected: str) -> None:
    """A note type change is explained in terms of what the user must do."""
    from dataclasses import replace

    new = load_snapshot(small_copy)
    basic = replace(new.note_types["basic"], **change)  # type: ignore[arg-type]
    old = replace(new, note_types={"basic": basic})
    assert expected in release_notes(old, new)
