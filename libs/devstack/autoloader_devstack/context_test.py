import subprocess
from pathlib import Path

from autoloader_devstack.context import ENV_FILE, StackContext, read_env_file

SETTINGS = {
    "AUTOLOADER_AZURE_CONNECTION_STRING": (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8+/K1==;"
        "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
    ),
    "AUTOLOADER_API_URL": "http://127.0.0.1:8000",
    "AUTOLOADER_ODD": 'it\'s $HOME and `date` & a "quote"',
}


def test_sourcing_stack_env_in_a_shell_gives_every_value_back_whole(tmp_path: Path) -> None:
    context = StackContext(tmp_path, use_free_ports=True)
    context.settings.update(SETTINGS)
    context.save()

    shell = subprocess.run(
        ["bash", "-c", f"set -a; . {tmp_path / ENV_FILE}; set +a; env -0"],
        capture_output=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nowhere"},
    )

    exported = dict(item.split("=", 1) for item in shell.stdout.decode().split("\0") if item)
    assert {key: exported[key] for key in SETTINGS} == SETTINGS
    assert read_env_file(tmp_path / ENV_FILE) == SETTINGS
