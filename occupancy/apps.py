from django.apps import AppConfig


class OccupancyConfig(AppConfig):
    name = "occupancy"
    verbose_name = "Occupancy permits"

    def ready(self):
        from occupancy import sections

        sections.register()
