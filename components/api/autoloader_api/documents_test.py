from autoloader_api.documents import PageFilter


def test_filters_take_the_parameters_after_tenant_limit_and_offset() -> None:
    both = PageFilter(status="paused", name_pattern="%orders%")

    assert "status = $4" in both.sql() and "name ILIKE $5" in both.sql()
    assert both.arguments() == ["paused", "%orders%"]


def test_a_name_filter_alone_is_the_fourth_parameter() -> None:
    by_name = PageFilter(name_pattern="%a%")

    assert "name ILIKE $4 ESCAPE '\\'" in by_name.sql() and "status =" not in by_name.sql()
    assert by_name.arguments() == ["%a%"]


def test_no_filter_lists_every_live_ingestion_of_the_tenant() -> None:
    everything = PageFilter()

    assert "tenant_id = $1 AND status <> 'deleted'" in everything.sql()
    assert "$4" not in everything.sql() and everything.arguments() == []
