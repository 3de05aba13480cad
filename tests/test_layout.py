"""The package layout: one folder per stage, imports flowing one way, modules of readable size.

Every module of `bot` imports on its own in a fresh interpreter (and all of them in a shuffled
order); no function imports a `bot` module (no late import dodging a cycle); the graph of
top-level imports has no cycle and never points up the stages; no module exceeds MAX_LINES.
"""

from __future__ import annotations

import ast
import os
import random
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "bot"
MAX_LINES = 300
# The stages, bottom to top: a module may import its own stage and those below, never above.
STAGES = [
    ("bot", "bot.config", "bot.errors", "bot.logs", "bot.text"),
    ("bot.knowledge",),
    ("bot.language",),
    ("bot.search",),
    ("bot.indexing",),
    ("bot.replies", "bot.evaluate", "bot.feedback"),
    ("bot.telegram", "bot.batch", "bot.console"),
    ("bot.cli", "bot.__main__"),
]


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


FILES = {_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
MODULES = sorted(FILES)
IMPORTABLE = [m for m in MODULES if m != "bot.__main__"]  # __main__ runs the CLI


def _stage(module: str) -> int:
    for rank, stage in enumerate(STAGES):
        if any(module == s or (s != "bot" and module.startswith(s + ".")) for s in stage):
            return rank
    raise AssertionError(f"{module} belongs to no stage: add it to STAGES")


def _targets(node: ast.Import | ast.ImportFrom, module: str) -> list[str]:
    """The `bot` modules an import statement loads (a name from a package may be a module)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "bot"]
    base = node.module or ""
    if node.level:  # relative: resolve against the importing module's package
        package = module if FILES[module].name == "__init__.py" else module.rpartition(".")[0]
        base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                        + ([base] if base else []))
    if base.split(".")[0] != "bot":
        return []
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in FILES else base for a in node.names]


def _imports(module: str) -> tuple[set[str], list[tuple[int, str]]]:
    """The module's top-level `bot` imports, and (line, target) of any inside a function."""
    tree = ast.parse(FILES[module].read_text(encoding="utf-8"))
    top: set[str] = set()
    late: list[tuple[int, str]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                targets = _targets(child, module)
                if in_function:
                    late.extend((child.lineno, t) for t in targets)
                else:
                    top.update(targets)
            nested = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            visit(child, in_function or nested)

    visit(tree, False)
    return top, late


GRAPH = {m: _imports(m)[0] for m in MODULES}


def test_every_module_is_in_the_graph():
    assert len(MODULES) > 20
    unknown = {t for targets in GRAPH.values() for t in targets if t not in FILES}
    assert not unknown, f"imports of modules that don't exist: {unknown}"


def test_no_function_level_import_of_bot_modules():
    late = {m: found for m in MODULES if (found := _imports(m)[1])}
    assert not late, f"late imports (move them to the top; split a module, not a cycle): {late}"


def test_no_import_cycle():
    done: set[str] = set()

    def walk(module: str, path: list[str]) -> None:
        if module in path:
            pytest.fail("import cycle: " + " → ".join(path[path.index(module) :] + [module]))
        if module in done:
            return
        for target in sorted(GRAPH[module]):
            walk(target, [*path, module])
        done.add(module)

    for module in MODULES:
        walk(module, [])


def test_imports_flow_down_the_stages():
    upward = [
        f"{m} → {t}" for m in MODULES for t in sorted(GRAPH[m]) if _stage(t) > _stage(m)
    ]
    assert not upward, f"imports up the stages: {upward}"


def test_no_module_is_too_long():
    lengths = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in FILES.items()}
    assert not {m: n for m, n in lengths.items() if n > MAX_LINES}


def _python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_every_module_imports_alone_in_a_fresh_interpreter():
    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        results = dict(zip(IMPORTABLE, pool.map(lambda m: _python(f"import {m}"), IMPORTABLE),
                           strict=True))
    failed = {m: r.stderr[-2000:] for m, r in results.items() if r.returncode}
    assert not failed


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_all_modules_import_in_a_shuffled_order(seed):
    order = random.Random(seed).sample(IMPORTABLE, len(IMPORTABLE))
    result = _python("import importlib\n" + "".join(
        f"importlib.import_module({m!r})\n" for m in order))
    assert result.returncode == 0, f"order {order}:\n{result.stderr[-2000:]}"


def test_readme_names_only_modules_that_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\bbot/[\w/]+(?:\.py|/)", readme))
    assert named, "the README's module map names no module"
    missing = sorted(n for n in named if not (ROOT / n).exists())
    assert not missing, f"README names modules that don't exist: {missing}"
    packages = {p.parent.relative_to(ROOT).as_posix() + "/" for p in PACKAGE.glob("*/__init__.py")}
    assert not packages - {n for n in named if n.endswith("/")}, "a stage missing in the README"
    unnamed = [p.name for p in FILES.values() if p.name != "__init__.py"
               and f"`{p.name}`" not in readme and f"`{p.relative_to(ROOT)}`" not in readme]
    assert not unnamed, f"modules missing in the README's map: {unnamed}"


# Inside bot/search: the two retrievers stand apart — neither imports the other, nor the parts
# that join and judge them; both may use the question and the candidates' types below them.
SEARCH_BASE = {"bot.search.query", "bot.search.hits", "bot.search.answer_type",
               "bot.search.candidates"}


@pytest.mark.parametrize("stage", ["bot.search.lexical", "bot.search.semantic"])
def test_the_retrievers_stand_apart(stage):
    members = [m for m in MODULES if m == stage or m.startswith(stage + ".")]
    assert len(members) > 3
    own = set(members) | SEARCH_BASE
    crossing = {m: sorted(t for t in GRAPH[m] if t.startswith("bot.search") and t not in own)
                for m in members}
    assert not {m: t for m, t in crossing.items() if t}, "a retriever reaches outside its stage"
