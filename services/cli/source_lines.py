"""Where a field path ("contests[1].max_choices") sits in a YAML or JSON source, using the
node tree that `yaml.compose` builds (JSON is, for this purpose, YAML). Pure.

A path resolves to the line of its key; a path that goes missing part-way (a required
field left out, say) resolves to the line of the deepest node found.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

import yaml

from services.common.election import RuleError

_STEP = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def line_of(root: yaml.Node | None, path: str) -> int:
    return _walk(root, path)[1]


def _walk(root: yaml.Node | None, path: str) -> tuple[yaml.Node | None, int]:
    """The node at `path` (None when it goes missing) and the line of the deepest step found."""
    if root is None:
        return None, 1
    node, line = root, root.start_mark.line + 1
    for index, name in _STEP.findall(path):
        if index:
            if not isinstance(node, yaml.SequenceNode) or int(index) >= len(node.value):
                return None, line
            node = node.value[int(index)]
            line = node.start_mark.line + 1
        else:
            pair = _entry(node, name)
            if pair is None:
                return None, line
            line, node = pair[0].start_mark.line + 1, pair[1]
    return node, line


def _entry(node: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    # The last one wins, as when the document is loaded.
    for k, v in reversed(node.value):
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return k, v
    return None


def repeated_keys(node: yaml.Node | None, path: str = "") -> Iterator[RuleError]:
    """Keys given twice in one mapping: YAML loaders silently keep the last one."""
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for k, v in node.value:
            key = str(k.value)
            child = f"{path}.{key}" if path else key
            if key in first:
                yield RuleError(child, f"given twice (first on line {first[key]})")
            first.setdefault(key, k.start_mark.line + 1)
            yield from repeated_keys(v, child)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from repeated_keys(item, f"{path}[{i}]")


def repeated_item_line(root: yaml.Node | None, list_path: str, id_field: str, value: str) -> int:
    """The line of the second item of the list at `list_path` whose `id_field` is `value`."""
    seen = 0
    sequence = _walk(root, list_path)[0]
    for item in sequence.value if isinstance(sequence, yaml.SequenceNode) else []:
        pair = _entry(item, id_field)
        if pair and isinstance(pair[1], yaml.ScalarNode) and pair[1].value == value:
            seen += 1
            if seen == 2:
                return pair[0].start_mark.line + 1
    return line_of(root, list_path)
