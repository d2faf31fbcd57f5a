"""Checking a bank again after a small edit: only the questions around the edit are read.

A build keeps an index of the bank it checked (:class:`BankIndex`: its bytes, its deck, and
where each question starts). After an edit, the bytes that differ are found (the common
prefix and suffix of the old and new bytes), and the questions that hold them, with one more
on each side, are read again by the quick checker (:mod:`deckgen.quickcheck`), given what the
rest of the bank holds for the rules that span questions (unique ids and question texts, the
bank's size). The questions after the edit keep everything but their line, which moves by the
lines the edit added or removed.

The shortcut only answers when it can vouch that a full check gives the same deck: an edit
outside the questions, YAML that the quick checker gives up on, a line break other than
``\\n``, a list of questions that is not one ``- `` item per question, or a media file that
changed returns ``None``, and the bank is checked in full (tests/test_incremental.py compares
the two on many edits).
"""

from __future__ import annotations

import bisect
import copy
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingStartEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)

from deckgen.limits import MAX_BANK_CHARS
from deckgen.model import Deck, Question, Topic
from deckgen.quickcheck import _StreamChecker, _Unusual, quick_load
from deckgen.source import _Loader, node_limit

# Line breaks that YAML counts but a count of b"\n" would not: a bank holding one is never
# re-read in part, so that lines counted here are libyaml's lines.
_OTHER_BREAKS = (b"\r", b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9")
_BLOCK = 1 << 16  # bytes compared at a time when looking for the first difference

MediaStamp = tuple[int, int, int]  # size, mtime_ns, inode


@dataclass
class BankIndex:
    """What the quick checker learnt of a one-file bank, to check an edit of it quickly."""

    data: bytes
    deck: Deck
    lines: list[int]  # per question, in source order: the line of its "- ", 0-based
    nodes: list[int]  # per question: the YAML nodes it holds
    chars: list[int]  # per question: the characters its id and texts count
    fronts: list[str | None]  # per question: its front as duplicates are judged
    topic_of: list[int]  # per question: its topic's index
    first: list[int]  # per topic: its first question's index (and the count at the end)
    columns: list[int]  # per topic: the column of its questions' dashes
    ends: list[int]  # per topic: the line its list of questions ends before
    other_nodes: int  # the nodes of everything but the questions
    media: dict[Path, MediaStamp] = field(default_factory=dict)

    def questions(self) -> list[Question]:
        """Every question, in source order."""
        return [q for topic in self.deck.topics for q in topic.questions]


@dataclass(frozen=True)
class Edit:
    """How a recheck maps the old questions onto the new: those before ``start`` and from
    ``old_stop`` on are the same questions (the later ones moved), those between were read
    again as ``new_stop - start`` questions."""

    start: int
    old_stop: int
    new_stop: int


class _Dashless(_Unusual):
    """A question whose ``- `` is not on its first line, or in flow style."""


class _Recorder(_StreamChecker):
    """The quick checker, noting where each question starts and what it counts, and giving
    up on a question whose ``- `` is not on its first line."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        # Per topic: its dashes' column, its first question, the line and column it ends at.
        self.lists: list[tuple[int, int, int, int]] = []
        self.question_lines: list[int] = []
        self.question_nodes: list[int] = []
        self.question_chars: list[int] = []
        self.question_fronts: list[str | None] = []

    def question_list(self) -> tuple[Question, ...]:
        start: Any = self.events()
        if start.__class__ is not SequenceStartEvent or start.flow_style:
            raise _Unusual
        self.collection(start, SequenceStartEvent)
        first = len(self.question_lines)
        opening: Any = start.start_mark
        dash: Any = opening  # the first "- "; a question's end is at the next one
        items = []
        event: Any
        while (event := self.events()).__class__ is not SequenceEndEvent:
            if event.__class__ is not MappingStartEvent:
                raise _Unusual
            where: Any = event.start_mark
            if event.flow_style or where.line != dash.line:
                raise _Dashless
            items.append(self.recorded_question(event))
            dash = self.mapping_end.start_mark
        if not items:
            raise _Unusual
        mark: Any = event.start_mark
        self.lists.append((opening.column, first, mark.line, mark.column))
        return tuple(items)

    def recorded_question(self, start: Any) -> Question:
        nodes, chars, fronts = self.nodes, self.bank_chars, len(self.question_texts)
        question = self.stream_question(start)
        # The checker notes each question's front, when it has one, as it goes.
        front = next(reversed(self.question_texts)) if len(self.question_texts) > fronts else None
        self.question_fronts.append(front)
        self.question_lines.append(start.start_mark.line)
        self.question_nodes.append(self.nodes - nodes)
        self.question_chars.append(self.bank_chars - chars)
        return question


def index_bank(
    data: bytes,
    *,
    file: str,
    folder: Path,
    on_topic: Callable[[Topic], None] | None = None,
) -> tuple[Deck | None, BankIndex | None]:
    """What :func:`~deckgen.quickcheck.quick_load` gives (the deck, or ``None`` when the
    full checker must read the bank), with the bank's index when its edits can be checked
    in part (see the module's docstring)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _other_breaks(data):
        return quick_load(data, file=file, folder=folder, on_topic=on_topic), None
    loader = _Loader(data)
    recorder = _Recorder(file, folder, loader.get_event, loader.resolve)
    recorder.on_topic = on_topic
    try:
        deck = recorder.document()
    except _Dashless:
        # Valid, maybe, but a question's "- " is not on its first line: no index.
        return quick_load(data, file=file, folder=folder, on_topic=on_topic), None
    except (_Unusual, yaml.YAMLError, RecursionError):
        return None, None
    finally:
        loader.dispose()
    if recorder.problems or recorder.nodes > node_limit():
        return None, None
    index = BankIndex(
        data,
        deck,
        recorder.question_lines,
        recorder.question_nodes,
        recorder.question_chars,
        recorder.question_fronts,
        [t for t, topic in enumerate(deck.topics) for _ in topic.questions],
        [first for _, first, _, _ in recorder.lists] + [len(recorder.question_lines)],
        [column for column, _, _, _ in recorder.lists],
        [end_line for _, _, end_line, _ in recorder.lists],
        recorder.nodes - sum(recorder.question_nodes),
    )
    stamps = _media_stamps(index.questions())
    if stamps is None:
        return deck, None
    index.media = stamps
    return deck, index


def recheck(
    index: BankIndex, data: bytes, *, file: str, folder: Path
) -> tuple[BankIndex, Edit] | None:
    """The index of the bank ``data`` holds now, the bank of ``index`` edited, with how its
    questions map onto the old ones; ``None`` when the bank must be checked in full."""
    old = index.data
    if _media_stamps(index.questions(), index.media) is None:
        return None
    if data == old:
        count = len(index.lines)
        return index, Edit(count, count, count)
    prefix = _common_prefix(old, data)
    suffix = _common_suffix(old, data, limit=min(len(old), len(data)) - prefix)
    old_end = len(old) - suffix  # the changed bytes are old[prefix:old_end]
    if _other_breaks(data[prefix : len(data) - suffix]):
        return None
    last_byte = max(old_end - 1, prefix)  # of the change (its first, if it only inserts)
    first_line = old.count(b"\n", 0, prefix)
    last_line = first_line + old.count(b"\n", prefix, last_byte)
    # The questions holding the first and last changed byte, and one more on each side,
    # within the topic: a question's text may run on into the next line.
    first = bisect.bisect_right(index.lines, first_line) - 1
    if first < 0:
        return None  # the edit begins before the first question
    topic = index.topic_of[first]
    if last_line >= index.ends[topic]:
        return None  # the edit reaches past the topic's list of questions
    last = bisect.bisect_right(index.lines, last_line) - 1
    start, stop = index.first[topic], index.first[topic + 1]
    line_start = old.rfind(b"\n", 0, prefix) + 1
    if first == start and first_line == index.lines[first] and prefix == line_start:
        return None  # the edit may belong to the topic's lines before its first question
    first = max(first - 1, start)
    old_stop = min(last + 2, stop)
    begin = _line_back(old, line_start, first_line - index.lines[first])
    until_line = index.lines[old_stop] if old_stop < stop else index.ends[topic]
    last_start = old.rfind(b"\n", 0, last_byte) + 1
    old_until = _line_on(old, last_start, until_line - last_line)
    until = old_until + len(data) - len(old)
    if until <= begin or data[until - 1 : until] != b"\n":
        return None
    piece = _read_again(index, data, first, old_stop, begin, until, file=file, folder=folder)
    if piece is None:
        return None
    questions, recorder = piece
    edit = Edit(first, old_stop, first + len(questions))
    line_shift = data.count(b"\n", begin, until) - old.count(b"\n", begin, old_until)
    new = _spliced(index, data, edit, questions, recorder, line_shift)
    if sum(new.chars) > MAX_BANK_CHARS or new.other_nodes + sum(new.nodes) > node_limit():
        return None
    new.media = {**index.media, **(_media_stamps(questions) or {})}
    return new, edit


def _read_again(
    index: BankIndex,
    data: bytes,
    first: int,
    old_stop: int,
    begin: int,
    until: int,
    *,
    file: str,
    folder: Path,
) -> tuple[list[Question], _Recorder] | None:
    """The questions of ``data[begin:until]``, checked against the rest of the bank, with
    what was recorded of them; ``None`` if the quick checker gives up."""
    line = index.lines[first]
    column = index.columns[index.topic_of[first]]
    # Blank lines ahead of the piece keep libyaml's line numbers those of the file.
    loader = _Loader(b"\n" * line + data[begin:until])
    recorder = _Recorder(file, folder, loader.get_event, loader.resolve)
    kept = [*range(first), *range(old_stop, len(index.lines))]
    questions = index.questions()
    recorder.question_ids = {questions[i].id: (file, 0) for i in kept}
    fronts = (index.fronts[i] for i in kept)
    recorder.question_texts = {f: (file, 0) for f in fronts if f is not None}
    recorder.bank_chars = sum(index.chars[i] for i in kept)
    try:
        _expect(recorder.events, StreamStartEvent, DocumentStartEvent)
        found = recorder.question_list()
        _expect(recorder.events, DocumentEndEvent, StreamEndEvent)
    except (_Unusual, yaml.YAMLError, RecursionError):
        return None
    finally:
        loader.dispose()
    if recorder.problems or len(recorder.lists) != 1 or recorder.lists[0][0] != column:
        return None
    if recorder.question_lines[0] != line:
        return None  # not the same first line: the piece does not start where it did
    return list(found), recorder


def _spliced(
    index: BankIndex,
    data: bytes,
    edit: Edit,
    questions: list[Question],
    recorder: _Recorder,
    line_shift: int,
) -> BankIndex:
    """``index`` with the questions read again in place of the old ones, and every later
    question moved by ``line_shift`` lines."""
    a, b = edit.start, edit.old_stop
    topic = index.topic_of[a]
    added = len(questions) - (b - a)
    old_questions = index.questions()
    moved = [_moved(q, line_shift) for q in old_questions[b:]]
    flat = [*old_questions[:a], *questions, *moved]
    first = [n if t <= topic else n + added for t, n in enumerate(index.first)]
    topics = tuple(
        Topic(t.name, t.tag, tuple(flat[first[i] : first[i + 1]])) if i >= topic else t
        for i, t in enumerate(index.deck.topics)
    )
    deck = Deck(
        index.deck.name,
        index.deck.id,
        index.deck.description,
        index.deck.tags,
        topics,
        sources=index.deck.sources,
    )
    return BankIndex(
        data,
        deck,
        [*index.lines[:a], *recorder.question_lines, *(n + line_shift for n in index.lines[b:])],
        [*index.nodes[:a], *recorder.question_nodes, *index.nodes[b:]],
        [*index.chars[:a], *recorder.question_chars, *index.chars[b:]],
        [*index.fronts[:a], *recorder.question_fronts, *index.fronts[b:]],
        [*index.topic_of[:a], *([topic] * len(questions)), *index.topic_of[b:]],
        first,
        index.columns,
        [e if t < topic else e + line_shift for t, e in enumerate(index.ends)],
        index.other_nodes,
    )


def _moved(question: Question, lines: int) -> Question:
    if not lines:
        return question
    moved = copy.copy(question)
    object.__setattr__(moved, "line", question.line + lines)
    return moved


def _expect(events: Callable[[], Any], *kinds: type[Any]) -> None:
    for kind in kinds:
        if events().__class__ is not kind:
            raise _Unusual


def _other_breaks(data: bytes) -> bool:
    """Whether ``data`` holds a line break other than ``\\n`` (one of their last bytes
    first: looking for a single byte is many times faster)."""
    if b"\r" in data:
        return True
    if b"\x85" not in data and b"\xa8" not in data and b"\xa9" not in data:
        return False
    return any(b in data for b in _OTHER_BREAKS)


def _line_back(data: bytes, at: int, lines: int) -> int:
    """The start of the line ``lines`` lines before the one starting at ``at``."""
    for _ in range(lines):
        at = data.rfind(b"\n", 0, at - 1) + 1
    return at


def _line_on(data: bytes, at: int, lines: int) -> int:
    """The start of the line ``lines`` lines after the one starting at ``at`` (the end of
    ``data`` after its last line)."""
    for _ in range(lines):
        at = data.find(b"\n", at) + 1
        if not at:
            return len(data)
    return at


def _common_prefix(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b))
    at = 0
    while at < n and a[at : at + _BLOCK] == b[at : at + _BLOCK]:
        at += _BLOCK
    at = min(at, n)
    low, high = at, min(at + _BLOCK, n)  # the first difference is in [low, high]
    while low < high:
        mid = (low + high) // 2
        if a[at : mid + 1] == b[at : mid + 1]:
            low = mid + 1
        else:
            high = mid
    return low


def _common_suffix(a: bytes, b: bytes, *, limit: int) -> int:
    """The length of the longest common ending of ``a`` and ``b``, at most ``limit``."""
    at = 0
    while (
        at + _BLOCK <= limit
        and a[len(a) - at - _BLOCK : len(a) - at] == b[len(b) - at - _BLOCK : len(b) - at]
    ):
        at += _BLOCK
    low, high = at, min(at + _BLOCK, limit)
    while low < high:
        mid = (low + high + 1) // 2
        if a[len(a) - mid : len(a) - at] == b[len(b) - mid : len(b) - at]:
            low = mid
        else:
            high = mid - 1
    return low


def _media_stamps(
    questions: list[Question], expected: dict[Path, MediaStamp] | None = None
) -> dict[Path, MediaStamp] | None:
    """The stamp of every media file of ``questions``; ``None`` when one cannot be read or
    differs from ``expected``'s."""
    stamps: dict[Path, MediaStamp] = {}
    for path in _media_paths(questions):
        try:
            st = os.stat(path)
        except OSError:
            return None
        stamps[path] = (st.st_size, st.st_mtime_ns, st.st_ino)
        if expected is not None and expected.get(path) != stamps[path]:
            return None
    return stamps


def _media_paths(questions: list[Question]) -> Iterator[Path]:
    for q in questions:
        if q.media:
            for media in q.media.values():
                yield media.path
