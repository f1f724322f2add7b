"""Prefect flows the workers run."""
