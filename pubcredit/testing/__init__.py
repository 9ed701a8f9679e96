"""Helpers shared by the test suites of several apps (not imported by the running platform)."""
