"""Where the CLI finds its server and key: named profiles in ~/.config/autoloader/config.toml
(mode 0600), overridden by AUTOLOADER_URL and AUTOLOADER_API_KEY.

The file is written by hand (one table per profile, two string keys): the standard library reads
TOML but does not write it, and the format here is too small to need a dependency.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PROFILE = "default"


class ConfigError(Exception):
    """No server or key to talk to, or an unreadable configuration file."""


@dataclass(frozen=True)
class Profile:
    url: str
    api_key: str | None

    def __repr__(self) -> str:  # never shows the key
        return f"Profile(url={self.url!r}, api_key={'***' if self.api_key else None})"


def config_path(environ: Mapping[str, str] = os.environ) -> Path:
    if environ.get("AUTOLOADER_CONFIG"):
        return Path(environ["AUTOLOADER_CONFIG"]).expanduser()
    base = Path(environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "autoloader" / "config.toml"


def read_profiles(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    try:
        document = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot read it ({error})") from None
    profiles = document.get("profiles", {})
    return {str(k): dict(v) for k, v in profiles.items() if isinstance(v, dict)}


def load_profile(name: str | None, environ: Mapping[str, str] = os.environ) -> Profile:
    """The profile to use: `name`, else AUTOLOADER_PROFILE, else default; the environment's
    AUTOLOADER_URL and AUTOLOADER_API_KEY win over the file."""
    chosen = name or environ.get("AUTOLOADER_PROFILE") or DEFAULT_PROFILE
    stored = read_profiles(config_path(environ)).get(chosen, {})
    url = environ.get("AUTOLOADER_URL") or stored.get("url")
    if not url:
        raise ConfigError(
            f"no server for profile {chosen!r}: run `autoloader login --url URL` "
            "or set AUTOLOADER_URL"
        )
    return Profile(
        url=url.rstrip("/"), api_key=environ.get("AUTOLOADER_API_KEY") or stored.get("api_key")
    )


def save_profile(name: str, profile: Profile, environ: Mapping[str, str] = os.environ) -> Path:
    """Stores the profile beside the others; the file is created 0600 and stays so."""
    path = config_path(environ)
    profiles = read_profiles(path)
    profiles[name] = {
        "url": profile.url,
        **({"api_key": profile.api_key} if profile.api_key else {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lines = ["# autoloader CLI profiles (autoloader login); holds API keys: keep it 0600", ""]
    for profile_name, values in sorted(profiles.items()):
        lines.append(f"[profiles.{json.dumps(profile_name)}]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in sorted(values.items()))
        lines.append("")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write("\n".join(lines))
    return path
