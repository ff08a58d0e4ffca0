"""The code's layout keeps its rules: imports run one way (no circle, in the engine or in
bench/), the page and the benchmarks use no private name of the engine, and every folder
says what each of its modules is for.

Read from the source with ``ast``, nothing imported: a function-level import counts the same
as one at the top, because it ties the two modules together all the same."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(*packages: str) -> dict[str, Path]:
    """Every module of ``packages`` (dotted name -> file)."""
    return {module_name(p): p for pkg in packages for p in sorted((ROOT / pkg).rglob("*.py"))}


def imported(path: Path, known: dict[str, Path]) -> set[str]:
    """The modules among ``known`` that the file at ``path`` imports, wherever in the file.

    ``from a import b`` names the module ``a.b`` when that is a module, else the module ``a``
    (``b`` is a name in it). A parent package's ``__init__`` is not counted as imported by
    its submodules: it runs first, but it does not depend on them."""
    name = module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            subs = [f"{origin}.{alias.name}" for alias in node.names]
            named = [sub for sub in subs if sub in known]
            found.update(named)
            if len(named) < len(subs):
                found.add(origin)
    return {target for target in found if target in known and target != name}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


@pytest.mark.parametrize("packages", [("deepdream",), ("deepdream_studio",), ("bench",)])
def test_no_import_circle(packages):
    known = modules(*packages)
    graph = {name: imported(path, known) for name, path in known.items()}
    assert circles(graph) == []


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_the_engine_never_imports_the_page_or_streamlit():
    for name, path in modules("deepdream").items():
        tops = {target.split(".")[0] for target in imported_anything(path)}
        assert not tops & {"streamlit", "deepdream_studio", "bench"}, name


def imported_anything(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            found.add(node.module or "")
    return found


@pytest.mark.parametrize("folder", ["deepdream_studio", "bench", "tests", "app.py"])
def test_the_page_the_benchmarks_and_the_tests_use_no_private_name_of_the_engine(folder):
    paths = [ROOT / folder] if folder.endswith(".py") else sorted((ROOT / folder).rglob("*.py"))
    private = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("deepdream"):
                if (node.module or "").startswith("deepdream_studio"):
                    continue
                private += [
                    f"{path.name}: {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and alias.name != "__version__"
                ]
                private += [
                    f"{path.name}: {node.module}"
                    for part in (node.module or "").split(".")
                    if part.startswith("_")
                ]
    assert not private


def test_every_package_says_what_each_of_its_modules_is_for():
    """Each package's ``__init__`` docstring names every module beside it, and
    docs/architecture.md names every package of the engine: a newcomer finds any file from
    the top without a hand-kept list of files."""
    architecture = (ROOT / "docs" / "architecture.md").read_text()
    unnamed = []
    for init in sorted((ROOT / "deepdream").rglob("__init__.py")):
        package = init.parent
        relative = str(package.relative_to(ROOT)) + "/"
        if f"`{relative}`" not in architecture and package.name != "deepdream":
            unnamed.append(f"docs/architecture.md: {relative}")
        if package.name == "deepdream":
            continue
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        for module in sorted(package.glob("*.py")):
            stem = module.stem
            if stem != "__init__" and f"``{stem}``" not in doc and f"``{stem}.py``" not in doc:
                unnamed.append(f"{init.relative_to(ROOT)}: {stem}")
        for sub in sorted(p for p in package.iterdir() if (p / "__init__.py").is_file()):
            if f"``{sub.name}``" not in doc:
                unnamed.append(f"{init.relative_to(ROOT)}: {sub.name}/")
    assert not unnamed


def test_every_engine_module_opens_with_its_contract():
    missing = [
        name
        for name, path in modules("deepdream").items()
        if path.name != "__init__.py"
        and path.name != "__main__.py"
        and not ast.get_docstring(ast.parse(path.read_text()))
    ]
    assert not missing


def test_the_readme_names_every_public_name_in_its_library_section():
    import deepdream

    readme = (ROOT / "README.md").read_text()
    section = readme.split("## The library in brief", 1)[1].split("\n## ", 1)[0]
    assert [name for name in deepdream.__all__ if f"`{name}" not in section] == []
    assert 20 <= len(deepdream.__all__) <= 30  # what a library user needs, not every helper


def test_the_readme_reads_in_five_minutes_and_its_links_lead_somewhere():
    import re

    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    links = re.findall(r"\]\(((?:docs|assets)/[^)#]+)\)", readme)
    for page in ("cli", "motion", "cluster", "weights", "speed", "architecture"):
        assert f"docs/{page}.md" in links
    assert [link for link in links if not (ROOT / link).is_file()] == []
