"""Starts Autoloader's real dependencies as local processes, for tests and for people trying it.

Stdlib only, so `./dev` can run it before any project environment exists.
"""
