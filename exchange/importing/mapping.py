"""Declarative import mappings: which column of a CSV file fills which application field.

A mapping is a small TOML file (see mappings/*.toml): `columns` (field = column, or a list of
columns joined for the description), `optional` (columns a file may lack), `on_create`
(values for new applications only), `values.<field>` (value maps, "*" for anything else) and
`date_formats` (strptime formats, tried in order).

The application's language of correspondence is read from any file that has a column of one
of the LANGUAGE_COLUMNS names, whatever the mapping (a mapping may also name its own column
in [columns] as `correspondence_language`): English unless the file says otherwise.
"""

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from core.models import Province
from permits.models import ApplicationStatus, WorkType

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"

# Fields a column may fill. "address" is a whole civic address, split into street and unit.
DATE_FIELDS = ("applied_on", "permit_issued_on", "occupied_on", "completed_on")
TEXT_FIELDS = (
    "number",
    "description",
    "address",
    "street_address",
    "unit",
    "city",
    "province",
    "postal_code",
    "roll_number",
    "legal_description",
    "applicant_name",
    "applicant_email",
    "applicant_phone",
    "owner_name",
    "owner_email",
    "owner_phone",
    "status",
    "work_type",
    "correspondence_language",
)
COLUMN_FIELDS = TEXT_FIELDS + DATE_FIELDS
CHOICES = {
    "status": set(ApplicationStatus.values),
    "work_type": set(WorkType.values),
    "province": set(Province.values),
    "correspondence_language": {code for code, _name in settings.LANGUAGES},
}
LANGUAGE_FIELD = "correspondence_language"
# Column names that give the language of correspondence in any file (case ignored).
LANGUAGE_COLUMNS = (
    "correspondence_language",
    "Language of correspondence",
    "Langue de correspondance",
    "Correspondence language",
    "Language",
    "Langue",
)
FALLBACK = "*"


class MappingError(ValueError):
    """A mapping file that cannot be used; str(exc) says what is wrong."""


def value_key(value: str) -> str:
    """How values are compared with a value map: case and spacing ignored."""
    return " ".join(value.split()).casefold()


@dataclass(frozen=True)
class Mapping:
    name: str
    label: str
    columns: dict[str, tuple[str, ...]]
    optional: frozenset[str] = frozenset()
    on_create: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    known_values: dict[str, tuple[str, ...]] = field(default_factory=dict)  # as written
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    delimiter: str = ","

    @property
    def required_columns(self) -> list[str]:
        names = [c for cols in self.columns.values() for c in cols if c not in self.optional]
        return list(dict.fromkeys(names))

    def map_value(self, field_name: str, value: str) -> str | None:
        """The Threshold value for a file's value, or None when the map has no entry."""
        table = self.values.get(field_name)
        if table is None:
            return value
        key = value_key(value)
        if key in table:
            return table[key]
        return table.get(FALLBACK)


def builtin_mappings() -> dict[str, str]:
    """Name → label of the mappings shipped with Threshold."""
    return {
        path.stem: load_mapping(path.stem).label for path in sorted(MAPPINGS_DIR.glob("*.toml"))
    }


def load_mapping(name_or_path: str | Path) -> Mapping:
    """A built-in mapping by name (`burlington`, `blds`) or a mapping file by path."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        if not str(name_or_path).isidentifier():
            raise MappingError(f"No mapping named {name_or_path!r}.")
        path = MAPPINGS_DIR / f"{name_or_path}.toml"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in MAPPINGS_DIR.glob("*.toml")))
            raise MappingError(f"No mapping named {name_or_path!r}. Built in: {known}.")
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise MappingError(f"Cannot read the mapping file {path}: {exc.strerror}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"The mapping file {path} is not valid TOML: {exc}.") from exc
    return _build(path.stem, data)


def _build(name: str, data: dict) -> Mapping:
    columns: dict[str, tuple[str, ...]] = {}
    for target, spec in data.get("columns", {}).items():
        if target not in COLUMN_FIELDS:
            raise MappingError(f"Mapping {name}: unknown field {target!r} in [columns].")
        spec = (spec,) if isinstance(spec, str) else tuple(spec)
        if not spec or not all(isinstance(c, str) and c.strip() for c in spec):
            raise MappingError(f"Mapping {name}: [columns] {target} must name a column.")
        if len(spec) > 1 and target != "description":
            raise MappingError(f"Mapping {name}: only description may join several columns.")
        columns[target] = tuple(c.strip() for c in spec)
    if "number" not in columns or "applied_on" not in columns:
        raise MappingError(f"Mapping {name}: [columns] needs number and applied_on.")
    if "address" not in columns and "street_address" not in columns:
        raise MappingError(f"Mapping {name}: [columns] needs address or street_address.")

    values: dict[str, dict[str, str]] = {}
    known_values: dict[str, tuple[str, ...]] = {}
    for target, table in data.get("values", {}).items():
        if target not in CHOICES:
            raise MappingError(f"Mapping {name}: no value map allowed for {target!r}.")
        bad = sorted(v for v in table.values() if v not in CHOICES[target])
        if bad:
            raise MappingError(f"Mapping {name}: values.{target} maps to unknown values {bad}.")
        values[target] = {value_key(k) if k != FALLBACK else FALLBACK: v for k, v in table.items()}
        known_values[target] = tuple(k for k in table if k != FALLBACK)

    on_create = {str(k): str(v) for k, v in data.get("on_create", {}).items()}
    for target, value in on_create.items():
        if target not in COLUMN_FIELDS or target in DATE_FIELDS or target == "address":
            raise MappingError(f"Mapping {name}: unknown field {target!r} in [on_create].")
        if target in CHOICES and value not in CHOICES[target]:
            raise MappingError(f"Mapping {name}: on_create {target} = {value!r} is not allowed.")

    optional = frozenset(data.get("optional", ()))
    named = {c for cols in columns.values() for c in cols}
    if optional - named:
        raise MappingError(
            f"Mapping {name}: optional names no column of [columns]: {sorted(optional - named)}."
        )
    formats = tuple(data.get("date_formats", ("%Y-%m-%d",)))
    if not formats:
        raise MappingError(f"Mapping {name}: date_formats must not be empty.")
    return Mapping(
        name=name,
        label=str(data.get("label", name)),
        columns=columns,
        optional=optional,
        on_create=on_create,
        values=values,
        known_values=known_values,
        date_formats=formats,
        delimiter=str(data.get("delimiter", ",")),
    )
