"""Import-linter contract types of our own (pyproject.toml, [tool.importlinter] contract_types).

Only `make lint` and tests/test_architecture.py load this module; the app never imports it.
"""

from importlinter import Contract, ContractCheck, fields, output


class ViewsThroughQueriesContract(Contract):
    """A view reads another app only through that app's `queries` module.

    Every module named `<app>.views` or inside a `<app>.views` package, in any of `apps`
    (default: every root package), may import from another of `apps` only
    `<that app>.queries` (or a module inside it). The `shared` apps (the foundation, core)
    may be imported freely. Only direct imports count: a queries module may of course use
    its own app's models. New view modules and new apps are picked up from the import
    graph, so nothing has to be listed here when they are added.
    """

    type_name = "views_through_queries"

    apps = fields.ListField(subfield=fields.StringField(), required=False)
    shared = fields.ListField(subfield=fields.StringField(), required=False, default=[])
    views = fields.StringField(required=False, default="views")
    queries = fields.StringField(required=False, default="queries")

    def check(self, graph, verbose: bool) -> ContractCheck:
        apps = set(self.apps or self.session_options["root_packages"])
        violations = []
        for module in sorted(graph.modules):
            app, *rest = module.split(".")
            if app not in apps or not rest or rest[0] != self.views:
                continue
            for imported in sorted(graph.find_modules_directly_imported_by(module)):
                other, *path = imported.split(".")
                if other == app or other not in apps or other in self.shared:
                    continue
                if path[:1] == [self.queries]:
                    continue
                details = graph.get_import_details(importer=module, imported=imported)
                lines = sorted({d["line_number"] for d in details})
                violations.append((module, imported, ", ".join(map(str, lines)) or "?"))
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for importer, imported, line in check.metadata["violations"]:
            app = imported.split(".")[0]
            output.print_error(
                f"{importer} imports {imported} (l.{line}): "
                f"read {app} through {app}.{self.queries}",
                bold=False,
            )
        output.new_line()
