"""Infrastructure every app may use and that knows no domain app: database seams (bulk loading,
prepared statements), PDF letters, rate limiting, masking of personal data, keys.

`core` is the lowest layer (see docs/architecture.md): it imports Django and third-party
packages only, never another pubcredit app.
"""
