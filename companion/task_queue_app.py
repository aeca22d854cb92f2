"""The task queue's app, named for an editor: the admin's index lists it as "Background tasks"."""

from django_tasks_db.apps import TasksAppConfig


class TaskQueueConfig(TasksAppConfig):
    verbose_name = "Background tasks"
