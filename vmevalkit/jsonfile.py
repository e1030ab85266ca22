"""Reading JSON objects from files that a person, another tool or a killed process may have broken.

Every reader of the kit's JSON files goes through here, so they all tolerate the same things and say
the same thing about them: a file that cannot be read, is not UTF-8, is not JSON (truncated, nested
too deeply) or holds something other than an object (or, for a data set's index, an array)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from vmevalkit.errors import JSONFileError

_JSON_NAMES = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number",
               bool: "true or false", type(None): "null"}


def _parse_json(data: bytes, kind: type) -> Any:
    """The JSON value of type `kind` (dict or list) in UTF-8 `data`; raises ValueError saying what is wrong."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"not UTF-8 text ({e})") from e
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as e:  # ValueError: JSONDecodeError, or an integer too long to convert
        raise ValueError(f"broken JSON ({e})") from e
    if not isinstance(value, kind):
        found = _JSON_NAMES.get(type(value), type(value).__name__)
        wanted = "a JSON object" if kind is dict else "a JSON array"
        raise ValueError(f"must hold {wanted}, not {found}")  # noqa: TRY004 -- bad data, as the others
    return value


def parse_json_object(data: bytes) -> dict[str, Any]:
    """The JSON object in UTF-8 `data`; raises ValueError saying what is wrong with it."""
    return _parse_json(data, dict)


def _read(path: Path, kind: type) -> Any:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise JSONFileError(f"{path}: cannot be read ({e.strerror or e})") from e
    try:
        return _parse_json(data, kind)
    except ValueError as e:
        raise JSONFileError(f"{path}: {e}") from e


def read_json_object(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON object in the file at `path`; raises JSONFileError naming the file and the problem."""
    return _read(Path(path), dict)


def read_json_array(path: str | os.PathLike) -> list[Any]:
    """The JSON array in the file at `path` (a data set's index, say); raises JSONFileError naming the file."""
    return _read(Path(path), list)


def json_object_or_none(path: str | os.PathLike) -> dict[str, Any] | None:
    """The JSON object in the file at `path`, or None when it is missing or broken in any way."""
    try:
        return read_json_object(path)
    except JSONFileError:
        return None
