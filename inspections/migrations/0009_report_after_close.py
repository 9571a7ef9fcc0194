from django.db import migrations

# The inspection report of a closed visit is rendered by a job right after the close commits
# (inspections.tasks.visit_report_render), not inside the close: the close holds the
# municipality's permit-number lock, and a report render there made every other close wait.
# So a visit is closed with an empty report, and the closed-visit guard of 0008 must let
# exactly that job finish it: report_pdf and report_sha256 set once, both from empty to
# non-empty in the same update, on a closed visit; nothing else. A report once set is
# never changed or removed, and no other column of a closed visit changes (as before).
CREATE = """
CREATE OR REPLACE FUNCTION inspections_visit_guard() RETURNS trigger AS $$
DECLARE
    changed text;
BEGIN
    IF OLD.status <> 'closed' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '% is closed: it is a record and cannot be deleted',
            inspections_visit_label(OLD.id)
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        RAISE EXCEPTION '% is closed and is never reopened', inspections_visit_label(OLD.id)
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    changed := inspections_changed_columns(
        to_jsonb(NEW), to_jsonb(OLD), '{report_pdf,report_sha256}');
    IF changed IS NOT NULL THEN
        RAISE EXCEPTION '% is closed and cannot be changed (%)',
            inspections_visit_label(OLD.id), changed
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (NEW.report_pdf IS DISTINCT FROM OLD.report_pdf
        OR NEW.report_sha256 IS DISTINCT FROM OLD.report_sha256)
       AND NOT (OLD.report_pdf = '' AND OLD.report_sha256 = ''
                AND NEW.report_pdf <> '' AND NEW.report_sha256 ~ '^[0-9a-f]{64}$') THEN
        RAISE EXCEPTION '% is closed: its report is stored once, with its SHA-256, and '
            'never changed (report_pdf, report_sha256)', inspections_visit_label(OLD.id)
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""
# Back to 0008's function: no change of a closed visit at all.
DROP = """
CREATE OR REPLACE FUNCTION inspections_visit_guard() RETURNS trigger AS $$
DECLARE
    changed text;
BEGIN
    IF OLD.status <> 'closed' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '% is closed: it is a record and cannot be deleted',
            inspections_visit_label(OLD.id)
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        RAISE EXCEPTION '% is closed and is never reopened', inspections_visit_label(OLD.id)
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    changed := inspections_changed_columns(to_jsonb(NEW), to_jsonb(OLD), '{}');
    IF changed IS NOT NULL THEN
        RAISE EXCEPTION '% is closed and cannot be changed (%)',
            inspections_visit_label(OLD.id), changed
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def _run(schema_editor, sql):
    # PostgreSQL only, as in 0008 (SQLite has no such triggers). A plain cursor without
    # parameters: the functions' % signs are not placeholders.
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql)


def allow_report_after_close(apps, schema_editor):
    _run(schema_editor, CREATE)


def refuse_any_change(apps, schema_editor):
    _run(schema_editor, DROP)


class Migration(migrations.Migration):
    dependencies = [("inspections", "0008_record_guards")]

    operations = [
        migrations.RunPython(allow_report_after_close, refuse_any_change, elidable=False)
    ]
