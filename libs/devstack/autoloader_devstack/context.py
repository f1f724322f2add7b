"""What services of one stack share while starting: its folder, port policy, settings, processes."""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from autoloader_devstack.ports import choose_port
from autoloader_devstack.process import ManagedProcess

STATE_FILE = "state.json"
ENV_FILE = "stack.env"


@dataclass
class StackContext:
    root: Path
    use_free_ports: bool
    settings: dict[str, str] = field(default_factory=dict)
    processes: list[ManagedProcess] = field(default_factory=list)
    cleanups: list[list[str]] = field(default_factory=list)

    def service_dir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def port(self, service: str, default: int) -> int:
        return choose_port(service, default, self.use_free_ports)

    def save(self) -> None:
        """Persists what is running so `down` can stop it, even after a failed start."""
        state = {
            "processes": [p.to_record() for p in self.processes],
            "settings": self.settings,
        }
        write_private(self.root / STATE_FILE, json.dumps(state, indent=2))
        # Quoted for the shell: `set -a; . stack.env` must give back every value whole (an
        # Azure connection string holds `;`).
        lines = [f"{key}={shlex.quote(value)}" for key, value in sorted(self.settings.items())]
        write_private(self.root / ENV_FILE, "\n".join(lines) + "\n")


def load_state(root: Path) -> tuple[list[ManagedProcess], dict[str, str]]:
    path = root / STATE_FILE
    if not path.exists():
        return [], {}
    state = json.loads(path.read_text())
    processes = [ManagedProcess.from_record(record) for record in state.get("processes", [])]
    return processes, dict(state.get("settings", {}))


def read_env_file(path: Path) -> dict[str, str]:
    settings: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            value = value.strip()
            settings[key.strip()] = shlex.split(value)[0] if value[:1] in ("'", '"') else value
    return settings


def write_private(path: Path, text: str) -> None:
    """The files hold the stack's generated passwords: readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
