import stat
from pathlib import Path

import autoloader_cli
import pytest
from autoloader_cli.config import ConfigError, Profile, load_profile, save_profile

import autoloader_core


def test_profiles_are_saved_0600_and_the_environment_wins(tmp_path: Path) -> None:
    environ = {"AUTOLOADER_CONFIG": str(tmp_path / "c" / "config.toml")}
    path = save_profile("default", Profile("https://a.example/", "al_key_1"), environ)
    save_profile("prod", Profile("https://p.example", 'al_"quoted"'), environ)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_profile(None, environ) == Profile("https://a.example", "al_key_1")
    assert load_profile("prod", environ).api_key == 'al_"quoted"'
    overridden = {**environ, "AUTOLOADER_URL": "http://x", "AUTOLOADER_API_KEY": "k"}
    assert load_profile("prod", overridden) == Profile("http://x", "k")
    assert "al_key_1" not in repr(load_profile(None, environ))
    with pytest.raises(ConfigError, match="autoloader login"):
        load_profile("missing", environ)


def test_the_cli_is_the_servers_release() -> None:
    assert autoloader_cli.__version__ == autoloader_core.__version__
