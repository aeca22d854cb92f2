# Companion: `make run` serves the site, `make test` runs every test.
# Both set everything up first and are quick the second time.

PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py

# The first Python 3.12+ that actually runs: python3, python3.13, python3.12,
# then the newest under pyenv's versions folder.
define FIND_PYTHON
for candidate in python3 python3.13 python3.12 \
    $$(ls -d "$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -V -r); do \
  if "$$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
    echo "$$candidate"; exit 0; \
  fi; \
done; exit 1
endef

.PHONY: run test setup test-setup serve clean checkers

# gunicorn serves with DEBUG off (hashed, compressed static files), over plain
# HTTP on loopback, so cookies may not insist on HTTPS here.
SERVE_ENV = DJANGO_DEBUG=$${DJANGO_DEBUG:-False} \
  DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-$$(cat .secret-key)} \
  DJANGO_SECURE_COOKIES=$${DJANGO_SECURE_COOKIES:-False} \
  DJANGO_SECURE_SSL_REDIRECT=$${DJANGO_SECURE_SSL_REDIRECT:-False} \
  DJANGO_HSTS_SECONDS=$${DJANGO_HSTS_SECONDS:-0} \
  DJANGO_EMAIL_BACKEND=$${DJANGO_EMAIL_BACKEND:-django.core.mail.backends.console.EmailBackend}

run: setup
	@echo "==> Collecting static files"
	@$(SERVE_ENV) $(MANAGE) collectstatic --noinput -v 0
	@echo "==> Serving Companion at http://127.0.0.1:$(PORT)/  (Ctrl-C to stop)"
	@$(SERVE_ENV) $(VENV)/bin/gunicorn companion.wsgi --config gunicorn.conf.py --bind 127.0.0.1:$(PORT)

setup: $(VENV)/.installed .secret-key
	@echo "==> Migrating the database"
	@$(MANAGE) migrate --noinput -v 0
	@echo "==> Loading the demo episode, glossary, people and sources"
	@$(MANAGE) load_demo

test: setup $(VENV)/.installed-test checkers
	@echo "==> Running the test suite"
	@$(VENV)/bin/pytest

# axe-core and the Nu HTML Checker (package.json) for the accessibility and
# markup tests, when npm is here; without them those tests skip (CI has them).
checkers:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) -s --no-print-directory node_modules/.package-lock.json; \
	else echo "==> No npm: the accessibility and markup checks will be skipped"; fi

# npm ci rewrites node_modules/.package-lock.json, so it stands for "installed
# from this lock". --ignore-scripts: vnu-jar's postinstall would fetch a Java
# runtime; the checks use the system's Java.
node_modules/.package-lock.json: package.json package-lock.json
	@echo "==> Installing the checkers (npm ci: axe-core, vnu-jar)"
	@npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

# A stable local secret for `make run`; production sets DJANGO_SECRET_KEY itself.
.secret-key:
	@$(PY) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@

$(VENV)/bin/python:
	@PYTHON=$$($(FIND_PYTHON)) || { \
	  echo "Companion needs Python 3.12 or newer, and none was found."; \
	  echo "Install it (e.g. apt-get install python3.12 python3.12-venv, or pyenv install 3.12) and try again."; \
	  exit 1; }; \
	echo "==> Creating $(VENV) with $$PYTHON ($$($$PYTHON --version))"; \
	"$$PYTHON" -m venv $(VENV)

$(VENV)/.installed: $(VENV)/bin/python requirements.txt
	@echo "==> Installing dependencies (requirements.txt)"
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	@echo "==> Installing test tools (requirements-test.txt)"
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	@touch $@

clean:
	rm -rf $(VENV) node_modules staticfiles db.sqlite3 db.sqlite3-wal db.sqlite3-shm .secret-key
