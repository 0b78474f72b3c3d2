"""The exception hierarchy that the CLI (and later the API) turn into clear messages.

Problems *in roster data* are never exceptions: they are findings (see ``homeroom.validate``).
Exceptions are for misuse of Homeroom itself: a path that does not exist, a bad option.
"""


class HomeroomError(Exception):
    """Base class of every error Homeroom raises on purpose."""


class PackageError(HomeroomError):
    """A roster package cannot be opened at all (the path is missing or not a folder or zip)."""


class ConfigurationError(HomeroomError):
    """A setting or command-line option has a value Homeroom cannot use."""
