"""The layers point one way, read from the source (docs/contributing.md, "Layers").

core (`coop/*.py`) → auth → places → registry → shares → payouts → distribution → county
→ reports → notifications → console: a module may import its own package, the core and the packages before its own,
never one after it. The app itself (`coop/__init__.py`, which builds it) and its tools
(the seed, health, audit routes) sit on top and may import anything. Where a lower layer
must let a higher one react, it offers a hook that create_app fills (`_connect_layers`).
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ORDER = ["core", "auth", "coop.places", "coop.registry", "coop.shares", "coop.payouts",
         "coop.distribution", "coop.county", "coop.reports", "coop.attachments",
         "coop.notifications",
         "coop.console"]
ON_TOP = {"coop", "coop.seed", "coop.health", "coop.audit_routes", "coop.models"}


def _modules() -> dict[str, Path]:
    found = {}
    for package in ("coop", "auth"):
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Every module of ours that `path` imports, at any depth of the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def _layer(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "auth":
        return "auth"
    if len(parts) > 1 and (ROOT / "coop" / parts[1]).is_dir():
        return f"coop.{parts[1]}"
    return "core"


GRAPH = {name: _imports(path, name, set(_modules())) for name, path in _modules().items()}


def test_no_lower_layer_imports_a_higher_one():
    rank = {layer: i for i, layer in enumerate(ORDER)}
    upward = sorted(f"{module} -> {target}" for module, targets in GRAPH.items()
                    if module not in ON_TOP and _layer(module) in rank
                    for target in targets
                    if target not in ON_TOP and _layer(target) in rank
                    and rank[_layer(target)] > rank[_layer(module)])
    assert upward == []


def test_no_module_imports_itself_back_through_others():
    cycles = []
    state: dict[str, int] = {}   # 1 on the current path, 2 done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH[module]):
            if state.get(target) == 1:
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_every_capability_package_is_in_the_order():
    """A new package (console, notifications) must be given its place before it lands."""
    packages = {f"coop.{p.name}" for p in (ROOT / "coop").iterdir()
                if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= set(ORDER)


def test_only_the_unit_of_work_commits():
    """One transaction rule: coop/transaction.py's unit of work commits; services flush."""
    committing = sorted(str(path.relative_to(ROOT)) for path in _modules().values()
                        if ".commit()" in path.read_text(encoding="utf-8"))
    assert committing == ["coop/transaction.py"]
