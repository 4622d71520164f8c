"""schemathesis against the API's own OpenAPI schema: generated requests to every operation,
as the owner of a listing, must get no server error and no response the schema does not allow.

The operations are driven from here with hypothesis (schemathesis's pytest plugin does not run
under this pytest yet)."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

pytestmark = pytest.mark.django_db

load_all_checks()
# A request the schema allows is still refused where the API reads what a schema cannot describe:
# an upload that is not a photo or not a manifest, a category path not in the tree, a text holding
# a NUL character (400), and an Idempotency-Key the generator sends again with another request (422).
CONFIG = SchemathesisConfig.from_str("""
[[operations]]
include-path-regex = "^/api/v1/(listings|bulk-jobs|categories)/$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "404", "409", "422", "429"]
""")


def _schema():
    from config.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)


OPERATIONS = [result.ok() for result in _schema().get_all_operations()]


@pytest.fixture
def database_kept_open():
    """The WSGI app closes the database connection after each request, which would end the test's
    transaction; Django's own test client stops it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation.label for operation in OPERATIONS])
def test_no_server_error_and_no_response_outside_the_schema(operation, mode, owner_key, make_item, database_kept_open):
    if mode == GenerationMode.NEGATIVE and not (len(operation.path_parameters) or len(operation.query)
                                                or len(operation.body)):
        pytest.skip("an operation that takes nothing has nothing to send invalid")
    make_item()  # a listing, a done photo and an item to find
    headers = {"Authorization": f"Token {owner_key}"}

    @given(case=operation.as_strategy(mode))
    # derandomize: the same examples on every run, so that CI does not pass or fail by chance; a
    # new failure shows when the API or its schema changes.
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None,
              derandomize=True)
    def call(case):
        case.call_and_validate(headers=headers, checks=CHECKS.get_all())

    call()


def test_the_schema_and_its_interactive_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content


def test_every_choice_set_has_one_name(client):
    """An outcome or a status is one enum whatever field it is in, named for it, never a generated
    "Outcome215Enum" (drf-spectacular's way out of a name collision)."""
    import re

    schemas = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["components"]["schemas"]
    assert {"OutcomeEnum", "ListingStatusEnum"} <= set(schemas)
    assert not [name for name in schemas if re.fullmatch(r"[A-Za-z]+[0-9a-f]{3}Enum", name)]
