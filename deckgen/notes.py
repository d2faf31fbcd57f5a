"""Render: a validated deck to the notes a release holds, with their cards and a hash of
the source each comes from.

This is the first step of a build (render, then plan the release, then write an output);
nothing after it reads the source again. Large decks are rendered by worker processes,
with the same result, note for note, as one process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from deckgen.errors import BuildError
from deckgen.model import Deck, Question, Topic
from deckgen.notetypes import KINDS, Field, NoteKind
from deckgen.render import RENDER_VERSION, Renderer, escape
from deckgen.renderpool import RenderPool, WorkerDied, available_cpus, can_fork

if TYPE_CHECKING:
    from deckgen.rendercache import RenderCache


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
    # The id of the note's row in the previous build's collection, which has its fields
    # (``fields`` is then empty): see :func:`deckgen.package.write_package`.
    row: int | None = None


@dataclass(frozen=True)
class CopiedNotes:
    """``count`` notes that the previous build wrote one after the other, from the one with
    id ``row``, and that this build writes the same, row for row, but for their place: the
    package copies their rows, and their cards', from the previous build's collection."""

    row: int
    count: int
    cards: int  # the cards they make
    studied: int  # of those, the cards of notes that are not retired


def note_guid(deck_id: int, question_id: str) -> str:
    """The GUID of a question's note: a function of the deck id and question id only;
    genanki's ``guid_for(deck_id, question_id)``, computed in fewer steps."""
    digest = hashlib.sha256(f"{deck_id}__{question_id}".encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    pairs = []  # base-91 digits two at a time, least significant first
    while number:
        number, pair = divmod(number, 91 * 91)
        pairs.append(_PAIRS[pair])
    # The most significant pair may start with a zero digit ("a"), which is not written.
    return "".join(reversed(pairs)).removeprefix("a")


# Anki's alphabet for GUIDs (genanki's BASE91_TABLE: tests/test_package.py compares them).
_BASE91 = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
)
_PAIRS = [high + low for high in _BASE91 for low in _BASE91]  # two digits, by their value


def source_hash(kind: str, texts: Sequence[tuple[str, str]], tags: Sequence[str]) -> str:
    """A short, stable hash of what a note is made from: its kind, its texts as written (the
    topic's name included) and its tags. It does not depend on the Markdown or highlighting
    library, so other library versions do not make a note look changed."""
    parts = [f"deckgen-html-{RENDER_VERSION}", kind, " ".join(tags)]
    parts += [f"{key}\x1e{text}" for key, text in texts]
    # Neither separator can occur in validated text or tags.
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


Progress = Callable[[int, int], None]
# What a render worker needs of one question: its kind, the topic's name, its id, its texts
# and the packed name of each media file it refers to. Plain data: cheap to send.
Source = tuple[str, str, str, Mapping[str, str], Mapping[str, str] | None]


def make_notes(
    deck: Deck,
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
    known: Sequence[tuple[str, ...]] | None = None,
) -> list[RenderedNote]:
    """Render every question of ``deck`` into a note, calling ``progress(done, total)`` as
    slices of questions are done. ``jobs`` processes render large decks (default: one per
    CPU this process may use, at most 8). ``known`` has every note's fields, in order, when
    a build of this very deck has just rendered them."""
    found = dict(enumerate(known)) if known is not None else None
    pool = None
    if found is None:
        pool = start_pool(sum(len(t.questions) for t in deck.topics), jobs=jobs)
    try:
        notes = iter_notes(deck, pool=pool, progress=progress, known=found)
        return [note for note in notes if isinstance(note, RenderedNote)]  # no copies: all
    finally:
        if pool is not None:
            pool.close()


def start_pool(questions: int, *, jobs: int | None = None) -> RenderPool | None:
    """Fork the render workers for a bank of about ``questions`` questions, or ``None`` when
    the parent alone renders faster (a small bank, one CPU, no fork). ``jobs`` counts the
    parent: 2 is the parent and one worker."""
    if jobs is None:
        jobs = 1 if questions < PARALLEL_MIN_QUESTIONS else min(available_cpus(), 8)
    if jobs <= 1 or not can_fork():
        return None
    import deckgen.render.code  # noqa: F401  Pygments, imported once for every worker

    return RenderPool(jobs - 1, _render_slice)


class NoteHead(NamedTuple):
    """What a note is before it is rendered: enough to lock it."""

    question_id: str
    guid: str
    kind: NoteKind
    tags: tuple[str, ...]
    content: str  # source_hash() of the note
    retired: bool


def note_heads(deck: Deck) -> list[NoteHead]:
    """The head of every note of ``deck``, in source order, from the source alone."""
    heads = []
    for topic in deck.topics:
        # Most questions of a topic have the same tags (the deck's and the topic's).
        tags: dict[tuple[tuple[str, ...], bool], tuple[str, ...]] = {}
        for q in topic.questions:
            key = (q.tags, q.retired)
            found = tags.get(key)
            if found is None:
                found = tags[key] = deck.note_tags(topic, q)
            heads.append(note_head(deck, topic, q, tags=found))
    return heads


def note_head(
    deck: Deck, topic: Topic, q: Question, *, tags: tuple[str, ...] | None = None
) -> NoteHead:
    """The head of the note of question ``q`` of ``topic`` in ``deck``; ``tags`` are its
    tags, if the caller has them."""
    tags = deck.note_tags(topic, q) if tags is None else tags
    media = {f"media:{url}": file.sha256 for url, file in q.media.items()}
    texts = sorted({**q.texts, "topic": topic.name, **media}.items())
    content = source_hash(q.kind, texts, tags)
    return NoteHead(q.id, note_guid(deck.id, q.id), KINDS[q.kind], tags, content, q.retired)


class EarlyRender:
    """Slices of a bank's first questions sent to the workers while the bank is still being
    checked, topic by topic: until then, a build's workers have nothing to do. The slices
    waiting for a worker are enough to keep it busy while this process ends the check and
    plans the release (which takes longer the larger the bank: an eighth of the bank's
    questions may wait). No more than half the bank is sent, so that this process has some
    left to render while the workers are on those. :func:`iter_notes` takes the results."""

    def __init__(self, pool: RenderPool, *, questions: int) -> None:
        self.pool = pool
        # ``questions`` is a guess at the bank's size, from its file's.
        self.limit = questions // 2
        self.ahead = max(_EARLY_AHEAD, questions // (8 * _EARLY_SLICE))  # slices waiting
        self.sources: list[Source] = []  # every question seen, in order
        self.end = 0  # the questions before it are sent
        self.slices: list[tuple[int, int, int]] = []  # (first, past-last question, ticket)
        self.stopped = False

    def topic(self, topic: Topic) -> None:
        """Take a topic that has just been checked."""
        self.sources += [render_source(topic, q) for q in topic.questions]
        if self.stopped:
            return
        try:
            self.pool.collect(block=False)
            while (
                len(self.sources) - self.end >= _EARLY_SLICE
                and self.end + _EARLY_SLICE <= self.limit
                and self.pool.has_room(self.ahead)
            ):
                start, self.end = self.end, self.end + _EARLY_SLICE
                ticket = self.pool.submit(self.sources[start : self.end], (start, self.end - 1))
                self.slices.append((start, self.end, ticket))
        except WorkerDied:  # reported when its slice's notes are wanted
            self.stopped = True


def iter_notes(
    deck: Deck,
    *,
    heads: Sequence[NoteHead] | None = None,
    pool: RenderPool | None = None,
    progress: Progress | None = None,
    cache: RenderCache | None = None,
    late_pool: bool = False,
    early: EarlyRender | None = None,
    known: Mapping[int, tuple[str, ...]] | None = None,
    rows: Mapping[int, int] | None = None,
    same: Mapping[int, int] | None = None,
) -> Iterator[RenderedNote | CopiedNotes]:
    """The notes of ``deck`` in source order, rendered as they are needed: by ``pool``'s
    workers and this process, or found in ``cache`` (which is given every note, to keep).
    ``heads`` are :func:`note_heads` of the deck, if the caller has them. With
    ``late_pool`` and no ``pool``, workers are forked if many notes are not in the cache.
    ``early`` holds slices the workers were given while the deck was being checked.
    ``known`` has the fields of notes, by index, that a previous build rendered; ``rows``
    the ids, by index, of notes whose fields the package copies from the previous build's
    collection (they come without fields); ``same`` those of notes whose rows and cards are
    the previous build's but for their place (they come as runs, :class:`CopiedNotes`)."""
    rows, same = rows or {}, same or {}
    pairs = list(deck.questions)
    heads = note_heads(deck) if heads is None else heads
    # Every note's source if the early slices or the cache need them; else only those of
    # the notes rendered are made (a rebuild renders few).
    sources: list[Source] = []
    if early is not None or cache is not None:
        sources = [render_source(topic, q) for topic, q in pairs]

    def source(index: int) -> Source:
        return sources[index] if sources else render_source(*pairs[index])

    # The early slices count if they are of this very deck (the checker that gave them may
    # have given up on the bank, and the full checker read it again).
    early_end = 0
    if (
        early is not None
        and early.pool is pool
        and early.sources[: early.end] == sources[: early.end]
    ):
        early_end = early.end
    keys = cache.keys(sources) if cache is not None else []
    cached = cache.get_many(keys) if cache is not None else {}
    # An entry of the wrong shape (a damaged cache) is rendered again.
    cached = {i: f for i, f in cached.items() if len(f) == len(heads[i].kind.fields)}
    cached.update(known or {})
    missing = [
        i
        for i in range(early_end, len(pairs))
        if i not in cached and i not in rows and i not in same
    ]
    bounds = _slices(len(missing), _processes(pool))
    work = [[source(i) for i in missing[a:b]] for a, b in bounds]
    labels = [(missing[a], missing[b - 1]) for a, b in bounds]
    if pool is None and late_pool:
        pool = start_pool(len(missing))
        if pool is not None:
            try:
                yield from iter_notes(
                    deck,
                    heads=heads,
                    pool=pool,
                    progress=progress,
                    cache=cache,
                    known=known,
                    rows=rows,
                    same=same,
                )
            finally:
                pool.close()
            return
    # The early slices come first, as slices the workers already have: while it waits for
    # them, this process renders the slices after them.
    sent: dict[int, int] = {}
    if early_end:
        assert early is not None
        sent = {n: ticket for n, (_, _, ticket) in enumerate(early.slices)}
        work[:0] = [early.sources[a:b] for a, b, _ in early.slices]
        labels[:0] = [(a, b - 1) for a, b, _ in early.slices]
    rendered = pool.map(work, labels, sent=sent) if pool is not None else map(_render_slice, work)
    fresh: list[tuple[str, ...]] = []
    taken = 0  # of fresh
    try:
        if len(heads) != len(pairs):
            raise ValueError(f"{len(heads)} heads for {len(pairs)} questions")
        total, done = len(pairs), 0
        while done < total:
            start = done
            first = same.get(done) if done >= early_end else None
            if first is not None:
                # Copied whole, as long as the rows follow on in the previous collection.
                cards = studied = 0
                while done < total and same.get(done) == first + 2 * (done - start):
                    (_, q), head = pairs[done], heads[done]
                    made = len(head.kind.ordinals(q.texts))
                    cards += made
                    studied += 0 if head.retired else made
                    done += 1
                yield CopiedNotes(first, done - start, cards, studied)
            else:
                (_, q), head = pairs[done], heads[done]
                done += 1
                row = rows.get(done - 1) if done > early_end else None
                fields = None if done <= early_end else cached.get(done - 1)
                if row is not None:
                    fields = ()
                if fields is None:
                    if taken == len(fresh):
                        fresh = next(rendered)
                        taken = 0
                    fields = fresh[taken]
                    taken += 1
                if cache is not None and row is None:
                    cache.add(keys[done - 1], fields)
                yield RenderedNote(
                    head.question_id,
                    head.guid,
                    head.kind,
                    fields,
                    head.tags,
                    head.content,
                    head.kind.ordinals(q.texts),
                    head.retired,
                    row,
                )
            if progress is not None and (
                done // _SLICE_PROGRESS > start // _SLICE_PROGRESS or done == total
            ):
                progress(done, total)
    except WorkerDied as e:
        raise _render_error(e, pairs) from None


PARALLEL_MIN_QUESTIONS = 2_000
_MIN_SLICE, _MAX_SLICE = 50, 1_000
_EARLY_SLICE = 250  # questions: small enough that the workers start soon
_EARLY_AHEAD = 10  # slices waiting per worker, at least
_SLICE_PROGRESS = 500


def _slices(count: int, processes: int) -> list[tuple[int, int]]:
    """The bounds of the slices ``count`` questions are rendered in by ``processes``: each
    a share of those left, so that they get smaller towards the end, when a process that
    takes a slice should not leave the others waiting long for it."""
    bounds = []
    start = 0
    while start < count:
        size = max(_MIN_SLICE, min(_MAX_SLICE, (count - start) // (4 * processes)))
        bounds.append((start, min(start + size, count)))
        start += size
    return bounds


def _processes(pool: RenderPool | None) -> int:
    return 1 + (len(pool.workers) if pool is not None else 0)


def render_source(topic: Topic, question: Question) -> Source:
    """What a question's note is rendered from: equal sources render equal fields."""
    media = {url: file.name for url, file in question.media.items()} or None
    return (question.kind, topic.name, question.id, question.texts, media)


_RENDERER: Renderer | None = None


def _render_slice(sources: Sequence[Source]) -> list[tuple[str, ...]]:
    global _RENDERER
    renderer = _RENDERER = _RENDERER or Renderer()
    return [_render(source, renderer) for source in sources]


def _render(source: Source, renderer: Renderer, kind: NoteKind | None = None) -> tuple[str, ...]:
    kind_name, topic_name, qid, texts, media = source
    fields = []
    for field in (kind or KINDS[kind_name]).fields:
        text = texts.get(field.source)
        if field.style is Field.TOPIC:
            fields.append(escape(topic_name))
        elif field.style is Field.ID:
            fields.append(qid)
        elif not text:
            fields.append("")
        elif field.style is Field.INLINE:
            fields.append(renderer.inline(text, media=media))
        elif field.style is Field.PLAIN:
            fields.append(escape(text))
        else:
            fields.append(renderer.block(text, cloze=field.style is Field.CLOZE, media=media))
    return tuple(fields)


def learn_code(source: Source, fields: Sequence[str]) -> int:
    """Remember the HTML of the code blocks of a note rendered before from ``source`` as
    ``fields``, so that rendering the note again after an edit of its prose loads no lexer
    (see :mod:`deckgen.render.known`). Return how many blocks were learnt."""
    from deckgen.render.known import learn_code as learn
    from deckgen.render.renderer import CodeRecorder

    recorder = CodeRecorder()
    templates = _render(source, recorder)
    return learn(templates, fields, recorder.recorder.blocks)


def _render_error(error: WorkerDied, pairs: list[tuple[Topic, Question]]) -> BuildError:
    bounds: tuple[int, int] = error.label  # type: ignore[assignment]
    first, last = pairs[bounds[0]][1], pairs[bounds[1]][1]
    return BuildError(
        f"rendering failed ({error}) in the questions from {first.id!r} "
        f"(line {first.line}) to {last.id!r} (line {last.line}); nothing was written"
    )
