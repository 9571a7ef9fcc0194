# The import runs of the admin's CSV upload (issue 16: imported by a job, not in the request).

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('core', '0012_delivery_last_queued_at'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ImportRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('file', models.FileField(max_length=255, upload_to='', verbose_name='file')),
                ('original_name', models.CharField(max_length=255, verbose_name='file name')),
                ('size', models.PositiveBigIntegerField(verbose_name='size (bytes)')),
                ('sha256', models.CharField(max_length=64, verbose_name='SHA-256 digest')),
                ('mapping', models.CharField(max_length=100, verbose_name='mapping')),
                ('dry_run', models.BooleanField(default=False, verbose_name='check only (dry run)')),
                ('language', models.CharField(max_length=10, verbose_name='language')),
                ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed')], default='queued', max_length=10, verbose_name='status')),
                ('queued_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='queued at')),
                ('started_at', models.DateTimeField(blank=True, null=True, verbose_name='started at')),
                ('progress_at', models.DateTimeField(blank=True, null=True, verbose_name='last progress at')),
                ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished at')),
                ('rows_read', models.PositiveIntegerField(default=0, verbose_name='rows read')),
                ('applications_created', models.PositiveIntegerField(default=0, verbose_name='applications created')),
                ('applications_updated', models.PositiveIntegerField(default=0, verbose_name='applications updated')),
                ('applications_unchanged', models.PositiveIntegerField(default=0, verbose_name='applications unchanged')),
                ('rows_skipped', models.PositiveIntegerField(default=0, verbose_name='rows skipped')),
                ('rows_merged', models.PositiveIntegerField(default=0, verbose_name='rows merged')),
                ('rows_rejected', models.PositiveIntegerField(default=0, verbose_name='rows rejected')),
                ('warned_applications', models.PositiveIntegerField(default=0, verbose_name='applications with a data-quality warning')),
                ('warnings_count', models.PositiveIntegerField(default=0, verbose_name='data-quality warnings')),
                ('seconds', models.FloatField(default=0.0, verbose_name='seconds')),
                ('rejections', models.JSONField(blank=True, default=list, verbose_name='rejected rows')),
                ('warnings', models.JSONField(blank=True, default=list, verbose_name='data-quality warnings shown')),
                ('notes', models.JSONField(blank=True, default=list, verbose_name='notes')),
                ('preview', models.JSONField(blank=True, default=list, verbose_name='preview')),
                ('language_column', models.CharField(blank=True, max_length=100, verbose_name='language column')),
                ('failure_reason', models.CharField(blank=True, max_length=500, verbose_name='failure reason')),
                ('municipality', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='import_runs', to='core.municipality', verbose_name='municipality')),
                ('uploaded_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='uploaded by')),
            ],
            options={
                'verbose_name': 'import run',
                'verbose_name_plural': 'import runs',
                'ordering': ['-queued_at', '-id'],
                'indexes': [models.Index(fields=['municipality', '-queued_at'], name='importrun_municipality_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('status__in', ['queued', 'running', 'done', 'failed'])), name='importrun_status_valid')],
            },
        ),
    ]
