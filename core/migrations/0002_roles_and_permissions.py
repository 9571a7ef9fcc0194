import django.db.models.deletion
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

# The starting permissions of each role's group. The operator may edit a group in the admin
# afterwards; an existing group keeps what it has and gains only the new acts below.
VIEW = [
    "permits.view_application",
    "inspections.view_inspection",
    "inspections.view_visit",
    "inspections.view_finding",
    "inspections.view_order",
    "inspections.view_photo",
    "occupancy.view_occupancypermit",
    "occupancy.view_occupancypermitrevocation",
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
    "inspections.record_visit",
    "inspections.close_visit",
    "inspections.add_finding",
    "inspections.change_finding",
    "inspections.delete_finding",
    "inspections.add_order",
    "inspections.change_order",
    "inspections.delete_order",
    "inspections.add_photo",
    "inspections.delete_photo",
    "occupancy.issue_occupancypermit",
]
CHIEF_BUILDING_OFFICIAL = INSPECTOR + ["occupancy.revoke_occupancypermit"]
# The municipality's own configuration, in the admin (scoped to its municipalities).
MUNICIPAL_ADMIN = VIEW + [
    "core.view_municipality",
    "core.change_municipality",
    "core.view_membership",
    "core.add_membership",
    "core.change_membership",
    "core.delete_membership",
    "core.view_activity",
    "auth.view_user",
    "auth.add_user",
    "auth.change_user",
    "occupancy.manage_templates",
    *(
        f"occupancy.{action}_{model}"
        for model in (
            "occupancypermittype",
            "occupancypermittemplate",
            "occupancycondition",
            "requiredinspection",
        )
        for action in ("view", "add", "change", "delete")
    ),
    "occupancy.view_occupancypermittemplateversion",
    "occupancy.view_permitnumbersequence",
    *(
        f"inspections.{action}_{model}"
        for model in ("inspectiontype", "defaultinspection")
        for action in ("view", "add", "change", "delete")
    ),
]
# role value: (group name used when the role has no group yet, its permissions)
ROLES = {
    "viewer": ("Viewer", VIEW),
    "clerk": ("Clerk", CLERK),
    "inspector": ("Inspector", INSPECTOR),
    "chief_building_official": ("Chief building official", CHIEF_BUILDING_OFFICIAL),
    "municipal_admin": ("Municipal administrator", MUNICIPAL_ADMIN),
}
# Acts that had no permission of their own before: a group that could do the act through a
# model permission gains the act's permission, so nobody loses what they could do.
NEW_ACTS = {
    "inspections.change_visit": ["inspections.record_visit", "inspections.close_visit"],
    "occupancy.add_occupancypermit": ["occupancy.issue_occupancypermit"],
}


def link_roles_to_groups(apps, schema_editor):
    # Permissions are normally created after all migrations ran; create them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    link_roles(apps)


def link_roles(apps):
    """Each role's group with its permissions (the tests call this after a flush)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    RoleGroup = apps.get_model("core", "RoleGroup")

    def permission(name):
        app_label, codename = name.split(".")
        return Permission.objects.get(content_type__app_label=app_label, codename=codename)

    for role, (group_name, perms) in ROLES.items():
        # Before this migration a role was matched to the group of its label.
        group, created = Group.objects.get_or_create(name=group_name)
        RoleGroup.objects.create(role=role, group=group)
        if created:
            group.permissions.add(*(permission(name) for name in perms))
            continue
        held = {
            f"{app_label}.{codename}"
            for app_label, codename in group.permissions.values_list(
                "content_type__app_label", "codename"
            )
        }
        for old, new in NEW_ACTS.items():
            if old in held:
                group.permissions.add(*(permission(name) for name in new))
        if "occupancy.view_occupancypermit" in held:
            group.permissions.add(permission("occupancy.view_occupancypermitrevocation"))


def unlink_roles(apps, schema_editor):
    apps.get_model("core", "RoleGroup").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('core', '0001_initial'),
        ('inspections', '0007_act_permissions'),
        ('occupancy', '0009_act_permissions'),
        ('permits', '0005_move_to_core'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='RoleGroup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('role', models.CharField(choices=[('inspector', 'Inspector'), ('clerk', 'Clerk'), ('viewer', 'Viewer'), ('chief_building_official', 'Chief building official'), ('municipal_admin', 'Municipal administrator')], max_length=30, unique=True)),
            ],
            options={
                'ordering': ['role'],
            },
        ),
        migrations.RemoveConstraint(
            model_name='membership',
            name='membership_role_valid',
        ),
        migrations.AddField(
            model_name='activity',
            name='changes',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AlterField(
            model_name='membership',
            name='role',
            field=models.CharField(choices=[('inspector', 'Inspector'), ('clerk', 'Clerk'), ('viewer', 'Viewer'), ('chief_building_official', 'Chief building official'), ('municipal_admin', 'Municipal administrator')], max_length=30),
        ),
        migrations.AddConstraint(
            model_name='membership',
            constraint=models.CheckConstraint(condition=models.Q(('role__in', ['inspector', 'clerk', 'viewer', 'chief_building_official', 'municipal_admin'])), name='membership_role_valid'),
        ),
        migrations.AddField(
            model_name='rolegroup',
            name='group',
            field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='role', to='auth.group'),
        ),
        migrations.AddConstraint(
            model_name='rolegroup',
            constraint=models.CheckConstraint(condition=models.Q(('role__in', ['inspector', 'clerk', 'viewer', 'chief_building_official', 'municipal_admin'])), name='rolegroup_role_valid'),
        ),
        migrations.RunPython(link_roles_to_groups, unlink_roles),
    ]
