"""A bank in one file to a folder bank and back, keeping every note as it was.

Both directions cut and paste the text; they never rewrite it. `split` moves each topic of
the file's ``topics:`` list, with its comments and layout, to a file of its own, and leaves
the rest of the file in deck.yaml, whose ``topics:`` then lists the new files in order.
`join` indents the topic files back into one list. A note's GUID comes from the deck id and
its question id, and the lock's content hash from its text as written, so every note keeps
its GUID and ``mod``: the lock is carried over (``questions.lock`` to ``deck.lock`` and
back) and the media the cards use is copied along, at the same paths relative to the text
that uses it. The result is read back and compared with the original before anything is
written, and nothing is ever overwritten.
"""

from __future__ import annotations

import json
import posixpath
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from yaml.nodes import MappingNode, Node, SequenceNode

from deckgen.checker import load_deck
from deckgen.errors import BuildError, SourceError, shown_path
from deckgen.fileio import transaction
from deckgen.folder import DECK_NAME, LOCK_NAME, SUFFIX
from deckgen.lock import format_lock, lock_path_for, read_lock
from deckgen.media import MediaFile
from deckgen.model import Deck, Topic, slugify
from deckgen.schema import SCHEMA_FILES, json_schema
from deckgen.source import compose

_MODELINE = re.compile(r"#\s*yaml-language-server:\s*\$schema=\S*\s*")
_ITEM_START = re.compile(r"\s*-\s*")


class LayoutError(BuildError):
    """A bank cannot be split or joined as it is written; nothing was written."""


@dataclass(frozen=True)
class Layout:
    """What a split or a join wrote."""

    bank: Path  # the new bank: a folder, or a file
    topics: int
    lock: Path | None  # the lock carried over, if the source had one
    media: tuple[Path, ...]  # the media files copied


def modeline(kind: str) -> str:
    """The first line that points editors at the schema of ``kind`` (see SCHEMA_FILES)."""
    return f"# yaml-language-server: $schema={SCHEMA_FILES[kind]}\n"


def split_text(text: str, deck: Deck) -> dict[str, str]:
    """The files of a folder bank with the bank ``text`` (valid, read as ``deck``): deck.yaml
    first, then one file per topic, by path."""
    root = compose(text, name="")
    lines = text.splitlines(keepends=True)
    key, topics, end = _root_entry(root, "topics", len(lines))
    if key is None or not isinstance(topics, SequenceNode) or topics.flow_style:
        raise LayoutError("write the bank's 'topics' as a block list ('- name: ...') to split it")
    names = topic_file_names([t.tag for t in deck.topics])
    has_modeline = bool(lines) and _MODELINE.fullmatch(lines[0]) is not None
    starts = [item.start_mark.line for item in topics.value]
    head = lines[key.start_mark.line + 1 : starts[0]]
    files: dict[str, str] = {}
    for item, start, stop, name in zip(
        topics.value, starts, [*starts[1:], end], names, strict=True
    ):
        body = lines[start:stop]
        column = item.start_mark.column
        carried = _trailing_comments(body, column) if stop != end else []
        if not _ITEM_START.fullmatch(body[0][:column]):
            raise LayoutError(
                f"the topic on line {start + 1} does not start on the line of its '-': write "
                "it as '- name: ...' to split the bank"
            )
        body[0] = " " * column + body[0][column:]
        text_lines = [_dedent(line, column, start + 1) for line in head + body]
        files[name] = (modeline("topic") if has_modeline else "") + "".join(text_lines)
        head = carried
    indent = " " * key.start_mark.column
    listed = [f"{indent}topics:\n", *(f"{indent}  - {name}\n" for name in names)]
    deck_lines = [*lines[: key.start_mark.line], *listed, *lines[end:]]
    if has_modeline:
        deck_lines[0] = modeline("deck")
    return {DECK_NAME: "".join(deck_lines), **files}


def join_text(deck_text: str, topics: list[str]) -> str:
    """The text of one bank file from a folder bank's deck.yaml and its topic files' texts,
    in order."""
    root = compose(deck_text, name="")
    lines = deck_text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    key, _, end = _root_entry(root, "topics", len(lines))
    start, column = (key.start_mark.line, key.start_mark.column) if key else (end, 0)
    items = "\n".join(_as_item(text, column) for text in topics)
    block = [f"{' ' * column}topics:\n", items]
    joined = [*lines[:start], *block, *lines[end:]]
    if lines and _MODELINE.fullmatch(lines[0]):
        joined[0] = modeline("bank")
    return "".join(joined)


def topic_file_names(tags: list[str]) -> list[str]:
    """A file name for each topic, from its tag: unique even where the file system ignores
    case, and never deck.yaml."""
    taken = {DECK_NAME}
    names = []
    for tag in tags:
        stem = slugify(tag.replace("::", "-")) or "topic"
        name, n = f"{stem}{SUFFIX}", 1
        while name.casefold() in taken:
            n += 1
            name = f"{stem}-{n}{SUFFIX}"
        taken.add(name.casefold())
        names.append(name)
    return names


def split_bank(source: Path, folder: Path) -> Layout:
    """Write the bank file ``source`` as a folder bank in ``folder`` (absent or empty): its
    files, its lock as deck.lock, the schema files when the bank names its schema, and the
    media its cards use."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise LayoutError(f"{folder} exists and is not an empty folder; nothing was written")
    deck = load_deck(source, name=shown_path(source))
    texts = split_text(source.read_text(encoding="utf-8-sig"), deck)
    files: dict[str, str | Path] = dict(texts)
    if texts[DECK_NAME].startswith(modeline("deck")):
        for kind in ("deck", "topic"):
            files[SCHEMA_FILES[kind]] = json.dumps(json_schema(kind), indent=2) + "\n"
    lock = _carried_lock(lock_path_for(source), source_name="this folder's bank")
    if lock is not None:
        files[LOCK_NAME] = lock
    media = _media_plan(deck)
    files |= media
    _check_copy(files, deck, shown_path(folder), entry=None)
    _write(folder, files, skip=set())
    return Layout(
        folder,
        len(deck.topics),
        folder / LOCK_NAME if lock else None,
        tuple(folder / name for name in media),
    )


def join_bank(folder: Path, target: Path) -> Layout:
    """Write the folder bank ``folder`` as one bank file ``target`` (which must not exist),
    with its lock beside it and the media its cards use, at the same relative paths."""
    base = target.parent
    if target.resolve().is_relative_to(folder.resolve()):
        raise LayoutError(f"write the joined bank outside {folder}; nothing was written")
    deck = load_deck(folder, name=shown_path(folder))
    deck_text, *topic_texts = [p.read_text(encoding="utf-8-sig") for p in deck.sources]
    for topic, path in zip(deck.topics, deck.sources[1:], strict=True):
        for question in topic.questions:
            for url in question.media:
                if _url_path(url).startswith("../"):
                    raise LayoutError(
                        f"{shown_path(path)}: {url!r} lies above the topic file's folder, so "
                        "the joined bank would need another path, which changes the note; "
                        "move the file below the topic file, or join by hand"
                    )
    lock_path = lock_path_for(target)
    files: dict[str, str | Path] = {target.name: join_text(deck_text, topic_texts)}
    lock = _carried_lock(lock_path_for(folder), source_name=shown_path(target.name))
    if lock is not None:
        files[lock_path.name] = lock
    media = _media_plan(deck)
    files |= media
    skip = {name for name, path in media.items() if _same_bytes(path, base / name)}
    for name in files:
        if name not in skip and ((base / name).exists() or (base / name).is_symlink()):
            raise LayoutError(f"{base / name} already exists; nothing was written")
    _check_copy(files, deck, shown_path(target), entry=target.name)
    _write(base, files, skip=skip)
    return Layout(
        target,
        len(deck.topics),
        lock_path if lock else None,
        tuple(base / name for name in media if name not in skip),
    )


def _root_entry(root: Node, name: str, count: int) -> tuple[Node | None, Node | None, int]:
    """The key and value nodes of ``name`` in the root mapping, and the line where the
    entry ends: where the next key starts, or the end of the text (``count`` lines)."""
    if not isinstance(root, MappingNode) or root.flow_style:
        raise LayoutError("the bank's root is not a block mapping ('deck:' on its own line)")
    for i, (key, value) in enumerate(root.value):
        if getattr(key, "value", None) == name:
            later = root.value[i + 1 :]
            return key, value, later[0][0].start_mark.line if later else count
    return None, None, count


def _trailing_comments(body: list[str], column: int) -> list[str]:
    """Remove from ``body`` its trailing blank lines and the comments left of the topic's
    keys (they introduce the next topic); return those comments, for the next topic."""
    carried: list[str] = []
    while len(body) > 1:
        line = body[-1]
        if not line.strip():
            body.pop()
        elif line.lstrip().startswith("#") and len(line) - len(line.lstrip()) < column:
            carried.insert(0, body.pop())
        else:
            break
    return carried


def _dedent(line: str, column: int, where: int) -> str:
    if not line.strip():
        return "\n"
    if not line[:column].strip():
        return line[column:]
    if line.lstrip().startswith("#"):
        return line.lstrip()
    raise LayoutError(f"the topic on line {where} has a line left of its keys: {line.strip()!r}")


def _as_item(text: str, column: int) -> str:
    """A topic file's text as an item of the bank's ``topics`` list, indented under it."""
    lines = text.splitlines(keepends=True)
    if lines and _MODELINE.fullmatch(lines[0]):
        del lines[0]
    # A topic file may start its document with '---'; a list item cannot.
    lines = [line for line in lines if line.rstrip("\r\n") != "---"]
    while lines and not lines[-1].strip():
        lines.pop()
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    first = next((i for i, line in enumerate(lines) if line.strip()[:1] not in ("", "#")), 0)
    pad = " " * column
    return "".join(
        f"{pad}  - {line}" if i == first else f"{pad}    {line}" if line.strip() else "\n"
        for i, line in enumerate(lines)
    )


def _url_path(url: str) -> str:
    """A media reference as a normalised path relative to the text that holds it."""
    return posixpath.normpath(unquote(url.split("?", 1)[0].split("#", 1)[0]))


def _media_plan(deck: Deck) -> dict[str, Path]:
    """The media files the cards use, by their path relative to the new bank: the same as
    relative to the text that uses them, as every text moves to the new bank's top."""
    plan: dict[str, MediaFile] = {}
    for _, question in deck.questions:
        for url, file in question.media.items():
            path = _url_path(url)
            if path in plan and plan[path].sha256 != file.sha256:
                raise LayoutError(
                    f"{url!r} names different files in different topic files; rename one of "
                    "them, or join by hand"
                )
            plan[path] = file
    return {path: file.path for path, file in sorted(plan.items())}


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        return b.is_file() and a.read_bytes() == b.read_bytes()
    except OSError:
        return False


def _carried_lock(path: Path, *, source_name: str) -> str | None:
    """The lock at ``path`` (migrated when older) as the new bank's lock, if there is one."""
    lock = read_lock(path)
    return None if lock is None else format_lock(lock, source_name=source_name)


def _materialise(base: Path, files: Mapping[str, str | Path]) -> None:
    for name, content in files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, path)
        else:
            path.write_text(content, encoding="utf-8")


def _check_copy(
    files: Mapping[str, str | Path], deck: Deck, shown: str, *, entry: str | None
) -> None:
    """Write ``files`` to a scratch folder and read them back as a bank (the folder, or its
    file ``entry``): it must be valid and make exactly the notes of ``deck``."""
    with tempfile.TemporaryDirectory(prefix="deckgen-layout-") as scratch:
        base = Path(scratch)
        _materialise(base, files)
        try:
            copy = load_deck(base / entry if entry else base, name=shown)
        except SourceError as e:
            raise LayoutError(
                f"the result would not be a valid bank ({e.problems[0]}); nothing was written"
            ) from e
    difference = bank_difference(deck, copy)
    if difference:
        raise LayoutError(
            f"the result would differ from the bank in {difference}; nothing was written"
        )


def bank_difference(old: Deck, new: Deck) -> str | None:
    """What differs between two banks in anything their notes are made from, or ``None``
    when every note would be the same (same GUID, same content hash)."""
    if (old.name, old.id, old.description, old.tags) != (
        new.name,
        new.id,
        new.description,
        new.tags,
    ):
        return "the deck"
    if len(old.topics) != len(new.topics):
        return f"the number of topics ({len(old.topics)}, then {len(new.topics)})"
    for a, b in zip(old.topics, new.topics, strict=True):
        if (a.name, a.tag, _notes_of(a)) != (b.name, b.tag, _notes_of(b)):
            return f"the topic {a.name!r}"
    return None


def _notes_of(topic: Topic) -> list[tuple[object, ...]]:
    return [
        (
            q.id,
            q.kind,
            sorted(q.texts.items()),
            q.tags,
            q.retired,
            sorted((url, file.sha256) for url, file in q.media.items()),
        )
        for q in topic.questions
    ]


def _write(base: Path, files: Mapping[str, str | Path], *, skip: set[str]) -> None:
    """Write every file under ``base``, all or none; ``skip`` names files already there."""
    with transaction() as staged:
        for name, content in files.items():
            if name in skip:
                continue
            tmp = staged.stage(base.joinpath(*PurePosixPath(name).parts))
            if isinstance(content, Path):
                shutil.copyfile(content, tmp)
            else:
                tmp.write_text(content, encoding="utf-8")
        staged.commit()
