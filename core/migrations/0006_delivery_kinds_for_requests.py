# Inspection requests (scheduling) tell the requester by e-mail: four more kinds of delivery.

from django.db import migrations, models

KINDS = [
    ('close_documents', 'Documents of a closed visit'),
    ('request_confirmed', 'Inspection request confirmed'),
    ('request_moved', 'Inspection request moved'),
    ('request_declined', 'Inspection request declined'),
    ('request_result', 'Result of a requested inspection'),
]


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0005_delivery'),
    ]

    operations = [
        migrations.AlterField(
            model_name='delivery',
            name='kind',
            field=models.CharField(choices=KINDS, max_length=30),
        ),
        migrations.RemoveConstraint(
            model_name='delivery',
            name='delivery_kind_valid',
        ),
        migrations.AddConstraint(
            model_name='delivery',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', [kind for kind, _ in KINDS])), name='delivery_kind_valid'),
        ),
    ]
