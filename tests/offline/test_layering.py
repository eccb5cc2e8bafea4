"""The emulator (``offline/samlocal``) is generic: it imports nothing of Driftline, and its modules import each other
in one direction only (no cycle). Read from the source with ``ast`` (every ``import``, also inside functions)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EMULATOR = ROOT / "offline" / "samlocal"
#: what the application is made of: the emulator must not import any of it
APPLICATION = ("driftline_common", "driftline_metrics", "driftline_offline", "driftline_examples", "driftline_cli",
               "metric_evaluator", "drift_checker", "retrain_launcher", "deployer", "api", "trigger_router",
               "examples", "functions", "layers", "tests", "benchmarks", "tools")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(EMULATOR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, module: str | None = None) -> set[str]:
    """Absolute names of every module ``path`` (module ``module``) imports (relative imports resolved)."""
    module = module or _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            out.add(prefix)
            out.update(f"{prefix}.{alias.name}" for alias in node.names)  # ``from . import x`` imports a module
    return out


def _emulator_modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(EMULATOR.rglob("*.py"))}


def test_the_emulator_has_modules():
    names = _emulator_modules()
    assert {"samlocal", "samlocal.stack", "samlocal.runtime", "samlocal.lambda_runtime", "samlocal.moto_ext",
            "samlocal.sagemaker_local", "samlocal.registry", "samlocal.server"} <= set(names)


@pytest.mark.parametrize("name", sorted(_emulator_modules()))
def test_the_emulator_imports_nothing_of_the_application(name):
    path = _emulator_modules()[name]
    bad = sorted(i for i in _imports(path) if i.split(".")[0] in APPLICATION)
    assert bad == [], f"{path.relative_to(ROOT)} imports application code: {bad}"


def test_the_emulator_modules_import_each_other_without_a_cycle():
    modules = _emulator_modules()
    graph = {name: sorted({i for i in _imports(path) if i in modules and i != name})
             for name, path in modules.items()}
    # a package's __init__ re-exporting its submodules is not a dependency of those submodules on it
    for name in graph:
        graph[name] = [dep for dep in graph[name] if not (dep != name and name.startswith(dep + "."))]
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, stack: list[str]) -> bool:
        state[node] = 1
        for dep in graph[node]:
            if state.get(dep) == 1:
                cycle.extend([*stack[stack.index(dep):], node, dep] if dep in stack else [node, dep])
                return True
            if state.get(dep) is None and visit(dep, [*stack, node]):
                return True
        state[node] = 2
        return False

    for name in sorted(graph):
        if state.get(name) is None and visit(name, []):
            break
    assert cycle == [], f"import cycle: {' -> '.join(cycle)}"


def test_the_runtime_does_not_know_the_extensions():
    """The circle runtime ↔ lambda_runtime ↔ moto_ext ↔ sagemaker_local is broken: the extensions receive a
    registry; the runtime, the Lambda runtime and local SageMaker never import them."""
    modules = _emulator_modules()
    for name in ("samlocal.runtime", "samlocal.lambda_runtime", "samlocal.sagemaker_local", "samlocal.registry"):
        assert not {i for i in _imports(modules[name]) if i.startswith("samlocal.moto_ext")}, name
    for name, path in modules.items():
        if name.startswith("samlocal.moto_ext"):
            assert not {i for i in _imports(path) if i in ("samlocal.runtime", "samlocal.stack")}, name


def test_the_checker_sees_a_forbidden_import(tmp_path):
    """The import walk resolves relative imports and finds imports inside functions (the test can fail)."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from driftline_common import config\n    from . import stack\n")
    found = _imports(probe, "samlocal.probe")
    assert "driftline_common" in found
    assert "samlocal.stack" in found
