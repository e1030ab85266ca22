"""Reading JSON objects from files that a person, another tool or a killed process may have broken.

Every reader of the kit's JSON files goes through here, so they all tolerate the same things and say
the same thing about them: a file that cannot be read, is not UTF-8, is not JSON (truncated, nested
too deeply) or holds something other than an object."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from vmevalkit.errors import JSONFileError

_JSON_NAMES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "true or false",
               type(None): "null"}


def parse_json_object(data: bytes) -> dict[str, Any]:
    """The JSON object in UTF-8 `data`; raises ValueError saying what is wrong with it."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"not UTF-8 text ({e})") from e
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as e:  # ValueError: JSONDecodeError, or an integer too long to convert
        raise ValueError(f"broken JSON ({e})") from e
    if not isinstance(value, dict):
        kind = _JSON_NAMES.get(type(value), type(value).__name__)
        raise ValueError(f"must hold a JSON object, not {kind}")  # noqa: TRY004 -- bad data, as the others
    return value


def read_json_object(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON object in the file at `path`; raises JSONFileError naming the file and the problem."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise JSONFileError(f"{path}: cannot be read ({e.strerror or e})") from e
    try:
        return parse_json_object(data)
    except ValueError as e:
        raise JSONFileError(f"{path}: {e}") from e


def json_object_or_none(path: str | os.PathLike) -> dict[str, Any] | None:
    """The JSON object in the file at `path`, or None when it is missing or broken in any way."""
    try:
        return read_json_object(path)
    except JSONFileError:
        return None
