"""Helpers shared by the test suites of several apps (not imported by the running platform).

How the tests run:
- `make test` runs in one process per core, at most two (pytest-xdist, `--dist loadgroup`); each
  process has its own test database (pytest-django suffixes PostgreSQL's per worker), and a test
  never writes to a fixed path (MEDIA_ROOT is a temporary directory per process; use
  `tmp_path`). A module or class whose tests share an expensive fixture marks itself
  `xdist_group`, so that one process runs it.
- Every test database starts with the shipped reference data (catalogue, publicity rules, list
  types, measures, repair rules), imported once per session through the real services
  (`reference`); the fixtures `reference` / `catalogue` name the need. Tests that flush
  (`transaction=True`, `live_server`) get it back afterwards. Tests of an import itself start
  from empty tables with `empty_reference` (or `reference.clear("app")`), inside their own
  transaction. Holidays are not part of it: tests that need the table seed it.
- A demo city that several tests only read is loaded once for them (`democity`).

Kits: `loadkit` (行政处罚 rows as intake hands them over), `listkit` (subjects, list entries,
public penalties), `checkkit` (credit check builders), `commitkit` (信用承诺), `portalkit` (records
pushed through intake), `factories` (users of every role), `browser` (Playwright fixtures), `processes` (the test
database shared with real `pubcredit` processes: a worker to kill, a command).
"""
