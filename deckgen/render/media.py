"""Media references in Markdown: ``![alt](path)`` is an image, or a sound when the file's
extension is an audio one. Found by the parser, so an example inside code is not one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

IMAGE: Literal["image"] = "image"
AUDIO: Literal["audio"] = "audio"
OTHER: Literal["other"] = "other"
MediaKind = Literal["image", "audio", "other"]

IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp"})
AUDIO_EXTENSIONS = frozenset({"mp3", "ogg", "oga", "opus", "wav", "m4a", "flac"})


@dataclass(frozen=True)
class MediaRef:
    """One ``![alt](url)`` in a field: the url as the parser read it (escapes resolved, not
    percent-encoded), the offset of its ``!`` in the field's text, and its kind."""

    url: str
    offset: int
    kind: MediaKind


def extension(url: str) -> str:
    """The lowercase extension of a URL's last path segment, '' if it has none."""
    path = url.split("#", 1)[0].split("?", 1)[0]
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[1].lower() if "." in name else ""


def media_kind(url: str) -> MediaKind:
    """Image, audio or other, by the file's extension."""
    ext = extension(url)
    if ext in IMAGE_EXTENSIONS:
        return IMAGE
    return AUDIO if ext in AUDIO_EXTENSIONS else OTHER
