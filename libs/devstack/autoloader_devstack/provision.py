"""Installs, once per machine, what the dev stack runs; every step is cached under cache_dir().

Each step checks its own prerequisite first and says what to install when it is missing.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from autoloader_devstack.errors import SetupError
from autoloader_devstack.paths import cache_dir, find_repo_file
from autoloader_devstack.process import run

# The stack's own Python environment: servers and emulators, never imported by project code.
# prefect and the Spark version must match 3rdparty/python/requirements.txt.
STACK_REQUIREMENTS = (
    "prefect==3.9.1",
    "pyspark==4.1.1",
    # The Spark Connect client's own needs, for the stack's warm-up query.
    "grpcio",
    "grpcio-status",
    "googleapis-common-protos",
    "pandas<3",
    "pyarrow",
    "zstandard",
    "gcp-storage-emulator==2026.7.19",
    "boto3",
)
MOTO_REQUIREMENT = "moto[s3,server]==5.2.5"
MINIO_MODULE = "github.com/minio/minio"
MINIO_VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c"
AZURITE_VERSION = "3.37.0"
POM = "3rdparty/jvm/pom.xml"


def log(message: str) -> None:
    print(f"[devstack] {message}", file=sys.stderr, flush=True)


def java_home() -> str:
    """Java 17+ is needed by the Spark Connect server and Maven."""
    java = shutil.which("java")
    if java is None:
        raise SetupError(
            "Java 17 or newer is needed to run the Spark Connect server and was not found on PATH.\n"
            "Install it with `apt-get install openjdk-17-jdk-headless` (or set JAVA_HOME and PATH)."
        )
    output = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)', output)
    if not match or int(match.group(1)) < 17:
        raise SetupError(
            f"Java 17 or newer is needed; {java} reports: {output.strip().splitlines()[0]!r}.\n"
            "Install openjdk-17 and put it first on PATH."
        )
    return os.environ.get("JAVA_HOME") or str(Path(java).resolve().parent.parent)


def stack_python() -> Path:
    """A venv with the servers the stack runs (Prefect, full pyspark, the GCS emulator)."""
    key = hashlib.sha256("\n".join(STACK_REQUIREMENTS).encode()).hexdigest()[:12]
    venv = cache_dir() / "stack-venv" / key
    python = venv / "bin" / "python"
    if (venv / ".complete").exists():
        return python
    base = _python311()
    log(f"creating the stack's Python environment in {venv} (once; pyspark is ~450 MB)...")
    shutil.rmtree(venv, ignore_errors=True)
    run([base, "-m", "venv", str(venv)], "creating the stack venv")
    _pip_install(python, list(STACK_REQUIREMENTS))
    (venv / ".complete").write_text("\n".join(STACK_REQUIREMENTS))
    return python


def ensure_moto(python: Path) -> None:
    marker = python.parent.parent / ".moto"
    if marker.exists():
        return
    log("installing moto's S3 server into the stack venv (once)...")
    _pip_install(python, [MOTO_REQUIREMENT])
    marker.write_text(MOTO_REQUIREMENT)


def spark_home(python: Path) -> Path:
    output = run(
        [str(python), "-c", "import pyspark, os; print(os.path.dirname(pyspark.__file__))"],
        "locating pyspark",
    )
    return Path(output.strip())


def spark_jars(spark: Path) -> list[Path]:
    """The Iceberg runtime and cloud connectors from 3rdparty/jvm/pom.xml, fetched with Maven.

    Jars whose artifact pyspark already bundles are left out, so Spark's own versions win.
    """
    pom = find_repo_file(POM)
    key = hashlib.sha256(pom.read_bytes()).hexdigest()[:12]
    target = cache_dir() / "jars" / key
    if not (target / ".complete").exists():
        mvn = shutil.which("mvn")
        if mvn is None:
            raise SetupError(
                "Maven (mvn) is needed once to fetch the Spark server's jars (Iceberg, hadoop-aws, "
                "connectors). Install it with `apt-get install maven`."
            )
        java_home()
        log(f"fetching the Spark server's jars with Maven into {target} (once)...")
        shutil.rmtree(target, ignore_errors=True)
        run(
            [
                mvn,
                "-B",
                "-q",
                "-f",
                str(pom),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={target}",
                "-DincludeScope=runtime",
            ],
            "fetching jars with Maven",
        )
        (target / ".complete").write_text(pom.read_text())
    bundled = {_artifact(jar.name) for jar in (spark / "jars").glob("*.jar")}
    return sorted(jar for jar in target.glob("*.jar") if _artifact(jar.name) not in bundled)


def minio_binary() -> Path:
    """MinIO built from source through the Go module proxy (it publishes no other package here)."""
    target = cache_dir() / "tools" / f"minio-{MINIO_VERSION}"
    binary = target / "minio"
    if binary.exists():
        return binary
    go = shutil.which("go")
    if go is None:
        raise SetupError(
            "Go is needed once to build MinIO, the dev stack's S3 store, and was not found.\n"
            "Install Go 1.24+ (e.g. `apt-get install golang-go` or from go.dev), "
            "or use moto's S3 server instead with AUTOLOADER_S3_STORE=moto."
        )
    log(f"building MinIO {MINIO_VERSION} with Go into {target} (once; ~4 minutes)...")
    target.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOBIN": str(target), "CGO_ENABLED": "0"}
    run([go, "install", f"{MINIO_MODULE}@{MINIO_VERSION}"], "building MinIO", env=env, timeout=3600)
    return binary


def azurite_binary() -> Path:
    target = cache_dir() / "tools" / f"azurite-{AZURITE_VERSION}"
    binary = target / "node_modules" / ".bin" / "azurite-blob"
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise SetupError(
            "Node.js and npm are needed once to install Azurite, the Azure Blob emulator.\n"
            "Install them with `apt-get install nodejs npm`."
        )
    log(f"installing Azurite {AZURITE_VERSION} with npm into {target} (once)...")
    target.mkdir(parents=True, exist_ok=True)
    run(
        [
            npm,
            "install",
            "--prefix",
            str(target),
            "--no-audit",
            "--no-fund",
            f"azurite@{AZURITE_VERSION}",
        ],
        "installing Azurite with npm",
    )
    return binary


def postgres_bin() -> Path:
    """The PostgreSQL server binaries (initdb, postgres), installed with apt when missing."""
    found = _find_postgres_bin()
    if found:
        return found
    if _apt_install("postgresql", "PostgreSQL"):
        found = _find_postgres_bin()
        if found:
            return found
    raise SetupError(
        "The PostgreSQL server (initdb, postgres) was not found under /usr/lib/postgresql.\n"
        "Install it with `apt-get install postgresql` (version 15 or newer)."
    )


CHROMIUM = Path("/usr/bin/chromium")


def chromium() -> Path:
    """Debian's Chromium, which the web console's browser tests drive (Playwright's own browser
    download is not reachable here), installed with apt when missing."""
    if CHROMIUM.is_file():
        return CHROMIUM
    if _apt_install("chromium", "Chromium for the console's browser tests") and CHROMIUM.is_file():
        return CHROMIUM
    raise SetupError(
        f"Chromium was not found at {CHROMIUM}; the web console's browser tests need it.\n"
        "Install it with `apt-get install chromium`."
    )


def _apt_install(package: str, what: str) -> bool:
    """Installs a Debian package where this process may (root, with apt-get); False elsewhere."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    log(f"installing {what} with apt-get (once)...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-q"], "apt-get update", env=env)
    run(["apt-get", "install", "-y", "-q", package], f"installing {what}", env=env)
    return True


def _find_postgres_bin() -> Path | None:
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


def _python311() -> str:
    for name in (os.environ.get("PYTHON311"), "python3.11", sys.executable):
        candidate = shutil.which(name) if name else None
        if candidate is None:
            continue
        check = [candidate, "-c", "import sys; sys.exit(sys.version_info < (3, 11))"]
        if subprocess.run(check, capture_output=True).returncode == 0:
            return candidate
    raise SetupError(
        "Python 3.11 or newer is needed for the dev stack. Install it (e.g. `pyenv install 3.11`) "
        "or set PYTHON311=/path/to/python3.11."
    )


def _pip_install(python: Path, requirements: list[str]) -> None:
    env = {**os.environ, "PIP_CONFIG_FILE": "/dev/null", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    cert = "/etc/ssl/certs/ca-certificates.crt"
    extra = ["--cert", cert] if Path(cert).exists() else []
    run(
        [str(python), "-m", "pip", "install", "-q", *extra, *requirements],
        f"pip install {' '.join(requirements)}",
        env=env,
        timeout=3600,
    )


def _artifact(jar_name: str) -> str:
    """`hadoop-aws-3.4.2.jar` -> `hadoop-aws`: the name before the last `-<version>`.

    A version holds no `_`, which keeps Scala suffixes (`spark-avro_2.13`) in the name.
    """
    match = re.match(r"(.+)-\d[^_]*\.jar$", jar_name)
    return match.group(1) if match else jar_name.removesuffix(".jar")
