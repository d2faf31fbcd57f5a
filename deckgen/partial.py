"""The part of a deck that has no problem: what the preview shows, and watch keeps in view,
while a bank is being fixed."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import replace

from deckgen.errors import Problem
from deckgen.model import Deck, Question

# A question, its file, and where its YAML starts and ends (line and column, 1-based; the end
# is just past it), as the checker saw it.
Span = tuple[Question, str, tuple[int, int], tuple[int, int]]


def without_problems(deck: Deck, spans: Iterable[Span], problems: Iterable[Problem]) -> Deck:
    """``deck`` without the questions that have a problem inside them, and without the
    topics that are left empty."""
    places: dict[str, list[tuple[int, int]]] = {}
    for p in problems:
        places.setdefault(p.file, []).append((p.line, p.column))
    for found in places.values():
        found.sort()
    bad = set()
    for question, file, start, end in spans:
        found = places.get(file, [])
        first = bisect.bisect_left(found, start)
        if first < len(found) and found[first] < end:
            bad.add(id(question))
    topics = []
    for topic in deck.topics:
        kept = tuple(q for q in topic.questions if id(q) not in bad)
        if kept:
            topics.append(replace(topic, questions=kept))
    return replace(deck, topics=tuple(topics))
