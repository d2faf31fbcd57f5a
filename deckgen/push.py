"""A release straight into a running Anki: check AnkiConnect, build, import, sync."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from deckgen.ankiconnect import AnkiConnect, AnkiConnectError
from deckgen.build import BuildResult, build
from deckgen.notes import Progress


@dataclass(frozen=True)
class PushResult:
    """What was built and imported, through which AnkiConnect API version."""

    build: BuildResult
    package: Path
    api_version: int
    synced: bool


def push(
    source: Path,
    *,
    client: AnkiConnect,
    output: Path | None = None,
    name: str | None = None,
    lock_path: Path | None = None,
    allow_note_type_change: bool = False,
    sync: bool = False,
    now: int,
    progress: Progress | None = None,
) -> PushResult:
    """Build ``source`` as ``deckgen build`` does and import the package into Anki.

    Anki is asked first, so nothing is built when it cannot import; ``sync`` then asks Anki
    to sync with AnkiWeb. Every failure is an :class:`AnkiConnectError` that says how far
    the push got.
    """
    with _telling("nothing was built"):
        api_version = client.check_ready()
    result = build(
        source,
        output=output,
        name=name,
        lock_path=lock_path,
        allow_note_type_change=allow_note_type_change,
        now=now,
        progress=progress,
    )
    # Anki opens the file itself, from its own working folder.
    package = result.path.resolve()
    with _telling(f"{package} was built but not imported"):
        client.import_package(package)
    if sync:
        with _telling("the package was imported; only the sync failed"):
            client.sync()
    return PushResult(result, package, api_version, sync)


@contextmanager
def _telling(outcome: str) -> Iterator[None]:
    """Add to an AnkiConnect error what the push did and did not do before it failed."""
    try:
        yield
    except AnkiConnectError as e:
        raise type(e)(f"{e}; {outcome}") from e
