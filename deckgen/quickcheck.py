"""The checker's fast path for the bank that has no problem, which is nearly every bank.

It walks questions, which are almost all of a bank's nodes, with the checks of
:mod:`deckgen.checker` folded into one loop per question, and gives up at the first thing
that is not plainly valid: a problem, an unusual YAML tag, an alias of a list. The full
checker then walks the bank from the start, so every problem is found and reported exactly as
before. The deck and its topics go through the full checker's own code either way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from deckgen.checker import _ID_RE, BankChecker
from deckgen.errors import Code, Problem
from deckgen.limits import (
    _FIRST_LINE_CANDIDATE_RE,
    _LATER_LINE_CANDIDATE_RE,
    MAX_BANK_CHARS,
    MAX_MARKDOWN_DEPTH,
    MAX_TEXT_CHARS,
    markdown_depth,
)
from deckgen.media import MediaFile
from deckgen.model import CONTROL_RE, QUESTIONS, Deck, Key, Kind, Question, Topic, slugify
from deckgen.model import normalise_question as _normalise
from deckgen.source import _SCALAR_PATTERNS, _Loader, node_limit
from deckgen.walker import Entry

# YAML's reader refuses a control character anywhere in the stream, and line breaks reach a
# value as '\n': only a double-quoted scalar's escapes ("\x01") can put one in a text.

_TAG = "tag:yaml.org,2002:"
_STR, _SEQ, _MAP, _NULL = f"{_TAG}str", f"{_TAG}seq", f"{_TAG}map", f"{_TAG}null"
_T = TypeVar("_T")
YamlEvent = Any  # libyaml's events: their classes in yaml.events, without types
_EMPTY = _SCALAR_PATTERNS[_NULL].fullmatch  # what an implicit null looks like


class _Unusual(Exception):
    """Raised to leave the fast path for the full checker."""


class _Plan:
    """What the fast path needs of one kind's declaration."""

    def __init__(self, kind: str, keys: tuple[Key, ...]) -> None:
        self.known = frozenset(key.name for key in keys)
        self.required = frozenset(key.name for key in keys if key.required)
        # The texts in the declaration's order (the order of Question.texts): name, whether
        # it is Markdown, whether it is required, and whether the kind has a rule for it.
        self.texts = tuple(
            (key.name, key.kind is Kind.MARKDOWN, key.required, (kind, key.name) in _RULED)
            for key in keys
            if key.kind in (Kind.MARKDOWN, Kind.TEXT) and key.name not in ("id", "kind")
        )
        self.front = keys[2].name  # question, front or text: what duplicates are judged by


# The (kind, key) pairs whose text has a rule of its own in BankChecker.rules.
_RULED = {("type-in", "answer"), ("cloze", "text")}
_PLANS = {kind: _Plan(kind, keys) for kind, keys in QUESTIONS.items()}
_KEYS = {(kind, key.name): key for kind, keys in QUESTIONS.items() for key in keys}
_ID_MATCH = _ID_RE.match
_CONTROL = CONTROL_RE.search
# markdown_depth()'s own first test, inlined: most texts cannot nest deeply at all.
_DEEP_FIRST = _FIRST_LINE_CANDIDATE_RE.match
_DEEP_LATER = _LATER_LINE_CANDIDATE_RE.search


def quick_load(
    data: bytes,
    *,
    file: str,
    folder: Path | None,
    on_topic: Callable[[Topic], None] | None = None,
) -> Deck | None:
    """The deck a source's bytes hold, if it is plainly valid; ``None`` when the full
    checker must compose and walk it (then it finds the problems, if there are any).

    The YAML is read as libyaml's stream of events, never composed into a tree: a bank is
    checked in about the memory of what it holds. ``on_topic`` is given each topic as soon as
    it is checked (the deck may still turn out to have a problem)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # a BOM that would make libyaml read UTF-16
        return None
    loader = _Loader(data)
    checker = _StreamChecker(file, folder, loader.get_event, loader.resolve)
    checker.on_topic = on_topic
    try:
        deck = checker.document()
    except (_Unusual, yaml.YAMLError, RecursionError):
        return None
    finally:
        loader.dispose()
    if checker.problems or checker.nodes > node_limit():
        return None
    return deck


class _StreamChecker(BankChecker):
    """The full checker's rules over the event stream, with no patience for problems: every
    problem, and anything unusual (a YAML tag, an anchor or alias, keys out of their usual
    order), gives up. The deck's mapping and tag lists are composed into nodes of their own
    for the full checker's methods; questions are checked in one pass each."""

    def __init__(
        self,
        file: str,
        folder: Path | None,
        events: Callable[[], YamlEvent],
        resolve: Callable[[type[Node], str, tuple[bool, bool]], str],
    ) -> None:
        super().__init__(file, [], folder)
        self.events = events
        self.resolve = resolve  # the loader's: the tags composing would give
        self.key_tags: dict[tuple[str, tuple[bool, bool]], str] = {}
        self.nodes = 0
        self.on_topic: Callable[[Topic], None] | None = None
        self.mapping_end: YamlEvent = None

    def report(self, node: Node, message: str, code: Code) -> None:
        raise _Unusual

    def add(self, problem: Problem) -> None:
        raise _Unusual

    # The stream has no alias (any anchor gives up), and its nodes do not live long: a node
    # may have the id of one met before, which must not make it look like an alias of it.
    def first_walk(self, node: Node, what: str) -> bool:
        return True

    def first_use(self, node: Node) -> bool:
        return True

    def document(self) -> Deck:
        self.expect(StreamStartEvent)
        self.expect(DocumentStartEvent)
        self.collection(self.events(), MappingStartEvent)
        deck = topics = None
        while (event := self.events()).__class__ is not MappingEndEvent:
            name = self.key(event)
            if name == "deck" and deck is None and topics is None:
                node = self.subtree(self.events())
                deck = self.deck(Entry(node, node))
            elif name == "topics" and deck is not None and topics is None:
                topics = self.sequence_of(self.stream_topic)
            else:
                raise _Unusual
        self.expect(DocumentEndEvent)
        self.expect(StreamEndEvent)
        if deck is None or topics is None:
            raise _Unusual
        return Deck(*deck, topics)

    def stream_topic(self, start: YamlEvent) -> Topic:
        self.collection(start, MappingStartEvent)
        name_node = tag_node = None
        questions = None
        seen: set[str] = set()
        while (event := self.events()).__class__ is not MappingEndEvent:
            key = self.key(event)
            if key in seen:
                raise _Unusual
            seen.add(key)
            if key == "questions":
                questions = self.question_list()
            elif key in ("name", "tag"):
                node = self.subtree(self.events())
                name_node, tag_node = (node, tag_node) if key == "name" else (name_node, node)
            else:
                raise _Unusual
        if name_node is None or questions is None:
            raise _Unusual
        name = self.text(Entry(name_node, name_node), "topic name")
        tag = None if tag_node is None else self.tag(Entry(tag_node, tag_node))
        if name is None or name.casefold() in self.topic_names:
            raise _Unusual
        self.topic_names[name.casefold()] = (self.file, 0)
        tag = tag if tag_node is not None else slugify(name)
        if not tag or tag.casefold() in self.topic_tags:
            raise _Unusual
        self.topic_tags[tag.casefold()] = (self.file, 0)
        topic = Topic(name, tag, questions)
        if self.on_topic is not None:
            self.on_topic(topic)
        return topic

    def question_list(self) -> tuple[Question, ...]:
        """A topic's questions."""
        return self.sequence_of(self.stream_question)

    def stream_question(self, start: YamlEvent) -> Question:
        self.collection(start, MappingStartEvent)
        values: dict[str, Any] = {}  # scalar events, and the node of a list of tags
        events, key_tags = self.events, self.key_tags
        # key(), inlined for the common case: this loop runs for every key of the bank.
        while (event := events()).__class__ is not MappingEndEvent:
            if event.__class__ is ScalarEvent and event.tag is None and event.anchor is None:
                key = event.value
                if key_tags.get((key, event.implicit)) != _STR:
                    key = self.key(event)
                else:
                    self.nodes += 1
            else:
                key = self.key(event)
            if key in values:
                raise _Unusual
            value = events()
            if key == "tags":
                values[key] = self.subtree(value)
            elif value.__class__ is ScalarEvent and value.anchor is None:
                self.nodes += 1
                values[key] = value
            else:
                raise _Unusual
        self.mapping_end = event  # where the next question's "- " is, for the incremental check
        kind_event = values.get("kind")
        kind = "basic" if kind_event is None else self.plain(kind_event)
        plan = _PLANS.get(kind)
        if plan is None or not (plan.required <= values.keys() <= plan.known):
            raise _Unusual
        qid = self.plain(values["id"])
        if len(qid) > MAX_TEXT_CHARS or not _ID_MATCH(qid) or qid in self.question_ids:
            raise _Unusual
        self.question_ids[qid] = (self.file, 0)
        chars = len(qid)
        texts: dict[str, str] = {}
        media: dict[str, MediaFile] = {}
        for name, markdown, required, ruled in plan.texts:
            event = values.get(name)
            if event is None:
                continue
            if event.__class__ is not ScalarEvent:
                raise _Unusual
            text: str = event.value
            tag = self.tag_of(event)
            if tag != _STR:
                # An empty optional value counts as left out.
                if not required and tag == _NULL and _EMPTY(text):
                    continue
                raise _Unusual
            chars += len(text)
            if (
                len(text) > MAX_TEXT_CHARS
                or (event.style == '"' and _CONTROL(text))
                or (markdown and (_DEEP_FIRST(text) or _DEEP_LATER(text)) and _too_deep(text))
            ):
                raise _Unusual
            if not text.strip():
                if required:
                    raise _Unusual
                continue
            texts[name] = text
            if ruled:
                self.rules(kind, _KEYS[kind, name], self.node(event))
            if markdown and "![" in text:
                media.update(self.media(self.node(event)))
        self.bank_chars += chars
        if self.bank_chars > MAX_BANK_CHARS:
            raise _Unusual
        front = texts.get(plan.front)
        if front is not None:
            same = _normalise(front)
            if same in self.question_texts:
                raise _Unusual
            self.question_texts[same] = (self.file, 0)
        tags_node = values.get("tags")
        tags = () if tags_node is None else self.tags(Entry(tags_node, tags_node)) or ()
        retired_event = values.get("retired")
        retired = False
        if retired_event is not None:
            node = self.node(retired_event)
            retired = self.boolean(Entry(node, node)) or False
        return Question(qid, kind, texts, tags, retired, start.start_mark.line + 1, media)

    # --- reading events -------------------------------------------------------------

    def expect(self, kind: type[YamlEvent]) -> YamlEvent:
        event = self.events()
        if event.__class__ is not kind:
            raise _Unusual
        return event

    def collection(self, event: YamlEvent, kind: type[YamlEvent]) -> None:
        """A list or mapping starts here, without a tag or an anchor."""
        if event.__class__ is not kind or event.anchor is not None or event.tag is not None:
            raise _Unusual
        self.nodes += 1

    def sequence_of(self, item: Callable[[YamlEvent], _T]) -> tuple[_T, ...]:
        """A list of at least one item, each read by ``item``."""
        self.collection(self.events(), SequenceStartEvent)
        items = []
        while (event := self.events()).__class__ is not SequenceEndEvent:
            items.append(item(event))
        if not items:
            raise _Unusual
        return tuple(items)

    def key(self, event: YamlEvent) -> str:
        """A mapping's key: text, as it must be. (The few keys a bank uses are resolved once.)"""
        self.nodes += 1
        if event.__class__ is ScalarEvent and event.tag is None and event.anchor is None:
            value: str = event.value
            tag = self.key_tags.get((value, event.implicit))
            if tag is None:
                tag = self.key_tags[value, event.implicit] = self.tag_of(event)
            if tag == _STR:
                return value
        raise _Unusual

    def plain(self, event: YamlEvent) -> str:
        """The text of a scalar that is text (not a number, a boolean or nothing)."""
        if event.__class__ is not ScalarEvent or self.tag_of(event) != _STR:
            raise _Unusual
        value: str = event.value
        return value

    def tag_of(self, event: YamlEvent) -> str:
        """The tag composing would give a scalar; an explicit tag or an anchor gives up."""
        if event.tag is not None or event.anchor is not None:
            raise _Unusual
        if event.implicit[0]:  # plain: resolved from what it looks like
            return self.resolve(ScalarNode, event.value, event.implicit)
        return _STR

    def node(self, event: YamlEvent) -> ScalarNode:
        """A scalar event as a node, for the full checker's methods."""
        return ScalarNode(
            self.tag_of(event), event.value, event.start_mark, event.end_mark, event.style
        )

    def subtree(self, event: YamlEvent) -> Node:
        """A small value composed into nodes, as composing the whole file would."""
        self.nodes += 1
        kind = event.__class__
        if kind is ScalarEvent:
            return self.node(event)
        if event.anchor is not None or event.tag is not None:
            raise _Unusual
        start: Any = event.start_mark
        if kind is SequenceStartEvent:
            items = []
            while (item := self.events()).__class__ is not SequenceEndEvent:
                items.append(self.subtree(item))
            end: Any = item.end_mark
            return SequenceNode(_SEQ, items, start, end, event.flow_style)
        if kind is MappingStartEvent:
            pairs = []
            while (key := self.events()).__class__ is not MappingEndEvent:
                pairs.append((self.subtree(key), self.subtree(self.events())))
            last: Any = key.end_mark
            return MappingNode(_MAP, pairs, start, last, event.flow_style)
        raise _Unusual  # an alias, or the end of something


def _too_deep(text: str) -> bool:
    return markdown_depth(text) > MAX_MARKDOWN_DEPTH
