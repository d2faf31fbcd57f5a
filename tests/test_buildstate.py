"""deckgen.buildstate: a build that starts from the previous build's state writes exactly the
package and lock that a build from scratch writes."""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from test_rendercache import T, bank, edit_one_answer

import deckgen.build as builder
from deckgen.build import build
from deckgen.buildstate import StateHolder, collection_path, state_path
from deckgen.notes import CopiedNotes, RenderedNote


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("DECKGEN_CACHE_DIR", str(folder))
    return folder


def outputs(source: Path, out: Path, *, now: int, **options: object) -> tuple[bytes, bytes]:
    """Build ``source`` to ``out`` (its lock beside the source) and return package and lock."""
    build(source, output=out, now=now, **options)  # type: ignore[arg-type]
    return out.read_bytes(), source.with_suffix(".lock").read_bytes()


def from_scratch(source: Path, lock: bytes, tmp_path: Path, *, now: int) -> tuple[bytes, bytes]:
    """What a build without any cache or state writes, from the same lock."""
    twin = bank(tmp_path / "twin")
    twin.write_bytes(source.read_bytes())
    twin.with_suffix(".lock").write_bytes(lock)
    return outputs(twin, tmp_path / "twin.apkg", now=now, cache=False)


def built_once(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The FastAPI bank built once: its file, its package and its build state's file."""
    source = bank(tmp_path / "bank")
    out = tmp_path / "out.apkg"
    outputs(source, out, now=T)
    path = state_path(source)
    assert path is not None
    return source, out, path


def no_full_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make a build fail if it reads the whole bank instead of starting from the state."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the bank was checked in full")

    monkeypatch.setattr(builder, "load_indexed", refuse)


def test_a_rebuild_from_the_state_is_a_build_from_scratch(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, out, path = built_once(tmp_path)
    assert path.is_file()
    assert not [p for p in source.parent.rglob("*.cache")]  # outside the bank's folder
    for step in range(3):
        lock = source.with_suffix(".lock").read_bytes()
        edit_one_answer(source)
        now = T + 100 * (step + 1)
        with monkeypatch.context() as patch:
            no_full_check(patch)
            written = record_notes(patch)
            rebuilt = outputs(source, out, now=now)
        assert rebuilt == from_scratch(source, lock, tmp_path, now=now)
        # One note made again; the others' rows copied from the last collection, in runs.
        made = [n for n in written if isinstance(n, RenderedNote)]
        runs = [n for n in written if isinstance(n, CopiedNotes)]
        assert [n.row for n in made] == [None]
        assert 1 <= len(runs) <= 2
        assert sum(run.count for run in runs) == len(lock_notes(lock)) - 1


def record_notes(patch: pytest.MonkeyPatch) -> list[object]:
    """The notes the build gives the package writer, once it has written them."""
    written: list[object] = []
    original = builder.write_package

    def recording(deck: object, notes: Iterable[object], *args: object, **kwargs: object) -> int:
        def passing() -> Iterator[object]:
            for note in notes:
                written.append(note)
                yield note

        return original(deck, passing(), *args, **kwargs)  # type: ignore[arg-type]

    patch.setattr(builder, "write_package", recording)
    return written


def lock_notes(lock: bytes) -> list[str]:
    """The lines of a lock's notes."""
    return [line for line in lock.decode().splitlines() if " = { guid = " in line]


def test_a_question_added_and_a_lock_changed_by_hand(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = bank(tmp_path / "bank")
    out = tmp_path / "out.apkg"
    first_lock = outputs(source, out, now=T)[1]
    text = source.read_text(encoding="utf-8")
    at = text.index("      - id:", len(text) // 2)
    added = "      - id: added-late\n        question: Added?\n        answer: Yes.\n"
    source.write_text(text[:at] + added + text[at:], encoding="utf-8")
    lock = source.with_suffix(".lock").read_bytes()
    with monkeypatch.context() as patch:
        no_full_check(patch)
        rebuilt = outputs(source, out, now=T + 5)
    assert rebuilt == from_scratch(source, lock, tmp_path, now=T + 5)
    # The lock put back as it was (a checkout): not the state's lock, so read from the file.
    source.with_suffix(".lock").write_bytes(first_lock)
    expected = from_scratch(source, first_lock, tmp_path, now=T + 9)
    assert outputs(source, out, now=T + 9) == expected


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],
        lambda data: b"garbage",
        lambda data: data[:100] + bytes(b ^ 0x55 for b in data[100:200]) + data[200:],
        # One character of a question's text changed: still a valid state, but not this one.
        lambda data: data.replace(b"Starlette", b"Starlettx", 1),
    ],
    ids=["truncated", "foreign", "garbled", "one-character"],
)
def test_a_damaged_state_is_not_used(tmp_path: Path, cache_dir: Path, damage: object) -> None:
    source, out, path = built_once(tmp_path)
    lock = source.with_suffix(".lock").read_bytes()
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    assert StateHolder().load(source) is None
    edit_one_answer(source)
    assert outputs(source, out, now=T + 1) == from_scratch(source, lock, tmp_path, now=T + 1)


def _garble(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x55  # one byte of a note's row, say
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage",
    [
        Path.unlink,
        _garble,
        pytest.param(
            lambda path: path.chmod(0o666),
            marks=pytest.mark.skipif(not hasattr(os, "getuid"), reason="file modes are POSIX's"),
        ),
    ],
    ids=["missing", "garbled", "others-may-write"],
)
def test_a_state_without_its_collection_is_not_used(
    tmp_path: Path, cache_dir: Path, damage: object
) -> None:
    """The rows of the notes that did not change are copied from the collection the state
    keeps: a collection that is not the one the state describes is not used, nor the state."""
    source, out, _ = built_once(tmp_path)
    collection = collection_path(source)
    assert collection is not None
    assert collection.is_file()
    state = StateHolder().load(source)
    assert state is not None
    assert state.collection == collection
    assert state.fields == []  # the fields are in the collection, not in the state
    lock = source.with_suffix(".lock").read_bytes()
    damage(collection)  # type: ignore[operator]
    assert StateHolder().load(source) is None
    edit_one_answer(source)
    assert outputs(source, out, now=T + 1) == from_scratch(source, lock, tmp_path, now=T + 1)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="file modes are POSIX's")
def test_a_state_others_may_write_is_not_read(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = bank(tmp_path / "bank")
    outputs(source, tmp_path / "out.apkg", now=T)
    path = state_path(source)
    assert path is not None
    assert StateHolder().load(source) is not None
    path.chmod(0o666)
    assert StateHolder().load(source) is None


def test_a_state_in_memory_for_watch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    """``deckgen watch`` keeps the state in memory, and writes none to the cache folder."""
    source = bank(tmp_path / "bank")
    out = tmp_path / "out.apkg"
    holder = StateHolder(memory=True)
    outputs(source, out, now=T, state=holder)
    assert holder.state is not None
    path = state_path(source)
    assert path is not None
    assert not path.exists()
    lock = source.with_suffix(".lock").read_bytes()
    edit_one_answer(source)
    with monkeypatch.context() as patch:
        no_full_check(patch)
        rebuilt = outputs(source, out, now=T + 3, state=holder)
    assert rebuilt == from_scratch(source, lock, tmp_path, now=T + 3)


def test_an_invalid_edit_is_reported_as_by_a_full_check(tmp_path: Path, cache_dir: Path) -> None:
    from deckgen.errors import SourceError

    source = bank(tmp_path / "bank")
    outputs(source, tmp_path / "out.apkg", now=T)
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace("answer: |", "answer: |\n  oops: [", 1), encoding="utf-8")
    with pytest.raises(SourceError) as found:
        build(source, output=tmp_path / "out.apkg", now=T + 1)
    with pytest.raises(SourceError) as expected:
        build(source, output=tmp_path / "out.apkg", now=T + 1, cache=False)
    assert [str(p) for p in found.value.problems] == [str(p) for p in expected.value.problems]


def test_a_failed_build_leaves_the_last_state_and_no_temporary_file(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deckgen.errors import BuildError

    source, out, path = built_once(tmp_path)
    before = path.read_bytes()
    edit_one_answer(source)

    def broken(*args: object, **kwargs: object) -> int:
        notes = args[1]
        for _ in notes:  # the fields stream into the state's temporary file, then it fails
            pass
        raise BuildError("the disk is full")

    monkeypatch.setattr(builder, "write_package", broken)
    with pytest.raises(BuildError):
        build(source, output=out, now=T + 1)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".tmp-")] == []


def test_a_failed_write_of_the_bank_leaves_no_state_and_the_build_done(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bank's bytes are written into the state on a thread: if that fails (a full
    disk), the package and lock are still written, the last state stays, and no temporary
    file does; the next build is still a build from scratch."""
    from deckgen import buildstate

    source, out, path = built_once(tmp_path)
    before = path.read_bytes()
    edit_one_answer(source)
    lock = source.with_suffix(".lock").read_bytes()
    write = buildstate._FileSink._write

    def failing(self: object, *pieces: bytes) -> None:
        if len(pieces) == 3 and len(pieces[2]) == source.stat().st_size:
            raise OSError("No space left on device")
        write(self, *pieces)  # type: ignore[arg-type]

    monkeypatch.setattr(buildstate._FileSink, "_write", failing)
    assert outputs(source, out, now=T + 1) == from_scratch(source, lock, tmp_path, now=T + 1)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".tmp-")] == []
    monkeypatch.undo()
    lock = source.with_suffix(".lock").read_bytes()
    edit_one_answer(source)
    assert outputs(source, out, now=T + 2) == from_scratch(source, lock, tmp_path, now=T + 2)


def test_an_edit_outside_the_questions_still_renders_nothing_again(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deck's description changed: the bank is checked in full, and every note's fields
    come from the state, matched by what they are rendered from."""
    from deckgen import notes

    source = bank(tmp_path / "bank")
    out = tmp_path / "out.apkg"
    outputs(source, out, now=T)
    lock = source.with_suffix(".lock").read_bytes()
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace("Flashcards for", "Cards for", 1), encoding="utf-8")
    rendered: list[int] = []
    original = notes._render_slice

    def counting(sources: list[object]) -> list[tuple[str, ...]]:
        rendered.append(len(sources))
        return original(sources)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(notes, "_render_slice", counting)
        rebuilt = outputs(source, out, now=T + 7)
    assert sum(rendered) == 0
    assert rebuilt == from_scratch(source, lock, tmp_path, now=T + 7)


def test_rows_the_last_collection_lacks_are_an_error_not_a_wrong_package(
    tmp_path: Path, cache_dir: Path
) -> None:
    from deckgen.errors import BuildError
    from deckgen.package import CollectionFiles, write_package

    source, _, _ = built_once(tmp_path)
    state = StateHolder().load(source)
    assert state is not None
    deck, lock = state.index.deck, state.lock
    count = len(list(deck.questions))
    missing = CopiedNotes(row=1, count=count, cards=count, studied=count)  # no such rows
    with pytest.raises(BuildError, match="not the one it describes"):
        write_package(
            deck,
            [missing],
            tmp_path / "wrong.apkg",
            mods={qid: note.mod for qid, note in lock.notes.items()},
            note_type_mods={kind: t.mod for kind, t in lock.note_types.items()},
            files=CollectionFiles(previous=state.collection),
        )
    assert not (tmp_path / "wrong.apkg").exists()


def test_a_rebuild_replaces_the_changed_lines_of_the_lock(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock the last build wrote gets the edited note's line replaced, not formatted
    whole; a lock rewritten by hand (same notes, another text) is formatted whole, as a
    build from scratch does."""
    source, out, _ = built_once(tmp_path)
    lock_path = source.with_suffix(".lock")
    edit_one_answer(source)
    lock = lock_path.read_bytes()
    with monkeypatch.context() as patch:
        patch.setattr(builder, "format_lock", None)  # any call fails
        rebuilt = outputs(source, out, now=T + 10)
    assert rebuilt == from_scratch(source, lock, tmp_path, now=T + 10)
    hand = lock_path.read_text(encoding="utf-8").replace("[notes]\n", "[notes]\n# by hand\n")
    lock_path.write_text(hand, encoding="utf-8")
    assert outputs(source, out, now=T + 20)[1] == hand.encode()  # the same notes: kept
    edit_one_answer(source)
    rebuilt = outputs(source, out, now=T + 30)
    assert b"# by hand" not in rebuilt[1]
    assert rebuilt == from_scratch(source, hand.encode(), tmp_path, now=T + 30)


def test_a_state_read_from_disk_decodes_texts_when_read(tmp_path: Path, cache_dir: Path) -> None:
    """The questions of a state on disk hold their texts undecoded until one is read; then
    they are the bank's."""
    from deckgen.buildstate import StoredTexts
    from deckgen.checker import load_deck

    source, _, _ = built_once(tmp_path)
    state = StateHolder().load(source)
    assert state is not None
    stored = [q for _, q in state.index.deck.questions]
    assert all(type(q.texts) is StoredTexts and q.texts._texts is None for q in stored)
    fresh = [q for _, q in load_deck(source).questions]
    assert [dict(q.texts) for q in stored] == [dict(q.texts) for q in fresh]
    assert stored == fresh
    # Sent to a render worker, texts travel as a plain dict.
    assert pickle.loads(pickle.dumps(stored[0].texts)) == dict(fresh[0].texts)


def test_a_state_writes_unchanged_questions_as_it_read_them(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Frames of questions an edit did not touch are written again as they were read (not
    made again), and the state they make is the bank's, edit after edit."""
    from deckgen import buildstate
    from deckgen.checker import load_deck

    monkeypatch.setattr(buildstate, "_QUESTIONS_FRAME", 10)  # 73 questions: 8 frames
    source, out, _ = built_once(tmp_path)
    made: list[int] = []
    rows = buildstate._question_rows

    def counting(questions: list[object]) -> object:
        made.append(len(questions))
        return rows(questions)  # type: ignore[arg-type]

    monkeypatch.setattr(buildstate, "_question_rows", counting)
    for step in range(3):
        lock = source.with_suffix(".lock").read_bytes()
        edit_one_answer(source)
        made.clear()
        rebuilt = outputs(source, out, now=T + 10 * (step + 1))
        assert rebuilt == from_scratch(source, lock, tmp_path, now=T + 10 * (step + 1))
        assert made == [10]  # the edited question's frame only
        state = StateHolder().load(source)
        assert state is not None
        assert [q for _, q in state.index.deck.questions] == [
            q for _, q in load_deck(source).questions
        ]
    text = source.read_text(encoding="utf-8")
    at = text.index("      - id:", len(text) // 2)
    added = "      - id: added-late\n        question: Added?\n        answer: Yes.\n"
    source.write_text(text[:at] + added + text[at:], encoding="utf-8")
    made.clear()
    outputs(source, out, now=T + 50)
    assert len(made) > 1  # the frames after the added question hold other questions
    state = StateHolder().load(source)
    assert state is not None
    assert [q for _, q in state.index.deck.questions] == [q for _, q in load_deck(source).questions]


def test_a_state_read_ahead_is_the_state(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`deckgen build` starts reading the state's files before it imports the builder
    (statefiles.Prefetch): what the build takes from there is the state it would read, and
    a read-ahead of another bank's files is not taken for this one."""
    from click.testing import CliRunner

    from deckgen import statefiles
    from deckgen.cli import main

    source, out, _ = built_once(tmp_path)
    other, _, _ = built_once(tmp_path / "other")
    plain = StateHolder().load(source)
    early = statefiles.Prefetch.start(source)
    assert early is not None
    ahead = StateHolder(prefetched=early).load(source)
    assert plain is not None
    assert ahead is not None
    assert (ahead.index.deck, ahead.lock, ahead.heads) == (
        plain.index.deck,
        plain.lock,
        plain.heads,
    )
    wrong = StateHolder(prefetched=statefiles.Prefetch.start(other)).load(source)
    assert wrong is not None
    assert wrong.source == str(source.resolve())
    assert statefiles.Prefetch.start(tmp_path) is None  # a folder: no state to read
    taken: list[Path] = []
    result = statefiles.Prefetch.result

    def recording(self: statefiles.Prefetch) -> object:
        taken.append(self.path)
        return result(self)

    monkeypatch.setattr(statefiles.Prefetch, "result", recording)
    lock = source.with_suffix(".lock").read_bytes()
    edit_one_answer(source)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T + 7))
    with monkeypatch.context() as patch:
        no_full_check(patch)
        done = CliRunner().invoke(main, ["build", str(source), "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert taken == [state_path(source)]
    rebuilt = (out.read_bytes(), source.with_suffix(".lock").read_bytes())
    assert rebuilt == from_scratch(source, lock, tmp_path, now=T + 7)


def test_a_collection_replaced_during_the_build_is_not_read(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another build of the bank may put its collection in the cache while this one runs:
    rows and chunks are never read from a file other than the one the state checked. The
    build stops with a located error and writes nothing; the next one is right."""
    import shutil

    from deckgen.errors import BuildError

    source, out, _ = built_once(tmp_path)
    collection = collection_path(source)
    assert collection is not None
    state = StateHolder().load(source)
    assert state is not None
    assert state.fields_of(0) is not None

    def replace(path: Path) -> None:
        """Another file, with the same bytes, put at ``path`` as a build does (a rename)."""
        shutil.copy(path, path.with_name(".tmp-other"))
        os.replace(path.with_name(".tmp-other"), path)

    replace(collection)
    assert state.fields_of(0) is None  # not the file the state checked
    edit_one_answer(source)
    lock = source.with_suffix(".lock").read_bytes()
    package = out.read_bytes()
    original = builder.write_package

    def racing(*args: object, **kwargs: object) -> int:
        replace(collection)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(builder, "write_package", racing)
        with pytest.raises(BuildError, match="replaced while this build read it"):
            build(source, output=out, now=T + 1)
    assert (out.read_bytes(), source.with_suffix(".lock").read_bytes()) == (package, lock)
    assert outputs(source, out, now=T + 2) == from_scratch(source, lock, tmp_path, now=T + 2)
