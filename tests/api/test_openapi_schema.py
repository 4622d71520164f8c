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

from catalog.models import ApiToken

pytestmark = pytest.mark.django_db

load_all_checks()
# Every operation, every check. A request the schema allows is refused only where the API reads
# what a schema cannot describe: an upload that is not a photo or not a manifest (400), an
# Idempotency-Key the generator sends again with another request (422), the daily quota (429); and,
# in a list's filters, a category path not in the tree (400, and only that: known_category_refusal).
CONFIG = SchemathesisConfig.from_str("""
checks.positive_data_acceptance.expected-statuses = ["2xx", "404"]

[[operations]]
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "404", "409", "422", "429"]

[[operations]]
include-method = "GET"
include-path-regex = "^/api/v1/(listings|categories)/$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "404"]
""")
STAFF_ONLY = {"/api/v1/quality/"}
CATEGORY_PARAMETERS = {"category", "parent"}


@schemathesis.check
def known_category_refusal(ctx, response, case):
    """A list's valid query is refused only for naming a category path the tree does not hold."""
    if case.meta is None or not case.meta.generation.mode.is_positive or case.method != "GET":
        return None
    if response.status_code == 400:
        errors = response.json().get("errors", {})
        unknown = {name for name, messages in errors.items()
                   if name in CATEGORY_PARAMETERS and all(m.startswith("There is no category") for m in messages)}
        assert errors and set(errors) == unknown, f"valid query parameters refused: {errors}"
    return None


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
def test_no_server_error_and_no_response_outside_the_schema(operation, mode, owner_key, staff, make_item,
                                                            database_kept_open):
    if mode == GenerationMode.NEGATIVE and not (len(operation.path_parameters) or len(operation.query)
                                                or len(operation.body)):
        pytest.skip("an operation that takes nothing has nothing to send invalid")
    make_item()  # a listing, a done photo and an item to find
    key = ApiToken.objects.issue(staff, "quality")[1] if operation.path in STAFF_ONLY else owner_key
    headers = {"Authorization": f"Token {key}"}

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


def test_the_schema_is_generated_without_a_warning(tmp_path):
    """A warning is a part of the API the schema got wrong (a filter's type, a view it could not read)."""
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))


def test_every_error_response_is_a_problem_document(client):
    """The views answer every error as application/problem+json (catalog.errors): the schema says so of
    each, those an operation declares itself too (a photo's 404, the quality figures' 403)."""
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    bare = [(path, method, code) for path, operations in paths.items() for method, operation in operations.items()
            for code, response in operation.get("responses", {}).items()
            if code[0] in "45" and "application/problem+json" not in response.get("content", {})]
    assert not bare
