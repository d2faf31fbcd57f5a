"""A source and its lock to a release: the .apkg, and the lock brought up to date."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from deckgen.buildstate import (
    MAX_STATE_QUESTIONS,
    BuildState,
    StateHolder,
    code_salt,
    lock_digest,
)
from deckgen.checker import cyclic_gc_paused, load_indexed
from deckgen.errors import KindChangeError, LockError, NoteTypeChangeError, shown_path
from deckgen.fileio import check_paths, transaction
from deckgen.incremental import BankIndex, Edit
from deckgen.limits import parse_epoch
from deckgen.lock import (
    Lock,
    NoteContent,
    Release,
    format_lock,
    format_lock_again,
    lock_path_for,
    plan_release,
)
from deckgen.model import Deck
from deckgen.notes import (
    PARALLEL_MIN_QUESTIONS,
    CopiedNotes,
    EarlyRender,
    Progress,
    RenderedNote,
    iter_notes,
    note_heads,
    start_pool,
)
from deckgen.notetypes import KINDS
from deckgen.package import (
    CollectionFiles,
    first_note_id,
    head_key,
    note_type_state,
    write_package,
)
from deckgen.render import renderer_versions
from deckgen.rendercache import open_cache
from deckgen.reuse import (
    Known,
    check_again,
    heads_again,
    known_again,
    known_by_source,
    read_lock_again,
    same_rows,
)
from deckgen.statefiles import where
from deckgen.zipwriter import DeflateChunks


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote, and how it compares with the previous release."""

    path: Path
    size: int
    lock_path: Path
    lock_written: bool
    deck: Deck
    release: Release
    cards: int = 0  # cards of the notes that are studied (retired ones not counted)
    migrated_from: int | None = None  # the version of an older lock that was migrated


def release_time() -> int:
    """The ``mod`` for notes that changed: SOURCE_DATE_EPOCH if set, else the next second.

    The next second, not this one: Anki updates a note only when the incoming ``mod`` is
    strictly newer, and a note edited in Anki earlier in the same second would tie.
    """
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return int(time.time()) + 1
    return parse_epoch(value)


def default_output(deck: Deck) -> Path:
    """``dist/<deck-name-slug>.apkg``."""
    return Path("dist") / f"{deck.slug}.apkg"


def build(
    source: Path,
    *,
    output: Path | None = None,
    name: str | None = None,
    lock_path: Path | None = None,
    locked: bool = False,
    allow_note_type_change: bool = False,
    now: int,
    progress: Progress | None = None,
    cache: bool = True,
    state: StateHolder | None = None,
) -> BuildResult:
    """Validate ``source``, write its .apkg and update its lock, together or not at all.

    With ``locked``, the lock is used as it is: any difference between it and the source is
    a :class:`LockError` and nothing is written. Nothing is written either when the source
    is invalid, when a question changed its kind, or when a note type's structure changed
    without ``allow_note_type_change``. ``progress(done, total)`` is called as questions are
    rendered. ``cache`` uses the render cache (see :mod:`deckgen.rendercache`) and the
    previous build's state (see :mod:`deckgen.buildstate`), from ``state`` or, by default,
    the cache folder.
    """
    holder = (state or StateHolder()) if cache else None
    estimate = _questions_in(source)
    # A one-file bank keeps a build state (its notes' fields included) rather than the
    # render cache; a folder bank, or one too large for a state, keeps the render cache.
    stateful = (
        holder is not None
        and holder.can_keep(source)
        and not source.is_dir()
        and estimate <= MAX_STATE_QUESTIONS
    )
    with cyclic_gc_paused(), contextlib.ExitStack() as stack:
        previous = holder.load(source) if holder is not None and stateful else None
        again = check_again(source, previous, name) if previous is not None else None
        render_cache = pool = early = None
        index: BankIndex | None
        edit: Edit | None = None
        if again is not None:  # a small edit of the bank of the previous build
            index, edit = again
            deck = index.deck
            warm = True
        else:
            render_cache = open_cache(source) if cache and not stateful else None
            if render_cache is not None:
                stack.callback(render_cache.close)
            # Workers are forked before the bank is read, while this process is small: a
            # fork later would count the whole bank again in every worker's memory. With the
            # notes of a previous build in the cache or the state, few are rendered: workers
            # are forked then only if many are.
            warm = previous is not None or (render_cache is not None and render_cache.is_warm())
            pool = None if warm else start_pool(estimate)
            if pool is not None:
                stack.callback(pool.close)
            # The workers render the first topics while the rest are still being checked.
            early = EarlyRender(pool, questions=estimate) if pool is not None else None
            on_topic = early.topic if early else None
            deck, index = load_indexed(source, name=name, on_topic=on_topic, index=stateful)
            if pool is not None and deck_size(deck) < PARALLEL_MIN_QUESTIONS:
                pool.close()  # fewer questions than its size suggested: one process is faster
                pool = early = None
        lock_path = lock_path or lock_path_for(source)
        output = output or default_output(deck)
        check_paths(reads=_source_files(source, deck), writes={"lock": lock_path, "output": output})
        old, old_digest, old_text = read_lock_again(lock_path, previous)
        known: Known | None = None
        if previous is not None and edit is not None:
            heads = heads_again(deck, previous, edit=edit)
            known = known_again(previous, deck, edit)
        else:
            heads = note_heads(deck)
            # Checked in full (an edit the state could not vouch for): the state still
            # serves every note that renders as it did.
            known = known_by_source(previous, deck) if previous is not None else None
        contents = [
            NoteContent(h.question_id, h.guid, h.kind.name, h.content, h.retired) for h in heads
        ]
        kinds = sorted({h.kind.name for h in heads})
        types = {kind: note_type_state(KINDS[kind]) for kind in kinds}
        release = plan_release(old, contents, types, now=now, renderer=renderer_versions())
        if locked:
            _check_locked(release, old, lock_path)
        if release.kind_changed:
            raise KindChangeError(_kind_message(release, lock_path))
        if old is not None and release.structure_changed and not allow_note_type_change:
            raise NoteTypeChangeError(_structure_message(old, release, lock_path))
        if known is not None and previous is not None:
            same_rows(known, previous, heads, release.lock)
        lock_written = old != release.lock or old.version != release.lock.version
        cards = 0
        keep = stateful and index is not None and len(heads) <= MAX_STATE_QUESTIONS
        # The package's compressed pages: those of the previous build that did not change
        # are not compressed again.
        chunks = sink = None
        if keep and holder is not None:
            chunks = DeflateChunks() if previous is None else previous.deflate_chunks()
            sink = holder.start(source)
            stack.callback(sink.discard)  # unless finished
            assert index is not None
            sink.begin(index)

        def counted(
            notes: Iterator[RenderedNote | CopiedNotes],
        ) -> Iterator[RenderedNote | CopiedNotes]:
            nonlocal cards
            for note in notes:
                if isinstance(note, CopiedNotes):
                    cards += note.studied
                else:
                    cards += 0 if note.retired else len(note.ordinals)
                    if sink is not None:
                        sink.add(note.fields)
                yield note

        notes = iter_notes(
            deck,
            heads=heads,
            pool=pool,
            progress=progress,
            cache=render_cache,
            late_pool=warm,
            early=early,
            known=known.fields if known else None,
            rows=known.rows if known else None,
            same=known.same if known else None,
        )
        mods = {qid: note.mod for qid, note in release.lock.notes.items()}
        note_type_mods = {k: t.mod for k, t in release.lock.note_types.items()}
        # The previous collection: the rows of the notes that did not change and, if the
        # deck and note types did not either, all that comes before the notes.
        head = head_key(deck, kinds, note_type_mods)
        files = CollectionFiles(keep=sink.collection() if sink is not None else None)
        if previous is not None and previous.collection is not None:
            files.previous = previous.collection
            files.previous_identity = previous.collection_identity
            files.head = previous.head if previous.head_key == head else None
        with transaction() as staged:
            # The lock first: if the process is killed between the two renames, the next
            # build finds the lock that describes the source and writes the same package.
            lock_tmp = staged.stage(lock_path) if lock_written else None
            package_tmp = staged.stage(output)
            if lock_tmp is not None:
                subject = _lock_subject(source)
                text = None
                if old is not None and old_text is not None:  # a few lines change
                    text = format_lock_again(
                        release.lock, old=old, old_text=old_text, source_name=subject
                    )
                if text is None:
                    text = format_lock(release.lock, source_name=subject).encode()
                lock_tmp.write_bytes(text)
                old_digest = lock_digest(text)
            size = write_package(
                deck,
                counted(notes),
                package_tmp,
                mods=mods,
                note_type_mods=note_type_mods,
                media={f.name: f.path for _, q in deck.questions for f in q.media.values()},
                chunks=chunks,
                files=files,
            )
            staged.commit()
        if render_cache is not None:
            render_cache.commit()
        if sink is not None and index is not None and old_digest is not None:
            kept = BuildState(
                code_salt(),
                where(source),
                index,
                heads,
                [],  # the sink has them
                old_digest,
                release.lock,
                chunks if chunks is not None else DeflateChunks(),
                first_note_id(mods, note_type_mods),
                files.kept_check,
                head_key=head,
                head=files.kept_head or files.head or b"",
                # The lock file as format_lock writes it: written now, or left as the last
                # build wrote it.
                lock_formatted=lock_written or old_text is not None,
                # Those of the questions the edit left are written as they were read.
                frames=previous.frames if previous is not None else [],
            )
            sink.finish(kept)
        elif holder is not None:
            holder.forget(source)  # the last state no longer describes the bank
        migrated = old.version if old is not None and old.version != release.lock.version else None
        return BuildResult(output, size, lock_path, lock_written, deck, release, cards, migrated)


def deck_size(deck: Deck) -> int:
    """How many questions a deck holds, retired ones included."""
    return sum(len(topic.questions) for topic in deck.topics)


def _source_files(source: Path, deck: Deck) -> dict[str, Path]:
    """The files a build reads, by how a clash with an output names them."""
    if not source.is_dir():
        return {"source": source}
    return {f"source {path.relative_to(source).as_posix()}": path for path in deck.sources}


def _lock_subject(source: Path) -> str:
    """What the lock's first line says it locks."""
    if source.is_dir():
        return "this folder's bank"
    return shown_path(source.name)


def _questions_in(source: Path) -> int:
    """A guess at a bank's questions from its size, before it is read: what decides whether
    workers are forked (a bank of the benchmark's shapes has 1-2 KB a question)."""
    try:
        if source.is_dir():
            return sum(path.stat().st_size for path in source.rglob("*.yaml")) // 1_000
        return os.stat(source).st_size // 1_000
    except OSError:
        return 0


def _check_locked(release: Release, old: Lock | None, lock_path: Path) -> None:
    if old is None:
        raise LockError(
            f"{lock_path} does not exist; run 'deckgen build' without --locked to create it"
        )
    if old.version != release.lock.version:
        raise LockError(
            f"{lock_path} is a version {old.version} lock; run 'deckgen build' once without "
            "--locked to migrate it (every note keeps its modification time) and commit it"
        )
    if release.up_to_date:
        return
    details = [
        f"{label}: {', '.join(ids)}"
        for label, ids in (
            ("added", release.added),
            ("changed", release.changed),
            ("removed", release.removed),
            ("kind changed", [qid for qid, _, _ in release.kind_changed]),
        )
        if ids
    ]
    if release.style_changed or release.structure_changed:
        kinds = sorted({*release.style_changed, *release.structure_changed})
        details.append(f"note type changed: {', '.join(kinds)}")
    raise LockError(
        f"{lock_path} is out of date ({'; '.join(details)}); "
        "run 'deckgen build' without --locked and commit the updated lock"
    )


def _kind_message(release: Release, lock_path: Path) -> str:
    changes = ", ".join(f"{qid!r} from {old} to {new}" for qid, old, new in release.kind_changed)
    return (
        f"a question changed its kind since {lock_path} was written: {changes}. Anki cannot "
        "move an existing note to another note type: users who have the note would keep the "
        "old card and never get the new one. Give the question a new id (a new note) and keep "
        "the old one with 'retired: true'"
    )


def _structure_message(old: Lock, release: Release, lock_path: Path) -> str:
    def describe(kind: str, lock: Lock) -> str:
        t = lock.note_types[kind]
        return f"id {t.id}, fields {list(t.fields)}, templates {list(t.templates)}"

    changes = "; ".join(
        f"{kind}: was {describe(kind, old)}, now {describe(kind, release.lock)}"
        for kind in release.structure_changed
    )
    return (
        f"a note type changed its structure since {lock_path} was written ({changes}). "
        "Anki would add a copy of the note type and leave every existing note un-updated, "
        "unless users import this release with 'Merge note types'. Pass "
        "--allow-note-type-change to build it anyway, and tell users to import with that option"
    )
