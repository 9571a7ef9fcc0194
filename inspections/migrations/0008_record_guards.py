from django.db import migrations

# A closed visit is a record: its result, its report (PDF and SHA-256) and what was found,
# ordered and photographed on it. On PostgreSQL the database itself refuses to change it,
# whatever code writes the rows (ORM .update(), raw SQL, the shell):
#
# - a closed visit: no column changes (it is never reopened) and it is never deleted;
# - its findings, orders and photos (and the links between its orders and findings): none
#   added, changed or deleted, except the follow-up fields the workflow sets from a later,
#   open visit (inspections.services.finding_set_corrected and order_set_complied):
#   Finding.corrected_on_visit and Order.complied_on_visit may go from empty to an open
#   visit, or back from an open visit to empty (undo), and never once that visit is closed.
#
# Hand-written SQL (not django-pgtrigger): these rules look up the visit's status across
# tables and name the refused columns, which would be raw SQL inside pgtrigger as well; it
# keeps the pattern of occupancy 0002, adds no dependency and leaves SQLite (make run)
# untouched. The models and services refuse the same on every database.
CREATE = """
CREATE OR REPLACE FUNCTION inspections_changed_columns(new_row jsonb, old_row jsonb,
                                                       allowed text[]) RETURNS text AS $$
    SELECT string_agg(n.key, ', ' ORDER BY n.key)
    FROM jsonb_each(new_row) AS n
    WHERE NOT (n.key = ANY (allowed)) AND n.value IS DISTINCT FROM old_row -> n.key;
$$ LANGUAGE sql IMMUTABLE;

CREATE OR REPLACE FUNCTION inspections_visit_status(visit bigint) RETURNS text AS $$
    SELECT status FROM inspections_visit WHERE id = visit;
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION inspections_visit_label(visit bigint) RETURNS text AS $$
    SELECT 'visit ' || v.sequence || ' of inspection ' || i.code
    FROM inspections_visit v JOIN inspections_inspection i ON i.id = v.inspection_id
    WHERE v.id = visit;
$$ LANGUAGE sql STABLE;

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

-- Findings, orders and photos. TG_ARGV[0]: what the row is; TG_ARGV[1]: its follow-up
-- field ('' for photos, which have none).
CREATE OR REPLACE FUNCTION inspections_visit_item_guard() RETURNS trigger AS $$
DECLARE
    what text := TG_ARGV[0];
    follow_up text := TG_ARGV[1];
    changed text;
    old_mark bigint;
    new_mark bigint;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND inspections_visit_status(OLD.visit_id) = 'closed' THEN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION '% % belongs to closed %: it is a record and cannot be deleted',
                what, OLD.code, inspections_visit_label(OLD.visit_id)
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        changed := inspections_changed_columns(to_jsonb(NEW), to_jsonb(OLD), ARRAY[follow_up]);
        IF changed IS NOT NULL THEN
            RAISE EXCEPTION '% % belongs to closed % and cannot be changed (%)',
                what, OLD.code, inspections_visit_label(OLD.visit_id), changed
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF follow_up <> '' THEN
            old_mark := (to_jsonb(OLD) ->> follow_up)::bigint;
            new_mark := (to_jsonb(NEW) ->> follow_up)::bigint;
            IF old_mark IS DISTINCT FROM new_mark AND NOT (
                (old_mark IS NULL AND inspections_visit_status(new_mark) = 'open')
                OR (new_mark IS NULL AND inspections_visit_status(old_mark) = 'open')
            ) THEN
                RAISE EXCEPTION '% % belongs to closed %: its % is set or undone only by '
                    'a later visit while that visit is open', what, OLD.code,
                    inspections_visit_label(OLD.visit_id), follow_up
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
        END IF;
    END IF;
    IF (TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.visit_id IS DISTINCT FROM OLD.visit_id))
       AND inspections_visit_status(NEW.visit_id) = 'closed' THEN
        RAISE EXCEPTION '% is closed: no % can be added to it',
            inspections_visit_label(NEW.visit_id), what
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

-- The findings an order of a closed visit refers to are part of that order.
CREATE OR REPLACE FUNCTION inspections_order_findings_guard() RETURNS trigger AS $$
DECLARE
    visit bigint;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT o.visit_id INTO visit FROM inspections_order o WHERE o.id = OLD.order_id;
        IF inspections_visit_status(visit) = 'closed' THEN
            RAISE EXCEPTION 'the findings of an order of closed % cannot be changed',
                inspections_visit_label(visit)
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT o.visit_id INTO visit FROM inspections_order o WHERE o.id = NEW.order_id;
        IF inspections_visit_status(visit) = 'closed' THEN
            RAISE EXCEPTION 'the findings of an order of closed % cannot be changed',
                inspections_visit_label(visit)
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS inspections_visit_guard ON inspections_visit;
CREATE TRIGGER inspections_visit_guard
    BEFORE UPDATE OR DELETE ON inspections_visit
    FOR EACH ROW EXECUTE FUNCTION inspections_visit_guard();

DROP TRIGGER IF EXISTS inspections_finding_guard ON inspections_finding;
CREATE TRIGGER inspections_finding_guard
    BEFORE INSERT OR UPDATE OR DELETE ON inspections_finding
    FOR EACH ROW EXECUTE FUNCTION inspections_visit_item_guard('finding', 'corrected_on_visit_id');

DROP TRIGGER IF EXISTS inspections_order_guard ON inspections_order;
CREATE TRIGGER inspections_order_guard
    BEFORE INSERT OR UPDATE OR DELETE ON inspections_order
    FOR EACH ROW EXECUTE FUNCTION inspections_visit_item_guard('order', 'complied_on_visit_id');

DROP TRIGGER IF EXISTS inspections_photo_guard ON inspections_photo;
CREATE TRIGGER inspections_photo_guard
    BEFORE INSERT OR UPDATE OR DELETE ON inspections_photo
    FOR EACH ROW EXECUTE FUNCTION inspections_visit_item_guard('photo', '');

DROP TRIGGER IF EXISTS inspections_order_findings_guard ON inspections_order_findings;
CREATE TRIGGER inspections_order_findings_guard
    BEFORE INSERT OR UPDATE OR DELETE ON inspections_order_findings
    FOR EACH ROW EXECUTE FUNCTION inspections_order_findings_guard();
"""
DROP = """
DROP TRIGGER IF EXISTS inspections_order_findings_guard ON inspections_order_findings;
DROP TRIGGER IF EXISTS inspections_photo_guard ON inspections_photo;
DROP TRIGGER IF EXISTS inspections_order_guard ON inspections_order;
DROP TRIGGER IF EXISTS inspections_finding_guard ON inspections_finding;
DROP TRIGGER IF EXISTS inspections_visit_guard ON inspections_visit;
DROP FUNCTION IF EXISTS inspections_order_findings_guard();
DROP FUNCTION IF EXISTS inspections_visit_item_guard();
DROP FUNCTION IF EXISTS inspections_visit_guard();
DROP FUNCTION IF EXISTS inspections_visit_label(bigint);
DROP FUNCTION IF EXISTS inspections_visit_status(bigint);
DROP FUNCTION IF EXISTS inspections_changed_columns(jsonb, jsonb, text[]);
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
    dependencies = [("inspections", "0007_act_permissions")]

    operations = [migrations.RunPython(create_guards, drop_guards, elidable=False)]
