"""
The project: settings (one module, from the environment), URLs, WSGI, JSON
logs, the task worker gunicorn starts, backups and their commands, health and
error pages; and small helpers every app may use, below all of them.
"""
