"""The cross-cutting rules of the code base, checked on its source (no database).

Each rule keeps one place for something a later change would otherwise copy: who may do what
(webapp/access.py), the page shell (no area's views reach into another area's views), a pure
spatial core (gis/), a package graph without cycles, and files short enough to read.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ACCESS_MODULE = ROOT / "webapp" / "access.py"
MAX_LINES = 600
# Python files allowed past MAX_LINES, each with its reason. Migrations are exempt as a whole:
# they are written once and never edited.
LONG_FILE_EXCEPTIONS: dict[str, str] = {}


def python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _runtime_nodes(tree: ast.AST):
    """Every node of a module except those under ``if TYPE_CHECKING:`` (annotations only: no
    import happens when the program runs)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and ast.unparse(child.test) in (
                "TYPE_CHECKING",
                "typing.TYPE_CHECKING",
            ):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (lazy imports count too, type-only
    imports do not), with relative imports resolved and ``from a import b`` counted as both
    ``a`` and ``a.b``."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


# ---- roles are compared in one module --------------------------------------------------------


def _is_role(node: ast.AST) -> bool:
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return name == "role" or name.endswith("_role")


def _is_text(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_is_text(item) for item in node.elts)
    return False


def role_literal_comparisons(source: str) -> list[int]:
    """Lines where something named ``role`` is compared with a string literal (or a collection
    holding one), on either side."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_role(side) for side in sides) and any(_is_text(side) for side in sides):
                lines.append(node.lineno)
    return lines


TEMPLATE_ROLE = re.compile(r"""\brole\b\s*(==|!=|\bnot\s+in\b|\bin\b)\s*[\[(]?\s*['"]""")


def test_roles_are_compared_only_in_the_access_module():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in python_files("webapp", "gis")
        if path != ACCESS_MODULE
        for line in role_literal_comparisons(path.read_text(encoding="utf-8"))
    ]
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if TEMPLATE_ROLE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert offenders == [], "ask webapp/access.py instead of comparing roles with strings"


def test_the_role_check_finds_what_it_should():
    assert role_literal_comparisons("user.role == 'center'") == [1]
    assert role_literal_comparisons("'grid' != current_user.role") == [1]
    assert role_literal_comparisons("if role in ('community', 'grid'): pass") == [1]
    assert role_literal_comparisons("role is UserRole.CENTER") == []
    assert TEMPLATE_ROLE.search("{% if current_user.role == 'center' %}")
    assert TEMPLATE_ROLE.search('{% if user.role in ("grid", "community") %}')
    assert not TEMPLATE_ROLE.search("{% if may.write(entity) %}")


# ---- no area's views import another area's views ---------------------------------------------


def _views_area(module: str) -> str | None:
    """``webapp.map.views`` → ``map``; views modules are ``views`` or ``*_views``."""
    parts = module.split(".")
    if len(parts) >= 3 and parts[0] == "webapp":
        last = parts[-1]
        if last == "views" or last.endswith("_views"):
            return parts[1]
    return None


def test_no_area_views_import_another_areas_views():
    offenders = []
    for path in python_files("webapp"):
        area = _views_area(module_name(path))
        if area is None:
            continue
        for module in imported_modules(path):
            other = _views_area(module)
            if other is not None and other != area:
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == [], "share through a module that is not views (render, the map shell)"


def test_the_views_check_finds_what_it_should():
    assert _views_area("webapp.map.views") == "map"
    assert _views_area("webapp.entities.transfer_views") == "entities"
    assert _views_area("webapp.map.queries") is None


# ---- gis/ is pure ----------------------------------------------------------------------------

FORBIDDEN_IN_GIS = ("flask", "flask_login", "flask_wtf", "sqlalchemy", "geoalchemy2", "webapp")


def test_gis_imports_no_web_or_database_code():
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in python_files("gis")
        for module in imported_modules(path)
        if module.split(".")[0] in FORBIDDEN_IN_GIS
    ]
    assert offenders == []


# ---- no cycles between webapp packages -------------------------------------------------------


def package_graph() -> dict[str, dict[str, str]]:
    """``{package: {imported package: a file that imports it}}`` between the first-level
    packages and modules of webapp (``webapp.map``, ``webapp.db`` …); the app factory in
    webapp/__init__.py wires them all and is left out."""
    graph: dict[str, dict[str, str]] = {}
    for path in python_files("webapp"):
        parts = module_name(path).split(".")
        if len(parts) < 2:
            continue
        source = parts[1]
        graph.setdefault(source, {})
        for module in imported_modules(path):
            target = module.split(".")
            if len(target) >= 2 and target[0] == "webapp" and target[1] != source:
                graph[source].setdefault(target[1], str(path.relative_to(ROOT)))
    return graph


def cycles(graph: dict[str, dict[str, str]]) -> list[list[str]]:
    """The strongly connected components of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph.get(node, {}):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_webapp_packages_import_each_other_in_one_direction():
    graph = package_graph()
    described = [
        ", ".join(
            f"{a} → {b} ({graph[a][b]})" for a in component for b in graph[a] if b in component
        )
        for component in cycles(graph)
    ]
    assert described == []


def test_the_cycle_check_finds_what_it_should():
    assert cycles({"a": {"b": ""}, "b": {"c": ""}, "c": {"a": ""}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b": ""}, "b": {}}) == []


# ---- the time comes from webapp/clock.py -----------------------------------------------------

# ``date.today()``, ``datetime.now()`` / ``utcnow()`` and ``time.time()`` read the machine's clock
# (in UTC on a server), which tests cannot move; webapp/clock.py gives the subdistrict's time.
WALL_CLOCK = re.compile(r"\b(date\.today|datetime\.(now|utcnow|today)|time\.time)\(")
CLOCK_MODULE = ROOT / "webapp" / "clock.py"
# Where the machine's real clock is meant, each with its reason.
REAL_CLOCK: dict[str, str] = {
    "webapp/auth/views.py": "session idle time, TOTP steps and lock-outs are security timers: a"
    " moved app clock (a test's, a rehearsal's) must not log users out or unlock accounts",
    "webapp/auth/queries.py": "the same security timers",
    "webapp/auth/policy.py": "the same security timers",
    "webapp/replicas.py": "read-your-writes stickiness is measured in real seconds",
    "webapp/boundaries/views.py": "compared with files' modification times",
}


def wall_clock_reads(source: str) -> list[int]:
    return [n for n, line in enumerate(source.splitlines(), 1) if WALL_CLOCK.search(line)]


def test_the_app_reads_the_time_only_through_its_clock():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in python_files("webapp")
        if path != CLOCK_MODULE and str(path.relative_to(ROOT)) not in REAL_CLOCK
        for line in wall_clock_reads(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "use webapp.clock (now, local_now, today), which tests can move"


def test_the_clock_check_finds_what_it_should():
    assert wall_clock_reads("x = date.today()") == [1]
    assert wall_clock_reads("a = 1\nstamp = dt.datetime.now()") == [2]
    assert wall_clock_reads("started = time.time()") == [1]
    assert wall_clock_reads("clock.today()\ntime.perf_counter()") == []


# ---- files short enough to read --------------------------------------------------------------


@pytest.mark.parametrize("folder", ["webapp", "gis"])
def test_python_files_stay_under_the_line_limit(folder):
    long_files = {
        str(path.relative_to(ROOT)): count
        for path in python_files(folder)
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
        and str(path.relative_to(ROOT)) not in LONG_FILE_EXCEPTIONS
    }
    assert long_files == {}, f"split along the seams (limit {MAX_LINES} lines)"


def test_test_modules_have_unique_names():
    """pytest imports test modules by their base name (the folders are not packages): two
    modules of one name stop the whole suite at collection."""
    names = [path.name for path in (ROOT / "tests").rglob("test_*.py")]
    assert sorted({n for n in names if names.count(n) > 1}) == []
