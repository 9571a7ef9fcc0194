"""Form widgets shared by the apps' forms."""

from django import forms


class Textarea(forms.Textarea):
    """A textarea whose text reaches the form with the line breaks the browser counted.

    A browser counts a line break as one character against `maxlength` (and so does the
    character counter of threshold.js) but posts it as CR LF, two characters: a text the
    browser accepted at its limit would then be refused by the field's max_length. The
    posted breaks are made single line feeds before the field counts them.
    """

    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        if isinstance(value, str):
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        return value
