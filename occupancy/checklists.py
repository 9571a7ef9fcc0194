"""The occupancy checklists Threshold seeds for a new permit type, from the Ontario Building
Code (O. Reg. 332/12), Division C, Section 1.3.3. The text paraphrases the clauses; an
administrator checks it against the Code in force (e-Laws) and edits it in the admin.

- A house (1.3.3.4.(4)): the conditions under which the chief building official shall
  issue the permit to occupy a house or similar small residential building.
- A building occupied before it is complete (1.3.3.1.(3)): the conditions of a permit that
  authorizes occupation of a building, or part of it, that is not fully completed.
"""

from occupancy.models import OccupancyCondition, PermitKind

HOUSE = [
    ("Div. C 1.3.3.4.(4)(a)", "The structure of the dwelling unit is substantially complete."),
    (
        "Div. C 1.3.3.4.(4)(b)",
        "The building envelope is substantially complete: cladding, roofing, windows, doors, "
        "fire-rated assemblies and closures, insulation, vapour and air barriers.",
    ),
    (
        "Div. C 1.3.3.4.(4)(c)",
        "The walls enclosing the dwelling unit conform to Div. B 9.25.2.3.(7).",
    ),
    ("Div. C 1.3.3.4.(4)(d)", "The required electrical supply is provided."),
    ("Div. C 1.3.3.4.(4)(e)", "Fire-fighting access routes are provided and accessible."),
    (
        "Div. C 1.3.3.4.(4)(f) exits",
        "Required exits, and the egress from the dwelling unit, are complete and operational.",
    ),
    (
        "Div. C 1.3.3.4.(4)(f) guards",
        "Required handrails and guards are installed on stairs, landings, balconies and "
        "raised floors.",
    ),
    (
        "Div. C 1.3.3.4.(4)(f) alarms",
        "Smoke alarms and carbon monoxide alarms are installed and operational.",
    ),
    (
        "Div. C 1.3.3.4.(4)(f) plumbing",
        "Plumbing fixtures, water supply, drainage and venting are complete and operational.",
    ),
    (
        "Div. C 1.3.3.4.(4)(f) sewage",
        "The building sewer is connected to the municipal sewer or an approved on-site sewage "
        "system that is operational.",
    ),
    (
        "Div. C 1.3.3.4.(4)(f) heating",
        "The heating system and the required mechanical ventilation are complete and "
        "operational.",
    ),
]

BEFORE_COMPLETION = [
    (
        "Div. C 1.3.3.1.(3)(a)",
        "The structure, or the part to be occupied, is completed to the roof.",
    ),
    ("Div. C 1.3.3.1.(3)(b)", "The enclosing walls are completed to the roof."),
    (
        "Div. C 1.3.3.1.(3)(c)",
        "The walls enclosing the space to be occupied are completed, balcony guards included.",
    ),
    (
        "Div. C 1.3.3.1.(3)(d)",
        "All required fire separations and closures are completed on every storey to be "
        "occupied.",
    ),
    (
        "Div. C 1.3.3.1.(3)(e)",
        "Required exits are completed from the uppermost storey to be occupied down to grade, "
        "with their fire separations, doors, hardware, self-closing devices, guards and "
        "handrails.",
    ),
    (
        "Div. C 1.3.3.1.(3)(f)",
        "Shafts are completed to the floor-ceiling assembly above the storey to be occupied, "
        "with a temporary fire separation there.",
    ),
    (
        "Div. C 1.3.3.1.(3)(g)",
        "Access to the incomplete parts of the building and of the site is prevented.",
    ),
    (
        "Div. C 1.3.3.1.(3)(h)",
        "Floors, halls, lobbies and means of egress are free of loose materials and hazards.",
    ),
    (
        "Div. C 1.3.3.1.(3)(i)",
        "Service rooms in operation have their required fire separations and closures.",
    ),
    (
        "Div. C 1.3.3.1.(3)(j)",
        "Drains, sewers, water supply, drainage and venting serving the storeys to be occupied "
        "are complete and tested as operational.",
    ),
    (
        "Div. C 1.3.3.1.(3)(k)",
        "Required lighting, heating and electrical service are provided to the part occupied.",
    ),
    (
        "Div. C 1.3.3.1.(3) fire alarm",
        "The fire alarm and detection systems serving the part occupied are complete and "
        "operational.",
    ),
    (
        "Div. C 1.3.3.1.(3) sprinklers",
        "Standpipe and sprinkler systems serving the part occupied are complete and "
        "operational.",
    ),
]


def default_conditions(kind: str) -> list[tuple[str, str]]:
    """(clause, text) of the checklist a new permit type of this kind starts with."""
    return HOUSE if kind == PermitKind.GENERAL else BEFORE_COMPLETION


def permit_type_seed_checklist(*, permit_type) -> int:
    """Give a permit type without conditions the Code's checklist for its kind.

    Side effects: OccupancyCondition rows (none when the type already has conditions).
    """
    if permit_type.conditions.exists():
        return 0
    OccupancyCondition.objects.bulk_create(
        OccupancyCondition(
            permit_type=permit_type, clause=clause, text=text, display_order=10 * (n + 1)
        )
        for n, (clause, text) in enumerate(default_conditions(permit_type.kind))
    )
    return len(default_conditions(permit_type.kind))
