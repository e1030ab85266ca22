"""The first frame as a provider takes it (PNG, or JPEG when PNG is over the provider's size limit), and the
uploaders that give it a public URL for providers that accept nothing else.

An uploader is a function Frame -> public URL, made from a setting such as `put:https://host/folder/`
(`make_uploader`). The one built in, `put:`, sends the image with HTTP PUT to `<folder><sha256>.png` (through
the kit's HTTP layer, with its retries) and returns that URL: it suits any folder that accepts PUT and serves
its files publicly at the same address (a WebDAV share behind a web server, a bucket with a write policy). A
password in the URL (`https://user:password@host/...`) is registered as a secret and left out of the public
URL. Add others with `register_uploader(scheme, factory)`."""

from __future__ import annotations

import base64
import hashlib
import io
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from PIL import Image

from vmevalkit.models.api.errors import INVALID_REQUEST, HostedError
from vmevalkit.secrets import register_secret

JPEG_QUALITIES = (95, 85, 75)


@dataclass(frozen=True)
class Frame:
    """An encoded first frame."""

    data: bytes
    mime: str  # image/png or image/jpeg
    size: tuple[int, int]  # (width, height)

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def extension(self) -> str:
        return ".png" if self.mime == "image/png" else ".jpg"

    @property
    def base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    @property
    def data_uri(self) -> str:
        return f"data:{self.mime};base64,{self.base64}"

    def describe(self) -> dict:
        """What the ledger and metadata record of the frame: never its bytes."""
        return {"format": self.mime, "bytes": len(self.data), "sha256": self.sha256, "width": self.size[0],
                "height": self.size[1]}


def encode_frame(image: Image.Image, max_bytes: int, provider: str = "provider") -> Frame:
    """`image` as PNG, or as JPEG (quality 95, 85, 75) when the PNG is larger than `max_bytes`."""
    rgb = image.convert("RGB")
    buf = io.BytesIO()
    rgb.save(buf, format="PNG", compress_level=1)  # fast; flat puzzle frames stay small at any level
    if buf.tell() <= max_bytes:
        return Frame(buf.getvalue(), "image/png", rgb.size)
    for quality in JPEG_QUALITIES:
        buf = io.BytesIO()
        rgb.save(buf, format="JPEG", quality=quality)
        if buf.tell() <= max_bytes:
            return Frame(buf.getvalue(), "image/jpeg", rgb.size)
    raise HostedError(INVALID_REQUEST, f"{provider}: the first frame ({rgb.size[0]}x{rgb.size[1]}) is over the "
                      f"provider's limit of {max_bytes} bytes even as JPEG; choose a smaller size setting")


Uploader = Callable[[Frame], str]
UploaderFactory = Callable[[str], Uploader]  # the part after "<scheme>:" -> uploader
_UPLOADERS: dict[str, UploaderFactory] = {}


def register_uploader(scheme: str, factory: UploaderFactory) -> None:
    """Make `<scheme>:<rest>` a valid uploader setting, built by `factory(rest)`."""
    _UPLOADERS[scheme] = factory


def make_uploader(spec: str) -> Uploader:
    """The uploader a setting names, e.g. `put:https://host/folder/`."""
    scheme, sep, rest = spec.partition(":")
    if not sep or scheme not in _UPLOADERS or not rest:
        raise HostedError(INVALID_REQUEST, f"uploader {spec!r}: write it as <scheme>:<where>, with scheme one of "
                          f"{', '.join(sorted(_UPLOADERS))} (e.g. put:https://host/folder/)")
    return _UPLOADERS[scheme](rest)


def _put_uploader(folder: str) -> Uploader:
    from vmevalkit.models.api.http import HTTPClient, RetryPolicy, limiter_for, public_url

    parts = urllib.parse.urlsplit(folder)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HostedError(INVALID_REQUEST, f"uploader put:{public_url(folder)}: give an http(s) folder URL")
    headers = {}
    if parts.username is not None:  # sent as a header: a URL with a password would reach httpx's request log
        token = base64.b64encode(f"{urllib.parse.unquote(parts.username)}:"
                                 f"{urllib.parse.unquote(parts.password or '')}".encode()).decode()
        register_secret(parts.password)
        register_secret(token)
        headers["Authorization"] = f"Basic {token}"
    folder = public_url(folder).rstrip("/") + "/"
    client = HTTPClient("upload", folder, auth=lambda: headers, policy=RetryPolicy(),
                        limiter=limiter_for("upload", 10.0), timeout=120.0)

    def upload(frame: Frame) -> str:
        name = frame.sha256 + frame.extension
        client.content(name, method="PUT", content=frame.data, headers={"Content-Type": frame.mime},
                       not_found=INVALID_REQUEST)
        return folder + name

    return upload


register_uploader("put", _put_uploader)
