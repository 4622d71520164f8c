"""The rooms of the house and the arrows between them (docs/architecture.md), read from the source.

Every import counts, at the top of a module or inside a function: a late import still ties two
modules together, it only hides the tie.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("bench", "catalog", "config", "vision", "worker")
# The vision modules the web process may import: Pillow, NumPy, hashlib and wordfreq only (vision.text
# loads the OCR models lazily, in the worker), never torch or FAISS.
WEB_VISION = {"vision.catalogue", "vision.content_keys", "vision.images", "vision.outcomes", "vision.precision",
              "vision.text"}
HEAVY = {"faiss", "torch", "torchvision"}


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules():
    """{module name: parsed source} of the project's packages, migrations left out."""
    return {_module_name(path): ast.parse(path.read_text(), str(path))
            for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
            if "migrations" not in path.parts}


MODULES = _modules()


def _imported_names(name, tree):
    """The dotted names a module imports, relative imports resolved."""
    package = name if (ROOT / name.replace(".", "/") / "__init__.py").exists() else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from package import module` imports the module; `from module import name`, the module.
            for alias in node.names:
                yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base


def _project_module(name):
    """The project module a dotted name is in (a name inside a module gives the module), or None."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(name):
    """The project modules and the top-level outside packages `name` imports."""
    project, outside = set(), set()
    for imported in _imported_names(name, MODULES[name]):
        module = _project_module(imported)
        if module and module != name:
            project.add(module)
        elif module is None:
            outside.add(imported.split(".")[0])
    return project, outside


GRAPH = {name: _imports(name)[0] for name in MODULES}


def _circles():
    """The strongly connected parts of more than one module (Tarjan's algorithm, iteratively)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]

    def visit(start):
        work = [(start, iter(sorted(GRAPH[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = counter[0]
                    counter[0] += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(GRAPH[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    part = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        part.add(member)
                        if member == node:
                            break
                    if len(part) > 1:
                        found.append(sorted(part))

    for name in sorted(GRAPH):
        if name not in index:
            visit(name)
    return found


def _is_cli(tree):
    """Whether a module is a command: it runs something when executed as __main__."""
    return any(isinstance(node, ast.If) and "__main__" in ast.unparse(node.test) for node in tree.body)


def _reachable(start):
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(GRAPH[name])
    return seen


def test_the_layering_test_reads_the_whole_project():
    assert {"catalog.models", "worker.tasks", "vision.vote", "config.settings"} <= MODULES.keys()
    assert "vision.vote" in GRAPH["vision.calibration"]


def test_there_are_no_import_circles():
    assert _circles() == []


def test_the_circle_finder_finds_a_circle():
    GRAPH["vision.vote"].add("vision.calibration")
    try:
        assert ["vision.calibration", "vision.vote"] in _circles()
    finally:
        GRAPH["vision.vote"].discard("vision.calibration")


def test_catalog_never_imports_the_worker():
    offenders = {name: sorted(m for m in GRAPH[name] if m.split(".")[0] == "worker")
                 for name in MODULES if name.startswith("catalog")}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_vision_never_imports_the_web_app_or_the_worker():
    offenders = {}
    for name in MODULES:
        if name.startswith("vision"):
            project, outside = _imports(name)
            found = {m for m in project if not m.startswith("vision")}
            found |= outside & {"django", "celery", "rest_framework"}
            if found:
                offenders[name] = sorted(found)
    assert offenders == {}


def test_catalog_imports_only_the_torch_free_vision_modules():
    used = {m for name in MODULES if name.startswith("catalog") for m in GRAPH[name] if m.startswith("vision")}
    assert used <= WEB_VISION


@pytest.mark.parametrize("name", sorted(WEB_VISION))
def test_the_vision_modules_the_web_may_import_are_torch_free(name):
    heavy = {module: _imports(module)[1] & HEAVY for module in _reachable(name)}
    assert {module: found for module, found in heavy.items() if found} == {}


def test_nothing_imports_a_command():
    commands = {name for name, tree in MODULES.items() if _is_cli(tree)}
    assert "vision.evaluate" in commands
    offenders = {name: sorted(GRAPH[name] & commands) for name in MODULES if GRAPH[name] & commands}
    assert offenders == {}


# The vision modules that need PyTorch. A worker that only categorizes has none (it serves on ONNX
# Runtime), so the worker imports them only in the functions that train or run PyTorch.
NEEDS_TORCH = ("vision.training", "vision.onnx_export", "vision.backbones", "vision.embedder", "vision.unet",
               "vision.detector_net", "vision.encoder")


def test_the_worker_imports_vision_at_the_top_of_its_modules():
    """The web process no longer imports worker/, so nothing there needs to hide vision in a
    function, but for what needs PyTorch (NEEDS_TORCH)."""
    late = []
    for name, tree in MODULES.items():
        if not name.startswith("worker"):
            continue
        for function in ast.walk(tree):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                late += [f"{name}.{function.name}" for node in ast.walk(function)
                         if isinstance(node, (ast.Import, ast.ImportFrom))
                         and any(_project_module(n) and n.startswith("vision") and not n.startswith(NEEDS_TORCH)
                                 for n in _imported_names(name, node))]
    assert late == []


def _top_level_imports(name):
    """(project modules, outside packages) that `name` imports when it is loaded: its module-level
    imports only (an import inside a function runs when the function does)."""
    top = ast.Module(body=[node for node in MODULES[name].body if isinstance(node, (ast.Import, ast.ImportFrom))],
                     type_ignores=[])
    project, outside = set(), set()
    for imported in _imported_names(name, top):
        module = _project_module(imported)
        if module and module != name:
            project.add(module)
            # Loading a.b.c loads the packages a and a.b first.
            project.update(p for p in (".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1))
                           if p in MODULES)
        elif module is None:
            outside.add(imported.split(".")[0])
    return project, outside


@pytest.mark.parametrize("name", ["worker.tasks", "config.celery", "vision.evaluate", "vision.evaluate_items",
                                  "vision.evaluate_segmentation", "vision.evaluate_cam", "vision.report",
                                  "worker.management.commands.rebuild_index",
                                  "worker.management.commands.rollback_index",
                                  "worker.management.commands.import_catalog"])
def test_serving_loads_no_pytorch(name):
    """What a worker that categorizes, the staff commands that embed and an evaluation load, module
    by module, reaches neither torch nor torchvision (tests/worker/test_serving_without_torch.py
    runs them so)."""
    seen, todo, heavy = set(), [name], {}
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        project, outside = _top_level_imports(module)
        if outside & {"torch", "torchvision"}:
            heavy[module] = sorted(outside & {"torch", "torchvision"})
        todo.extend(project - seen)
    assert heavy == {}
