from pathlib import Path

import pytest

from autoloader_devstack import provision
from autoloader_devstack.errors import SetupError


@pytest.fixture
def bare_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH with no tools on it and an empty tool cache."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("AUTOLOADER_CACHE", str(tmp_path / "cache"))
    return empty


def test_missing_java_says_what_to_install(bare_path: Path) -> None:
    with pytest.raises(
        SetupError, match=r"(?s)Java 17 or newer is needed.*apt-get install openjdk-17"
    ):
        provision.java_home()


def test_an_old_java_is_refused_with_its_version(bare_path: Path) -> None:
    fake = bare_path / "java"
    fake.write_text("#!/bin/sh\necho 'openjdk version \"11.0.2\" 2019-01-15' >&2\n")
    fake.chmod(0o755)

    with pytest.raises(SetupError, match=r'Java 17 or newer is needed.*"11\.0\.2"'):
        provision.java_home()


def test_missing_go_says_what_to_install_and_offers_moto(bare_path: Path) -> None:
    with pytest.raises(SetupError, match=r"(?s)Go is needed.*AUTOLOADER_S3_STORE=moto"):
        provision.minio_binary()


def test_missing_npm_says_what_to_install(bare_path: Path) -> None:
    with pytest.raises(
        SetupError, match=r"(?s)Node\.js and npm are needed.*apt-get install nodejs npm"
    ):
        provision.azurite_binary()


def test_missing_maven_says_what_to_install(
    bare_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "3rdparty" / "jvm").mkdir(parents=True)
    (tmp_path / "3rdparty" / "jvm" / "pom.xml").write_text("<project/>")
    monkeypatch.chdir(tmp_path)

    with pytest.raises(SetupError, match=r"(?s)Maven \(mvn\) is needed.*apt-get install maven"):
        provision.spark_jars(tmp_path / "spark")


def test_jars_that_spark_bundles_are_left_out() -> None:
    assert provision._artifact("hadoop-aws-3.4.2.jar") == "hadoop-aws"
    assert provision._artifact("guava-33.4.8-jre.jar") == "guava"
    assert provision._artifact("jetty-util-9.4.57.v20241219.jar") == "jetty-util"
    assert provision._artifact("spark-avro_2.13-4.1.1.jar") == "spark-avro_2.13"
    assert provision._artifact("iceberg-spark-runtime-4.1_2.13-1.11.0.jar") == (
        "iceberg-spark-runtime-4.1_2.13"
    )
