"""The `autoloader` command line: ingestion specs as files, and everyday work from a terminal."""

# The release the CLI is part of; a test keeps it equal to the server's (autoloader_core). Its
# own copy, so that the CLI's wheel holds only its own package.
__version__ = "0.1.0"
