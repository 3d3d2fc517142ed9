from django.apps import AppConfig


class NewsroomConfig(AppConfig):
    name = "newsroom"

    def ready(self):
        from . import checks, task_log, tasks  # noqa: F401 (they register themselves)
        from .admin import guard_every_admin

        # After django.contrib.admin's own ready(), which loads every app's admin module.
        guard_every_admin()
