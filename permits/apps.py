from django.apps import AppConfig


class PermitsConfig(AppConfig):
    name = "permits"
    verbose_name = "Applications"

    def ready(self):
        from permits import sections

        sections.register()
