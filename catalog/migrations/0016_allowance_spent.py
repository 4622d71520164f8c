from datetime import timedelta

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Count, F, Sum
from django.utils import timezone


def count_the_last_days_photos(apps, schema_editor):
    """The photos uploaded in the last 24 hours were counted from the photos table; they stay spent."""
    Photo, AllowanceSpent = apps.get_model("catalog", "Photo"), apps.get_model("catalog", "AllowanceSpent")
    since = timezone.now() - timedelta(days=1)
    recent = (Photo.objects.filter(created__gte=since).values("listing__seller")
              .annotate(photos=Count("id"), pixels=Sum(F("width") * F("height"))))
    AllowanceSpent.objects.bulk_create(
        AllowanceSpent(seller_id=row["listing__seller"], photos=row["photos"], pixels=row["pixels"] or 0)
        for row in recent)


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0015_audits'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AllowanceSpent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created', models.DateTimeField(auto_now_add=True)),
                ('photos', models.PositiveIntegerField()),
                ('pixels', models.PositiveBigIntegerField(help_text='decoded, all the photos together')),
                ('seller', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'indexes': [models.Index(fields=['seller', 'created'],
                                         name='catalog_all_seller__60b3a9_idx')],
            },
        ),
        migrations.RunPython(count_the_last_days_photos, migrations.RunPython.noop),
    ]
