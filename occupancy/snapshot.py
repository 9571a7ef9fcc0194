"""The issued occupancy permit's snapshot: everything the permit prints, defined once.

The snapshot is a legal record stored as plain JSON on OccupancyPermit.snapshot (dates as
ISO text), so what was issued can be read back for decades whatever happens to the
application later. These dataclasses are its only definition: the service that issues a
permit builds it with `PermitSnapshot.from_grant`, the template preview with
`PermitSnapshot.sample`, the benchmark fills the parts directly, and the template variables
documented to administrators are read from the fields' "doc" metadata.

Stored snapshots carry "schema_version"; one stored before versioning is version 1. A
change of shape is a new SCHEMA_VERSION, and `PermitSnapshot.from_json` must go on reading
every older version, because issued permits are rendered again from what they stored.
"""

from __future__ import annotations

import dataclasses
import datetime
import types
import typing

from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from core.people import person_name
from core.text import without_phone_numbers
from inspections import rules
from inspections.models import OrderType, VisitResult
from occupancy.exceptions import OccupancyError
from permits.models import WorkType

SCHEMA_VERSION = 4
# Version 2 (issue 13): the checklist conditions verified; an outstanding matter's order
# type, requirement, recipient (without phone numbers) and who must complete it.
# Version 3 (issue 15): the address of the permit's public verification page.
# Version 4 (issue 18): the permit's language (en-ca, fr-ca or bilingual); the readable
# labels (kind, result, type of work, a matter's kind, order type, description and who must
# complete it, a condition's mark) in the permit's language, each also in French (`*_fr`)
# for the French text of a bilingual permit. A permit issued before was English.

# The language of the permits issued before permits had one.
ENGLISH = "en-ca"
FRENCH = "fr-ca"
BILINGUAL = "bilingual"


def main_language(language: str) -> str:
    """The language (settings.LANGUAGES) a permit of `language` is written and rendered in:
    a bilingual permit's first text is English."""
    return FRENCH if language == FRENCH else ENGLISH


def in_language(language: str, text) -> str:
    """A translatable label as text of `language` (settings.LANGUAGES), whatever the
    language of the request that issues the permit."""
    with translation.override(language):
        return str(text)


class SnapshotError(OccupancyError, ValueError):
    """A stored snapshot that does not match any known schema version."""


def _doc(text: str):
    return dataclasses.field(metadata={"doc": text})


class _Part:
    """JSON conversion shared by every part: field order is the stored key order."""

    def to_json(self) -> dict:
        return {f.name: _dump(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_json(cls, data: dict, *, path: str = ""):
        where = path or "The snapshot"
        if not isinstance(data, dict):
            raise SnapshotError(f"{where} is not an object.")
        hints = typing.get_type_hints(cls)
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [name for name in names if name not in data]
        unknown = [key for key in data if key not in names]
        if missing or unknown:
            problems = [f"lacks {', '.join(missing)}"] if missing else []
            problems += [f"has unknown {', '.join(map(str, unknown))}"] if unknown else []
            raise SnapshotError(f"{where} {' and '.join(problems)}.")
        return cls(
            **{
                name: _load(hints[name], data[name], f"{path}.{name}" if path else name)
                for name in names
            }
        )

    def template_context(self) -> dict:
        return {f.name: _context(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _dump(value):
    if isinstance(value, _Part):
        return value.to_json()
    if isinstance(value, Promise):  # a lazy label (PermitKind.GENERAL.label): its text now
        return str(value)
    if isinstance(value, tuple):
        return [_dump(item) for item in value]
    if isinstance(value, datetime.date):  # datetimes too
        return value.isoformat()
    return value


def _load(hint, value, path: str):
    """A JSON value back into the type its field declares."""
    if value is None:
        return None
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        (hint,) = (arg for arg in typing.get_args(hint) if arg is not type(None))
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        if not isinstance(value, list):
            raise SnapshotError(f"{path} is not a list.")
        return tuple(_load(item, v, f"{path}[{i}]") for i, v in enumerate(value))
    if isinstance(hint, type) and issubclass(hint, _Part):
        return hint.from_json(value, path=path)
    try:
        if hint is datetime.datetime:
            return datetime.datetime.fromisoformat(value)
        if hint is datetime.date:
            return datetime.date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise SnapshotError(f"{path} is not an ISO date: {value!r}") from exc
    return value


def _context(value):
    """What a template sees: real dates for the date filter, times in the local zone."""
    if isinstance(value, _Part):
        return value.template_context()
    if isinstance(value, tuple):
        return [_context(item) for item in value]
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value)
    return value


@dataclasses.dataclass(frozen=True)
class MunicipalityPart(_Part):
    name: str = _doc("Name, e.g. Town of Example")
    department_name: str = _doc("Department, e.g. Building Department")
    street_address: str = _doc("Street address")
    city: str = _doc("City")
    province: str = _doc("Province code, e.g. ON")
    postal_code: str = _doc("Postal code")
    phone: str = _doc("Phone")
    email: str = _doc("E-mail")
    website: str = _doc("Website")
    chief_building_official: str = _doc("Name of the chief building official")
    chief_building_official_title: str = _doc("Their title")

    @classmethod
    def of(cls, municipality) -> MunicipalityPart:
        return cls(**{f.name: getattr(municipality, f.name) for f in dataclasses.fields(cls)})


# Added to the municipality when a permit is rendered, never stored: the letterhead may
# change, the record may not (the issued PDF keeps the logo it was printed with).
RENDER_TIME_ATTRIBUTES = {
    "municipality": {
        "logo_data_uri": "The letterhead logo as a data: URI (empty without a logo): "
        '<img src="{{ municipality.logo_data_uri }}">',
    },
    "verification": {
        "qr_data_uri": "The QR code of the verification address, an SVG data: URI (empty when "
        'there is none): <img src="{{ verification.qr_data_uri }}" alt="QR code">',
    },
}


@dataclasses.dataclass(frozen=True)
class PermitPart(_Part):
    number: str = _doc("Permit number, e.g. OCC-2026-0007")
    type_name: str = _doc("Permit type, e.g. General")
    kind: str = _doc("general, partial or temporary")
    kind_label: str = _doc("Kind, readable")
    granted_on: datetime.date = _doc('Occupancy granted date (a date: use |date:"F j, Y")')
    expires_on: datetime.date | None = _doc("Expiry date of a temporary permit, or empty")
    description: str = _doc("Occupancy permit description typed by the inspector")
    portion_of_building: str = _doc("Portion of building of a partial permit")
    result: str = _doc("granted_full or granted_outstanding")
    result_label: str = _doc("The result, readable")
    issued_at: datetime.datetime = _doc("Date and time of issue")
    # Version 4: defaults only for code that builds a part by hand (English).
    language: str = dataclasses.field(
        default=ENGLISH,
        metadata={
            "doc": "The permit's language: en-ca (English), fr-ca (French) or bilingual "
            "(both texts, English first). The readable labels are in the permit's language "
            "(English on a bilingual permit); each *_fr label is in French."
        },
    )
    kind_label_fr: str = dataclasses.field(default="", metadata={"doc": "Kind, in French"})
    result_label_fr: str = dataclasses.field(default="", metadata={"doc": "The result, in French"})


@dataclasses.dataclass(frozen=True)
class ApplicationPart(_Part):
    number: str = _doc("Application (building permit) number")
    full_address: str = _doc("Civic address with unit and city")
    street_address: str = _doc("Street address")
    unit: str = _doc("Unit")
    city: str = _doc("City")
    province: str = _doc("Province code")
    postal_code: str = _doc("Postal code")
    roll_number: str = _doc("Assessment roll number")
    legal_description: str = _doc("Legal description (lot, plan)")
    work_type_label: str = _doc("Type of work")
    description: str = _doc("Description of the work")
    applicant_name: str = _doc("Applicant")
    owner_name: str = _doc("Owner")
    work_type_label_fr: str = dataclasses.field(
        default="", metadata={"doc": "Type of work, in French"}
    )

    @classmethod
    def of(cls, application, *, language: str = ENGLISH) -> ApplicationPart:
        copied = {f.name for f in dataclasses.fields(cls)} - {
            "work_type_label",
            "work_type_label_fr",
        }
        label = WorkType(application.work_type).label
        return cls(
            work_type_label=in_language(main_language(language), label),
            work_type_label_fr=in_language(FRENCH, label),
            **{name: getattr(application, name) for name in copied},
        )


@dataclasses.dataclass(frozen=True)
class InspectionPart(_Part):
    type_name: str = _doc("Inspection type, e.g. Occupancy")


@dataclasses.dataclass(frozen=True)
class VisitPart(_Part):
    sequence: int = _doc("Visit number")
    inspector_name: str = _doc("Inspector who granted occupancy")
    closed_at: datetime.datetime = _doc("Date and time the visit was closed")


# Who must complete a deficiency: the Building Code Act puts compliance on the owner. An
# order names its own recipient (Issued to).
DEFICIENCY_RESPONSIBLE = gettext_lazy("The owner")
# An order's "Issued to" that held nothing but a phone number still names someone.
RECIPIENT_WITHOUT_NAME = gettext_lazy("The person named in the order")
# A matter's kind as a French text prints it (`kind` itself stays Deficiency or Order).
MATTER_KIND_LABELS = {
    "Deficiency": pgettext_lazy("outstanding matter", "Deficiency"),
    "Order": pgettext_lazy("outstanding matter", "Order"),
}


def _order_sentence(order_type: str, recipient: str, requirement: str) -> str:
    """An order as one sentence, in the active language."""
    return gettext("%(order_type)s issued to %(recipient)s: %(requirement)s") % {
        "order_type": order_type,
        "recipient": recipient,
        "requirement": requirement,
    }


@dataclasses.dataclass(frozen=True)
class OutstandingMatter(_Part):
    kind: str = _doc("Deficiency or Order")
    order_type_label: str = _doc("The order's type, e.g. Order to Comply; empty for a deficiency")
    description: str = _doc(
        "The matter in one sentence: a deficiency's text, or for an order "
        "“Order to Comply issued to Jordan Smith, owner: what it requires”"
    )
    requirement: str = _doc("What must be done: the deficiency's or the order's own text")
    discovery_date: datetime.date | None = _doc(
        "Date a deficiency was found (a date), empty for an order"
    )
    comply_by: datetime.date | None = _doc(
        "Date an order must be complied with (a date), empty when none was set "
        '(print e.g. {{ matter.comply_by|date:"F j, Y"|default:"No date set" }})'
    )
    issued_to: str = _doc(
        "The name and role an order was issued to (phone numbers left out), empty for a deficiency"
    )
    responsible: str = _doc(
        "Who must complete it: an order's recipient, “The owner” for a deficiency"
    )
    kind_fr: str = dataclasses.field(
        default="", metadata={"doc": "Défaut or Ordre: the kind, in French"}
    )
    order_type_label_fr: str = dataclasses.field(
        default="", metadata={"doc": "The order's type in French; empty for a deficiency"}
    )
    description_fr: str = dataclasses.field(
        default="", metadata={"doc": "The matter in one sentence, in French"}
    )
    responsible_fr: str = dataclasses.field(
        default="", metadata={"doc": "Who must complete it, in French"}
    )

    @classmethod
    def of_visit(cls, visit, *, language: str = ENGLISH) -> tuple[OutstandingMatter, ...]:
        """The deficiencies, then the orders, still outstanding when the visit closes: this
        inspection's and those carried forward from the application's other inspections."""
        return cls.of_matters(
            findings=rules.grant_outstanding_findings(visit),
            orders=rules.grant_outstanding_orders(visit),
            language=language,
        )

    @classmethod
    def deficiency(
        cls, *, description: str, discovery_date, language: str = ENGLISH
    ) -> OutstandingMatter:
        """A deficiency as a permit of `language` prints it: the owner completes it."""
        return cls(
            kind="Deficiency",
            order_type_label="",
            description=description,
            requirement=description,
            discovery_date=discovery_date,
            comply_by=None,
            issued_to="",
            responsible=in_language(main_language(language), DEFICIENCY_RESPONSIBLE),
            kind_fr=in_language(FRENCH, MATTER_KIND_LABELS["Deficiency"]),
            order_type_label_fr="",
            description_fr=description,
            responsible_fr=in_language(FRENCH, DEFICIENCY_RESPONSIBLE),
        )

    @classmethod
    def order(
        cls, *, order_type: str, issued_to: str, requirement: str, comply_by, language=ENGLISH
    ) -> OutstandingMatter:
        """An order (`order_type` an OrderType value) as a permit of `language` prints it:
        its recipient without phone numbers (core.text) completes it."""
        recipient = without_phone_numbers(issued_to)

        def written_in(lang: str) -> tuple[str, str, str]:
            with translation.override(lang):
                label = str(OrderType(order_type).label)
                sentence = _order_sentence(
                    label, recipient or str(RECIPIENT_WITHOUT_NAME).lower(), requirement
                )
                return label, sentence, recipient or str(RECIPIENT_WITHOUT_NAME)

        label, description, responsible = written_in(main_language(language))
        label_fr, description_fr, responsible_fr = written_in(FRENCH)
        return cls(
            kind="Order",
            order_type_label=label,
            description=description,
            requirement=requirement,
            discovery_date=None,
            comply_by=comply_by,
            issued_to=recipient,
            responsible=responsible,
            kind_fr=in_language(FRENCH, MATTER_KIND_LABELS["Order"]),
            order_type_label_fr=label_fr,
            description_fr=description_fr,
            responsible_fr=responsible_fr,
        )

    @classmethod
    def of_matters(
        cls, *, findings, orders, language: str = ENGLISH
    ) -> tuple[OutstandingMatter, ...]:
        """The deficiencies, then the orders, as a permit of `language` prints them: an
        order's recipient without phone numbers (core.text), whoever must complete each
        matter named."""
        deficiencies = [
            cls.deficiency(
                description=finding.description,
                discovery_date=finding.discovery_date,
                language=language,
            )
            for finding in findings
        ]
        orders_printed = [
            cls.order(
                order_type=order.order_type,
                issued_to=order.issued_to,
                requirement=order.description,
                comply_by=order.comply_by,
                language=language,
            )
            for order in orders
        ]
        return tuple(deficiencies + orders_printed)


@dataclasses.dataclass(frozen=True)
class VerifiedCondition(_Part):
    clause: str = _doc("The Building Code clause, e.g. Div. C 1.3.3.4.(4)(d)")
    text: str = _doc("The condition verified")
    mark: str = _doc("met or not_applicable")
    mark_label: str = _doc("Met or Not applicable, readable")
    mark_label_fr: str = dataclasses.field(default="", metadata={"doc": "The mark, in French"})

    @classmethod
    def of_checklist(
        cls, *, permit_type, marks: dict[int, str], language: str | None = None
    ) -> tuple[VerifiedCondition, ...]:
        """The permit type's active conditions as the inspector marked them, labelled in
        `language` (the type's by default)."""
        from occupancy.models import ConditionMark, OccupancyCondition

        language = language or permit_type.language
        conditions = OccupancyCondition.objects.filter(permit_type=permit_type, is_active=True)
        return tuple(
            cls(
                clause=c.clause,
                text=c.text,
                mark=marks.get(c.pk, ""),
                mark_label=in_language(main_language(language), ConditionMark(marks[c.pk]).label)
                if marks.get(c.pk)
                else "",
                mark_label_fr=in_language(FRENCH, ConditionMark(marks[c.pk]).label)
                if marks.get(c.pk)
                else "",
            )
            for c in conditions
        )


@dataclasses.dataclass(frozen=True)
class VerificationPart(_Part):
    url: str = _doc(
        "The address of the permit's public verification page, e.g. "
        "https://permits.example.ca/v/3q2-7wzTgR1xkL0bqY5mVA (empty on a permit issued "
        "before verification existed)"
    )


# Permits issued before verification existed print no address.
NO_VERIFICATION = VerificationPart(url="")


@dataclasses.dataclass(frozen=True)
class PermitSnapshot(_Part):
    municipality: MunicipalityPart = _doc("The issuing municipality")
    permit: PermitPart = _doc("The occupancy permit")
    application: ApplicationPart = _doc("The building-permit application")
    inspection: InspectionPart = _doc("The occupancy inspection")
    visit: VisitPart = _doc("The visit the permit was granted on")
    outstanding_matters: tuple[OutstandingMatter, ...] = _doc(
        "List of outstanding matters (only for Granted, but outstanding matters): "
        "{% for matter in outstanding_matters %}{{ matter.requirement }}, to be completed by "
        "{{ matter.responsible }}{% endfor %}"
    )
    conditions: tuple[VerifiedCondition, ...] = _doc(
        "The occupancy checklist as verified on the visit: "
        "{% for condition in conditions %}{{ condition.clause }} {{ condition.text }}"
        "{% endfor %}"
    )
    verification: VerificationPart = dataclasses.field(
        default=NO_VERIFICATION,
        metadata={"doc": "Where anyone can check the permit: print its url and its QR code"},
    )

    def to_json(self) -> dict:
        """The stored form: today's keys and values, led by the schema version."""
        return {"schema_version": SCHEMA_VERSION, **super().to_json()}

    @classmethod
    def from_json(cls, data: dict, *, path: str = "") -> PermitSnapshot:
        """A stored snapshot, of this or an earlier schema version."""
        if not isinstance(data, dict):
            raise SnapshotError("The snapshot is not an object.")
        data = dict(data)
        version = data.pop("schema_version", 1)  # stored before versioning: version 1
        upgrades = {1: _upgrade_from_version_1, 2: _upgrade_from_version_2}
        upgrades[3] = _upgrade_from_version_3
        if version != SCHEMA_VERSION and version not in upgrades:
            raise SnapshotError(f"Unknown snapshot schema version {version!r}.")
        while version != SCHEMA_VERSION:
            data = upgrades[version](data)
            version += 1
        return super().from_json(data, path=path)

    def template_context(self, *, logo_data_uri: str = "") -> dict:
        """The variables a permit template sees (the schema version is not one of them)."""
        context = super().template_context()
        context["municipality"]["logo_data_uri"] = logo_data_uri
        # Drawn from the stored address: the same address gives the same QR code.
        from occupancy.verification import qr_data_uri

        context["verification"]["qr_data_uri"] = qr_data_uri(self.verification.url)
        return context

    @classmethod
    def from_grant(
        cls,
        *,
        visit,
        permit_type,
        number: str,
        result: str,
        granted_on: datetime.date,
        expires_on: datetime.date | None,
        description: str,
        portion_of_building: str,
        issued_at: datetime.datetime,
        inspector,
        condition_marks: dict[int, str] | None = None,
        verification_url: str = "",
        matters=None,
    ) -> PermitSnapshot:
        """What a permit issued now for this grant prints, in its type's language: the
        labels are written in it whatever the language of the request that issues it.
        `matters`: the grant's outstanding matters already read (inspections.rules
        .outstanding_at(visit, for_grant=True)), else read here."""
        application = visit.inspection.application
        language = permit_type.language
        labels = _permit_labels(permit_type, result, language)
        return cls(
            municipality=MunicipalityPart.of(application.municipality),
            permit=PermitPart(
                number=number,
                type_name=permit_type.name,
                kind=permit_type.kind,
                granted_on=granted_on,
                expires_on=expires_on,
                description=description,
                portion_of_building=portion_of_building,
                result=result,
                issued_at=issued_at,
                language=language,
                **labels,
            ),
            application=ApplicationPart.of(application, language=language),
            inspection=InspectionPart(type_name=visit.inspection.inspection_type.name),
            visit=VisitPart(
                sequence=visit.sequence,
                inspector_name=person_name(inspector),
                closed_at=issued_at,
            ),
            outstanding_matters=(
                OutstandingMatter.of_visit(visit, language=language)
                if matters is None
                else OutstandingMatter.of_matters(
                    findings=matters.findings, orders=matters.orders, language=language
                )
            )
            if result == VisitResult.GRANTED_OUTSTANDING
            else (),
            conditions=VerifiedCondition.of_checklist(
                permit_type=permit_type, marks=condition_marks or {}, language=language
            ),
            verification=VerificationPart(url=verification_url),
        )

    @classmethod
    def sample(cls, *, permit_type, municipality) -> PermitSnapshot:
        """Made-up data for previews, with every part filled (outstanding matters too)."""
        today = timezone.localdate()
        now = timezone.now()
        city = municipality.city or "Example"
        language = permit_type.language
        labels = _permit_labels(permit_type, VisitResult.GRANTED_OUTSTANDING.value, language)
        work_type = WorkType.NEW.label
        # The made-up texts in the type's language: a French template previews in French.
        texts = {key: in_language(main_language(language), text) for key, text in SAMPLE.items()}
        deficiency = OutstandingMatter.deficiency(
            description=texts["deficiency"], discovery_date=today, language=language
        )
        order = OutstandingMatter.order(
            order_type=OrderType.ORDER_TO_COMPLY,
            issued_to="Sample Builder Ltd., contractor",
            requirement=texts["grading"],
            comply_by=today + datetime.timedelta(days=30),
            language=language,
        )
        return cls(
            municipality=dataclasses.replace(
                MunicipalityPart.of(municipality),
                chief_building_official=municipality.chief_building_official or "Alex Morgan",
            ),
            permit=PermitPart(
                number=f"{permit_type.prefix}-{today.year}-SAMPLE",
                type_name=permit_type.name,
                kind=permit_type.kind,
                granted_on=today,
                expires_on=today + datetime.timedelta(days=90)
                if permit_type.needs_expiry_date
                else None,
                description=texts["occupancy"],
                portion_of_building=texts["portion"]
                if permit_type.needs_portion_of_building
                else "",
                result=VisitResult.GRANTED_OUTSTANDING.value,
                issued_at=now,
                language=language,
                **labels,
            ),
            application=ApplicationPart(
                number="SAMPLE-0001",
                full_address=f"12 Sample Street, {city}",
                street_address="12 Sample Street",
                unit="",
                city=city,
                province=municipality.province,
                postal_code="L0R 1A0",
                roll_number="2402 000 000 00000 0000",
                legal_description="Lot 1, Plan M-0000",
                work_type_label=in_language(main_language(language), work_type),
                description=texts["work"],
                applicant_name="Sample Applicant",
                owner_name="Sample Owner",
                work_type_label_fr=in_language(FRENCH, work_type),
            ),
            inspection=InspectionPart(type_name="Occupancy"),
            visit=VisitPart(sequence=1, inspector_name="Sample Inspector", closed_at=now),
            outstanding_matters=(
                deficiency,
                # "Sample:" leads each sentence, so a preview is never taken for a permit.
                dataclasses.replace(
                    order,
                    description=texts["prefix"] % {"text": order.description},
                    requirement=texts["prefix"] % {"text": order.requirement},
                    description_fr=in_language(FRENCH, SAMPLE["prefix"])
                    % {"text": order.description_fr},
                ),
            ),
            conditions=_sample_conditions(permit_type),
            verification=VerificationPart(url=_sample_verification_url()),
        )


# The made-up texts of the preview's sample ("Sample:" leads what could be taken for a
# permit's own words).
SAMPLE = {
    "occupancy": gettext_lazy("Two-storey single detached dwelling with attached garage."),
    "portion": gettext_lazy("Ground floor, units 101–104"),
    "work": gettext_lazy("New single detached dwelling"),
    "deficiency": gettext_lazy("Sample: exterior stair handrail to be installed."),
    "grading": gettext_lazy("complete the final grading."),
    "prefix": gettext_lazy("Sample: %(text)s"),
    "condition_met": gettext_lazy("Sample: the structure is complete."),
    "condition_not_applicable": gettext_lazy("Sample: a condition that does not apply."),
}


def _sample_verification_url() -> str:
    from occupancy.verification import verification_url

    return verification_url("SAMPLE-not-a-real-permit")


def _sample_conditions(permit_type) -> tuple[VerifiedCondition, ...]:
    """The type's own checklist, all met (a type without one shows a made-up pair)."""
    from occupancy.models import ConditionMark

    if permit_type.pk is not None:
        ids = permit_type.conditions.values_list("pk", flat=True)
        conditions = VerifiedCondition.of_checklist(
            permit_type=permit_type, marks={pk: ConditionMark.MET for pk in ids}
        )
        if conditions:
            return conditions
    language = main_language(permit_type.language)
    return tuple(
        VerifiedCondition(
            clause,
            text,
            mark,
            in_language(language, ConditionMark(mark).label),
            in_language(FRENCH, ConditionMark(mark).label),
        )
        for clause, text, mark in (
            ("Sample (a)", in_language(language, SAMPLE["condition_met"]), ConditionMark.MET),
            (
                "Sample (b)",
                in_language(language, SAMPLE["condition_not_applicable"]),
                ConditionMark.NOT_APPLICABLE,
            ),
        )
    )


def _upgrade_from_version_1(data: dict) -> dict:
    """A version 1 snapshot read as version 2: no checklist was verified then, and a matter
    was one description (an order's type and recipient inside it), so the new keys are
    empty and the requirement is that description. What a version 1 template printed
    reads only the keys it had: it renders the same."""
    data = dict(data)
    data.setdefault("conditions", [])
    matters = data.get("outstanding_matters")
    if isinstance(matters, list):
        data["outstanding_matters"] = [
            _matter_from_version_1(m) if isinstance(m, dict) else m for m in matters
        ]
    return data


def _upgrade_from_version_2(data: dict) -> dict:
    """A version 2 snapshot read as version 3: it was issued without a verification
    address, and printed none."""
    data = dict(data)
    data.setdefault("verification", NO_VERIFICATION.to_json())
    return data


def _upgrade_from_version_3(data: dict) -> dict:
    """A version 3 snapshot read as version 4: it was issued in English, and printed no
    French label (they are empty)."""
    data = dict(data)

    def with_defaults(part, defaults: dict):
        return {**defaults, **part} if isinstance(part, dict) else part

    data["permit"] = with_defaults(
        data.get("permit"), {"language": ENGLISH, "kind_label_fr": "", "result_label_fr": ""}
    )
    data["application"] = with_defaults(data.get("application"), {"work_type_label_fr": ""})
    for key, defaults in (
        (
            "outstanding_matters",
            {"kind_fr": "", "order_type_label_fr": "", "description_fr": "", "responsible_fr": ""},
        ),
        ("conditions", {"mark_label_fr": ""}),
    ):
        if isinstance(data.get(key), list):
            data[key] = [with_defaults(item, defaults) for item in data[key]]
    return data


def _permit_labels(permit_type, result: str, language: str) -> dict[str, str]:
    """The readable kind and result of a permit of `language`, and in French."""
    from occupancy.models import PermitKind

    kind, outcome = PermitKind(permit_type.kind).label, VisitResult(result).label
    main = main_language(language)
    return {
        "kind_label": in_language(main, kind),
        "result_label": in_language(main, outcome),
        "kind_label_fr": in_language(FRENCH, kind),
        "result_label_fr": in_language(FRENCH, outcome),
    }


def _matter_from_version_1(matter: dict) -> dict:
    defaults = {
        "order_type_label": "",
        "requirement": matter.get("description", ""),
        "issued_to": "",
        "responsible": "",
    }
    return {**defaults, **matter}


def described_fields(part: type[_Part]) -> dict[str, str]:
    """A part's keys with their administrator-facing descriptions, in stored order."""
    return {f.name: f.metadata["doc"] for f in dataclasses.fields(part)}


def snapshot_parts() -> list[tuple[str, str, type[_Part], bool]]:
    """(key, description, part class, is a list of parts) for each top-level key."""
    hints = typing.get_type_hints(PermitSnapshot)
    parts = []
    for f in dataclasses.fields(PermitSnapshot):
        hint = hints[f.name]
        many = typing.get_origin(hint) is tuple
        part = typing.get_args(hint)[0] if many else hint
        parts.append((f.name, f.metadata["doc"], part, many))
    return parts
