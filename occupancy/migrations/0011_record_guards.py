from django.db import migrations

# An issued permit is a legal record. 0002's trigger listed the columns it protected and let
# the others through (description, expires_on, portion_of_building, application, issued_at,
# and a status going from revoked back to issued all changed with an ORM .update()); the
# revocation rows could be deleted. On PostgreSQL the database now refuses, whatever code
# writes the rows:
#
# - an issued permit: deleting it, or changing any column (every column, those added later
#   too) except its status; the status changes only from issued to revoked, and only once
#   the permit's revocation row exists (occupancy.services.occupancy_permit_revoke inserts
#   the revocation first, then sets the status, in one transaction);
# - a revocation: append-only, never changed nor deleted.
#
# Hand-written SQL like 0002 (not django-pgtrigger): the status rule looks up the revocation
# table and the message names the refused columns, which would be raw SQL inside pgtrigger
# as well; no dependency is added and SQLite (make run) is untouched. The models refuse
# deletion on every database.
CREATE = """
CREATE OR REPLACE FUNCTION occupancy_permit_protect() RETURNS trigger AS $$
DECLARE
    changed text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'occupancy permit % is a legal record and cannot be deleted', OLD.number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    SELECT string_agg(n.key, ', ' ORDER BY n.key) INTO changed
    FROM jsonb_each(to_jsonb(NEW)) AS n
    WHERE n.key <> 'status' AND n.value IS DISTINCT FROM to_jsonb(OLD) -> n.key;
    IF changed IS NOT NULL THEN
        RAISE EXCEPTION 'occupancy permit % was issued and cannot be changed (%)',
            OLD.number, changed
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF NOT (OLD.status = 'issued' AND NEW.status = 'revoked') THEN
            RAISE EXCEPTION 'occupancy permit % is %: its status changes only from issued to '
                'revoked', OLD.number, OLD.status
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF NOT EXISTS (
            SELECT 1 FROM occupancy_occupancypermitrevocation r WHERE r.permit_id = NEW.id
        ) THEN
            RAISE EXCEPTION 'occupancy permit % is revoked only with its revocation '
                '(reason, date and notice) recorded first', OLD.number
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS occupancy_permit_protect ON occupancy_occupancypermit;
CREATE TRIGGER occupancy_permit_protect
    BEFORE UPDATE OR DELETE ON occupancy_occupancypermit
    FOR EACH ROW EXECUTE FUNCTION occupancy_permit_protect();

CREATE OR REPLACE FUNCTION occupancy_revocation_protect() RETURNS trigger AS $$
DECLARE
    permit_number text;
BEGIN
    SELECT p.number INTO permit_number FROM occupancy_occupancypermit p WHERE p.id = OLD.permit_id;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the revocation of occupancy permit % is a legal record and cannot be '
            'deleted', permit_number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RAISE EXCEPTION 'the revocation of occupancy permit % is a legal record and cannot be '
        'changed', permit_number
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS occupancy_revocation_protect ON occupancy_occupancypermitrevocation;
CREATE TRIGGER occupancy_revocation_protect
    BEFORE UPDATE OR DELETE ON occupancy_occupancypermitrevocation
    FOR EACH ROW EXECUTE FUNCTION occupancy_revocation_protect();
"""

# Back to 0002's rules.
DROP = """
DROP TRIGGER IF EXISTS occupancy_revocation_protect ON occupancy_occupancypermitrevocation;
DROP FUNCTION IF EXISTS occupancy_revocation_protect();
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
"""


def _run(schema_editor, sql):
    # PostgreSQL only (SQLite, used by make run, has no such triggers). A plain cursor
    # without parameters: the functions' % signs are not placeholders.
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql)


def create_guards(apps, schema_editor):
    _run(schema_editor, CREATE)


def drop_guards(apps, schema_editor):
    _run(schema_editor, DROP)


class Migration(migrations.Migration):
    dependencies = [("occupancy", "0010_verification")]

    operations = [migrations.RunPython(create_guards, drop_guards, elidable=False)]
