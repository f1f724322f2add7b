"""Readiness probes used while a service starts."""

from __future__ import annotations

import urllib.error
import urllib.request

from autoloader_devstack.ports import is_listening


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """True once the URL answers 2xx."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def http_answers(url: str, timeout: float = 2.0) -> bool:
    """True once the server answers HTTP at all (any status), as S3-style APIs do without auth."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


def tcp_open(port: int) -> bool:
    return is_listening(port)
