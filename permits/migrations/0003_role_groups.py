from django.contrib.auth.management import create_permissions
from django.db import migrations

# What each role may do. The groups are editable in the admin afterwards; this migration
# only creates them with their starting permissions.
VIEW = [
    "permits.view_application",
    "inspections.view_inspection",
    "inspections.view_visit",
    "inspections.view_finding",
    "inspections.view_order",
    "inspections.view_photo",
    "occupancy.view_occupancypermit",
]
CLERK = VIEW + [
    "permits.add_application",
    "permits.change_application",
    "inspections.add_inspection",
]
INSPECTOR = CLERK + [
    "inspections.change_inspection",
    "inspections.add_visit",
    "inspections.change_visit",
    "inspections.add_finding",
    "inspections.change_finding",
    "inspections.delete_finding",
    "inspections.add_order",
    "inspections.change_order",
    "inspections.delete_order",
    "inspections.add_photo",
    "inspections.delete_photo",
    "occupancy.add_occupancypermit",
]
ROLE_GROUPS = {"Viewer": VIEW, "Clerk": CLERK, "Inspector": INSPECTOR}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations ran; create them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLE_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("permits", "0002_search_trigram_index"),
        ("inspections", "0001_initial"),
        ("occupancy", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
