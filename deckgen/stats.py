"""Counts of a question bank: notes, cards, questions per topic, tags."""

from __future__ import annotations

from collections import Counter
from typing import Any

from deckgen.model import Deck
from deckgen.notetypes import KINDS


def deck_stats(deck: Deck) -> dict[str, Any]:
    """The counts, JSON-ready; retired questions count only as retired."""
    tags: Counter[str] = Counter()
    for topic, question in deck.questions:
        if not question.retired:
            tags.update(deck.note_tags(topic, question))
    return {
        "deck": deck.name,
        "notes": deck.question_count,
        "cards": sum(
            len(KINDS[q.kind].ordinals(q.texts)) for _, q in deck.questions if not q.retired
        ),
        "media": _media_counts(deck),
        "kinds": dict(sorted(Counter(q.kind for _, q in deck.questions if not q.retired).items())),
        "retired": deck.retired_count,
        "topics": [
            {
                "name": topic.name,
                "tag": f"{deck.slug}::{topic.tag}",
                "questions": sum(not q.retired for q in topic.questions),
            }
            for topic in deck.topics
        ],
        "tags": dict(sorted(tags.items(), key=lambda item: (-item[1], item[0]))),
    }


def format_stats(stats: dict[str, Any]) -> str:
    """The counts as a short plain-text report."""
    retired = f", {stats['retired']} retired" if stats["retired"] else ""
    media = stats["media"]
    packed = (
        f", {media['images']} images and {media['sounds']} sounds ({media['bytes']} bytes)"
        if media["images"] or media["sounds"]
        else ""
    )
    lines = [
        f"{stats['deck']}: {stats['notes']} notes, {stats['cards']} cards{retired}, "
        f"{len(stats['topics'])} topics{packed}",
        "",
    ]
    width = max(len(t["name"]) for t in stats["topics"])
    lines += [f"  {t['name']:<{width}}  {t['questions']:>5}  {t['tag']}" for t in stats["topics"]]
    lines += ["", "Tags:"]
    lines += [f"  {count:>5}  {tag}" for tag, count in stats["tags"].items()]
    return "\n".join(lines)


def _media_counts(deck: Deck) -> dict[str, int]:
    files = {f.name: f for _, q in deck.questions for f in q.media.values()}
    audio = sum(f.is_audio for f in files.values())
    return {
        "images": len(files) - audio,
        "sounds": audio,
        "bytes": sum(f.path.stat().st_size for f in files.values()),
    }
