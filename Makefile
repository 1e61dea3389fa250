# Bản đồ 138 — setup, run and test. `make run` and `make test` are the two quick-start commands.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
SHARED_DATA ?= ../shared/data
HOST ?= 127.0.0.1
PORT ?= 5000
export HOST PORT

.PHONY: run test test-postgres setup catalogs venv assets data db basemap seed browser-deps serve bench clean

run: setup db basemap seed  ## set everything up, then serve on http://$(HOST):$(PORT)
	$(PY) server.py

test: setup browser-deps  ## set everything up, then run the whole test suite
	$(PY) -m pytest -n auto

# The same suite against PostgreSQL + PostGIS from Debian's packages (started by scripts/start-postgres.sh).
test-postgres: setup browser-deps
	BANDO_TEST_DATABASE_URL="$$(scripts/start-postgres.sh)" $(PY) -m pytest -n auto -m "not browser and not rendering"

setup: venv assets data catalogs

# Compiled gettext catalogs are build products (git-ignored): .po → .mo.
catalogs: venv
	$(VENV)/bin/pybabel compile --domain messages --directory translations --statistics

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

assets: node_modules/.package-lock.json
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# Third-party boundary and population files: copied, never committed (see data/boundaries/README.md).
data:
	@for sub in boundaries population; do \
	  mkdir -p data/$$sub; \
	  if [ -d "$(SHARED_DATA)/$$sub" ]; then cp -u "$(SHARED_DATA)/$$sub"/* data/$$sub/; fi; \
	done
	@test -f data/boundaries/dong_thap_communes_2024.geojson || \
	  { echo "No boundary file: set SHARED_DATA=... or copy your own (data/boundaries/README.md)"; exit 1; }

db: venv
	$(PY) -m flask --app server init-db
	$(PY) -m flask --app server load-boundaries --if-empty

# The offline basemap (BANDO_BASEMAP_PMTILES, default instance/basemap.pmtiles) from the loaded boundaries, once.
basemap: db
	$(PY) -m flask --app server build-basemap --if-missing

seed: db
	$(PY) -m flask --app server seed-demo --if-empty
	$(PY) -m flask --app server ensure-admin

# Debian's Chromium for the browser tests (Playwright's own browser download cannot work offline),
# Debian's gdal-bin (ogrinfo), which checks that exported GeoPackages open in the GDAL the offices run, and
# LibreOffice Writer with poppler-utils, which render the Word report to PDF and read it back (rendering tests).
SYSTEM_PACKAGES = chromium fonts-dejavu-core gdal-bin libreoffice-writer-nogui poppler-utils
browser-deps:
	@test -x /usr/bin/chromium -a -x /usr/bin/ogrinfo -a -x /usr/bin/soffice -a -x /usr/bin/pdftotext || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q $(SYSTEM_PACKAGES); \
	  else sudo apt-get update -q && sudo apt-get install -y -q $(SYSTEM_PACKAGES); fi; }

serve:
	$(PY) server.py

bench: setup
	for script in bench/bench_*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) node_modules instance/*.sqlite3*
