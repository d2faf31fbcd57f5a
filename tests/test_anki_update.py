"""The user's story across releases, replayed in Anki's own backend.

A user imports v1 with Anki's default options, studies, and tags every note by hand. The
maintainer edits one answer, adds a question and retires one, and builds v2 with the lock
that v1 left. Importing v2 must update the changed notes in place, add the new one, keep all
study progress, and leave the local tag on every note the release did not touch.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from anki.collection import Collection
from conftest import SMALL, ImportPackage, progress, study

from deckgen.build import build

DECK = "Interview::Python Basics"
T1 = 1_700_000_000
LOCAL_TAG = "my-own-tag"
NEW_QUESTION = """\
      - id: while-else
        question: Does `while` have an `else` too?
        answer: Yes, with the same rule as `for`.
"""


def note_id(col: Collection, question_id: str) -> int:
    (nid,) = col.find_notes(f"ID:{question_id}")
    return nid


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "bank.yaml"
    path.write_text(SMALL.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def release_v2(source: Path) -> None:
    """Edit one answer, retire one question and add one."""
    text = source.read_text(encoding="utf-8")
    text = text.replace(
        "answer: When the loop ends without `break`.",
        "answer: When the loop finishes without hitting `break`.",
    )
    text = text.replace(
        "      - id: html-in-answer\n", "      - id: html-in-answer\n        retired: true\n"
    )
    source.write_text(text + NEW_QUESTION, encoding="utf-8")


def test_release_keeps_progress_and_local_tags(
    source: Path, tmp_path: Path, collection: Collection, import_package: ImportPackage
) -> None:
    """v1 -> study and tag -> v2: one edit, one new, one retired; nothing else touched."""
    v1 = build(source, output=tmp_path / "v1.apkg", now=T1)
    assert len(import_package(v1.path).new) == 3
    study(collection, DECK, 2)
    all_notes = list(collection.find_notes(""))
    collection.tags.bulk_add(all_notes, LOCAL_TAG)
    studied = progress(collection)
    assert len(studied) == 2
    card_ids = sorted(collection.find_cards(""))
    untouched = note_id(collection, "list-vs-tuple")
    untouched_mod = collection.get_note(untouched).mod

    release_v2(source)
    # Later than the hand-tagging above, as a real release would be.
    v2 = build(source, output=tmp_path / "v2.apkg", now=int(time.time()) + 60)
    assert v2.release.added == ("while-else",)
    assert v2.release.changed == ("html-in-answer", "for-else")
    log = import_package(v2.path)

    edited, retired = note_id(collection, "for-else"), note_id(collection, "html-in-answer")
    assert (len(log.new), len(log.conflicting)) == (1, 0)
    assert sorted(entry.id.nid for entry in log.updated) == sorted([edited, retired])
    # Anki's log calls a matched note that it left alone a "duplicate".
    assert [entry.id.nid for entry in log.duplicate] == [untouched]
    assert collection.note_count() == 4
    assert sorted(collection.find_cards(""))[:3] == card_ids
    assert progress(collection) == studied
    assert collection.get_note(edited)["Answer"] == (
        "<p>When the loop finishes without hitting <code>break</code>.</p>"
    )
    assert "interview-python-basics::retired" in collection.get_note(retired).tags
    kept = collection.get_note(untouched)
    assert LOCAL_TAG in kept.tags
    assert kept.mod == untouched_mod

    again = import_package(v2.path)
    assert (len(again.new), len(again.updated), len(again.conflicting)) == (0, 0, 0)
    assert len(again.duplicate) == 4
    assert collection.note_count() == 4


def test_without_a_lock_every_release_would_wipe_local_tags(
    source: Path, tmp_path: Path, collection: Collection, import_package: ImportPackage
) -> None:
    """The problem the lock solves, shown: stamping all notes anew drops local tags."""
    v1 = build(source, output=tmp_path / "v1.apkg", now=T1)
    import_package(v1.path)
    collection.tags.bulk_add(list(collection.find_notes("")), LOCAL_TAG)
    v1.lock_path.unlink()  # forget the lock: every note gets the new time
    v2 = build(source, output=tmp_path / "v2.apkg", now=int(time.time()) + 60)
    import_package(v2.path)
    assert all(LOCAL_TAG not in collection.get_note(n).tags for n in collection.find_notes(""))
