# Written by hand: the outbox Event moves to core (core.0003_outbox_event holds its new state). Every row is
# kept: the table is renamed (notifications_event → core_event, a catalogue change, instant however many
# events there are), the foreign keys of deliveries, e-mails and automation runs keep pointing at the same
# rows, and the content type follows so permissions and admin history stay attached.
import django.db.models.deletion
from django.db import migrations, models


def move_content_type(apps, schema_editor, *, source="notifications", target="core"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_types = ContentType.objects.using(schema_editor.connection.alias)
    if not content_types.filter(app_label=target, model="event").exists():
        content_types.filter(app_label=source, model="event").update(app_label=target)


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, source="core", target="notifications")


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('core', '0003_outbox_event'),
        ('notifications', '0006_encrypt_signing_secrets'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name='event', table='core_event'),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='emailsending',
                    name='event',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='email_sendings', to='core.event', verbose_name='evento'),
                ),
                migrations.AlterField(
                    model_name='automationrun',
                    name='event',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='automation_runs', to='core.event', verbose_name='evento'),
                ),
                migrations.AlterField(
                    model_name='webhookdelivery',
                    name='event',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webhook_deliveries', to='core.event', verbose_name='evento'),
                ),
                migrations.DeleteModel(
                    name='Event',
                ),
            ],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
