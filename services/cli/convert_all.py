"""Convert decoded YAML/JSON into a msgspec Struct, reporting every problem at once.

msgspec stops at the first error; an operator fixing a definition file wants all of them,
so this walks the Struct's fields itself (unknown fields, missing fields, lists) and lets
msgspec judge only the leaf values. Pure.
"""
from __future__ import annotations

from typing import Any, TypeVar, get_args, get_origin

import msgspec

from services.common.election import RuleError

T = TypeVar("T")
TOP = "(top level)"


def convert_all(obj: Any, cls: type[T]) -> tuple[T | None, list[RuleError]]:
    """The Struct, or None and every rule the raw value breaks (field path, reason)."""
    errors = _check(obj, cls, "")
    if errors:
        return None, errors
    return msgspec.convert(obj, cls), []


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false"}.get(type(value), type(value).__name__)


def _check(obj: Any, tp: Any, path: str) -> list[RuleError]:
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return _check_struct(obj, tp, path)
    if get_origin(tp) is list:
        if not isinstance(obj, list):
            return [RuleError(path or TOP, f"expected a list, got {_kind(obj)}")]
        (item_type,) = get_args(tp)
        return [e for i, item in enumerate(obj) for e in _check(item, item_type, f"{path}[{i}]")]
    try:
        msgspec.convert(obj, tp)
    except msgspec.ValidationError as exc:
        return [RuleError(path or TOP, str(exc).removesuffix(" - at `$`"))]
    return []


def _check_struct(obj: Any, cls: type[msgspec.Struct], path: str) -> list[RuleError]:
    if not isinstance(obj, dict):
        return [RuleError(path or TOP, f"expected a mapping of fields, got {_kind(obj)}")]
    fields = {f.encode_name: f for f in msgspec.structs.fields(cls)}
    expected = ", ".join(fields)
    errors = [RuleError(_join(path, str(k)), f"unknown field (known: {expected})") for k in obj if k not in fields]
    for name, field in fields.items():
        if name in obj:
            errors.extend(_check(obj[name], field.type, _join(path, name)))
        elif field.required:
            errors.append(RuleError(_join(path, name), "required field is missing"))
    return errors
