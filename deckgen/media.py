"""Images and sounds a card refers to: found in the Markdown, checked, and packed under names
taken from their content.

A content-addressed name (``<sha256 prefix>.<ext>``) means two files called ``diagram.png``
in different folders never collide in a user's media folder, and an edited image reaches
users whose Anki already has the old one: Anki never overwrites a media file it has, so a
changed file must have a new name.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from deckgen.render.media import (
    AUDIO,
    AUDIO_EXTENSIONS,
    IMAGE_EXTENSIONS,
    OTHER,
    media_kind,
)

MAX_MEDIA_BYTES = 10 * 1024 * 1024  # one file; AnkiWeb syncs larger ones badly or not at all
_REMOTE_RE = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")


@dataclass(frozen=True)
class MediaFile:
    """A file a card refers to, as it goes into the package."""

    path: Path
    name: str  # the packed, content-addressed name
    sha256: str

    @property
    def is_audio(self) -> bool:
        """Whether Anki plays it (``[sound:...]``) rather than shows it."""
        return media_kind(self.name) == AUDIO


class MediaProblem(ValueError):
    """Why a reference cannot be packed."""


def is_remote(url: str) -> bool:
    """Whether ``url`` names something on a network (or inline data) rather than a file."""
    return bool(_REMOTE_RE.match(url))


def resolve_media(url: str, *, folder: Path, root: Path) -> MediaFile:
    """The file ``url`` refers to, relative to ``folder`` (the folder of the file that holds
    the reference), which must lie inside ``root`` (the bank's folder); raise
    :class:`MediaProblem` with the reason when it cannot be packed."""
    if is_remote(url):
        raise MediaProblem(
            f"{url!r} is not a file in the bank: cards must work offline, so media is packed "
            "into the deck (set 'allow_remote_media: true' on the deck to allow links)"
        )
    relative = unquote(url.split("?", 1)[0].split("#", 1)[0])
    if media_kind(relative) == OTHER:
        supported = ", ".join(sorted(IMAGE_EXTENSIONS | AUDIO_EXTENSIONS))
        raise MediaProblem(f"{url!r}: unsupported media type (supported: {supported})")
    if relative.startswith("/") or PurePosixPath(relative).is_absolute():
        raise MediaProblem(f"{url!r}: write media paths relative to the file that uses them")
    path = folder / relative
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise MediaProblem(f"{url!r}: no such file beside this bank") from None
    if not real.is_relative_to(root.resolve()):
        raise MediaProblem(f"{url!r} is outside the bank's folder: keep media inside it")
    try:
        info = real.stat()
    except OSError as e:
        raise MediaProblem(f"{url!r}: cannot read it ({e.strerror or e})") from e
    if not stat.S_ISREG(info.st_mode):
        raise MediaProblem(f"{url!r} is not a regular file")
    if info.st_size > MAX_MEDIA_BYTES:
        raise MediaProblem(
            f"{url!r} is {info.st_size / 2**20:.1f} MiB; a media file may have at most "
            f"{MAX_MEDIA_BYTES // 2**20} MiB"
        )
    digest = _sha256(real)
    suffix = PurePosixPath(relative).suffix.lower()
    return MediaFile(real, f"{digest[:16]}{suffix}", digest)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
