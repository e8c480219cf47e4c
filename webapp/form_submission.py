"""The submitted task form (multipart inputs named ``f/<slash path>``, see webapp.forms_render)
→ JSON-typed task data, the values to show again and the inputs that did not parse. Pure Python:
uploaded files are stored through a callback.
"""

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from webapp.form_schema import (
    KEEP,
    MSG_CHOICE,
    MSG_FILE_UNKNOWN,
    MSG_INTEGER,
    MSG_JSON,
    MSG_NUMBER,
    PREFIX,
    PRESENT,
    REMOVE,
    ROW,
    Path,
    classify,
    enum_options,
    option_key,
    resolve,
    schema_types,
)
from webapp.forms_render import Field

StoreFile = Callable[[Field, Any], int]
AttachmentCheck = Callable[[int], bool]


@dataclass
class Submission:
    data: dict[str, Any]  # JSON-typed, for the engine
    values: dict[str, Any]  # what the user entered (raw text where it did not parse): re-render
    errors: dict[str, list[str]]  # problems found while parsing ({path: [messages]})


_MISSING = object()


def _getlist(source: Any, key: str) -> list[Any]:
    if source is None:
        return []
    if hasattr(source, "getlist"):
        return list(source.getlist(key))
    value = source.get(key, [])
    return list(value) if isinstance(value, list | tuple) else [value]


def _keys(source: Any) -> list[str]:
    return list(source.keys()) if source is not None else []


def _has_file(upload: Any) -> bool:
    return upload is not None and bool(getattr(upload, "filename", None))


_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


class _Parser:
    def __init__(
        self,
        root: Mapping[str, Any],
        form: Any,
        files: Any,
        store_file: StoreFile | None,
        attachment_ok: AttachmentCheck | None,
    ):
        self.root = root
        self.form = form
        self.files = files
        self.store_file = store_file
        self.attachment_ok = attachment_ok
        self.errors: dict[str, list[str]] = {}
        self.names = _keys(form) + _keys(files)

    def error(self, path: Path, message: str) -> None:
        self.errors.setdefault("/".join(str(p) for p in path), []).append(message)

    def text(self, path: Path) -> str:
        values = _getlist(self.form, PREFIX + "/".join(str(p) for p in path))
        text = str(values[0]) if values else ""
        return text.replace("\r\n", "\n").strip()

    def checked(self, path: Path) -> bool:
        return bool(_getlist(self.form, PREFIX + "/".join(str(p) for p in path)))

    def object(self, schema: Mapping[str, Any], path: Path) -> tuple[dict, dict]:
        data: dict[str, Any] = {}
        values: dict[str, Any] = {}
        required = set(schema.get("required") or [])
        for name, sub in (schema.get("properties") or {}).items():
            if not isinstance(sub, Mapping):
                continue
            value, shown = self.value(resolve(sub, self.root), (*path, name), name in required)
            if value is not _MISSING:
                data[name] = value
            if shown is not _MISSING:
                values[name] = shown
        return data, values

    def value(self, schema: dict[str, Any], path: Path, required: bool) -> tuple[Any, Any]:
        """(JSON value or _MISSING, value to show again or _MISSING)."""
        kind = classify(schema, self.root)
        _, nullable = schema_types(schema)
        empty = None if nullable else _MISSING
        method = getattr(self, f"_{kind}")
        return method(schema, path, required, nullable, empty)

    # scalar kinds
    def _text(self, schema, path, required, nullable, empty):
        text = self.text(path)
        return (text, text) if text else (empty, None)

    _textarea = _email = _date = _text

    def _number(self, schema, path, required, nullable, empty, integer=False):
        text = self.text(path)
        if not text:
            return empty, None
        number = _parse_number(text, integer)
        if number is None:
            self.error(path, MSG_INTEGER if integer else MSG_NUMBER)
            return _MISSING, text
        return number, number

    def _integer(self, schema, path, required, nullable, empty):
        return self._number(schema, path, required, nullable, empty, integer=True)

    def _checkbox(self, schema, path, required, nullable, empty):
        value = self.checked(path)
        return value, value

    _confirm = _checkbox

    def _tristate(self, schema, path, required, nullable, empty):
        text = self.text(path)
        if text == "true":
            return True, True
        if text == "false":
            return False, False
        return empty, None

    def _select(self, schema, path, required, nullable, empty):
        text = self.text(path)
        if not text:
            return empty, None
        for value, _ in enum_options(schema) or []:
            if option_key(value) == text:
                return value, value
        self.error(path, MSG_CHOICE)
        return _MISSING, text

    _radio = _select

    def _json(self, schema, path, required, nullable, empty):
        text = self.text(path)
        if not text:
            return empty, None
        try:
            value = json.loads(text)
        except ValueError:
            self.error(path, MSG_JSON)
            return _MISSING, text
        return value, value

    # structured kinds
    def _object(self, schema, path, required, nullable, empty):
        if nullable and not self.checked((*path, PRESENT)):
            return None, None
        if not required and not nullable and self.blank(path):
            return _MISSING, _MISSING
        return self.object(schema, path)

    def row_indices(self, path: Path) -> list[int]:
        prefix = PREFIX + "".join(f"{p}/" for p in path)
        indices = set()
        for name in self.names:
            if name.startswith(prefix):
                head = name[len(prefix) :].split("/", 1)[0]
                if head.isdigit():
                    indices.add(int(head))
        return sorted(indices)

    def blank(self, path: Path, ignore: tuple[str, ...] = ()) -> bool:
        """Nothing entered under `path` (helper inputs, unchecked boxes and the `ignore`d inputs
        do not count)."""
        prefix = PREFIX + "/".join(str(p) for p in path)
        for name in _keys(self.form):
            if name != prefix and not name.startswith(prefix + "/"):
                continue
            if name.rsplit("/", 1)[-1] in (ROW, REMOVE, PRESENT, *ignore):
                continue
            if any(str(v).strip() for v in _getlist(self.form, name)):
                return False
        for name in _keys(self.files):
            if (name == prefix or name.startswith(prefix + "/")) and any(
                _has_file(f) for f in _getlist(self.files, name)
            ):
                return False
        return True

    def _rows(self, schema, path, required, nullable, empty, scalar: bool, ignore=()):
        items = resolve(schema.get("items", {}), self.root)
        data: list[Any] = []
        values: list[Any] = []
        for index in self.row_indices(path):
            source = (*path, index)
            if self.checked((*source, REMOVE)) or self.blank(source, ignore):
                continue
            target = (*path, len(values))
            # Parse under the source index, report under the new one (blank rows are dropped).
            before = dict(self.errors)
            if scalar:
                value, shown = self.value(items, source, True)
            else:
                value, shown = self.object(items, source)
            self._move_errors(before, source, target)
            values.append(None if shown is _MISSING else shown)
            data.append(None if value is _MISSING else value)
        if not values and not required:
            return (None, None) if nullable else (_MISSING, _MISSING)
        return data, values

    def _move_errors(self, before: dict, source: Path, target: Path) -> None:
        if source == target:
            return
        old = "/".join(str(p) for p in source)
        new = "/".join(str(p) for p in target)
        moved: dict[str, list[str]] = {}
        for key, messages in self.errors.items():
            if key not in before and (key == old or key.startswith(old + "/")):
                moved[new + key[len(old) :]] = messages
            else:
                moved[key] = messages
        self.errors = moved

    def _object_array(self, schema, path, required, nullable, empty):
        return self._rows(schema, path, required, nullable, empty, scalar=False)

    def _indicator_checklist(self, schema, path, required, nullable, empty):
        # Every item has a row with its (hidden) item code: a row counts once something else
        # is entered in it.
        return self._rows(schema, path, required, nullable, empty, False, ("item_code",))

    def _scalar_array(self, schema, path, required, nullable, empty):
        return self._rows(schema, path, required, nullable, empty, scalar=True)

    def _choice_array(self, schema, path, required, nullable, empty):
        items = resolve(schema.get("items", {}), self.root)
        submitted = {str(v) for v in _getlist(self.form, PREFIX + "/".join(map(str, path)))}
        chosen = [v for v, _ in enum_options(items) or [] if option_key(v) in submitted]
        if len(chosen) < len(submitted - {""}):
            self.error(path, MSG_CHOICE)
        if not chosen and not required:
            return (None, None) if nullable else (_MISSING, _MISSING)
        return chosen, chosen

    def kept_ids(self, path: Path) -> list[int]:
        ids = []
        for text in _getlist(self.form, PREFIX + "/".join(map(str, (*path, KEEP)))):
            text = str(text).strip()
            if not text.isdigit() or not (0 < int(text) < 2**31):
                self.error(path, MSG_FILE_UNKNOWN)
                continue
            if self.attachment_ok is not None and not self.attachment_ok(int(text)):
                self.error(path, MSG_FILE_UNKNOWN)
                continue
            ids.append(int(text))
        return ids

    def uploads(self, schema, path: Path) -> list[int]:
        name = PREFIX + "/".join(map(str, path))
        ids = []
        for upload in _getlist(self.files, name):
            if not _has_file(upload):
                continue
            if self.store_file is None:
                continue
            try:
                probe = Field(path, "attachment", dict(schema), str(path[-1]))
                ids.append(self.store_file(probe, upload))
            except ValueError as err:
                self.error(path, str(err))
        return ids

    def _attachment(self, schema, path, required, nullable, empty):
        new = self.uploads(schema, path)
        if new:
            return new[-1], new[-1]
        kept = self.kept_ids(path)
        if kept:
            return kept[0], kept[0]
        return empty, None

    def _attachment_array(self, schema, path, required, nullable, empty):
        items = resolve(schema.get("items", {}), self.root)
        ids = self.kept_ids(path) + self.uploads(items, path)
        ids = list(dict.fromkeys(ids))  # no duplicates (uniqueItems)
        if not ids and not required:
            return (None, None) if nullable else (_MISSING, _MISSING)
        return ids, ids


def _parse_number(text: str, integer: bool) -> int | float | None:
    text = text.replace(" ", "")
    if _INTEGER.fullmatch(text):
        return int(text)
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    if not math.isfinite(value):
        return None
    if integer:
        return int(value) if value.is_integer() else None
    return value


def parse_submission(
    schema: Mapping[str, Any] | None,
    form: Any,
    files: Any = None,
    *,
    store_file: StoreFile | None = None,
    attachment_ok: AttachmentCheck | None = None,
) -> Submission:
    """Turn submitted inputs (a MultiDict-like `form` and `files`, or dicts of lists) into data.

    `store_file(field, upload)` stores one uploaded file and returns its attachment id (raise
    ValueError with a message to refuse it); `attachment_ok(id)` says whether an id sent back in
    a ``__keep`` input may be used by this user.
    """
    schema = dict(schema or {})
    parser = _Parser(schema, form, files, store_file, attachment_ok)
    data, values = parser.object(schema, ())
    return Submission(data, values, parser.errors)


def merge_errors(*sources: Mapping[str, list[str]]) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for source in sources:
        for key, messages in source.items():
            bucket = merged.setdefault(key, [])
            bucket.extend(m for m in messages if m not in bucket)
    return merged
