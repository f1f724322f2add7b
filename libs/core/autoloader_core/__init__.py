"""Settings and the domain model shared by every Autoloader component."""

__version__ = "0.1.0"
