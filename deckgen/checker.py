"""YAML nodes to a validated deck, or every problem found at once.

The checker walks the node tree against the declarations in :mod:`deckgen.model`, so it
only ever descends where the format expects something, and visits each list and mapping
once, however the YAML graph is shared through aliases (:mod:`deckgen.walker` does the checks
that every value goes through, limits and YAML tags included).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from deckgen import errors
from deckgen.errors import Code, Problem, SourceError, quote
from deckgen.media import MediaFile, MediaProblem, is_remote, resolve_media
from deckgen.model import (
    DECK,
    KIND_NAMES,
    MAX_DECK_ID,
    MIN_DECK_ID,
    QUESTION_ID_PATTERN,
    QUESTIONS,
    ROOT,
    TOPIC,
    TYPE_IN_MAX,
    Deck,
    Key,
    Kind,
    Question,
    Topic,
    deck_name_problem,
    normalise_question,
    slugify,
    tag_problem,
)
from deckgen.partial import Span, without_problems
from deckgen.source import compose, compose_bytes, decode, read_source, read_text
from deckgen.walker import Entry, NodeWalker, TooManyProblems, did_you_mean

if TYPE_CHECKING:
    from deckgen.incremental import BankIndex

_ID_RE = re.compile(QUESTION_ID_PATTERN)
_T = TypeVar("_T")


def validate(root: Node, *, file: str, text: str = "", folder: Path | None = None) -> Deck:
    """Check a composed source against the format; raise :class:`SourceError` with every
    problem found, or return the deck. ``text``, the source, locates problems inside texts;
    media paths are relative to ``folder``, the source's folder."""
    deck, problems = check(root, file=file, text=text, folder=folder)
    if problems or deck is None:
        raise SourceError(problems)
    return deck


def check(
    root: Node, *, file: str, text: str = "", folder: Path | None = None
) -> tuple[Deck | None, list[Problem]]:
    """Check a composed source as :func:`validate` does, but return the problems with the
    part of the deck that has none (see :func:`~deckgen.partial.without_problems`; when
    only the 'deck' mapping is wrong, a stand-in deck named after the file, id 0) instead
    of raising."""
    checker = BankChecker(file, text.splitlines(), folder)
    try:
        deck = checker.root(root)
    except TooManyProblems as stop:
        checker.problems[stop.problem] = None
        deck = None
    problems = sorted(checker.problems)
    if problems:
        if deck is None and checker.topics_read:
            # Only the 'deck' mapping is wrong: its topics still show, under a stand-in.
            deck = Deck(Path(file).stem, 0, None, (), checker.topics_read)
        if deck is not None:
            deck = without_problems(deck, checker.spans, problems)
    return deck, problems


def load_deck(
    path: Path, *, name: str | None = None, on_topic: Callable[[Topic], None] | None = None
) -> Deck:
    """Read, compose and validate a bank: one file, or a folder (see :mod:`deckgen.folder`);
    ``name`` is how problems name the file or folder. ``on_topic`` may be given topics of a
    file as they are checked, before the whole bank is (not all, nor only valid ones)."""
    return load_indexed(path, name=name, on_topic=on_topic, index=False)[0]


def load_indexed(
    path: Path,
    *,
    name: str | None = None,
    on_topic: Callable[[Topic], None] | None = None,
    index: bool = True,
) -> tuple[Deck, BankIndex | None]:
    """:func:`load_deck`, with the index of a one-file bank that a build keeps to check the
    next edit quickly (see :mod:`deckgen.incremental`), when it has one and ``index``."""
    if path.is_dir():
        from deckgen.folder import load_folder

        return load_folder(path, name=name), None
    shown = errors.shown_path(path) if name is None else name
    found: BankIndex | None = None
    with cyclic_gc_paused():
        data = read_source(path, name=shown)
        if index:
            from deckgen.incremental import index_bank

            deck, found = index_bank(data, file=shown, folder=path.parent, on_topic=on_topic)
        else:
            from deckgen.quickcheck import quick_load

            deck = quick_load(data, file=shown, folder=path.parent, on_topic=on_topic)
        if deck is None:
            # Only a bank with a problem (or something unusual) gets here: it is composed,
            # and walked by the checker that locates every problem (the text locates those
            # inside texts).
            root = compose_bytes(data, name=shown)
            deck = validate(root, file=shown, text=decode(data, name=shown), folder=path.parent)
    deck = replace(deck, sources=(path,))
    if found is not None:
        found.deck = deck
    return deck, found


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector. Composing YAML allocates a few objects per
    line and frees almost none until the end, so the collector would rescan them again and
    again (half of the time spent composing a 10,000-question bank); reference counting
    frees everything a load makes."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check_deck(path: Path, *, name: str | None = None) -> tuple[Deck | None, list[Problem]]:
    """Read and check a bank (a file or a folder), returning its problems (sorted) and the
    questions that have none, for the preview and watch; ``None`` when nothing could be
    read."""
    if path.is_dir():
        from deckgen.folder import check_folder

        return check_folder(path, name=name)
    shown = errors.shown_path(path) if name is None else name
    try:
        text = read_text(path, name=shown)
        root = compose(text, name=shown)
    except SourceError as e:
        return None, list(e.problems)
    deck, problems = check(root, file=shown, text=text, folder=path.parent)
    return (None if deck is None else replace(deck, sources=(path,))), problems


class BankChecker(NodeWalker):
    """Walks the node tree against the format, collecting problems as it goes."""

    def __init__(self, file: str, lines: list[str], folder: Path | None) -> None:
        super().__init__(file)
        self.lines = lines
        self.folder = folder  # where media paths start: the folder of the file walked
        self.root_folder = folder  # which media may not leave: the bank's folder
        self.allow_remote_media = False
        # Unique across the bank, whose topics may lie in several files: (file, line).
        self.question_ids: dict[str, tuple[str, int]] = {}
        self.question_texts: dict[str, tuple[str, int]] = {}
        self.topic_names: dict[str, tuple[str, int]] = {}
        self.topic_tags: dict[str, tuple[str, int]] = {}
        # Where each question checked stands (file, first and past-last line and column), so
        # that a preview can leave out the questions that have a problem.
        self.spans: list[Span] = []
        self.topics_read: tuple[Topic, ...] | None = None

    def root(self, node: Node) -> Deck | None:
        keys = self.mapping(node, ROOT, "the file")
        if keys is None:
            return None
        deck = self.optional(keys.get("deck"), self.deck)
        topics = self.topics_read = self.optional(keys.get("topics"), self.topics)
        if deck is None or topics is None:
            return None
        name, deck_id, description, tags = deck
        return Deck(name, deck_id, description, tags, topics)

    def deck(self, entry: Entry) -> tuple[str, int, str | None, tuple[str, ...]] | None:
        keys = self.mapping(entry.node, DECK, "'deck'")
        if keys is None:
            return None
        name = self.optional(keys.get("name"), self.deck_name)
        deck_id = self.optional(keys.get("id"), self.deck_id)
        description = self.optional(
            keys.get("description"), lambda e: self.optional_text(e, markdown=True)
        )
        tags = self.optional(keys.get("tags"), self.tags) or ()
        self.allow_remote_media = bool(self.optional(keys.get("allow_remote_media"), self.boolean))
        if name is None or deck_id is None:
            return None
        return name, deck_id, description, tags

    def deck_name(self, entry: Entry) -> str | None:
        name = self.text(entry, "deck name")
        problem = name and self.once(entry, "deck", lambda: deck_name_problem(name))
        if problem:
            self.report(entry.node, problem, errors.DECK_NAME)
            return None
        return name

    def deck_id(self, entry: Entry) -> int | None:
        node = entry.node
        kind = self.kind(node)
        if kind != "an integer":
            self.wrong_type(node, kind, "deck id", "an integer")
            return None
        assert isinstance(node, ScalarNode)
        value = _integer(node)
        if value is None or not MIN_DECK_ID <= value <= MAX_DECK_ID:
            long = value is None or len(node.value) > 40
            shown = f"a number of {len(node.value):,} characters" if long else str(value)
            self.report(
                node,
                f"deck id must be between {MIN_DECK_ID} and {MAX_DECK_ID}, not {shown}",
                errors.DECK_ID,
            )
            return None
        return value

    def topics(self, entry: Entry) -> tuple[Topic, ...] | None:
        return self.non_empty_list(entry.node, "'topics'", "topic", "a deck", self.topic)

    def topic(self, node: Node, what: str = "topic") -> Topic | None:
        keys = self.mapping(node, TOPIC, what)
        if keys is None:
            return None
        name = self.optional(keys.get("name"), lambda e: self.text(e, "topic name"))
        tag = self.optional(keys.get("tag"), self.tag)
        if name is not None:
            site = keys["name"].site
            line = self.earlier_place(self.topic_names, name.casefold(), site)
            if line is not None:
                self.report(
                    site,
                    f"duplicate topic {quote(name)} (first on {line})",
                    errors.DUPLICATE_TOPIC,
                )
            elif "tag" not in keys:
                tag = slugify(name) or None
                if tag is None:
                    self.report(
                        site,
                        f"no tag can be derived from {quote(name)}: add a 'tag'",
                        errors.TAG,
                    )
        if tag is not None:
            where = (keys["tag"] if "tag" in keys else keys["name"]).site
            line = self.earlier_place(self.topic_tags, tag.casefold(), where)
            if line is not None:
                self.report(
                    where,
                    f"topic tag {quote(tag)} is already used by the topic on {line}",
                    errors.DUPLICATE_TOPIC_TAG,
                )
        questions = self.optional(keys.get("questions"), self.questions)
        if name is None or tag is None or questions is None:
            return None
        return Topic(name, tag, questions)

    def questions(self, entry: Entry) -> tuple[Question, ...] | None:
        return self.non_empty_list(entry.node, "'questions'", "question", "a topic", self.question)

    def non_empty_list(
        self, node: Node, what: str, item: str, owner: str, check: Callable[[Node], _T | None]
    ) -> tuple[_T, ...] | None:
        """A list of at least one item, each checked; items with problems are left out."""
        items = self.sequence(node, what, f"a list of {item}s")
        if items is None:
            return None
        if not items:
            self.report(
                node, f"{what} is empty: {owner} needs at least one {item}", errors.EMPTY_LIST
            )
        checked = [check(i) for i in items]
        return tuple(c for c in checked if c is not None)

    def question(self, node: Node) -> Question | None:
        kind = self.question_kind(node)
        if kind is None:
            return None
        declared = QUESTIONS[kind]
        keys = self.mapping(node, declared, "question" if kind == "basic" else f"{kind} question")
        if keys is None:
            return None
        qid = self.optional(keys.get("id"), self.question_id)
        texts: dict[str, str] = {}
        media: dict[str, MediaFile] = {}
        complete = True
        for key in declared:
            entry = keys.get(key.name)
            if entry is None or key.kind not in (Kind.MARKDOWN, Kind.TEXT):
                continue
            if key.name in ("id", "kind"):
                continue
            markdown = key.kind is Kind.MARKDOWN
            if key.required:
                value = self.text(entry, key.name.replace("_", " "), markdown=markdown)
                complete = complete and value is not None
            else:
                value = self.optional_text(entry, markdown=markdown)
            if value:
                texts[key.name] = value
                media.update(self.text_rules(kind, key, entry))
        front = declared[2].name  # question, front or text
        if front in texts:
            site = keys[front].site
            normalised = self.once(keys[front], "same", lambda: normalise_question(texts[front]))
            line = self.earlier_place(self.question_texts, normalised, site)
            if line is not None:
                self.report(
                    site,
                    f"duplicate question: also asked on {line}",
                    errors.DUPLICATE_QUESTION,
                )
        tags = self.optional(keys.get("tags"), self.tags) or ()
        retired = self.optional(keys.get("retired"), self.boolean) or False
        required = {key.name for key in declared if key.required}
        if qid is None or not complete or not required <= {"id", *texts}:
            return None
        question = Question(qid, kind, texts, tags, retired, node.start_mark.line + 1, media)
        start, end = node.start_mark, node.end_mark
        self.spans.append(
            (
                question,
                self.file,
                (start.line + 1, start.column + 1),
                (end.line + 1, end.column + 1),
            )
        )
        return question

    def question_kind(self, node: Node) -> str | None:
        """The kind a question declares (``basic`` when it says none), read before its other
        keys because the kind decides which keys it may have."""
        if not isinstance(node, MappingNode):
            return "basic"  # mapping() reports the node itself
        for key_node, value_node in node.value:
            if not (isinstance(key_node, ScalarNode) and key_node.value == "kind"):
                continue
            kind = self.kind(value_node)
            if kind != "text":
                self.wrong_type(value_node, kind, "kind", "text")
                return None
            if value_node.value not in KIND_NAMES:
                names = ", ".join(KIND_NAMES)
                self.report(
                    value_node,
                    f"unknown kind {quote(value_node.value)}: a question is one of {names}"
                    f"{did_you_mean(value_node.value, set(KIND_NAMES))}",
                    errors.KIND,
                )
                return None
            return str(value_node.value)
        return "basic"

    def text_rules(self, kind: str, key: Key, entry: Entry) -> dict[str, MediaFile]:
        """Check what a kind asks of one of its texts and the media a Markdown text refers
        to, once however often an alias uses the text; return that media."""
        self.once(entry, ("rules", kind, key.name), lambda: self.rules(kind, key, entry.node))
        if key.kind is not Kind.MARKDOWN:
            return {}
        return self.once(entry, "media", lambda: self.media(entry.node))

    def rules(self, kind: str, key: Key, node: Node) -> None:
        """The rules a kind sets on one of its texts."""
        value = str(node.value)
        if kind == "type-in" and key.name == "answer":
            if "\n" in value.strip() or len(value) > TYPE_IN_MAX or "`" in value:
                self.report(
                    node,
                    f"a type-in answer is compared with what the user types, so it must be "
                    f"plain text on one line of at most {TYPE_IN_MAX} characters, without "
                    "Markdown: put longer answers in a basic question",
                    errors.TYPE_IN_ANSWER,
                )
        elif kind == "cloze" and key.name == "text":
            from deckgen.render import cloze_problems  # the Markdown parser: only for clozes

            for offset, message in cloze_problems(value):
                self.report_at(node, value, offset, message, errors.CLOZE)

    def media(self, node: Node) -> dict[str, MediaFile]:
        """The media files a Markdown text refers to, each checked; problems are reported
        at the reference."""
        value = str(node.value)
        found: dict[str, MediaFile] = {}
        if "![" not in value:
            return found
        from deckgen.render import find_media  # the Markdown parser: only for media

        for ref in find_media(value):
            if ref.url in found or (self.allow_remote_media and is_remote(ref.url)):
                continue
            if self.folder is None:
                problem = "media can only be checked in a bank that is a file"
                self.report_at(node, value, ref.offset, problem, errors.MEDIA)
                continue
            try:
                root = self.root_folder or self.folder
                found[ref.url] = resolve_media(ref.url, folder=self.folder, root=root)
            except MediaProblem as e:
                self.report_at(node, value, ref.offset, str(e), errors.MEDIA)
        return found

    def report_at(self, node: Node, value: str, offset: int, message: str, code: Code) -> None:
        """Report a problem at ``offset`` in a scalar's value: on its own line and column
        where the scalar's style lets the position be worked out, else at the scalar."""
        line, column = node.start_mark.line + 1, node.start_mark.column + 1
        if isinstance(node, ScalarNode) and node.style == "|":
            line += 1 + value.count("\n", 0, offset)
            indent = self.indent_of(line)
            column = indent + offset - (value.rfind("\n", 0, offset) + 1) + 1
        elif isinstance(node, ScalarNode) and "\n" not in value[:offset]:
            column += offset + (1 if node.style in ("'", '"') else 0)
        self.add(Problem(self.file, line, column, message, code))

    def indent_of(self, line: int) -> int:
        """The indentation of a 1-based source line (0 when the text is not known)."""
        if not 0 < line <= len(self.lines):
            return 0
        text = self.lines[line - 1]
        return len(text) - len(text.lstrip(" "))

    def boolean(self, entry: Entry) -> bool | None:
        kind = self.kind(entry.node)
        if kind != "a boolean":
            self.wrong_type(entry.node, kind, "this value", "true or false")
            return None
        return str(entry.node.value).lower() in ("true", "yes", "on")

    def question_id(self, entry: Entry) -> str | None:
        qid = self.text(entry, "question id")
        if qid is None or not self.once(entry, "id", lambda: self.slug_id(entry.node, qid)):
            return None
        if (line := self.earlier_place(self.question_ids, qid, entry.site)) is not None:
            self.report(
                entry.site,
                f"duplicate question id {quote(qid)} (first on {line})",
                errors.DUPLICATE_ID,
            )
        return qid

    def slug_id(self, node: Node, qid: str) -> bool:
        if _ID_RE.match(qid):
            return True
        hint = slugify(qid)
        suggestion = f", such as {quote(hint)}" if hint else ""
        self.report(
            node,
            f"question id {quote(qid)} must be a lowercase slug of a-z, 0-9 and single "
            f"hyphens{suggestion}",
            errors.QUESTION_ID,
        )
        return False

    def tags(self, entry: Entry) -> tuple[str, ...] | None:
        node = entry.node
        items = self.sequence(node, "'tags'", "a list of tags, such as [tag-one, tag-two]")
        if items is None:
            return None
        tags = [self.tag(Entry(i, i if self.first_use(i) else node)) for i in items]
        return tuple(t for t in tags if t is not None)

    def tag(self, entry: Entry) -> str | None:
        tag = self.text(entry, "tag")
        if tag is not None and (problem := self.once(entry, "tag", lambda: tag_problem(tag))):
            self.report(entry.node, problem, errors.TAG)
            return None
        return tag


def _integer(node: ScalarNode) -> int | None:
    """A YAML integer's value; ``None`` for one too long to be a deck id (Python refuses to
    read a number of more than 4,300 digits) or malformed after an explicit tag."""
    if len(node.value) > 100:
        return None
    try:
        return int(yaml.constructor.SafeConstructor().construct_yaml_int(node))
    except ValueError:
        return None
