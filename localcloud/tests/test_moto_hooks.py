"""Every moto internal the local cloud hooks, replaces or calls, pinned in one place.

The local cloud reaches into moto (pinned in localcloud/requirements.txt)
below its public API: it wraps methods, swaps module attributes, writes
backends directly and subclasses BaseResponse. After a moto upgrade this
file fails first, naming the internal, the localcloud module that needs it
and what changed, instead of a distant test failing for no clear reason.
The werkzeug details the unserved-region drop relies on are pinned here too.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import pytest

# (dotted name, parameter names in order (None: not a function), the localcloud code that relies on it)
CALLABLES: list[tuple[str, list[str] | None, str]] = [
    # patches.py
    ("moto.sns.models.Subscription.publish", ["self", "message", "message_id"], "patches.guard_sns_http wraps it (first three passed by name)"),
    ("moto.iam.models.get_account_id_from", ["access_key"], "patches.index_access_keys replaces it; moto.core.responses imports it per call"),
    ("moto.iam.models.IAMBackend.create_access_key", ["self", "user_name", "prefix", "status"], "patches.index_access_keys wraps it"),
    ("moto.iam.models.IAMBackend.create_temp_access_key", ["self"], "patches.index_access_keys wraps it"),
    ("moto.backends.list_of_moto_modules", [], "patches.index_access_keys caches it"),
    ("moto.backends.get_backend", ["name"], "moto's dispatcher finds moto.chatbot / moto.supportapp through it"),
    # app.py
    ("moto.s3.models.S3Backend.get_object", ["self", "bucket_name", "key_name"], "app.read_response"),
    ("moto.core.base_backend.BackendDict.reset", [], "app.reset"),
    # server.py
    ("moto.moto_server.werkzeug_app.DomainDispatcherApplication.__init__", ["self", "create_app"], "server.build_app"),
    ("moto.moto_server.werkzeug_app.create_backend_app", ["service"], "server.build_app"),
    ("moto.moto_server.werkzeug_app.MotoRequestHandler", None, "server.main"),
    # seeding.py
    ("moto.iam.models.AWSManagedPolicy.from_data", ["name", "account_id", "region_name", "data"], "seeding._ManagedPolicies"),
    ("moto.iam.models.IAMBackend.create_role",
     ["self", "role_name", "assume_role_policy_document", "path", "permissions_boundary", "description", "tags", "max_session_duration"],
     "seeding._create_role (by keyword)"),
    ("moto.iam.models.IAMBackend.put_role_policy", ["self", "role_name", "policy_name", "policy_json"], "seeding.seed_account"),
    ("moto.iam.models.IAMBackend.attach_role_policy", ["self", "policy_arn", "role_name"], "seeding.seed_account"),
    ("moto.iam.models.IAMBackend.create_user", ["self", "region_name", "user_name", "path", "tags"], "tests/test_account_lookup"),
    ("moto.sns.models.SNSBackend.create_topic", ["self", "name"], "seeding.seed_account"),
    ("moto.organizations.utils.make_random_org_id", [], "seeding._create_organization swaps it"),
    ("moto.organizations.utils.make_random_account_id", [], "seeding._create_organization swaps it"),
    ("moto.organizations.models.OrganizationsBackend.create_organization", ["self", "region", "kwargs"], "seeding._create_organization"),
    ("moto.organizations.models.OrganizationsBackend.create_account", ["self", "kwargs"], "seeding._create_organization"),
    ("moto.s3.models.S3Backend.create_bucket", ["self", "bucket_name", "region_name"], "seeding.apply_seed"),
    # sts_trust.py
    ("moto.sts.models.STSBackend.get_assumed_role_from_access_key", ["self", "access_key_id"], "sts_trust._caller"),
    ("moto.sts.responses.TokenResponse.assume_role", ["self"], "sts_trust.install wraps it"),
    ("moto.sts.responses.TokenResponse._get_param", ["self", "param_name", "if_none"], "sts_trust.install"),
    # motoext/* and restjson.py
    ("moto.core.base_backend.BackendDict.__init__", ["self", "backend", "service_name", "use_boto3_regions", "additional_regions"],
     "motoext chatbot_backends / supportapp_backends"),
    ("moto.core.base_backend.BaseBackend.__init__", ["self", "region_name", "account_id"], "motoext ChatbotBackend / SupportAppBackend"),
    ("moto.core.responses.BaseResponse.__init__", ["self", "service_name"], "restjson.RestJsonModelResponse"),
    ("moto.core.responses.BaseResponse.dispatch", ["args", "kwargs"], "motoext urls (url_paths)"),
    ("moto.core.responses.BaseResponse.call_action", ["self"], "restjson.RestJsonModelResponse overrides it"),
    ("moto.core.responses.BaseResponse._get_action", ["self"], "restjson.RestJsonModelResponse overrides it"),
    ("moto.core.responses.BaseResponse.setup_class", None, "restjson reads what it sets (see test below)"),
    ("moto.sns.models.SNSBackend.subscribe", ["self", "topic_arn", "endpoint", "protocol"], "motoext chatbot sync_subscriptions"),
    ("moto.sns.models.SNSBackend.unsubscribe", ["self", "subscription_arn"], "motoext chatbot sync_subscriptions"),
    ("moto.utilities.utils.get_partition", ["region"], "motoext responses (backend per partition)"),
]

# Module-level data the local cloud reads or changes: (dotted name, type, who).
DATA: list[tuple[str, type, str]] = [
    ("moto.backend_index.backend_url_patterns", list, "patches.register_services appends (name, regex)"),
    ("moto.core.DEFAULT_ACCOUNT_ID", str, "the management account of the seed is moto's default account"),
    ("moto.iam.aws_managed_policies.aws_managed_policies_data", str, "seeding._ManagedPolicies"),
    ("moto.utilities.utils.PARTITION_NAMES", list, "motoext BackendDicts (additional_regions)"),
]


def resolve(dotted: str) -> Any:
    """Import the longest module prefix of `dotted`, then walk the attributes; fail naming what is missing."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for i, attr in enumerate(parts[cut:], start=cut):
            if not hasattr(obj, attr):
                pytest.fail(f"moto upgrade: {'.'.join(parts[:i + 1])} is gone (needed for {dotted})")
            obj = getattr(obj, attr)
        return obj
    pytest.fail(f"moto upgrade: cannot import any part of {dotted}")


def moto_version() -> str:
    from importlib.metadata import version

    return version("moto")


@pytest.mark.parametrize("dotted,params,user", CALLABLES, ids=[c[0] for c in CALLABLES])
def test_hooked_callable_exists_with_its_signature(dotted, params, user):
    obj = resolve(dotted)
    assert callable(obj), f"moto {moto_version()}: {dotted} is no longer callable; {user}"
    if params is None:
        return
    found = [p.name for p in inspect.signature(inspect.unwrap(obj)).parameters.values()]
    assert found[: len(params)] == params, (
        f"moto {moto_version()}: {dotted} changed its parameters to {found} (expected {params} first); "
        f"{user} must be checked against the new moto"
    )


@pytest.mark.parametrize("dotted,kind,user", DATA, ids=[d[0] for d in DATA])
def test_hooked_data_exists_with_its_type(dotted, kind, user):
    value = resolve(dotted)
    assert isinstance(value, kind), f"moto {moto_version()}: {dotted} is a {type(value).__name__}, not {kind.__name__}; {user}"


def test_partition_names_include_aws():
    from moto.utilities.utils import PARTITION_NAMES

    assert "aws" in PARTITION_NAMES, "motoext backends are looked up under the 'aws' partition"


def test_url_patterns_hold_name_and_regex_pairs():
    import moto.backend_index as index

    name, pattern = index.backend_url_patterns[0]
    assert isinstance(name, str) and isinstance(pattern, re.Pattern), "patches.register_services appends (name, re.compile(...))"


def assigned_in(function: Any, attribute: str) -> bool:
    return re.search(rf"\bself\.{attribute}\s*(:[^=]*)?=", inspect.getsource(function)) is not None


@pytest.mark.parametrize("attribute", ["body", "method", "path", "region", "access_key", "current_account"])
def test_base_response_sets_what_restjson_and_sts_trust_read(attribute):
    from moto.core.responses import BaseResponse

    assert assigned_in(BaseResponse.setup_class, attribute), (
        f"moto {moto_version()}: BaseResponse.setup_class no longer sets self.{attribute}; "
        "restjson.RestJsonModelResponse, motoext responses and sts_trust read it"
    )


def test_base_response_routes_by_boto3_service_name():
    from moto.core.responses import BaseResponse

    assert isinstance(inspect.getattr_static(BaseResponse, "boto3_service_name"), property), (
        "restjson.RestJsonModelResponse overrides the boto3_service_name property with the model name"
    )


def test_organizations_calls_the_random_id_makers_through_the_utils_module():
    import moto.organizations.models as models

    source = inspect.getsource(models)
    for maker in ("make_random_org_id", "make_random_account_id"):
        assert f"utils.{maker}()" in source, (
            f"moto {moto_version()}: organizations no longer calls utils.{maker}() by module attribute, "
            "so seeding._create_organization cannot give the seeded organization and accounts their fixed ids"
        )


def test_backend_objects_have_the_attributes_the_local_cloud_reads_and_writes():
    """Attributes set in constructors: made on throwaway accounts, read the way the local cloud reads them."""
    from moto.iam.models import iam_backends
    from moto.organizations.models import organizations_backends
    from moto.s3.models import s3_backends
    from moto.sns.models import Subscription, sns_backends
    from moto.sts.models import AssumedRole, sts_backends

    account = "220000000001"
    iam = iam_backends[account]["global"]
    for attr, kind in (("access_keys", dict), ("managed_policies", dict), ("aws_managed_policies", list), ("roles", dict)):
        assert isinstance(getattr(iam, attr, None), kind), f"IAMBackend.{attr} ({kind.__name__}): seeding, patches, awsutil, sts_trust"
    assert isinstance(iam.account_id, str) and isinstance(iam.partition, str), "patches.index_access_keys indexes (account_id, partition)"
    iam.create_user("us-east-1", "pin", path="/", tags=[])
    key = iam.create_access_key("pin")
    for attr in ("physical_resource_id", "create_date", "user_name"):
        assert hasattr(key, attr), f"AccessKey.{attr}: patches (index), faults (issued at), sts_trust (caller)"
    role = iam.create_role(role_name="Pin", assume_role_policy_document="{}", path="/", permissions_boundary=None,
                           description="", tags=[], max_session_duration="3600")
    assert role.arn and role.assume_role_policy_document == "{}", "Role.arn / assume_role_policy_document: awsutil, sts_trust"

    sts = sts_backends[account]["aws"]
    assert isinstance(sts.assumed_roles, list), "STSBackend.assumed_roles: app.sessions"
    assumed = AssumedRole(account, "us-east-1", key, "pin", role.arn, "", 900, "")
    for attr in ("access_key_id", "secret_access_key", "session_token", "role_arn", "session_name", "arn"):
        assert getattr(assumed, attr, None), f"AssumedRole.{attr}: app.sessions, sts_trust._caller"

    sns = sns_backends[account]["us-east-1"]
    assert isinstance(sns.topics, dict) and isinstance(sns.subscriptions, dict), "SNSBackend.topics / subscriptions: motoext chatbot"
    topic = sns.create_topic("pin")
    sub = Subscription(account, topic, "https://example.invalid/pin", "https")
    for attr in ("protocol", "endpoint", "topic", "arn", "attributes"):
        assert hasattr(sub, attr), f"Subscription.{attr}: patches.guard_sns_http, motoext chatbot"

    assert isinstance(organizations_backends.master_accounts, dict), "organizations_backends.master_accounts: awsutil, app.reset"
    org = organizations_backends[account]["aws"]
    assert hasattr(org, "org") and isinstance(org.accounts, list), "OrganizationsBackend.org / accounts: awsutil, seeding"
    assert hasattr(s3_backends, "bucket_accounts"), "s3_backends.bucket_accounts: app.reset clears it"


def test_extension_services_are_found_by_moto():
    """moto.__path__ and the URL patterns are enough for moto to load chatbot and supportapp and build their apps."""
    from localcloud import patches

    patches.register_services()
    from moto.backends import get_backend
    from moto.chatbot.models import chatbot_backends
    from moto.moto_server.werkzeug_app import create_backend_app
    from moto.supportapp.models import supportapp_backends

    assert get_backend("chatbot") is chatbot_backends and get_backend("supportapp") is supportapp_backends
    rules = {str(rule) for rule in create_backend_app("chatbot").url_map.iter_rules()}
    assert any("describe-slack-workspaces" in rule for rule in rules), "create_backend_app no longer reads motoext urls.url_paths"


def test_werkzeug_gives_the_socket_and_drops_quietly():
    """localcloud.regions closes the socket from environ and raises ConnectionAbortedError; werkzeug must allow both."""
    import werkzeug.serving as serving

    assert '"werkzeug.socket"' in inspect.getsource(serving.WSGIRequestHandler.make_environ), (
        "werkzeug no longer puts the connection in environ['werkzeug.socket']; regions.drop_connection needs it"
    )
    run_wsgi = inspect.getsource(serving.WSGIRequestHandler.run_wsgi)
    assert "except connection_dropped_errors" in run_wsgi and issubclass(ConnectionAbortedError, serving.connection_dropped_errors), (
        "werkzeug no longer treats a ConnectionError raised by the app as a dropped connection (it would answer 500)"
    )
