"""The checker's fast path for the bank that has no problem, which is nearly every bank.

It walks questions, which are almost all of a bank's nodes, with the checks of
:mod:`deckgen.checker` folded into one loop per question, and gives up at the first thing
that is not plainly valid: a problem, an unusual YAML tag, an alias of a list. The full
checker then walks the bank from the start, so every problem is found and reported exactly as
before. The deck and its topics go through the full checker's own code either way.
"""

from __future__ import annotations

from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode

from deckgen.checker import _ID_RE, _Checker
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
from deckgen.model import CONTROL_RE, QUESTIONS, Deck, Key, Kind, Question
from deckgen.model import normalise_question as _normalise
from deckgen.source import _SCALAR_PATTERNS
from deckgen.walker import Entry

# YAML's reader refuses a control character anywhere in the stream, and line breaks reach a
# value as '\n': only a double-quoted scalar's escapes ("\x01") can put one in a text.

_TAG = "tag:yaml.org,2002:"
_STR, _MAP, _NULL = f"{_TAG}str", f"{_TAG}map", f"{_TAG}null"
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


# The (kind, key) pairs whose text has a rule of its own in _Checker.rules.
_RULED = {("type-in", "answer"), ("cloze", "text")}
_PLANS = {kind: _Plan(kind, keys) for kind, keys in QUESTIONS.items()}
_KEYS = {(kind, key.name): key for kind, keys in QUESTIONS.items() for key in keys}
_ID_MATCH = _ID_RE.match
_CONTROL = CONTROL_RE.search
# markdown_depth()'s own first test, inlined: most texts cannot nest deeply at all.
_DEEP_FIRST = _FIRST_LINE_CANDIDATE_RE.match
_DEEP_LATER = _LATER_LINE_CANDIDATE_RE.search


def quick_validate(root: Node, *, file: str, folder: Path | None) -> Deck | None:
    """The deck, if the bank is plainly valid; ``None`` when the full checker must walk it
    (then it finds the problems, if there are any)."""
    checker = _QuickChecker(file, "", folder)
    try:
        deck = checker.root(root)
    except _Unusual:
        return None
    return deck if not checker.problems else None


class _QuickChecker(_Checker):
    """The full checker, with a fast question walk and no patience for problems."""

    def report(self, node: Node, message: str, code: Code) -> None:
        raise _Unusual

    def add(self, problem: Problem) -> None:
        raise _Unusual

    def question(self, node: Node) -> Question | None:
        if node.__class__ is not MappingNode or node.tag != _MAP or id(node) in self.collections:
            raise _Unusual
        self.collections.add(id(node))
        values: dict[str, Node] = {}
        for key, value in node.value:
            if key.__class__ is not ScalarNode or key.tag != _STR or key.value in values:
                raise _Unusual
            values[key.value] = value
        kind_node = values.get("kind")
        kind = "basic" if kind_node is None else _plain(kind_node)
        plan = _PLANS.get(kind)
        if plan is None or not (plan.required <= values.keys() <= plan.known):
            raise _Unusual
        qid = _plain(values["id"])
        if len(qid) > MAX_TEXT_CHARS or not _ID_MATCH(qid) or qid in self.question_ids:
            raise _Unusual
        self.question_ids[qid] = 0
        chars = len(qid)
        texts: dict[str, str] = {}
        media: dict[str, MediaFile] = {}
        for name, markdown, required, ruled in plan.texts:
            text_node = values.get(name)
            if text_node is None:
                continue
            if text_node.__class__ is not ScalarNode:
                raise _Unusual
            if text_node.tag != _STR:
                # An empty optional value counts as left out.
                if text_node.tag == _NULL and not required and _EMPTY(text_node.value):
                    continue
                raise _Unusual
            text: str = text_node.value
            chars += len(text)
            if (
                len(text) > MAX_TEXT_CHARS
                or (text_node.style == '"' and _CONTROL(text))
                or (markdown and (_DEEP_FIRST(text) or _DEEP_LATER(text)) and _too_deep(text))
            ):
                raise _Unusual
            if not text.strip():
                if required:
                    raise _Unusual
                continue
            texts[name] = text
            if ruled:
                self.rules(kind, _KEYS[kind, name], text_node)
            if markdown and "![" in text:
                media.update(self.media(text_node))
        self.bank_chars += chars
        if self.bank_chars > MAX_BANK_CHARS:
            raise _Unusual
        front = texts.get(plan.front)
        if front is not None:
            same = _normalise(front)
            if same in self.question_texts:
                raise _Unusual
            self.question_texts[same] = 0
        tags_node = values.get("tags")
        tags = () if tags_node is None else self.tags(Entry(tags_node, tags_node)) or ()
        retired_node = values.get("retired")
        retired = False
        if retired_node is not None:
            retired = self.boolean(Entry(retired_node, retired_node)) or False
        return Question(qid, kind, texts, tags, retired, node.start_mark.line + 1, media)


def _too_deep(text: str) -> bool:
    return markdown_depth(text) > MAX_MARKDOWN_DEPTH


def _plain(node: Node) -> str:
    """The text of a scalar tagged as text."""
    if node.__class__ is not ScalarNode or node.tag != _STR:
        raise _Unusual
    value: str = node.value
    return value
