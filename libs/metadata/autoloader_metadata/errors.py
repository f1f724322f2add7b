"""Domain errors; the API maps each to an HTTP status, the CLIs to a message and exit code."""


class DomainError(Exception):
    """Base for errors a caller can act on; the message says what and why."""


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class Invalid(DomainError):
    pass


class DatabaseUnavailable(DomainError):
    """The database cannot be reached (host, port or credentials)."""


class SchemaOutOfDate(DomainError):
    """The database's schema revision is not the one this code was written for."""


class StaleVersion(DomainError):
    """A change was made against a version of a row that is no longer its current one."""


class LimitReached(DomainError):
    """A tenant is at one of the installation's limits (ingestions, runs or previews)."""
