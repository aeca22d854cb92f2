"""A task only tests/test_task_worker.py queues: it keeps a real worker busy for a while."""

import time

from django.tasks import task


@task
def hold(seconds):
    time.sleep(seconds)
    return seconds
