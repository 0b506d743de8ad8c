"""No project module reaches into another's private (`_underscore`) names.

A name another module needs is made public: then it is documented, typed and kept stable,
and a reader sees what a module offers without reading its insides. Checked on the source
(AST), so it holds for every module whether or not a test imports it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bench", "bizvalue", "dashboards", "governance", "roi")


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    """Every project module by dotted name (migrations aside: Django writes those)."""
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    }


def _source_of(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The module an `ImportFrom` names, with a relative one (`from .money import x`) resolved."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def private_names_taken(source: str, *, module: str, is_package: bool, modules: set[str]) -> list[str]:
    """Each private name `module` takes from another project module: imported by name, or
    read off an imported module (`services._helper`). `modules` is every project module."""
    tree = ast.parse(source)
    packages = {name.split(".")[0] for name in modules}
    found: list[str] = []
    bound: dict[str, str] = {}  # local name -> the project module it is
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            origin = _source_of(node, module, is_package)
            for alias in node.names:
                if _private(alias.name) and origin != module and origin.split(".")[0] in packages:
                    found.append(f"line {node.lineno}: from {origin} import {alias.name}")
                if f"{origin}.{alias.name}" in modules:
                    bound[alias.asname or alias.name] = f"{origin}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    bound[head] = head
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            dotted = _dotted(node.value)
            if dotted is None:
                continue
            head, _, rest = dotted.partition(".")
            if head not in bound:
                continue
            target = bound[head] + (f".{rest}" if rest else "")
            if target in modules and target != module:
                found.append(f"line {node.lineno}: {dotted}.{node.attr}")
    return found


MODULES = project_modules()
NAMES = set(MODULES)


def _taken(source: str, module: str = "roi.budgets") -> list[str]:
    return private_names_taken(source, module=module, is_package=False, modules=NAMES)


@pytest.mark.parametrize(
    "source",
    [
        "from roi.services import _helper",
        "from .services import _helper",
        "from roi import services\nservices._helper()",
        "import roi.services as services\nservices._helper",
        "import roi.services\nroi.services._helper",
    ],
)
def test_the_scan_finds_each_way_of_taking_a_private_name(source: str) -> None:
    assert len(_taken(source)) == 1


@pytest.mark.parametrize(
    "source",
    [
        "from roi.services import change_reason_require",
        "from roi.models import Investment\nInvestment._meta",  # a class's attribute, not a module's name
        "from decimal import _Decimal",  # not a project module
        "def f(self):\n    return self._cache",
    ],
)
def test_the_scan_lets_public_names_and_attributes_through(source: str) -> None:
    assert _taken(source) == []


def test_the_scan_sees_every_package() -> None:
    assert {name.split(".")[0] for name in MODULES} == set(PACKAGES)


def test_no_module_imports_another_modules_private_names() -> None:
    found = [
        f"{path.relative_to(ROOT)} {problem}"
        for module, path in MODULES.items()
        for problem in private_names_taken(
            path.read_text(encoding="utf-8"),
            module=module,
            is_package=path.name == "__init__.py",
            modules=NAMES,
        )
    ]
    assert not found, "make these names public (or keep them in one module):\n" + "\n".join(found)
