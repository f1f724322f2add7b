from autoloader_spark.blame import blamed_file

BATCH = [
    "s3a://landing/in/a.csv",
    "s3a://landing/in/a.csv.gz",
    "s3a://landing/in/x[1].csv",
    "s3a://landing/in/with space.csv",
    "s3a://landing/in/100%.csv",
    "file:///tmp/in/local.json",
]


def test_a_path_is_blamed_only_where_it_ends() -> None:
    about_gz = "FAILED_READ_FILE.NO_HINT] Encountered error while reading file s3a://landing/in/a.csv.gz. SQLSTATE"
    assert blamed_file(about_gz, BATCH) == 1
    about_csv = "Encountered error while reading file s3a://landing/in/a.csv. java.io.EOFException"
    assert blamed_file(about_csv, BATCH) == 0
    assert blamed_file("file 's3a://landing/in/a.csv' is corrupt", BATCH) == 0


def test_glob_escaped_and_uri_escaped_forms_are_recognised() -> None:
    assert blamed_file(r"reading s3a://landing/in/x\[1\].csv failed", BATCH) == 2
    assert blamed_file("reading s3a://landing/in/x[1].csv failed", BATCH) == 2
    assert blamed_file("Path s3a://landing/in/with%20space.csv: denied", BATCH) == 3
    assert blamed_file("reading s3a://landing/in/with space.csv failed", BATCH) == 3
    assert blamed_file("reading s3a://landing/in/100%25.csv failed", BATCH) == 4
    assert blamed_file("reading s3a://landing/in/100%.csv failed", BATCH) == 4
    assert blamed_file("File file:/tmp/in/local.json does not exist", BATCH) == 5


def test_an_error_naming_no_file_or_several_names_none() -> None:
    assert blamed_file("java.lang.OutOfMemoryError: Java heap space", BATCH) is None
    assert blamed_file("reading s3a://landing/in/a.csvx failed", BATCH) is None
    assert blamed_file("s3a://landing/in/b.csv and s3a://landing/in/sub/a.csv", BATCH) is None
    both = "s3a://landing/in/a.csv, s3a://landing/in/a.csv.gz"
    assert blamed_file(both, BATCH) is None
