"""Render: a validated deck to the notes a release holds, with their cards and a hash of
the source each comes from.

This is the first step of a build (render, then plan the release, then write an output);
nothing after it reads the source again. Large decks are rendered by worker processes,
with the same result, note for note, as one process.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

import genanki

from deckgen.errors import BuildError
from deckgen.model import Deck, Question, Topic
from deckgen.notetypes import KINDS, Field, NoteKind
from deckgen.render import RENDER_VERSION, Renderer, escape


@dataclass(frozen=True)
class RenderedNote:
    """One note as it goes into a release: rendered fields in its kind's field order."""

    question_id: str
    guid: str
    kind: NoteKind
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    content: str  # a hash of the source of this note: what the lock compares
    ordinals: tuple[int, ...]  # the card templates it makes cards of
    retired: bool = False


def note_guid(deck_id: int, question_id: str) -> str:
    """The GUID of a question's note: a function of the deck id and question id only."""
    return str(genanki.guid_for(deck_id, question_id))


def source_hash(kind: str, texts: Sequence[tuple[str, str]], tags: Sequence[str]) -> str:
    """A short, stable hash of what a note is made from: its kind, its texts as written (the
    topic's name included) and its tags. It does not depend on the Markdown or highlighting
    library, so other library versions do not make a note look changed."""
    parts = [f"deckgen-html-{RENDER_VERSION}", kind, " ".join(tags)]
    parts += [f"{key}\x1e{text}" for key, text in texts]
    # Neither separator can occur in validated text or tags.
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


Progress = Callable[[int, int], None]


def make_notes(
    deck: Deck, *, jobs: int | None = None, progress: Progress | None = None
) -> list[RenderedNote]:
    """Render every question of ``deck`` into a note, calling ``progress(done, total)`` as
    slices of questions are done. ``jobs`` processes render large decks (default: one per
    CPU this process may use, at most 8)."""
    pairs = list(deck.questions)
    jobs = _jobs(len(pairs)) if jobs is None else jobs
    fields: list[tuple[str, ...]] = []
    chunks = _render_in_parallel(pairs, jobs) if jobs > 1 else _render_here(pairs)
    for chunk in chunks:
        fields += chunk
        if progress is not None:
            progress(len(fields), len(pairs))
    notes = []
    for (topic, q), note_fields in zip(pairs, fields, strict=True):
        tags = deck.note_tags(topic, q)
        media = {f"media:{url}": file.sha256 for url, file in q.media.items()}
        texts = sorted({**q.texts, "topic": topic.name, **media}.items())
        kind = KINDS[q.kind]
        notes.append(
            RenderedNote(
                q.id,
                note_guid(deck.id, q.id),
                kind,
                note_fields,
                tags,
                source_hash(q.kind, texts, tags),
                kind.ordinals(q.texts),
                q.retired,
            )
        )
    return notes


def render_fields(
    kind: NoteKind, topic: Topic, question: Question, renderer: Renderer
) -> tuple[str, ...]:
    """A question's fields as HTML, in its kind's field order, with media references
    pointing at the files' packed names."""
    media = {url: file.name for url, file in question.media.items()} or None
    fields = []
    for field in kind.fields:
        text = question.texts.get(field.source)
        if field.style is Field.TOPIC:
            fields.append(escape(topic.name))
        elif field.style is Field.ID:
            fields.append(question.id)
        elif not text:
            fields.append("")
        elif field.style is Field.INLINE:
            fields.append(renderer.inline(text, media=media))
        elif field.style is Field.PLAIN:
            fields.append(escape(text))
        else:
            fields.append(renderer.block(text, cloze=field.style is Field.CLOZE, media=media))
    return tuple(fields)


PARALLEL_MIN_QUESTIONS = 2_000
_SLICE = 1_000
# Set just before a fork so the workers inherit the questions instead of unpickling them.
_fork_work: list[tuple[Topic, Question]] = []


def available_cpus() -> int:
    """The CPUs this process may run on: its affinity, capped by a cgroup CPU quota (as a
    CI runner's container has), not the machine's count."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max", encoding="ascii") as f:
            quota, period = f.read().split()
        if quota != "max":
            cpus = min(cpus, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return cpus


def _jobs(questions: int) -> int:
    if questions < PARALLEL_MIN_QUESTIONS or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return min(available_cpus(), 8)


def _render_slice(bounds: tuple[int, int]) -> list[tuple[str, ...]]:
    return _render_pairs(_fork_work[bounds[0] : bounds[1]])


def _render_pairs(pairs: Sequence[tuple[Topic, Question]]) -> list[tuple[str, ...]]:
    renderer = Renderer()
    return [render_fields(KINDS[q.kind], topic, q, renderer) for topic, q in pairs]


def _slices(count: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(start + size, count)) for start in range(0, count, size)]


def _render_here(pairs: list[tuple[Topic, Question]]) -> Iterator[list[tuple[str, ...]]]:
    for start, stop in _slices(len(pairs), _SLICE):
        yield _render_pairs(pairs[start:stop])


def _render_in_parallel(
    pairs: list[tuple[Topic, Question]], jobs: int
) -> Iterator[list[tuple[str, ...]]]:
    """Fork ``jobs`` workers, each rendering every ``jobs``-th slice and sending the results
    back on its own pipe; yield the slices in order. The pool is deckgen's own (no threads,
    no queues) so that a dead worker is seen at once, as its process sentinel fires, and an
    interrupted build stops every worker before it returns."""
    global _fork_work
    # A few slices per process even out the load.
    slices = _slices(len(pairs), -(-len(pairs) // (jobs * 4)))
    context = multiprocessing.get_context("fork")
    workers: list[tuple[Connection, BaseProcess]] = []
    _fork_work = pairs
    try:
        for number in range(jobs):
            receiver, sender = context.Pipe(duplex=False)
            process: BaseProcess = context.Process(
                target=_worker, args=(sender, slices[number::jobs])
            )
            process.start()
            sender.close()  # the worker holds the only sending end: EOF means it is gone
            workers.append((receiver, process))
        _fork_work = []
        for index, bounds in enumerate(slices):
            receiver, process = workers[index % jobs]
            status, value = _receive(receiver, process)
            if status != "ok":
                first, last = pairs[bounds[0]][1], pairs[bounds[1] - 1][1]
                raise BuildError(
                    f"rendering failed ({value}) in the questions from {first.id!r} "
                    f"(line {first.line}) to {last.id!r} (line {last.line}); nothing was written"
                )
            yield value
    finally:
        _fork_work = []
        for _, process in workers:
            if process.is_alive():
                process.terminate()
        for receiver, process in workers:
            process.join(timeout=5)
            receiver.close()


def _receive(receiver: Connection, process: BaseProcess) -> tuple[str, Any]:
    """The next message of one worker, or why there is none."""
    wait([receiver, process.sentinel])
    if receiver.poll():
        try:
            message: tuple[str, Any] = receiver.recv()
            return message
        except EOFError:
            pass
    process.join(timeout=5)
    code = process.exitcode
    how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit {code}"
    return "died", f"a render worker died: {how}"


def _worker(sender: Connection, slices: list[tuple[int, int]]) -> None:
    # Ctrl-C reaches the whole process group: only the parent handles it, and stops the
    # workers itself. SIGTERM ends a worker at once, without a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for bounds in slices:
        try:
            sender.send(("ok", _render_slice(bounds)))
        except Exception as e:  # reported by the parent, with the questions' location
            sender.send(("error", f"{type(e).__name__}: {e}"))
            return
