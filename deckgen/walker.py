"""The generic half of checking a source: a walk over YAML nodes that collects located
problems, and the checks every value goes through wherever it stands.

An alias of text (``*name``) is the very node its anchor made, so uses are told apart by
where they stand, not by identity: each use is compared by value for duplicates and counts
towards the bank's size, while the work done on one value (and the problems found in it)
happens once however often it is used. :mod:`deckgen.checker` builds the format on this.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Hashable
from typing import NamedTuple, TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from deckgen import errors
from deckgen.errors import Code, Problem, quote
from deckgen.limits import (
    MAX_BANK_CHARS,
    MAX_MARKDOWN_DEPTH,
    MAX_PROBLEMS,
    MAX_TEXT_CHARS,
    markdown_depth,
)
from deckgen.model import CONTROL_RE, Key
from deckgen.source import KINDS, tag_misfit

_MERGE_TAG = "tag:yaml.org,2002:merge"
_NODE_CLASSES: dict[str, type[Node]] = {"a list": SequenceNode, "a mapping": MappingNode}
# Kinds whose tag fits any node of the right class; other scalars must match a pattern.
_FREE_KINDS = frozenset(("text", "a list", "a mapping"))
_UNSEEN = object()
_T = TypeVar("_T")


class Entry(NamedTuple):
    """One value of a mapping, and the node that stands where this use of it is written:
    the value itself, or its key when the value is an alias of a node used before."""

    node: Node
    site: Node


class TooManyProblems(Exception):
    """Raised by :meth:`NodeWalker.report` at the limit, carrying the problem that says so."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem


class NodeWalker:
    """Collects problems while a subclass walks the node tree; see the module's docstring."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: dict[Problem, None] = {}  # an ordered set
        self.collections: set[int] = set()
        self.used: set[int] = set()
        self.memo: dict[tuple[int, Hashable], object] = {}
        self.bank_chars = 0

    def report(self, node: Node, message: str, code: Code) -> None:
        mark = node.start_mark
        self.add(Problem(self.file, mark.line + 1, mark.column + 1, message, code))

    def add(self, problem: Problem) -> None:
        """Keep ``problem``; stop the walk at the limit."""
        self.problems[problem] = None
        if len(self.problems) >= MAX_PROBLEMS:
            message = (
                f"stopped after {MAX_PROBLEMS:,} problems (the limit): fix these and run again"
            )
            where = (self.file, problem.line, problem.column)
            raise TooManyProblems(Problem(*where, message, errors.TOO_MANY_PROBLEMS))

    def once(self, entry: Entry, what: Hashable, check: Callable[[], _T]) -> _T:
        """``check()`` for ``entry.node`` used as ``what``, done at most twice however often
        the node is used: once for its first use, once more for the first alias, whose result
        every later alias gets (problems reported again are the same, and kept once)."""
        if entry.site is entry.node:
            return check()  # a first use: not stored, as most values have no alias
        key = (id(entry.node), what)
        if key not in self.memo:
            self.memo[key] = check()
        return self.memo[key]  # type: ignore[return-value]

    def first_use(self, node: Node) -> bool:
        """Whether this is the first time the walk meets ``node``; later times are aliases."""
        if id(node) in self.used:
            return False
        self.used.add(id(node))
        return True

    def optional_text(self, entry: Entry, *, markdown: bool = False) -> str | None:
        """Text that may be left out; an empty value counts as left out."""
        if self.kind(entry.node) == "nothing":
            return None
        text = self.text(entry, "this value", blank_ok=True, markdown=markdown)
        return text if text and text.strip() else None

    def text(
        self, entry: Entry, what: str, *, blank_ok: bool = False, markdown: bool = False
    ) -> str | None:
        """The text of one use of a value, or ``None`` after reporting why it is not one;
        every use counts towards the bank's size."""
        node = entry.node
        kind = self.kind(node)
        if kind != "text":
            if kind == "nothing":
                self.report(node, f"{what} is empty", errors.BLANK)
            else:
                self.wrong_type(node, kind, what, "text")
            return None
        value: str = node.value
        self.bank_chars += len(value)
        if self.bank_chars > MAX_BANK_CHARS and self.bank_chars - len(value) <= MAX_BANK_CHARS:
            self.report(
                entry.site,
                f"the bank's text passes the limit of {MAX_BANK_CHARS:,} characters here, "
                "counting a text each time an alias uses it",
                errors.BANK_SIZE,
            )
        if entry.site is node:  # once(), inlined for the common case
            return self.check_text(node, value, what, blank_ok, markdown)
        check = (what, blank_ok, markdown)
        return self.once(entry, check, lambda: self.check_text(node, value, *check))

    def check_text(
        self, node: Node, value: str, what: str, blank_ok: bool, markdown: bool
    ) -> str | None:
        """The checks of a text's content: its size, blankness, control characters and, for
        Markdown, how deeply it nests."""
        if len(value) > MAX_TEXT_CHARS:
            self.report(
                node,
                f"{what} is {len(value):,} characters long, more than the limit of "
                f"{MAX_TEXT_CHARS:,}",
                errors.TEXT_SIZE,
            )
            return None
        if not blank_ok and not value.strip():
            self.report(node, f"{what} is blank", errors.BLANK)
            return None
        if control := CONTROL_RE.search(value):
            code = ord(control.group())
            self.report(
                node, f"{what} contains control character U+{code:04X}", errors.CONTROL_CHARACTER
            )
            return None
        if markdown and markdown_depth(value) > MAX_MARKDOWN_DEPTH:
            self.report(
                node,
                f"{what} nests block quotes and lists more than {MAX_MARKDOWN_DEPTH} levels "
                "deep (the limit)",
                errors.MARKDOWN_DEPTH,
            )
            return None
        return value

    def mapping(self, node: Node, keys: tuple[Key, ...], what: str) -> dict[str, Entry] | None:
        """The values of a mapping by key, after reporting duplicate, unknown and missing keys."""
        kind = self.kind(node)
        if kind != "a mapping":
            self.wrong_type(node, kind, what, "a mapping")
            return None
        assert isinstance(node, MappingNode)
        if not self.first_walk(node, "mapping"):
            return None
        known = {key.name for key in keys}
        first: dict[str, int] = {}
        values: dict[str, Entry] = {}
        used = self.used
        for key_node, value_node in node.value:
            # Where this entry is written, for the problems of this use of an aliased node.
            # (first_use(), inlined: this loop runs for every key of the bank.)
            count = len(used)
            used.add(id(key_node))
            key_fresh = len(used) > count
            used.add(id(value_node))
            value_fresh = len(used) > count + key_fresh
            key_site = key_node if key_fresh else value_node if value_fresh else node
            value_site = value_node if value_fresh else key_site
            if key_node.tag == _MERGE_TAG:
                self.report(key_site, "merge keys ('<<') are not supported", errors.ALIAS)
                continue
            key_kind = self.kind(key_node)
            if key_kind != "text":
                self.wrong_type(key_node, key_kind, "a key", "text")
                continue
            name = key_node.value
            if (line := self.earlier_line(first, name, key_site)) is not None:
                self.report(
                    key_site,
                    f"duplicate key {quote(name)} (first on line {line})",
                    errors.DUPLICATE_KEY,
                )
                continue
            if name not in known:
                self.report(
                    key_site,
                    f"unknown key {quote(name)} in {what}{did_you_mean(name, known)}",
                    errors.UNKNOWN_KEY,
                )
                continue
            values[name] = Entry(value_node, value_site)
        for key in keys:
            if key.required and key.name not in first:
                self.report(
                    node, f"{what} is missing required key {key.name!r}", errors.MISSING_KEY
                )
        return values

    def sequence(self, node: Node, what: str, expected: str) -> list[Node] | None:
        kind = self.kind(node)
        if kind != "a list":
            self.wrong_type(node, kind, what, expected)
            return None
        assert isinstance(node, SequenceNode)
        if not self.first_walk(node, "list"):
            return None
        return list(node.value)

    def first_walk(self, node: Node, what: str) -> bool:
        """Walk each list and mapping once: an alias (``*name``) of one would multiply the
        work ("billion laughs"), so it is refused; aliases of plain values are fine."""
        if id(node) in self.collections:
            self.report(
                node,
                f"this {what} is reused through an alias; only text may be aliased",
                errors.ALIAS,
            )
            return False
        self.collections.add(id(node))
        return True

    def kind(self, node: Node) -> str | None:
        """What a node holds, in words; reports and returns ``None`` for a YAML tag that is
        foreign or does not fit its node."""
        kind = KINDS.get(node.tag)
        if kind is None:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self.report(node, f"YAML tag {quote(tag)} is not allowed", errors.YAML_TAG)
            return None
        if node.__class__ is _NODE_CLASSES.get(kind, ScalarNode) and kind in _FREE_KINDS:
            return kind  # the common cases, which always fit their tag
        misfit = self.memo.get((id(node), "yaml tag"), _UNSEEN)
        if misfit is _UNSEEN:
            misfit = self.memo[id(node), "yaml tag"] = tag_misfit(node)
        if misfit:
            self.report(node, str(misfit), errors.YAML_TAG)
            return None
        return kind

    def wrong_type(self, node: Node, kind: str | None, what: str, expected: str) -> None:
        if kind is None:
            return  # kind() has reported the tag already
        hint = " (put it in quotes)" if expected == "text" and isinstance(node, ScalarNode) else ""
        self.report(node, f"{what} must be {expected}, not {kind}{hint}", errors.WRONG_TYPE)

    @staticmethod
    def earlier_line(seen: dict[str, int], key: str, site: Node) -> int | None:
        """Remember the line where ``key`` is first used; for a later use, literal or
        through an alias, return that first line."""
        if key in seen:
            return seen[key]
        seen[key] = site.start_mark.line + 1
        return None

    def earlier_place(self, seen: dict[str, tuple[str, int]], key: str, site: Node) -> str | None:
        """Like :meth:`earlier_line` for keys that must be unique across the files of a bank:
        for a later use, where the first is: ``line 7`` in this file, else ``FILE:7``."""
        if key in seen:
            file, line = seen[key]
            return f"line {line}" if file == self.file else f"{file}:{line}"
        seen[key] = (self.file, site.start_mark.line + 1)
        return None

    @staticmethod
    def optional(entry: Entry | None, check: Callable[[Entry], _T | None]) -> _T | None:
        return None if entry is None else check(entry)


def did_you_mean(name: str, known: set[str]) -> str:
    if len(name) > 64:
        return ""
    folded = {k.casefold().replace("-", "_"): k for k in known}
    match = folded.get(name.casefold().replace("-", "_").replace(" ", "_"))
    if match is None:
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
        match = close[0] if close else None
    return f" (did you mean {match!r}?)" if match else ""
