"""Read YAML policy/rules files with errors that name the file and the line.

Syntax errors come from the YAML parser's mark; validation errors are mapped back to the
line of the offending key by walking the composed node tree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from regman.errors import PolicyError

M = TypeVar("M", bound=BaseModel)


def load_yaml_mapping(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PolicyError(f"{path}{where}: invalid YAML: {problem}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"{path}:1: expected a mapping at the top level")
    return data


def line_of(text: str, location: tuple[int | str, ...]) -> int | None:
    """1-based line of the node at `location` (keys and list indexes), best effort."""
    try:
        node: Any = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in location:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and \
                part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def load_model(path: Path, model: type[M]) -> M:
    """Parse `path` into `model`; the first validation error becomes `file:line: message`."""
    data = load_yaml_mapping(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = tuple(first["loc"])
        line = line_of(path.read_text(), location)
        where = f"{path}:{line}" if line else str(path)
        dotted = ".".join(str(p) for p in location) or "<root>"
        raise PolicyError(f"{where}: {dotted}: {first['msg']}") from exc
