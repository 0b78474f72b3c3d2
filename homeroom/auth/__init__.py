"""Who may call Homeroom: app registrations, sign-in users, permission catalogs, and the tokens that carry them.

Used by the API, the CLI, and later the dashboard and the OneRoster provider; it knows nothing of HTTP.
"""
