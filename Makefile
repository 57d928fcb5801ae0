# The two commands: `make run` and `make test`. Everything else is installed on the way.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Developers get the runtime set and the test tools (requirements-dev.txt includes requirements.txt); the image
# installs the runtime set only (deploy/Dockerfile).
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: install messages translations run test test-embedded lint bench fake-ollama

# One install at a time (`make run` and `make fake-ollama` started together share the venv).
$(STAMP): requirements.txt requirements-dev.txt
	@exec 9>.venv.lock; if command -v flock >/dev/null; then flock 9; fi; \
	if [ ! -f $(STAMP) ]; then \
		echo "Installing requirements into $(VENV) ..."; \
		test -x $(PY) || $(PYTHON) -m venv $(VENV) || exit 1; \
		$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip setuptools || exit 1; \
		$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt || exit 1; \
		rm -f $(VENV)/.installed-*; touch $(STAMP); \
	fi

install: $(STAMP)

# Message catalogs (locale/<locale>/LC_MESSAGES/django.po and djangojs.po) are compiled to .mo, which are built,
# not committed: by GNU gettext's msgfmt (the tool Django's compilemessages runs), whenever a .po is newer.
CATALOGS := $(wildcard locale/*/LC_MESSAGES/*.po)
%.mo: %.po
	@command -v msgfmt >/dev/null || { echo "msgfmt not found: install GNU gettext (Debian/Ubuntu: apt-get install gettext)" >&2; exit 1; }
	msgfmt --check -o $@ $<

messages: $(CATALOGS:.po=.mo)

## Update the catalogs from the code (then translate what is new or fuzzy in each .po; tests/test_catalogs.py
## fails while a string is untranslated).
MAKEMESSAGES := $(PY) manage.py makemessages --all --add-location=file --ignore=.venv --ignore=staticfiles \
	--ignore=tests --ignore=bench --ignore=docs --ignore=deploy
translations: install
	$(MAKEMESSAGES) --domain=django
	$(MAKEMESSAGES) --domain=djangojs

## Serve the product on http://127.0.0.1:8000 (embedded defaults, or production with DATABASE_URL/REDIS_URL set).
run: install messages
	$(PY) manage.py serve

## Run the whole suite in this environment's configuration, then again without DATABASE_URL/REDIS_URL (embedded mode).
## Each pass has a ceiling (a hung pass ends red within it, every thread's stack printed, instead of eating CI's
## time); PYTHONUNBUFFERED so what a killed pass printed last is not lost in a buffer.
TEST_PASS_LIMIT ?= 45m
TEST_EMBEDDED_PASS_LIMIT ?= 20m
test: install messages
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	PYTHONUNBUFFERED=1 timeout -k 60 $(TEST_PASS_LIMIT) $(PY) -m pytest --durations=20
	@if [ -n "$$DATABASE_URL$$REDIS_URL" ]; then \
		echo "--- embedded-mode pass (SQLite, in-memory channel layer, in-process tasks)"; \
		env -u DATABASE_URL -u REDIS_URL PYTHONUNBUFFERED=1 timeout -k 60 $(TEST_EMBEDDED_PASS_LIMIT) \
			$(PY) -m pytest --durations=20 -m "not production and not browser"; \
	fi

lint: install
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

## Benchmark time to first token and each streamed reply's processor time and memory against the streaming targets: N = 1, 100 and a 1,000-customer ramp (needs PostgreSQL and Redis; fewer with BENCH_ARGS="--n 100 --arrivals burst", see bench/first_token.py --help).
bench: install
	$(PY) bench/first_token.py $(BENCH_ARGS)

## A fake Ollama on :11434 that streams canned replies (citing the first knowledge-base source), to try the product without a GPU.
fake-ollama: install
	$(PY) -m tests.fake_ollama --port 11434 --cite-sources --fill-schemas
