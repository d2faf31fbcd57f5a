"""Banks in many files: a folder whose deck.yaml holds the deck and whose other .yaml files
hold one topic each.

deck.yaml has the ``deck:`` mapping and, optionally, ``topics:``, the topic files in order.
Without that list, every other ``*.yaml`` file of the folder and its subfolders is a topic
file, read in the order of their paths. With it, the list is the whole bank: a ``.yaml``
file it leaves out is a problem, so that no topic joins or leaves the deck unseen. Files and
folders whose names start with a dot (.github, .venv) are not part of the bank, nor are
folders reached through a symbolic link.

One checker walks every file in turn, so duplicates are found across files, and the limits
(bytes, YAML values, text, problems) count the whole bank.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path, PurePosixPath

import yaml
from yaml.nodes import Node

from deckgen import errors
from deckgen.checker import BankChecker
from deckgen.errors import DeckgenError, Problem, SourceError, quote, shown_path
from deckgen.limits import MAX_SOURCE_BYTES, MAX_YAML_NODES
from deckgen.model import DECK_FILE, Deck, Topic
from deckgen.partial import without_problems
from deckgen.source import compose, count_nodes, decode, node_bound, read_regular_file
from deckgen.walker import Entry, TooManyProblems

DECK_NAME = "deck.yaml"
LOCK_NAME = "deck.lock"
SUFFIX = ".yaml"
_DECK_EXPECTED = "a mapping with 'deck'"
_TOPIC_EXPECTED = "a topic: a mapping with 'name' and 'questions'"


def load_folder(folder: Path, *, name: str | None = None) -> Deck:
    """Read, compose and validate the bank in ``folder``; raise :class:`SourceError` with
    every problem of every file, or return the deck. ``name`` is how problems name the
    folder; each file is named by its path inside it."""
    return _reader(folder, name).read()


def check_folder(folder: Path, *, name: str | None = None) -> tuple[Deck | None, list[Problem]]:
    """Read and check a folder bank as :func:`load_folder` does, but return its problems with
    the part of the deck that has none (for the preview and watch) instead of raising."""
    return _reader(folder, name).check()


def _reader(folder: Path, name: str | None) -> _Reader:
    shown = shown_path(folder) if name is None else name
    if not (folder / DECK_NAME).exists() and not (folder / DECK_NAME).is_symlink():
        raise DeckgenError(
            f"{shown} is a folder without {DECK_NAME}: a bank in many files keeps its deck "
            f"there and one topic in each other {SUFFIX} file"
        )
    return _Reader(folder, shown)


def topic_files(folder: Path) -> list[PurePosixPath]:
    """The topic files of the bank in ``folder``, relative to it, sorted by path: every
    ``*.yaml`` file but deck.yaml, outside dot-folders."""

    def fail(error: OSError) -> None:
        raise DeckgenError(f"cannot read the folder {shown_path(error.filename)}: {error.strerror}")

    found = []
    for parent, folders, files in os.walk(folder, onerror=fail):
        folders[:] = [f for f in folders if not f.startswith(".")]
        base = PurePosixPath(*Path(parent).relative_to(folder).parts)
        found += [base / f for f in files if f.endswith(SUFFIX) and not f.startswith(".")]
    return sorted((p for p in found if p != PurePosixPath(DECK_NAME)), key=lambda p: p.parts)


def file_name(shown: str, relative: PurePosixPath) -> str:
    """How problems name a file of the bank shown as ``shown``."""
    if shown in ("", "."):
        return os.path.join(*relative.parts)
    return os.path.join(shown, *relative.parts)


def topic_path_problem(value: str) -> str | None:
    """Why ``value``, as written in deck.yaml's ``topics``, cannot name a topic file."""
    parts = value.split("/")
    if "\\" in value:
        return f"topic file {quote(value)}: write paths with '/'"
    if value.startswith("/") or "" in parts or ".." in parts or "." in parts:
        return (
            f"topic file {quote(value)} must be a plain path inside the bank's folder, such "
            "as advanced/routing.yaml"
        )
    if any(part.startswith(".") for part in parts):
        return f"topic file {quote(value)} is hidden (a name starts with '.'), so it is not read"
    if not value.endswith(SUFFIX):
        return f"topic file {quote(value)} must end in {SUFFIX}"
    if value == DECK_NAME:
        return f"{DECK_NAME} holds the deck; it is not a topic file"
    return None


class FolderChecker(BankChecker):
    """The checker, walking the files of a folder bank in turn."""

    def use_file(self, file: str, text: str, folder: Path) -> None:
        """Walk another file of the bank from now on: ``file`` is its name as shown,
        ``text`` its source and ``folder`` where its media paths start."""
        self.file = file
        self.lines = text.splitlines()
        self.folder = folder

    def deck_file(self, node: Node) -> tuple[Deck | None, list[Entry] | None]:
        """deck.yaml: its deck (without topics), and the topic files it lists, if it does."""
        keys = self.mapping(node, DECK_FILE, DECK_NAME)
        if keys is None:
            return None, None
        deck = self.optional(keys.get("deck"), self.deck)
        files = None
        if "topics" in keys:
            node = keys["topics"].node
            items = self.sequence(node, "'topics'", "a list of topic files, such as [basics.yaml]")
            if items is not None:
                if not items:
                    self.report(
                        node,
                        "'topics' is empty: a deck needs at least one topic file",
                        errors.EMPTY_LIST,
                    )
                files = [Entry(i, i if self.first_use(i) else node) for i in items]
        if deck is None:
            return None, files
        name, deck_id, description, tags = deck
        return Deck(name, deck_id, description, tags, ()), files


class _Reader:
    """Reads a folder bank file by file with one checker, keeping the whole-bank limits."""

    def __init__(self, folder: Path, shown: str) -> None:
        self.folder = folder
        self.shown = shown
        self.checker = FolderChecker(file_name(shown, PurePosixPath(DECK_NAME)), [], folder)
        self.bytes_left = MAX_SOURCE_BYTES
        self.full = False  # the bytes limit was reached: no more files are read
        self.bound = 0  # of the YAML values read, from punctuation (see source.node_bound)
        self.nodes: int | None = None  # counted exactly, once the bound passed the limit
        self.texts: list[tuple[str, str]] = []
        # The checker remembers nodes by id(): every tree must live until the walk ends.
        self.roots: list[Node] = []

    def read(self) -> Deck:
        deck, topics, files = self.walk()
        if self.checker.problems or deck is None:
            raise SourceError(list(self.checker.problems))
        return replace(deck, topics=topics, sources=files)

    def check(self) -> tuple[Deck | None, list[Problem]]:
        """The bank's problems (sorted), and the part of the deck that has none."""
        deck, topics, files = self.walk()
        problems = sorted(self.checker.problems)
        if deck is None and topics:  # only deck.yaml is wrong: its topics still show
            deck = Deck(Path(self.shown).name, 0, None, (), ())
        if deck is not None:
            deck = replace(deck, topics=topics, sources=files)
            if problems:
                deck = without_problems(deck, self.checker.spans, problems)
        return deck, problems

    def walk(self) -> tuple[Deck | None, tuple[Topic, ...], tuple[Path, ...]]:
        """Read and check every file of the bank; the problems stay in the checker."""
        checker = self.checker
        deck: Deck | None = None
        topics: list[Topic] = []
        order: list[PurePosixPath] = []
        try:
            deck_name = file_name(self.shown, PurePosixPath(DECK_NAME))
            read = self.compose(self.folder / DECK_NAME, deck_name, _DECK_EXPECTED)
            listed = None
            if read is not None:
                checker.use_file(deck_name, read[0], self.folder)
                deck, listed = checker.deck_file(read[1])
            found = topic_files(self.folder)
            order = found if listed is None else self.listed(listed, found)
            if not found and listed is None and read is not None:
                checker.report(
                    read[1],
                    f"the bank has no topic files: add one {SUFFIX} file per topic beside "
                    f"{DECK_NAME}",
                    errors.EMPTY_LIST,
                )
            for relative in order:
                if self.full:
                    break
                topic = self.topic(relative)
                if topic is not None:
                    topics.append(topic)
        except TooManyProblems as stop:
            checker.problems[stop.problem] = None
        files = (self.folder / DECK_NAME, *(self.folder / p for p in order))
        return deck, tuple(topics), files

    def topic(self, relative: PurePosixPath) -> Topic | None:
        name = file_name(self.shown, relative)
        path = self.folder.joinpath(*relative.parts)
        read = self.compose(path, name, _TOPIC_EXPECTED)
        if read is None:
            return None
        self.checker.use_file(name, read[0], path.parent)
        return self.checker.topic(read[1], "the topic file")

    def listed(self, entries: list[Entry], found: list[PurePosixPath]) -> list[PurePosixPath]:
        """The topic files deck.yaml lists, in its order, after reporting those it lists
        wrongly and the files it leaves out."""
        checker = self.checker
        known = set(found)
        seen: dict[str, int] = {}
        order = []
        for entry in entries:
            value = checker.text(entry, "topic file")
            if value is None:
                continue
            if problem := topic_path_problem(value):
                checker.report(entry.node, problem, errors.TOPIC_FILE)
                continue
            path = PurePosixPath(value)
            if (line := checker.earlier_line(seen, path.as_posix(), entry.site)) is not None:
                message = f"topic file {quote(value)} is listed twice (first on line {line})"
                checker.report(entry.site, message, errors.TOPIC_FILE)
            elif path not in known:
                message = f"no topic file {quote(value)} in {self.shown}"
                checker.report(entry.node, message, errors.TOPIC_FILE)
            else:
                order.append(path)
        for path in found:
            if path.as_posix() not in seen:
                message = (
                    f"this file is not listed in {DECK_NAME}'s 'topics': list it there, or move "
                    "it out of the bank's folder"
                )
                name = file_name(self.shown, path)
                checker.add(Problem(name, 1, 1, message, errors.TOPIC_FILE))
        return order

    def compose(self, path: Path, name: str, expected: str) -> tuple[str, Node] | None:
        """The text and node tree of one file, or ``None`` after keeping its problem."""
        try:
            data = read_regular_file(path, name=name, limit=self.bytes_left)
            if data is None:
                self.full = True
                message = (
                    f"the bank's files are together larger than the limit of "
                    f"{MAX_SOURCE_BYTES:,} bytes ({MAX_SOURCE_BYTES // 2**20} MiB)"
                )
                self.checker.add(Problem(name, 1, 1, message, errors.SOURCE_SIZE))
                return None
            self.bytes_left -= len(data)
            text = decode(data, name=name)
            self.count_nodes(text, name)
            root = compose(text, name=name, expected=expected)
        except SourceError as e:
            for problem in e.problems:
                self.checker.add(problem)
            return None
        self.roots.append(root)
        return text, root

    def count_nodes(self, text: str, name: str) -> None:
        """Refuse the file in which the bank passes :data:`MAX_YAML_NODES` values. The cheap
        bound of each file is summed; once the sum passes the limit, values are counted
        exactly, the earlier files' too."""
        self.bound += node_bound(text)
        if self.nodes is None:
            if self.bound <= MAX_YAML_NODES:
                self.texts.append((name, text))
                return
            self.nodes = 0
            for earlier, earlier_text in self.texts:
                self.nodes += self.exact(earlier_text, earlier)
            self.texts.clear()
        self.nodes += self.exact(text, name)

    def exact(self, text: str, name: str) -> int:
        assert self.nodes is not None
        message = (
            f"the bank has more than the limit of {MAX_YAML_NODES:,} YAML values (texts, "
            "lists and mappings) in its files together"
        )
        try:
            return count_nodes(text, name=name, limit=MAX_YAML_NODES - self.nodes, message=message)
        except (yaml.YAMLError, RecursionError):
            return 0  # compose() reports the syntax error
