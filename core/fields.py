"""Model choice fields that refuse ids no database could hold, before any query.

A posted id like 99999999999999999999 otherwise reaches the database, which fails with an
overflow (SQLite) or an out-of-range error (PostgreSQL) instead of a message at the field.
"""

from django import forms
from django.core.exceptions import ValidationError

MAX_ID = 2**63 - 1


def _plausible_id(value) -> bool:
    try:
        number = int(str(value).strip())
    except ValueError:
        return False
    return 0 < number <= MAX_ID


class IdChoiceField(forms.ModelChoiceField):
    def to_python(self, value):
        if value not in self.empty_values and not _plausible_id(value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        for item in value:
            if not _plausible_id(item):
                raise ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": item},
                )
        return super()._check_values(value)
