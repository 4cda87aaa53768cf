"""An election definition file (YAML or JSON, API.md) read into an `ElectionDefinition`.

Every problem is reported at once as `FILE:LINE: field.path: reason`, so an operator fixes
a file in one round. Pure apart from reading the file.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec
import yaml

from services.common.election import ElectionDefinition, RuleError, check_definition

from .convert_all import convert_all
from .errors import OperatorError
from .source_lines import line_of, repeated_item_line, repeated_keys

# check_definition's wording for a repeated id, e.g. "contest_id 'mayor' appears twice".
_REPEATED_ID = re.compile(r"^(\w+_id) '(.*)' appears twice$")


class DefinitionFileError(OperatorError):
    """The file cannot become an election; `lines` name file, line, field and reason."""


def load_definition(path: str | Path) -> ElectionDefinition:
    try:
        text = Path(path).read_text("utf-8")
    except FileNotFoundError:
        raise DefinitionFileError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise DefinitionFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise DefinitionFileError(f"{path}: cannot read the file: {exc.strerror}") from None
    return parse_definition(text, str(path))


def parse_definition(text: str, source: str) -> ElectionDefinition:
    """The definition in `text` (named `source` in messages), or DefinitionFileError."""
    obj, root = _decode_json(text, source) if _is_json(text, source) else _decode_yaml(text, source)
    if obj is None:
        raise DefinitionFileError(f"{source}:1: the file holds no definition")
    definition, errors = convert_all(obj, ElectionDefinition)
    errors = list(repeated_keys(root)) + errors
    if definition is not None:
        errors += check_definition(definition)
    if errors:
        located = sorted(((_line(root, e), e) for e in errors), key=lambda pair: pair[0])
        raise DefinitionFileError(*(f"{source}:{line}: {e.path}: {e.reason}" for line, e in located))
    return definition  # type: ignore[return-value]  # no errors means converted


def _is_json(text: str, source: str) -> bool:
    suffix = Path(source).suffix.lower()
    if suffix in (".yaml", ".yml", ".json"):
        return suffix == ".json"
    return text.lstrip().startswith("{")


def _line(root: yaml.Node | None, error: RuleError) -> int:
    repeated = _REPEATED_ID.match(error.reason)
    if repeated:
        return repeated_item_line(root, error.path, repeated[1], repeated[2])
    return line_of(root, error.path)


def _decode_yaml(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        return (loader.construct_document(root) if root is not None else None), root
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise DefinitionFileError(f"{source}:{line}: malformed YAML: {exc.problem or exc.context}") from None
    except (yaml.YAMLError, ValueError) as exc:  # e.g. a control character, a 13th month
        raise DefinitionFileError(f"{source}: malformed YAML: {exc}") from None
    finally:
        loader.dispose()


def _decode_json(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    data = text.encode()
    try:
        obj = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        at = re.search(r"\(byte (\d+)\)", str(exc))
        line = data[: int(at[1])].count(b"\n") + 1 if at else 1
        raise DefinitionFileError(f"{source}:{line}: malformed JSON: {exc}") from None
    try:  # for line numbers only: valid JSON that PyYAML cannot read falls back to line 1
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        root = None
    return obj, root
