"""The import contracts of pyproject.toml ([tool.importlinter]) hold, and our own contract type
catches what it promises to catch. `make lint` runs the same contracts; this keeps them in
`make test` too.
"""

import os
import subprocess
import sys
from pathlib import Path

import grimp

from config.lint_contracts import ViewsThroughQueriesContract

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"


def lint_imports(cwd):
    return subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache", "--no-logo"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        timeout=120,
    )


def write_tree(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


# A foundation, a lower app with its queries, and an upper app whose views package reads it.
TREE = {
    "tcore/__init__.py": "",
    "tcore/access.py": "",
    "tlower/__init__.py": "",
    "tlower/models.py": "",
    "tlower/queries.py": "from tlower.models import *\n",
    "tupper/__init__.py": "",
    "tupper/models.py": "",
    "tupper/admin.py": "from tlower.models import *\n",
    "tupper/views/__init__.py": (
        "from tcore import access\nfrom tlower import queries\nfrom tupper import models\n"
    ),
}
ROOTS = ["tcore", "tlower", "tupper"]


def check_views(tmp_path, monkeypatch, extra_files):
    write_tree(tmp_path, {**TREE, **extra_files})
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph(*ROOTS, cache_dir=None)
    contract = ViewsThroughQueriesContract(
        name="views",
        session_options={"root_packages": ROOTS},
        contract_options={"shared": ["tcore"]},
    )
    return contract.check(graph, verbose=False)


def test_import_contracts_of_the_project_are_kept():
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_views_contract_is_kept_when_views_read_other_apps_through_queries(tmp_path, monkeypatch):
    check = check_views(tmp_path, monkeypatch, {})

    assert check.kept, check.metadata


def test_views_contract_catches_a_view_module_reading_another_apps_models(tmp_path, monkeypatch):
    check = check_views(
        tmp_path,
        monkeypatch,
        {"tupper/views/pages.py": "import os\n\nfrom tlower.models import *\n"},
    )

    assert not check.kept
    assert check.metadata["violations"] == [("tupper.views.pages", "tlower.models", "3")]


def test_views_contract_catches_an_import_inside_a_function_of_a_views_module(
    tmp_path, monkeypatch
):
    check = check_views(
        tmp_path, monkeypatch, {"tlower/views.py": "def page():\n    from tupper import admin\n"}
    )

    assert check.metadata["violations"] == [("tlower.views", "tupper.admin", "2")]


def test_lint_imports_fails_on_an_upward_import_and_a_view_bypassing_queries(tmp_path):
    write_tree(
        tmp_path,
        {
            **TREE,
            "tlower/services.py": "from tupper import models\n",
            "tupper/views/pages.py": "from tlower.models import *\n",
            ".importlinter": (
                "[importlinter]\n"
                "root_packages =\n    tcore\n    tlower\n    tupper\n"
                "contract_types =\n"
                "    views_through_queries: config.lint_contracts.ViewsThroughQueriesContract\n"
                "[importlinter:contract:layers]\n"
                "name = Layers\ntype = layers\nlayers =\n    tupper\n    tlower\n    tcore\n"
                "[importlinter:contract:views]\n"
                "name = Views through queries\ntype = views_through_queries\nshared = tcore\n"
            ),
        },
    )

    result = lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Contracts: 0 kept, 2 broken." in result.stdout
    assert "tlower.services -> tupper.models (l.1)" in result.stdout
    assert "tupper.views.pages imports tlower.models (l.1)" in result.stdout
