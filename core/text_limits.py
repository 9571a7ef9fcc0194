"""Bounded free text: every text a user types has a maximum, held in three places.

An unbounded text is a cost anyone with a login can impose on everyone: one visit's
2,000,000 characters of site conditions made its report render for 30 s inside the close,
under the permit-number lock every other close waits for. So each free-text model field is a
`BoundedTextField(max_length=…)`:

- the **database** refuses a longer value (`max_length_constraint`, a named check constraint
  on the field's length, added NOT VALID where older rows may exceed it: see
  `AddConstraintNotValid`);
- the **form** refuses it at the field with a message saying by how much
  (`BoundedCharField`, which model forms get from the model field);
- the **page** says the limit in the field's help text (readable without JavaScript) and
  carries it in `maxlength`, which threshold.js turns into a live "312 of 4000 characters"
  counter.

The limits are listed in docs/architecture.md ("Bounded input").
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.migrations.operations import AddConstraint
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.deconstruct import deconstructible
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext

from core.numbers import grouped


def too_long(limit: int, count: int) -> str:
    return gettext("Keep this to at most %(limit)s characters (it has %(count)s).") % {
        "limit": grouped(limit),
        "count": grouped(count),
    }


def _limit_help_text(limit: int) -> str:
    return gettext("Up to %(limit)s characters.") % {"limit": grouped(limit)}


# Lazy: form classes state their limits when they are defined, in no language yet.
limit_help_text = lazy(_limit_help_text, str)


@deconstructible
class MaxCharactersValidator(MaxLengthValidator):
    """Django's MaxLengthValidator with a message that says what to do and by how much."""

    def __call__(self, value):
        count = len(value)
        if count > self.limit_value:
            raise ValidationError(
                too_long(self.limit_value, count),
                code="max_length",
                params={"limit_value": self.limit_value, "show_value": count, "value": value},
            )


class BoundedCharField(forms.CharField):
    """A form's text field with a maximum: the clear message at the field, and the limit
    stated in the help text so it is known before typing, with or without JavaScript."""

    def __init__(self, *, max_length: int, help_text: str = "", **kwargs):
        stated = limit_help_text(max_length)
        help_text = format_lazy("{} {}", help_text, stated) if help_text else stated
        super().__init__(max_length=max_length, help_text=help_text, **kwargs)
        self.validators = [
            MaxCharactersValidator(max_length) if isinstance(v, MaxLengthValidator) else v
            for v in self.validators
        ]


class BoundedTextField(models.TextField):
    """A TextField whose max_length is required; its form field is a BoundedCharField.
    Pair it with `max_length_constraint` in the model's Meta so the database refuses too."""

    def __init__(self, *args, max_length: int, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": BoundedCharField, **kwargs})


def max_length_constraint(table: str, field: str, limit: int) -> models.CheckConstraint:
    """`<table>_<field>_max_length`: the database refuses a value longer than `limit`
    characters (char_length on PostgreSQL, length on SQLite: characters, as len() counts)."""
    return models.CheckConstraint(
        condition=LessThanOrEqual(Length(field), limit),
        name=f"{table}_{field}_max_length",
        violation_error_message=f"Keep this to at most {limit:,} characters.",
    )


class AddConstraintNotValid(AddConstraint):
    """Add a `max_length_constraint` without failing on the rows already stored.

    Rows written before a limit existed may be longer than it. `shorten` says which of them
    the migration may shorten to the limit (ending in "…", each printed by migrate): True for
    every row, a Q for some (the open visits), False for none. The others are legal records
    (an issued permit, a closed visit), which PostgreSQL's record guards forbid changing: the
    check is added NOT VALID there, so PostgreSQL neither scans the table nor fails on them,
    and checks every INSERT and UPDATE from now on (such a row would have to be shortened
    before it could be updated again; none is expected: the forms have held these limits).

    SQLite has no NOT VALID: it adds a check by copying the table, and copies it again on many
    later schema changes, each time checking every row, so a longer row kept there would make
    some later migration fail. On SQLite (the embedded database of `make run`, without the
    record guards) every longer text is shortened.
    """

    def __init__(self, model_name, constraint, shorten=True):
        self.shorten = shorten
        super().__init__(model_name, constraint)

    def deconstruct(self):
        name, args, kwargs = super().deconstruct()
        return name, args, {**kwargs, "shorten": self.shorten}

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        vendor = schema_editor.connection.vendor
        shorten = True if vendor == "sqlite" else self.shorten
        shortened = shorten is not False and self._shorten_longer_rows(
            model, schema_editor, shorten
        )
        if vendor == "postgresql":
            sql = self.constraint.constraint_sql(model, schema_editor)
            table = schema_editor.quote_name(model._meta.db_table)
            if shortened:
                # The updates left deferred foreign-key checks pending, and PostgreSQL does
                # not alter a table with pending trigger events: run them now.
                schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            schema_editor.execute(f"ALTER TABLE {table} ADD {sql} NOT VALID")
            if shortened:
                schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def _shorten_longer_rows(self, model, schema_editor, which) -> int:
        condition = self.constraint.condition
        field, limit = condition.lhs.source_expressions[0].name, condition.rhs
        rows = model._base_manager.using(schema_editor.connection.alias)
        if which is not True:
            rows = rows.filter(which)
        longer = rows.annotate(characters=Length(field)).filter(characters__gt=limit)
        shortened = 0
        for pk, text in longer.values_list("pk", field):
            shortened += rows.filter(pk=pk).update(**{field: text[: limit - 1] + "…"})
            print(  # noqa: T201 - shown in the output of migrate, for the operator
                f"\n  {model._meta.label} {pk}: {field} shortened from {len(text):,} to "
                f"{limit:,} characters (its new limit)"
            )
        return shortened

    def describe(self):
        return f"{super().describe()} (NOT VALID on PostgreSQL: rows stored are not checked)"
