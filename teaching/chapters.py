"""The notebook's parts, and the names each part reads and defines.

Part 2's chapters must each run on part 1 alone, and each lesson of TEACHING.md on the sections it lists. Whether
they do is decided here without running anything: walk the code cells of a path in order, and list every name that
a cell reads before any earlier cell of the path (or the cell itself) has defined it. A name that another chapter
defines is then reported, as it would stop a learner with a ``NameError``.

The walk follows Python's scoping: a function's body reads its free names when it is called, so they are checked at
the end of the cell that defines it; a comprehension's and a lambda's own variables are theirs; a name bound in
either branch of an ``if`` counts as bound. ``tests/test_chapters.py`` runs it on every path, and
``teaching/minutes.py`` on every exercise, to say what each one needs.
"""

from __future__ import annotations

import ast
import builtins
import re

BUILTINS = frozenset(dir(builtins)) | {"display", "get_ipython", "__name__"}  # IPython adds the first two
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


# ---------------------------------------------------------------- the notebook's parts


def _source(cell):
    return "".join(cell["source"])


def headings(cells):
    """``[(index, level, title)]`` of the markdown cells that start with a heading of level 1 or 2."""
    found = []
    for index, cell in enumerate(cells):
        match = re.match(r"(#{1,2}) (.+)", _source(cell)) if cell["cell_type"] == "markdown" else None
        if match:
            found.append((index, len(match.group(1)), match.group(2).strip()))
    return found


def sections(cells):
    """``{title: [cell indices]}`` of every section that a heading of level 1 or 2 starts, in order; the cells
    before the first heading belong to the first section."""
    marks = headings(cells)
    found = {}
    for number, (index, _, title) in enumerate(marks):
        start = 0 if number == 0 else index
        end = marks[number + 1][0] if number + 1 < len(marks) else len(cells)
        found[title] = list(range(start, end))
    return found


def parts(cells):
    """``{"part 1": [...], "chapters": {title: [...]}, "conclusion": [...], "exercises": [...]}`` as cell indices.
    Part 1 runs from the top to the heading "Part 2"; a chapter is a section of level 2 after it."""
    titles = [(index, level, title) for index, level, title in headings(cells)]
    part_2 = next(index for index, level, title in titles if level == 1 and title.startswith("Part 2"))
    conclusion = next(index for index, level, title in titles if title == "Conclusion")
    exercises = next(index for index, level, title in titles if title == "Exercises")
    by_title = sections(cells)
    chapters = {title: by_title[title] for index, level, title in titles if part_2 < index < conclusion}
    return {"part 1": list(range(part_2)), "chapters": chapters, "conclusion": list(range(conclusion, exercises)),
            "exercises": list(range(exercises, len(cells)))}


def code_of(cells, indices):
    """The code cells among ``indices``, as ``[(index, source)]``."""
    return [(index, _source(cells[index])) for index in indices if cells[index]["cell_type"] == "code"]


# ---------------------------------------------------------------- names read before they are defined


def _targets(node):
    """The names that an assignment target binds."""
    return {name.id for name in ast.walk(node) if isinstance(name, ast.Name)}


def _bound_in(body):
    """Every name that a function or class body binds in its own scope (not in nested scopes)."""
    bound = set()

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            return
        if isinstance(node, (ast.Lambda, *COMPREHENSIONS)):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        for child in ast.iter_child_nodes(node):
            visit(child)

    for statement in body:
        visit(statement)
    return bound


def _parameters(arguments):
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
    return {argument.arg for argument in every if argument is not None}


def _scope_reads(node, local):
    """Names that the code of ``node`` reads from outside its scopes; ``local``: the names its own scope binds."""
    reads = set()
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        declared = {name for statement in ast.walk(node) if isinstance(statement, ast.Global)
                    for name in statement.names}
        inner = (_parameters(node.args) | _bound_in(node.body)) - declared
        for statement in node.body:
            reads |= _scope_reads(statement, local | inner)
        return reads
    if isinstance(node, ast.Lambda):
        return _scope_reads(node.body, local | _parameters(node.args))
    if isinstance(node, ast.ClassDef):
        for statement in node.body:  # a class body reads the module's names as it runs
            reads |= _scope_reads(statement, local | _bound_in(node.body))
        return reads
    if isinstance(node, COMPREHENSIONS):
        inner = set().union(*(_targets(generator.target) for generator in node.generators))
        for child in ast.iter_child_nodes(node):
            reads |= _scope_reads(child, local | inner)
        return reads
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in local:
        reads.add(node.id)
    for child in ast.iter_child_nodes(node):
        reads |= _scope_reads(child, local)
    return reads


class _Walk:
    """The module-level statements of the cells of a path, in order: what each reads before it is defined."""

    def __init__(self, defined=()):
        self.defined = set(defined) | BUILTINS
        self.missing = []  # (cell index, name)
        self.deferred = []  # names that functions of the current cell read when called

    def expression_reads(self, node):
        """The names that evaluating ``node`` at module level reads now; function bodies are deferred."""
        reads = set()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for part in [*node.decorator_list, *node.args.defaults, *[d for d in node.args.kw_defaults if d]]:
                reads |= self.expression_reads(part)
            self.deferred.append(_scope_reads(node, set()))
            return reads
        if isinstance(node, ast.Lambda):
            for part in [*node.args.defaults, *[d for d in node.args.kw_defaults if d]]:
                reads |= self.expression_reads(part)
            self.deferred.append(_scope_reads(node, set()))
            return reads
        if isinstance(node, COMPREHENSIONS):
            return _scope_reads(node, set())  # runs now, with its own variables
        if isinstance(node, ast.ClassDef):
            for part in [*node.decorator_list, *node.bases, *[keyword.value for keyword in node.keywords]]:
                reads |= self.expression_reads(part)
            own = _bound_in(node.body)
            for statement in node.body:  # the body runs now; its methods, when called (they skip its names)
                if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self.deferred.append(_scope_reads(statement, set()))
                else:
                    reads |= _scope_reads(statement, own)
            return reads
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            return {node.id}
        for child in ast.iter_child_nodes(node):
            reads |= self.expression_reads(child)
        return reads

    def evaluate(self, cell, node):
        """Evaluate an expression at module level: its reads must exist; its ``:=`` targets exist after it."""
        self.need(cell, self.expression_reads(node))
        self.bind(name.target.id for name in ast.walk(node)
                  if isinstance(name, ast.NamedExpr) and isinstance(name.target, ast.Name))

    def need(self, cell, names):
        self.missing += [(cell, name) for name in sorted(names - self.defined)
                         if (cell, name) not in self.missing]

    def bind(self, names):
        self.defined |= set(names)

    def statement(self, cell, node):
        if isinstance(node, (ast.For, ast.AsyncFor)):
            self.evaluate(cell, node.iter)
            self.bind(_targets(node.target))
            self.block(cell, node.body + node.orelse)
        elif isinstance(node, ast.While):
            self.evaluate(cell, node.test)
            self.block(cell, node.body + node.orelse)
        elif isinstance(node, ast.If):
            self.evaluate(cell, node.test)
            self.block(cell, node.body)
            self.block(cell, node.orelse)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                self.need(cell, self.expression_reads(item.context_expr))
                if item.optional_vars is not None:
                    self.bind(_targets(item.optional_vars))
            self.block(cell, node.body)
        elif isinstance(node, ast.Try):
            self.block(cell, node.body)
            for handler in node.handlers:
                if handler.type is not None:
                    self.need(cell, self.expression_reads(handler.type))
                self.bind([handler.name] if handler.name else [])
                self.block(cell, handler.body)
            self.block(cell, node.orelse + node.finalbody)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            self.bind((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.need(cell, self.expression_reads(node))
            self.bind([node.name])
        elif isinstance(node, ast.AugAssign):
            self.need(cell, self.expression_reads(node.value) | _targets(node.target))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value
            self.need(cell, self.expression_reads(value) if value is not None else set())
            for target in targets:  # a subscript or attribute target reads its object
                if not isinstance(target, ast.Name):
                    self.need(cell, self.expression_reads(target))
                self.bind(_stored(target))
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                self.defined -= _targets(target) if isinstance(target, ast.Name) else set()
        else:
            self.evaluate(cell, node)

    def block(self, cell, statements):
        for node in statements:
            self.statement(cell, node)

    def cell(self, index, source):
        self.deferred = []
        self.block(index, ast.parse(source).body)
        for reads in self.deferred:  # a function defined here may be called later: its globals must exist by then
            self.need(index, reads)


def _stored(target):
    """The names that an assignment target binds (a tuple unpacks; a subscript or attribute binds none)."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_stored(element) for element in target.elts))
    if isinstance(target, ast.Starred):
        return _stored(target.value)
    return set()


def missing_names(sources, defined=()):
    """``[(position, name)]``: each name that the code of ``sources`` (``[(position, code)]``, run in that order)
    reads before it has defined it. ``defined``: names that exist before the first cell."""
    walk = _Walk(defined)
    for position, source in sources:
        walk.cell(position, source)
    return walk.missing


def path_problems(cells, indices, defined=()):
    """The names that the code cells among ``indices`` read before defining them, as ``"cell N: name"`` lines."""
    return [f"cell {position}: {name}" for position, name in missing_names(code_of(cells, indices), defined)]
