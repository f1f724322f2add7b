"""Storage errors a user can act on; each names the source and the cause."""


class StorageError(Exception):
    """Base of every error libs/storage raises on purpose."""


class InvalidSourceURI(StorageError, ValueError):
    pass


class UnsupportedScheme(InvalidSourceURI):
    pass


class CredentialNotFound(StorageError):
    """A credential reference that names nothing (no such variables, file or key)."""


class SourceNotFound(StorageError):
    """The bucket or container does not exist."""


class AccessDenied(StorageError):
    pass


class EndpointUnreachable(StorageError):
    """Unknown host, refused connection, or an endpoint that does not answer."""


class Throttled(StorageError):
    """The store kept asking us to slow down, past every retry."""


class MissingDriver(StorageError, ImportError):
    """The package for a scheme is not installed."""


class ReachRefused(StorageError):
    """The operator does not let ingestions read this source or name this endpoint."""


class SparkAccessRefused(StorageError):
    """Spark cannot be given this source's identity (or may not use its own for it)."""
