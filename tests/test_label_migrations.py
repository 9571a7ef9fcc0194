"""The `*_labels` migrations batch their changes in core.migration_operations.AlterLabels,
which runs no SQL: each field it alters must keep everything the database holds of it."""

from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader

from core.migration_operations import LABEL_ATTRIBUTES, AlterLabels


def database_changes(before: models.Field, after: models.Field) -> set[str]:
    """What differs between two definitions of a field, other than its labels."""
    _, path_before, args_before, kwargs_before = before.deconstruct()
    _, path_after, args_after, kwargs_after = after.deconstruct()
    changed = set()
    if path_before != path_after:
        changed.add("path")
    if args_before != args_after:
        changed.add("args")
    for name in (kwargs_before.keys() | kwargs_after.keys()) - LABEL_ATTRIBUTES:
        if kwargs_before.get(name) != kwargs_after.get(name):
            changed.add(name)
    return changed


def test_a_change_the_database_holds_is_told_from_a_label():
    before = models.CharField(max_length=10, verbose_name="name")
    assert database_changes(before, models.CharField(max_length=10, verbose_name="nom")) == set()
    assert database_changes(before, models.CharField(max_length=12, verbose_name="nom")) == {
        "max_length"
    }
    assert database_changes(before, models.TextField(verbose_name="name")) == {"path", "max_length"}


def test_every_label_batch_changes_labels_only():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    checked = []
    for key, migration in sorted(loader.disk_migrations.items()):
        app_label = key[0]
        if not any(isinstance(op, AlterLabels) for op in migration.operations):
            continue
        # The models as they stand just before the migration, unrendered (cheap).
        state = loader.project_state(key, at_end=False)
        for operation in migration.operations:
            if isinstance(operation, AlterLabels):
                for altered in operation.state_operations:
                    if isinstance(altered, migrations.AlterField):
                        fields = state.models[app_label, altered.model_name_lower].fields
                        changes = database_changes(fields[altered.name], altered.field)
                        checked.append((key, altered.model_name, altered.name, changes))
            operation.state_forwards(app_label, state)
    assert [entry for entry in checked if entry[3]] == []
    # The six label migrations and occupancy 0014's: about 250 fields.
    assert len(checked) > 200
