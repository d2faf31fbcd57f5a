"""``deckgen watch``: check the bank on every save, rebuild the package (and the preview)
when it is valid, and say which problems appeared and which were fixed.

Saves are seen by polling the files' modification times (the bank's files and the media its
cards show): no dependency, and it works the same on every system and file system. A burst
of saves becomes one rebuild once the files have been quiet for a moment. Builds are
atomic (:func:`deckgen.build.build`), so the package and lock on disk are always a complete
release: the last valid one while the bank has problems.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from deckgen.errors import DeckgenError, PathError, Problem, SourceError, shown_path
from deckgen.model import Deck

if TYPE_CHECKING:
    from deckgen.build import BuildResult
    from deckgen.preview.serve import PreviewServer

Style = Literal["info", "good", "problem", "warn"]
FileState = tuple[int, int, int] | None  # modification time (ns), size, inode; None: missing
Snapshot = dict[Path, FileState]
BANK_SUFFIXES = (".yaml", ".yml")


class Say(Protocol):
    """Where a watch reports: one message and how it should look."""

    def __call__(self, message: str, style: Style, /) -> None: ...


def watched_files(source: Path, deck: Deck | None) -> list[Path]:
    """The files whose change changes the deck: the source (every YAML file of a folder
    bank) and the media files the deck's cards show."""
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.suffix in BANK_SUFFIXES)
    else:
        files = [source]
    if deck is not None:
        files += sorted({f.path for _, q in deck.questions for f in q.media.values()})
    return files


def snapshot(paths: Iterable[Path]) -> Snapshot:
    """Each file's modification time, size and inode (editors that save by renaming a new
    file over the old one change the inode), or None for a file that is missing."""
    state: Snapshot = {}
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            state[path] = None
        else:
            state[path] = (st.st_mtime_ns, st.st_size, st.st_ino)
    return state


class Poller:
    """Waits for files to change, then for them to be quiet for ``quiet`` seconds."""

    def __init__(
        self,
        paths: Callable[[], list[Path]],
        *,
        interval: float = 0.2,
        quiet: float = 0.3,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.paths = paths
        self.interval = interval
        self.quiet = quiet
        self.sleep = sleep
        self.clock = clock
        self.seen: Snapshot = snapshot(paths())

    def baseline(self, before: Snapshot) -> None:
        """Compare from now on with the files as they were ``before`` a rebuild read them,
        so that a save during the rebuild starts another; files newly watched (media a
        rebuild found) count as they are now."""
        now = snapshot(self.paths())
        self.seen = {path: before.get(path, state) for path, state in now.items()}

    def wait(self) -> None:
        """Return once some file changed and no file changed for ``quiet`` seconds."""
        current = self.seen
        while current == self.seen:
            self.sleep(self.interval)
            current = snapshot(self.paths())
        settled = self.clock()
        while self.clock() - settled < self.quiet:
            self.sleep(self.interval)
            latest = snapshot(self.paths())
            if latest != current:
                current, settled = latest, self.clock()
        self.seen = current


def plural(n: int, noun: str) -> str:
    """``1 card``, ``2 cards``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclass
class Watcher:
    """One watch session: what to rebuild on every save, and where to say what happened."""

    source: Path
    say: Say
    name: str | None = None
    build: bool = True  # write the package and lock (preview-only sessions do not)
    output: Path | None = None
    lock_path: Path | None = None
    preview: Path | None = None  # the preview's folder, when one is kept up to date
    server: PreviewServer | None = None  # told each new preview's version
    interval: float = 0.2
    quiet: float = 0.3

    def __post_init__(self) -> None:
        self.shown = shown_path(self.source) if self.name is None else self.name
        self.deck: Deck | None = None
        self.problems: list[Problem] = []
        self.version = 0
        from deckgen.buildstate import StateHolder

        # The last build's state, kept in memory: a save rebuilds only what it changed.
        self.state = StateHolder(memory=True)
        self.poller = Poller(
            lambda: watched_files(self.source, self.deck),
            interval=self.interval,
            quiet=self.quiet,
        )

    def run(self) -> None:
        """Rebuild now, then after every save, until interrupted (Ctrl-C)."""
        self.rebuild()
        self.follow()

    def follow(self) -> None:
        """Rebuild after every save, until interrupted."""
        while True:
            self.poller.wait()
            self.rebuild()

    def rebuild(self) -> None:
        """One round: check, build when valid, write the preview, report."""
        before = snapshot(self.poller.paths())
        times = [time.perf_counter()]
        result: BuildResult | None = None
        problems: list[Problem] = []
        failure: str | None = None
        deck: Deck | None = None
        try:
            if self.build:
                result, problems = self._build()
                deck = None if result is None else result.deck
            times.append(time.perf_counter())
            if self.preview is not None:
                if result is None:
                    from deckgen.checker import check_deck

                    deck, problems = check_deck(self.source, name=self.shown)
                self._write_preview(deck, problems, self._fields_of(result))
            times.append(time.perf_counter())
        except PathError:
            raise  # the command's paths are wrong: no save can fix that
        except DeckgenError as e:
            failure = str(e)
        self.deck = deck or self.deck
        seconds = [end - start for start, end in itertools.pairwise(times)]
        self._report(problems, failure, result, seconds)
        self.poller.baseline(before)

    def _build(self) -> tuple[BuildResult | None, list[Problem]]:
        from deckgen import build as builder

        try:
            result = builder.build(
                self.source,
                output=self.output,
                name=self.shown,
                lock_path=self.lock_path,
                now=builder.release_time(),
                state=self.state,
            )
        except SourceError as e:
            return None, list(e.problems)
        return result, []

    def _fields_of(self, result: BuildResult | None) -> Sequence[tuple[str, ...]] | None:
        """The fields of every note of the build's deck, if it kept them: the preview shows
        the same HTML without rendering it again."""
        state = self.state.state
        if result is None or state is None or state.index.deck is not result.deck:
            return None
        return state.fields

    def _write_preview(
        self,
        deck: Deck | None,
        problems: list[Problem],
        known: Sequence[tuple[str, ...]] | None = None,
    ) -> None:
        from deckgen.preview import write_preview

        assert self.preview is not None
        self.version += 1
        write_preview(
            self.preview,
            deck=deck,
            problems=problems,
            source=self.shown,
            version=self.version,
            known=known,
        )
        if self.server is not None:
            self.server.version = self.version  # after the page is in place: pages reload

    def _report(
        self,
        problems: list[Problem],
        failure: str | None,
        result: BuildResult | None,
        seconds: list[float],
    ) -> None:
        """Say what changed in the problems, then what was built, each with its time."""
        if failure is None:
            old, new = set(self.problems), set(problems)
            for problem in sorted(new - old):
                self.say(str(problem), "problem")
            fixed = sorted(old - new)
            for problem in fixed:
                self.say(f"fixed: {problem}", "good")
            self.problems = problems
        else:
            self.say(f"Error: {failure}", "problem")
        if result is not None:
            release = result.release
            changes = [
                f"{len(ids)} {label}"
                for label, ids in (("added", release.added), ("changed", release.changed))
                if ids
            ]
            detail = f" ({', '.join(changes)})" if changes else ""
            self.say(
                f"Built {shown_path(result.path)} in {seconds[0]:.2f} s: "
                f"{plural(result.deck.question_count, 'note')}, "
                f"{plural(result.cards, 'card')}{detail}",
                "good",
            )
        elif self.build:
            why = plural(len(problems), "problem") if failure is None else "an error"
            self.say(f"Not rebuilt ({why}): the package on disk is the last valid one", "warn")
        if self.preview is not None and len(seconds) == 2:
            where = shown_path(self.preview / "index.html")
            count = plural(len(problems), "problem")
            self.say(f"Preview {where} updated in {seconds[1]:.2f} s ({count})", "info")
