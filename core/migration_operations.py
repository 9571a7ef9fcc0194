"""An operation for migrations that change only what Django keeps about the models: labels.

Issue 18's `*_labels` migrations alter about 250 fields' verbose names, help texts and
choices' labels, none of which is in the database. Run one by one, each `AlterField` made
Django's migration state render the model again with every model related to it (about 50 ms
each): most of the time a new database, and every test database, took to migrate (issue 16).
"""

from django.db import migrations

# What an AlterLabels may hold: options and field attributes no SQL depends on
# (tests/test_label_migrations.py checks each field's change against LABEL_ATTRIBUTES).
LABEL_OPERATIONS = (migrations.AlterField, migrations.AlterModelOptions)
LABEL_ATTRIBUTES = frozenset(
    {"verbose_name", "help_text", "choices", "blank", "editable", "error_messages", "validators"}
)


class AlterLabels(migrations.SeparateDatabaseAndState):
    """The operations' changes to the migration state, in their order, with no SQL (as
    `SeparateDatabaseAndState` with state operations only), and the rendered models of the
    state refreshed once for them all instead of after each one."""

    def __init__(self, operations):
        unexpected = [op for op in operations if not isinstance(op, LABEL_OPERATIONS)]
        if unexpected:
            raise TypeError(f"AlterLabels holds label changes only, not {unexpected}")
        super().__init__(state_operations=operations)

    def deconstruct(self):
        return (self.__class__.__qualname__, [self.state_operations], {})

    def state_forwards(self, app_label, state):
        # Without rendered models, each operation only edits the model states; then the
        # changed models and those related to them render again, as each operation would
        # have made them (reload with delay=False: the related models recursively).
        rendered = state.__dict__.pop("apps", None)
        super().state_forwards(app_label, state)
        if rendered is None:
            return
        state.apps = rendered
        state.reload_models(
            {(app_label, _model_name(operation)) for operation in self.state_operations},
            delay=False,
        )

    def describe(self):
        return f"Alter the labels of {len(self.state_operations)} fields and models"


def _model_name(operation):
    if isinstance(operation, migrations.AlterField):
        return operation.model_name_lower
    return operation.name_lower
