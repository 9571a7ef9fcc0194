from django.contrib.auth.management import create_permissions
from django.db import migrations

# Requesting an inspection: clerks, inspectors and chief building officials. Dispatching
# (confirm, move, decline): clerks and chief building officials.
ROLE_PERMISSIONS = {
    "request_inspection": ["clerk", "inspector", "chief_building_official"],
    "dispatch": ["clerk", "chief_building_official"],
}


def grant_scheduling_permissions(apps, schema_editor=None):
    """The roles' groups get the new acts (if the roles have groups; the tests call this
    after a flush, as core 0002's link_roles)."""
    app_config = apps.get_app_config("scheduling")
    # Migration state apps have no models module, and create_permissions skips an app
    # without one; the project's apps (after a test's flush) keep theirs.
    previous = getattr(app_config, "models_module", None)
    app_config.models_module = previous or True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = previous
    RoleGroup = apps.get_model("core", "RoleGroup")
    Permission = apps.get_model("auth", "Permission")
    for codename, roles in ROLE_PERMISSIONS.items():
        permission = Permission.objects.get(content_type__app_label="scheduling", codename=codename)
        for role_group in RoleGroup.objects.filter(role__in=roles).select_related("group"):
            role_group.group.permissions.add(permission)


class Migration(migrations.Migration):

    dependencies = [
        ("scheduling", "0001_initial"),
        ("core", "0004_signing_certificate"),
    ]

    operations = [
        migrations.RunPython(grant_scheduling_permissions, migrations.RunPython.noop),
    ]
