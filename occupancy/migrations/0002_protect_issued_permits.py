from django.db import migrations

# An issued permit is a legal record: on PostgreSQL the database itself refuses to delete it
# or to change what was issued (number, PDF, digest, snapshot, grant). Only its status may
# change (revocation). The models refuse the same on every database.
CREATE = """
CREATE OR REPLACE FUNCTION occupancy_permit_protect() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'occupancy permit % is a legal record and cannot be deleted', OLD.number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.number IS DISTINCT FROM OLD.number
       OR NEW.pdf IS DISTINCT FROM OLD.pdf
       OR NEW.pdf_sha256 IS DISTINCT FROM OLD.pdf_sha256
       OR NEW.snapshot::text IS DISTINCT FROM OLD.snapshot::text
       OR NEW.granted_on IS DISTINCT FROM OLD.granted_on
       OR NEW.result IS DISTINCT FROM OLD.result
       OR NEW.visit_id IS DISTINCT FROM OLD.visit_id
       OR NEW.municipality_id IS DISTINCT FROM OLD.municipality_id THEN
        RAISE EXCEPTION 'occupancy permit % was issued and cannot be changed', OLD.number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS occupancy_permit_protect ON occupancy_occupancypermit;
CREATE TRIGGER occupancy_permit_protect
    BEFORE UPDATE OR DELETE ON occupancy_occupancypermit
    FOR EACH ROW EXECUTE FUNCTION occupancy_permit_protect();
"""
DROP = """
DROP TRIGGER IF EXISTS occupancy_permit_protect ON occupancy_occupancypermit;
DROP FUNCTION IF EXISTS occupancy_permit_protect();
"""


def _run(schema_editor, sql):
    # A plain cursor without parameters: the function body's % signs are not placeholders.
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql)


def create_trigger(apps, schema_editor):
    _run(schema_editor, CREATE)


def drop_trigger(apps, schema_editor):
    _run(schema_editor, DROP)


class Migration(migrations.Migration):
    dependencies = [("occupancy", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger, elidable=False)]
