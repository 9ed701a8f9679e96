"""Infrastructure every app may use and that knows no domain app: database seams (bulk loading,
prepared statements), PDF letters, rate limiting, masking of personal data, keys, and long
background jobs that survive their worker (`jobs`: leases, the sweeper, retries of writes that
meet a locked SQLite database; its one table, `models.JobLease`).

`core` is the lowest layer (see docs/architecture.md): it imports Django and third-party
packages only, never another pubcredit app.
"""
