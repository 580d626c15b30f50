"""Imports flow one way, down the pipeline, and never in a circle.

The package's own imports are read with ``ast`` (no module is imported): module-level imports and
those inside functions alike, ``import x.y``, ``from . import y``, ``from .m import n`` and
``importlib.import_module("literal", __name__)``.  Relative imports are resolved.  ``from pkg
import name`` is an edge to the submodule ``pkg.name`` when there is one, else to ``pkg``'s
``__init__`` (where ``name`` must then be defined).  Importing ``pkg.m`` also runs ``pkg/__init__``,
but that is not an edge: otherwise every package that re-exports its submodules (``archcost``,
``archcost.analysis``) would sit in a circle with each of them.  Imports under ``if TYPE_CHECKING:``
never run and are skipped.

The layers, bottom to top::

    language → ir → ops → analysis → api → zoo → catalog → (homework, lowering, measure) → report, plot → cli
"""

from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "archcost"
#: the outputs: they format what the layers below compute, and only the CLI (and ``python -m``) sit above them
OUTPUTS = ("archcost.report", "archcost.plot")
CLI = "archcost.cli"
ENTRY = ("archcost.__main__",)


def package_sources(root: Path = ROOT, package: str = PACKAGE) -> dict:
    """``{module name: (source text, is a package's __init__)}`` for every .py file of ``package``."""
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts.pop()
        out[".".join(parts)] = (path.read_text(encoding="utf-8"), is_pkg)
    return out


def _is_type_checking(test) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree):
    """Every import statement and ``importlib.import_module`` call, at any depth, except under TYPE_CHECKING."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            todo.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            yield node  # a computed name (an f-string) cannot be followed
        todo.extend(ast.iter_child_nodes(node))


def _resolve(module: str, is_pkg: bool, level: int, name: str | None) -> str:
    """The absolute name of ``from <level dots><name> import ...`` written in ``module``."""
    if not level:
        return name or ""
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def module_graph(sources: dict, package: str = PACKAGE) -> dict:
    """``{module: {imported module: first line}}`` over the modules of ``sources`` (see the module doc)."""
    graph = {}
    for module, (text, is_pkg) in sources.items():
        edges: dict = {}

        def add(target, line):
            if target in sources and target != module:
                edges[target] = min(line, edges.get(target, line))

        for node in _import_nodes(ast.parse(text, filename=module)):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    add(alias.name, node.lineno)
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(module, is_pkg, node.level, node.module)
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    add(sub if sub in sources else target, node.lineno)
            else:  # importlib.import_module("name"), or relative to __name__ / __package__
                name = node.args[0].value
                level = len(name) - len(name.lstrip("."))
                anchor = node.args[1].id if len(node.args) > 1 and isinstance(node.args[1], ast.Name) else None
                if not level:
                    add(name, node.lineno)
                elif anchor in ("__name__", "__package__"):  # __name__ is the anchor itself, as if a package
                    add(_resolve(module, is_pkg or anchor == "__name__", level, name[level:] or None), node.lineno)
        graph[module] = edges
    return graph


def find_cycles(graph: dict) -> list:
    """One shortest cycle per strongly connected component of more than one module, each as a list of
    modules whose last is its first."""
    index, low, stack, on_stack, comps, counter = {}, {}, [], set(), [], [0]

    def strongconnect(v):  # Tarjan, iteratively: the graph is a few hundred modules deep at most
        work = [(v, iter(sorted(graph.get(v, ()))))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        while work:
            node, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = set()
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.add(w)
                        if w == node:
                            break
                    if len(comp) > 1:
                        comps.append(comp)

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    cycles = []
    for comp in comps:
        start = min(comp)
        prev, todo = {start: None}, deque([start])
        while todo:  # breadth first from start, inside the component, back to start
            v = todo.popleft()
            if start in graph[v]:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                cycles.append(path[::-1] + [start])
                break
            for w in sorted(graph[v]):
                if w in comp and w not in prev:
                    prev[w] = v
                    todo.append(w)
    return sorted(cycles)


def cycle_text(cycle: list, graph: dict) -> str:
    return cycle[0] + "".join(f"\n  -> {b} (line {graph[a][b]} of {a})" for a, b in zip(cycle, cycle[1:]))


def _in(module: str, prefixes) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def layer_violations(graph: dict) -> list:
    """Edges that point up: from a layer below the outputs into report/, plot/ or cli/; from report/ or plot/
    into cli/."""
    bad = []
    for module, edges in graph.items():
        if _in(module, ENTRY) or _in(module, (CLI,)):
            continue
        forbidden = (CLI,) if _in(module, OUTPUTS) else (*OUTPUTS, CLI)
        bad += [f"{module} imports {t} (line {line})" for t, line in edges.items() if _in(t, forbidden)]
    return sorted(bad)


def test_the_package_has_no_import_cycles():
    graph = module_graph(package_sources())
    assert "archcost.analysis" in graph["archcost.api"], "the walker sees the package's imports"
    cycles = find_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(cycle_text(c, graph) for c in cycles)


def test_imports_flow_down_to_the_outputs_and_the_cli():
    graph = module_graph(package_sources())
    assert graph["archcost.cli.plots"], "the walker sees the CLI's imports"
    bad = layer_violations(graph)
    assert not bad, "imports that point up (report/ and plot/ only format; the CLI is on top):\n" + "\n".join(bad)


# a small fake package: the checker must see what the real one must not have
FAKE = {
    "pkg": ("from .a import f\nfrom . import b\n", True),   # re-exports: edges pkg -> pkg.a, pkg.b
    "pkg.a": ("from . import b\n\ndef f():\n    pass\n", False),
    "pkg.b": ("import os\n\ndef g():\n    from .sub.c import h\n    return h\n", False),  # inside a function
    "pkg.sub": ("", True),
    "pkg.sub.c": ("from ..a import f\nimport importlib\n\ndef h():\n    return f\n", False),
}


def test_checker_resolves_relative_and_function_level_imports():
    graph = module_graph(FAKE, "pkg")
    assert graph == {"pkg": {"pkg.a": 1, "pkg.b": 2}, "pkg.a": {"pkg.b": 1}, "pkg.b": {"pkg.sub.c": 4},
                     "pkg.sub": {}, "pkg.sub.c": {"pkg.a": 1}}


def test_checker_finds_a_cycle_and_prints_it():
    graph = module_graph(FAKE, "pkg")
    cycles = find_cycles(graph)
    assert cycles == [["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"]]
    assert cycle_text(cycles[0], graph) == ("pkg.a\n  -> pkg.b (line 1 of pkg.a)\n  -> pkg.sub.c (line 4 of pkg.b)"
                                            "\n  -> pkg.a (line 1 of pkg.sub.c)")
    fixed = {**FAKE, "pkg.sub.c": ("import importlib\n\ndef h():\n    return 1\n", False)}
    assert find_cycles(module_graph(fixed, "pkg")) == []


def test_checker_edge_rule_for_a_package_init():
    # `from pkg import b` (a submodule) is an edge to pkg.b, not to pkg's __init__: no cycle with the re-export
    ok = {**FAKE, "pkg.sub.c": ("from pkg import b\n", False), "pkg.b": ("", False)}
    assert find_cycles(module_graph(ok, "pkg")) == []
    # `from pkg import f` (a name defined in __init__) runs pkg/__init__, which imports pkg.a: a cycle
    bad = {**FAKE, "pkg.a": ("from pkg import f as g\n\ndef f():\n    pass\n", False),
           "pkg.b": ("def g():\n    import importlib\n    return importlib.import_module('.a', __package__)\n", False)}
    graph = module_graph(bad, "pkg")
    assert graph["pkg.b"] == {"pkg.a": 3} and graph["pkg.a"] == {"pkg": 1}
    assert find_cycles(graph) == [["pkg", "pkg.a", "pkg"]]
    # imports only a type checker runs are no edges
    typed = {**bad, "pkg.a": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import f\n", False)}
    assert find_cycles(module_graph(typed, "pkg")) == []


def test_layer_checker_flags_an_upward_import():
    graph = {"archcost.api": {"archcost.report.html": 7}, "archcost.report.html": {"archcost.cli.core": 3},
             "archcost.cli.core": {"archcost.report.html": 1}, "archcost.plot.data": {"archcost.catalog": 2}}
    assert layer_violations(graph) == ["archcost.api imports archcost.report.html (line 7)",
                                       "archcost.report.html imports archcost.cli.core (line 3)"]
