"""Spark Connect sessions and Iceberg loads; the worker is only a client."""
