"""Source transforms behind the starter kits: solution regions out, hidden tests out.

Pure functions on source text (no file system), so they are easy to test and to reuse:

* `strip_solutions` replaces every region between `# BEGIN SOLUTION[: hint]` and
  `# END SOLUTION` by `raise NotImplementedError("<hint>")` at the region's indentation,
  keeping imports, signatures, types and docstrings (the otter-grader convention, applied to
  package modules instead of notebook cells).
* `strip_hidden_tests` removes test functions and classes decorated with
  `@pytest.mark.hidden`, and drops a module whose `pytestmark` holds `pytest.mark.hidden`.

Malformed input is a `MarkerError` whose message names the file and line.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass

BEGIN_RE = re.compile(r"^(?P<indent>[ \t]*)#\s*BEGIN SOLUTION\b(?P<rest>.*)$")
END_RE = re.compile(r"^[ \t]*#\s*END SOLUTION\b\s*$")
DEFAULT_HINT = "implement this (see the exercise README: Learning objectives)"


class MarkerError(ValueError):
    """A solution region or hidden-test marker the starter cannot honour."""


@dataclass(frozen=True)
class Region:
    """One solution region: 1-based line numbers of its BEGIN and END comments."""

    begin: int
    end: int
    indent: str
    hint: str


def find_regions(source: str, filename: str) -> list[Region]:
    """The solution regions of `source`, checked for balance and nesting."""
    regions: list[Region] = []
    open_begin: tuple[int, str, str] | None = None
    for number, line in enumerate(source.splitlines(), start=1):
        begin = BEGIN_RE.match(line)
        if begin:
            if open_begin is not None:
                raise MarkerError(f"{filename}:{number}: BEGIN SOLUTION inside the region "
                                  f"opened at line {open_begin[0]} (regions cannot nest)")
            hint = begin.group("rest").strip().lstrip(":").strip() or DEFAULT_HINT
            open_begin = (number, begin.group("indent"), hint)
        elif END_RE.match(line):
            if open_begin is None:
                raise MarkerError(f"{filename}:{number}: END SOLUTION without a BEGIN SOLUTION")
            regions.append(Region(open_begin[0], number, open_begin[1], open_begin[2]))
            open_begin = None
    if open_begin is not None:
        raise MarkerError(f"{filename}:{open_begin[0]}: BEGIN SOLUTION is never closed "
                          "(no END SOLUTION)")
    return regions


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _enclosing(tree: ast.Module, first: int, last: int) -> ast.AST:
    """The innermost def/class (or the module) whose body holds lines first..last.

    Spans come from statements, so a trailing `# END SOLUTION` comment after a function's
    last statement does not count as outside it: the region's code lines decide.
    """
    best: ast.AST = tree
    for node in ast.walk(tree):
        if (isinstance(node, _SCOPES) and node.body[0].lineno <= first
                and (node.end_lineno or node.lineno) >= last
                and node.lineno > getattr(best, "lineno", 0)):
            best = node
    return best


def _check_region(tree: ast.Module, lines: list[str], region: Region, filename: str) -> None:
    code = [number for number in range(region.begin + 1, region.end)
            if lines[number - 1].strip() and not lines[number - 1].lstrip().startswith("#")]
    if not code:
        raise MarkerError(f"{filename}:{region.begin}: empty solution region")
    first, last = code[0], code[-1]
    scope = _enclosing(tree, first, last)
    if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
        if isinstance(_enclosing(tree, first, first), ast.FunctionDef | ast.AsyncFunctionDef):
            raise MarkerError(f"{filename}:{region.begin}: solution region runs past the end "
                              "of its function (END SOLUTION belongs in the same function)")
        where = "a class body" if isinstance(scope, ast.ClassDef) else "module level"
        raise MarkerError(f"{filename}:{region.begin}: solution region at {where}; regions "
                          "must lie inside a function body (the starter must still import)")
    body_line = lines[first - 1]
    if body_line[: len(body_line) - len(body_line.lstrip())] != region.indent:
        raise MarkerError(f"{filename}:{region.begin}: BEGIN SOLUTION must be indented like "
                          f"the code it wraps (line {first})")


def strip_solutions(source: str, filename: str) -> tuple[str, list[Region]]:
    """Replace each solution region by `raise NotImplementedError(hint)`; return both."""
    regions = find_regions(source, filename)
    if not regions:
        return source, []
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        raise MarkerError(f"{filename}:{exc.lineno}: not valid Python: {exc.msg}") from exc
    lines = source.splitlines(keepends=True)
    for region in regions:
        _check_region(tree, lines, region, filename)
    out: list[str] = []
    cursor = 0
    for region in regions:
        out.extend(lines[cursor:region.begin - 1])
        out.append(f"{region.indent}raise NotImplementedError({json.dumps(region.hint)})\n")
        cursor = region.end
    out.extend(lines[cursor:])
    result = "".join(out)
    try:
        compile(result, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise MarkerError(f"{filename}:{exc.lineno}: the starter version does not compile "
                          f"({exc.msg})") from exc
    return result, regions


# --------------------------------------------------------------------------- hidden tests


def _is_hidden_mark(node: ast.AST) -> bool:
    """`pytest.mark.hidden`, `mark.hidden` or a call of either."""
    if isinstance(node, ast.Call):
        node = node.func
    return (isinstance(node, ast.Attribute) and node.attr == "hidden"
            and isinstance(node.value, ast.Attribute | ast.Name)
            and (getattr(node.value, "attr", None) == "mark"
                 or getattr(node.value, "id", None) == "mark"))


def _module_is_hidden(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in targets):
            items = value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
            if any(_is_hidden_mark(item) for item in items):
                return True
    return False


def _hidden_spans(body: list[ast.stmt]) -> list[tuple[int, int]]:
    """(first, last) lines of the hidden defs/classes in `body`, classes recursively."""
    spans: list[tuple[int, int]] = []
    for node in body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        end = node.end_lineno or node.lineno
        if any(_is_hidden_mark(d) for d in node.decorator_list):
            spans.append((start, end))
        elif isinstance(node, ast.ClassDef):
            inner = _hidden_spans(node.body)
            members = [n for n in node.body if not (
                isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
            if inner and len(inner) == len(members):
                spans.append((start, end))  # every member hidden: the class goes too
            else:
                spans.extend(inner)
    return spans


def strip_hidden_tests(source: str, filename: str) -> tuple[str | None, int]:
    """The test module without its hidden tests (None: the whole module is hidden).

    Returns the new source and how many hidden tests (defs or classes) were removed.
    """
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        raise MarkerError(f"{filename}:{exc.lineno}: not valid Python: {exc.msg}") from exc
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "param"):
            for keyword in node.keywords:
                marks = keyword.value
                items = marks.elts if isinstance(marks, ast.List | ast.Tuple) else [marks]
                if keyword.arg == "marks" and any(_is_hidden_mark(m) for m in items):
                    raise MarkerError(f"{filename}:{node.lineno}: pytest.param(marks="
                                      "pytest.mark.hidden) is not supported; hide the whole "
                                      "test function instead")
    if _module_is_hidden(tree):
        return None, 1
    spans = _hidden_spans(tree.body)
    if not spans:
        return source, 0
    lines = source.splitlines(keepends=True)
    drop = {line for start, end in spans for line in range(start, end + 1)}
    kept = "".join(text for number, text in enumerate(lines, start=1) if number not in drop)
    try:
        compile(kept, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise MarkerError(f"{filename}:{exc.lineno}: removing the hidden tests leaves invalid "
                          f"Python ({exc.msg})") from exc
    return kept, len(spans)
