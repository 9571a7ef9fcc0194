"""The search finds what people type (issue 16): every application's search key is written
again by permits.search.search_key (accents folded, street types in full, numbers without
their separators, the legal description), with the numbers of its occupancy permits kept in
the new other_numbers column. The trigram index of 0002 stays as it is: same column.

The rows are filled in batches by primary key, each batch one read and one pipelined
executemany, so a large city's table is not held in memory. The occupancy permits' numbers
are read by table name (permits imports nothing of occupancy); on a new database that table
does not exist yet and there is nothing to fill."""

from types import SimpleNamespace

from django.db import migrations, models

from permits.search import search_key

BATCH = 2000
FIELDS = (
    "id",
    "number",
    "unit",
    "street_address",
    "city",
    "postal_code",
    "roll_number",
    "applicant_name",
    "owner_name",
    "legal_description",
)
PERMITS_TABLE = "occupancy_occupancypermit"


def fill_search_keys(apps, schema_editor):
    Application = apps.get_model("permits", "Application")
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        has_permits = PERMITS_TABLE in connection.introspection.table_names(cursor)
    last_id = 0
    while True:
        batch = list(
            Application.objects.filter(pk__gt=last_id).order_by("pk").values(*FIELDS)[:BATCH]
        )
        if not batch:
            return
        last_id = batch[-1]["id"]
        numbers = {row["id"]: [] for row in batch}
        with connection.cursor() as cursor:
            if has_permits:
                cursor.execute(
                    f"SELECT application_id, number FROM {PERMITS_TABLE} "
                    "WHERE application_id >= %s AND application_id <= %s "
                    "ORDER BY issued_at, id",
                    [batch[0]["id"], last_id],
                )
                for application_id, number in cursor.fetchall():
                    if application_id in numbers:
                        numbers[application_id].append(number)
            updates = []
            for row in batch:
                other_numbers = " ".join(numbers[row["id"]])
                key = search_key(SimpleNamespace(**row, other_numbers=other_numbers))
                updates.append((other_numbers, key, row["id"]))
            cursor.executemany(
                "UPDATE permits_application SET other_numbers = %s, search_text = %s "
                "WHERE id = %s",
                updates,
            )


class Migration(migrations.Migration):
    dependencies = [("permits", "0006_bounded_text")]

    operations = [
        migrations.AddField(
            model_name="application",
            name="other_numbers",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        # Backwards the keys stay as they are: the previous search matches upper-cased
        # words, which these keys still hold.
        migrations.RunPython(fill_search_keys, migrations.RunPython.noop, elidable=True),
    ]
