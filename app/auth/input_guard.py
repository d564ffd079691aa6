"""Input that no OrderDeck field may hold, refused before any view sees it.

- NUL characters: PostgreSQL cannot store them in text (the insert would fail with a 500)
  and SQLite would store a value that other tools cut short. Nobody types one; a request
  that carries one is a probe, and gets a 400 (forms) or 422 (API) that names the field.
- Duplicate keys in a JSON object: parsers disagree on which one wins ({"sku": "A",
  "sku": "B"}), which is how a checked value and a used value come apart. Refused as
  malformed JSON (400).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, abort, request
from flask.json.provider import DefaultJSONProvider

NUL = "\x00"


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        raise ValueError(f"duplicate keys in a JSON object: {', '.join(duplicates)}")
    return dict(pairs)


class StrictJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("object_pairs_hook", _refuse_duplicate_keys)
        return json.loads(s, **kwargs)


def _first_nul(value: Any, path: str = "") -> str | None:
    """The path ("lines.0.sku") of the first string holding a NUL, or None."""
    if isinstance(value, str):
        return path or "body" if NUL in value else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if NUL in str(key):
            return f"{path}.{key}".lstrip(".")
        if found := _first_nul(item, f"{path}.{key}".lstrip(".")):
            return found
    return None


def init_input_guard(app: Flask) -> None:
    app.json = StrictJSONProvider(app)

    @app.before_request
    def _refuse_nul_characters():
        for source in (request.args, request.form):
            for name, value in source.items(multi=True):
                if NUL in name or NUL in value:
                    field = name.replace(NUL, "")
                    abort(400, f"The field “{field}” contains a NUL character, which no field may hold.")
        if request.is_json and request.path.startswith("/api/") and request.content_length:
            from app.errors import api_error

            # The API's argument parser (webargs) reads the raw body with the stock json module,
            # so the strict reading happens here, once, before it.
            try:
                body = app.json.loads(request.get_data(cache=True))
            except ValueError as exc:
                if "duplicate keys" not in str(exc):
                    return None  # malformed JSON: the parser answers 400 with its own details
                return api_error(400, "bad_request", "The request body is not valid JSON.",
                                 details={"json": [f"{str(exc)[0].upper()}{str(exc)[1:]}."]})
            if (field := _first_nul(body)) is not None:
                return api_error(422, "validation_error", "Text must not contain NUL characters.",
                                 details={field: ["Contains a NUL character."]})
        return None
