from django.db import migrations

# What the public verification page proves from, guarded like the permit itself (a review of
# issue 15): a permit's verification token (the QR code printed on it leads nowhere if the
# token changes) and the record of who signed a document are append-only; and a permit is
# inserted only as issued (revoked only through its revocation, 0011). PostgreSQL only, like
# 0002 and 0011 (SQLite, used by make run, has no such triggers).
CREATE = """
CREATE OR REPLACE FUNCTION threshold_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% rows are a record of an issued document and cannot be %',
        TG_TABLE_NAME, lower(TG_OP) || 'd'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS threshold_append_only ON occupancy_permitverification;
CREATE TRIGGER threshold_append_only
    BEFORE UPDATE OR DELETE ON occupancy_permitverification
    FOR EACH ROW EXECUTE FUNCTION threshold_append_only();

DROP TRIGGER IF EXISTS threshold_append_only ON core_documentsignature;
CREATE TRIGGER threshold_append_only
    BEFORE UPDATE OR DELETE ON core_documentsignature
    FOR EACH ROW EXECUTE FUNCTION threshold_append_only();

CREATE OR REPLACE FUNCTION occupancy_permit_insert_issued() RETURNS trigger AS $$
BEGIN
    IF NEW.status <> 'issued' THEN
        RAISE EXCEPTION 'occupancy permit % can only be issued; it is revoked afterwards, '
            'with its revocation', NEW.number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS occupancy_permit_insert_issued ON occupancy_occupancypermit;
CREATE TRIGGER occupancy_permit_insert_issued
    BEFORE INSERT ON occupancy_occupancypermit
    FOR EACH ROW EXECUTE FUNCTION occupancy_permit_insert_issued();
"""

DROP = """
DROP TRIGGER IF EXISTS occupancy_permit_insert_issued ON occupancy_occupancypermit;
DROP FUNCTION IF EXISTS occupancy_permit_insert_issued();
DROP TRIGGER IF EXISTS threshold_append_only ON core_documentsignature;
DROP TRIGGER IF EXISTS threshold_append_only ON occupancy_permitverification;
DROP FUNCTION IF EXISTS threshold_append_only();
"""


def _run(schema_editor, sql):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("occupancy", "0011_record_guards"),
        ("core", "0004_signing_certificate"),
    ]

    operations = [
        migrations.RunPython(
            lambda apps, schema_editor: _run(schema_editor, CREATE),
            lambda apps, schema_editor: _run(schema_editor, DROP),
        ),
    ]
