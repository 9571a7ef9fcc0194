"""A database of the release before the move of Municipality, Membership and Activity from
permits to core (issue 12) migrates forward with no data change, and the app works on it.

The test database is taken back to the last migrations of that release, filled through the
historical models, then migrated to the newest migrations (whatever later ones exist). Every
row of every table must come through unchanged; the moved models' content types keep their
ids under their new app label, so permissions, group grants and admin log entries still
point at them.
"""

import datetime

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.models import Activity, Membership, Municipality
from inspections.models import DefaultInspection, Inspection, InspectionType, Visit
from occupancy.models import OccupancyPermit, OccupancyPermitType
from permits.models import Application
from permits.search import search_key

# The last migration of each app in the release before the move; core did not exist.
BEFORE_MOVE = [
    ("permits", "0004_activity_municipality"),
    ("inspections", "0002_default_inspections"),
    ("occupancy", "0003_revocation"),
]
MOVED = ["municipality", "membership", "activity"]
# Columns a later migration dropped after copying their data elsewhere (checked below).
MOVED_COLUMNS = {"inspections_visit.grant_draft": "occupancy 0005: occupancy_grantdraft"}
# Columns a later migration writes again from the others (checked below).
REWRITTEN_COLUMNS = {"permits_application.search_text": "permits 0007: the new search key"}
ROLE_GROUPS = {  # permits 0003_role_groups, as that release created them (a subset suffices)
    "Inspector": ["permits.view_application", "inspections.view_inspection"],
}


@pytest.fixture
def executor(transactional_db):
    executor = MigrationExecutor(connection)
    yield executor
    # Pass or fail, later tests get the database at the newest migrations. If a migration
    # failed on this test's rows (the test has failed then), retry on an empty database.
    try:
        migrate(executor, executor.loader.graph.leaf_nodes())
    except Exception:
        call_command("flush", interactive=False, verbosity=0)
        migrate(executor, executor.loader.graph.leaf_nodes())


def migrate(executor, targets):
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    ContentType.objects.clear_cache()


def schema():
    """Tables, columns, constraints and indexes, and triggers: what a migration can change."""
    introspection = connection.introspection
    with connection.cursor() as cursor:
        tables = {
            table: (
                sorted(
                    (c.name, str(c.type_code), c.null_ok)
                    for c in introspection.get_table_description(cursor, table)
                ),
                {
                    name: sorted((k, str(v)) for k, v in info.items())
                    for name, info in introspection.get_constraints(cursor, table).items()
                    if not name.startswith("__unnamed_constraint")
                },
            )
            for table in introspection.table_names(cursor)
        }
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal"
            )
        else:
            cursor.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'")
        triggers = sorted(cursor.fetchall())
    return tables, triggers


# Tables a later migration adds rows to (new roles' groups, new permissions).
GAIN_ROWS = {"auth_group", "auth_group_permissions", "auth_permission"}


def all_rows():
    """Every table's columns and rows."""
    quote = connection.ops.quote_name
    tables = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {quote(table)}")
            tables[table] = ([c[0] for c in cursor.description], cursor.fetchall())
    return tables


def rows_of(tables, table, columns):
    names, rows = tables[table]
    positions = [names.index(column) for column in columns]
    return sorted((tuple(row[i] for i in positions) for row in rows), key=repr)


def content_type_rows(tables):
    columns, rows = tables["django_content_type"]
    return {row[columns.index("id")]: dict(zip(columns, row, strict=True)) for row in rows}


def build_previous_release_data(apps):
    """One municipality's records as the previous release stored them (its models)."""
    User = apps.get_model("auth", "User")
    Group_ = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType_ = apps.get_model("contenttypes", "ContentType")
    LogEntry_ = apps.get_model("admin", "LogEntry")
    Municipality_ = apps.get_model("permits", "Municipality")
    Membership_ = apps.get_model("permits", "Membership")
    Activity_ = apps.get_model("permits", "Activity")
    Application_ = apps.get_model("permits", "Application")
    InspectionType_ = apps.get_model("inspections", "InspectionType")
    DefaultInspection_ = apps.get_model("inspections", "DefaultInspection")
    Inspection_ = apps.get_model("inspections", "Inspection")
    Visit_ = apps.get_model("inspections", "Visit")
    PermitType = apps.get_model("occupancy", "OccupancyPermitType")
    Template = apps.get_model("occupancy", "OccupancyPermitTemplate")
    TemplateVersion = apps.get_model("occupancy", "OccupancyPermitTemplateVersion")
    Permit = apps.get_model("occupancy", "OccupancyPermit")

    for name, perms in ROLE_GROUPS.items():
        group, _ = Group_.objects.get_or_create(name=name)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
    inspector = User.objects.create(username="mara", first_name="Mara", last_name="Quill")
    admin = User.objects.create(username="root", is_staff=True, is_superuser=True)
    town = Municipality_.objects.create(
        slug="gamma",
        name="Village of Gamma",
        city="Gamma",
        province="NS",
        chief_building_official="Grace Hopper",
    )
    membership = Membership_.objects.create(user=inspector, municipality=town, role="inspector")
    inspector.groups.add(Group_.objects.get(name="Inspector"))
    editors = Group_.objects.create(name="Municipality editors")
    editors.permissions.add(
        Permission.objects.get(content_type__app_label="permits", codename="change_municipality")
    )
    inspector.groups.add(editors)
    inspector.user_permissions.add(
        Permission.objects.get(content_type__app_label="permits", codename="view_activity")
    )
    application = Application_.objects.create(
        municipality=town,
        number="G-2025-0042",
        description="Two-storey addition at the rear",
        street_address="12 Harbour Lane",
        city="Gamma",
        applicant_name="Lin Ortega",
        status="permit_issued",
        applied_on=datetime.date(2025, 4, 14),
        permit_issued_on=datetime.date(2025, 6, 2),
    )
    Activity_.objects.create(
        municipality=town,
        application=application,
        actor=inspector,
        verb="application.created",
        summary="Application G-2025-0042 received at the counter",
    )
    framing = InspectionType_.objects.create(municipality=town, name="Framing", blds_type="Frame")
    occupancy = InspectionType_.objects.create(
        municipality=town, name="Occupancy", kind="occupancy", blds_type="Building Final"
    )
    DefaultInspection_.objects.create(municipality=town, work_type="new", inspection_type=framing)
    Inspection_.objects.create(application=application, inspection_type=framing)
    final = Inspection_.objects.create(application=application, inspection_type=occupancy)
    now = timezone.now()
    granted = Visit_.objects.create(
        inspection=final,
        sequence=1,
        status="closed",
        started_by=inspector,
        result="granted_full",
        closed_by=inspector,
        closed_at=now,
    )
    permit_type = PermitType.objects.create(municipality=town, name="General")
    template = Template.objects.create(
        municipality=town,
        permit_type=permit_type,
        name="General permit",
        body="<p>{{ number }}</p>",
    )
    version = TemplateVersion.objects.create(template=template, version=1, body=template.body)
    # A grant being drafted on a second occupancy visit, as that release kept it: JSON.
    drafting = Visit_.objects.create(
        inspection=Inspection_.objects.create(application=application, inspection_type=occupancy),
        sequence=1,
        started_by=inspector,
        grant_draft={
            "template": template.pk,
            "granted_on": "2025-10-01",
            "description": "Ground floor only",
            "portion_of_building": "Ground floor",
            "expires_on": None,
        },
    )
    Permit.objects.create(
        municipality=town,
        application=application,
        visit=granted,
        permit_type=permit_type,
        template_version=version,
        number="OCC-2025-0001",
        result="granted_full",
        granted_on=datetime.date(2025, 9, 1),
        description="Whole building",
        snapshot={"number": "OCC-2025-0001", "municipality": {"name": town.name}},
        pdf="occupancy/2025/OCC-2025-0001.pdf",
        pdf_sha256="a" * 64,
        issued_by=inspector,
    )
    LogEntry_.objects.create(
        user=admin,
        content_type=ContentType_.objects.get(app_label="permits", model="municipality"),
        object_id=str(town.pk),
        object_repr=town.name,
        action_flag=CHANGE,
        change_message="Changed chief building official.",
    )
    return {
        "town": town.pk,
        "inspector": inspector.pk,
        "admin": admin.pk,
        "membership": membership.pk,
        "application": application.pk,
        "drafting": drafting.pk,
        "template": template.pk,
    }


def test_a_database_of_the_previous_release_migrates_forward_unchanged(executor):
    schema_at_newest = schema()
    migrate(executor, BEFORE_MOVE + [("core", None)])
    applied = executor.loader.applied_migrations
    assert not [key for key in applied if key[0] == "core"]
    assert ("permits", "0005_move_to_core") not in applied
    assert set(BEFORE_MOVE) <= set(applied)

    old_apps = executor.loader.project_state(tuple(applied)).apps
    ids = build_previous_release_data(old_apps)
    content_types = {
        model: ContentType.objects.get(app_label="permits", model=model).pk for model in MOVED
    }
    assert not ContentType.objects.filter(app_label="core", model__in=MOVED).exists()
    before = all_rows()

    migrate(executor, executor.loader.graph.leaf_nodes())

    assert not executor.migration_plan(executor.loader.graph.leaf_nodes())
    after = all_rows()
    assert set(before) <= set(after)
    dropped = set()
    for table, (columns, _) in before.items():
        if table in ("django_migrations", "django_content_type"):
            continue
        kept = [
            column
            for column in columns
            if column in after[table][0] and f"{table}.{column}" not in REWRITTEN_COLUMNS
        ]
        dropped |= {f"{table}.{column}" for column in columns if column not in after[table][0]}
        if table in GAIN_ROWS:
            # Issue 14 adds the new roles' groups and the acts' permissions; every row that
            # was there stays as it was.
            assert set(rows_of(before, table, kept)) <= set(rows_of(after, table, kept)), table
            continue
        assert rows_of(after, table, kept) == rows_of(before, table, kept), table
    assert dropped == set(MOVED_COLUMNS)
    # Content types: the same rows, only the moved models' app label changed.
    expected = content_type_rows(before)
    for pk in content_types.values():
        expected[pk]["app_label"] = "core"
    assert content_type_rows(after) == expected
    for model, pk in content_types.items():
        assert ContentType.objects.get(app_label="core", model=model).pk == pk
    assert schema() == schema_at_newest

    # The current models read what the previous release wrote.
    town = Municipality.objects.get(pk=ids["town"])
    assert (town.slug, town.name, town.province, town.chief_building_official) == (
        "gamma",
        "Village of Gamma",
        "NS",
        "Grace Hopper",
    )
    inspector = get_user_model().objects.get(pk=ids["inspector"])
    membership = Membership.objects.get(pk=ids["membership"])
    assert (membership.user, membership.municipality, membership.role) == (
        inspector,
        town,
        "inspector",
    )
    application = Application.objects.get(pk=ids["application"])
    assert (application.municipality, application.number) == (town, "G-2025-0042")
    permit_number = OccupancyPermit.objects.get().number
    assert application.other_numbers == permit_number  # found by the search (permits 0007)
    assert application.search_text == search_key(application)
    assert [(a.verb, a.actor, a.municipality) for a in Activity.objects.all()] == [
        ("application.created", inspector, town)
    ]
    assert sorted(
        InspectionType.objects.filter(municipality=town).values_list("name", flat=True)
    ) == ["Framing", "Occupancy"]
    assert DefaultInspection.objects.get().municipality == town
    assert Inspection.objects.filter(application=application).count() == 3
    draft = Visit.objects.get(pk=ids["drafting"]).grant_draft
    assert (draft.template_id, draft.granted_on, draft.description, draft.portion_of_building) == (
        ids["template"],
        datetime.date(2025, 10, 1),
        "Ground floor only",
        "Ground floor",
    )
    assert OccupancyPermitType.objects.get().municipality == town
    permit = OccupancyPermit.objects.get()
    assert (permit.number, permit.municipality, permit.pdf_sha256) == (
        "OCC-2025-0001",
        town,
        "a" * 64,
    )
    assert Visit.objects.get(occupancy_permit=permit).result == "granted_full"

    # Grants made on the old content types hold for the moved models.
    assert inspector.has_perm("core.change_municipality")
    assert inspector.has_perm("core.view_activity")
    assert not inspector.has_perm("permits.change_municipality")
    assert Group.objects.get(name="Municipality editors").permissions.get().content_type == (
        ContentType.objects.get_for_model(Municipality)
    )
    entry = LogEntry.objects.get()
    assert entry.get_edited_object() == town

    # Issue 14: each role is linked to its group by value; the existing groups are kept as
    # the operator left them, and the new roles get new groups.
    from core.models import RoleGroup

    linked = dict(RoleGroup.objects.values_list("role", "group__name"))
    assert linked == {
        "viewer": "Viewer",
        "clerk": "Clerk",
        "inspector": "Inspector",
        "chief_building_official": "Chief building official",
        "municipal_admin": "Municipal administrator",
    }
    # The Inspector group could change visits and add permits: it gains the acts' own
    # permissions, so no inspector loses what they could do.
    codenames = set(
        Group.objects.get(name="Inspector").permissions.values_list("codename", flat=True)
    )
    assert {"record_visit", "close_visit", "issue_occupancypermit"} <= codenames
    assert "revoke_occupancypermit" not in codenames

    # The app works on it: the member's Work view, the admin's history of the municipality.
    member = Client()
    member.force_login(inspector)
    page = member.get(
        reverse("permits:application_detail", args=["gamma", "G-2025-0042"])
    ).content.decode()
    for text in (
        "G-2025-0042",
        "12 Harbour Lane",
        "Framing",
        "OCC-2025-0001",
        "Application G-2025-0042 received at the counter",
    ):
        assert text in page
    admin = Client()
    admin.force_login(get_user_model().objects.get(pk=ids["admin"]))
    history = admin.get(reverse("admin:core_municipality_history", args=[town.pk]))
    assert history.status_code == 200
    assert "Changed chief building official." in history.content.decode()


# A rolling upgrade (docs/deploying.md, Upgrading): servers still on the previous release's
# code insert rows on the new schema, so a column added as required needs a database default.


def _previous_release_model(app, migration, model):
    """The model as the previous release's code knows it (the state after `migration`)."""
    state = MigrationExecutor(connection).loader.project_state((app, migration))
    return state.apps.get_model(app, model)


def test_the_previous_release_still_queues_a_mail_on_the_new_schema(municipality_a):
    before_column = _previous_release_model(
        "core", "0011_delivery_kind_request_cancelled", "Delivery"
    )
    before_column.objects.create(
        municipality_id=municipality_a.pk,
        kind="request_confirmed",
        recipient="a@example.com",
        subject="Your inspection request",
        body="Confirmed.",
    )
    from core.models import Delivery

    delivery = Delivery.objects.get()
    assert abs(delivery.last_queued_at - timezone.now()) < datetime.timedelta(minutes=1)
    assert not Delivery.objects.stranded().exists()  # just queued: its job may still come


def test_the_previous_release_still_records_a_request_on_the_new_schema(
    application_a, occupancy_type_a, clerk
):
    from demo import builders
    from scheduling.models import InspectionRequest

    inspection = builders.inspection(application=application_a, inspection_type=occupancy_type_a)
    before_columns = _previous_release_model("scheduling", "0005_more_labels", "InspectionRequest")
    before_columns.objects.create(
        municipality_id=application_a.municipality_id,
        application_id=application_a.pk,
        inspection_type_id=occupancy_type_a.pk,
        inspection_id=inspection.pk,
        requested_date=datetime.date(2026, 12, 16),
        half_day="morning",
        site_contact_name="Sam Patel",
        site_contact_phone="905-555-0142",
        requested_by_id=clerk.pk,
        code="RQ-ROLLING",
    )
    assert InspectionRequest.objects.get(code="RQ-ROLLING").cancel_reason == ""
