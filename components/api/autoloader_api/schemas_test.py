import pytest
from pydantic import ValidationError

from autoloader_api.schemas import ReprocessRequest


def test_reprocessing_defaults_to_failed_files_and_refuses_claimed_ones() -> None:
    assert ReprocessRequest().statuses == ["failed"]
    with pytest.raises(ValidationError):
        ReprocessRequest.model_validate({"statuses": ["claimed"]})
