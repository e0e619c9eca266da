"""The hooks into moto: extra services, no outbound traffic, STS trust policies.

- chatbot and supportapp live in localcloud/motoext/ and become `moto.chatbot`
  and `moto.supportapp` by extending `moto.__path__`; moto's dispatcher finds
  them by a URL pattern in `moto.backend_index.backend_url_patterns` (it turns
  the SigV4 credential scope's service name into `SERVICE.REGION.amazonaws.com`,
  so one endpoint serves every SDK client).
- SNS would POST each message to https subscribers such as Chatbot's
  `https://global.sns-api.chatbot.amazonaws.com`: deliveries to anything but
  loopback are recorded instead (GET /_localcloud/sns-deliveries), and any
  socket connection off loopback is refused in this process as a backstop.
- SNS delivers to `lambda` subscribers by an asynchronous invocation of the
  local cloud's own function with that ARN (localcloud/functions.py), never
  through moto's Lambda (which needs docker); a subscriber ARN with no such
  function is recorded like an off-loopback delivery.
- AssumeRole checks trust policies (localcloud/sts_trust.py).
- Organizations takes CloudFormation StackSets' delegated administrator principal.
- Two lookups moto makes on every request are made cheap, so a call stays at
  a few milliseconds with 100+ accounts: the access key -> account lookup
  (moto scans every account and partition) uses an index kept as keys are
  created, falling back to moto's scan on a miss, and the listing of moto's
  service folders is computed once.
- Every moto internal hooked or imported here and elsewhere is pinned in
  localcloud/tests/test_moto_hooks.py, so a moto upgrade fails there first.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
import socket
import threading
import time
from typing import Any
from urllib.parse import urlparse

EXTENSION_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "motoext")
EXTRA_SERVICES = {
    "chatbot": re.compile(r"https?://chatbot\.(.+)\.amazonaws\.com"),
    "supportapp": re.compile(r"https?://supportapp\.(.+)\.amazonaws\.com"),
}

_installed = False
_deliveries_lock = threading.Lock()
SNS_DELIVERIES: list[dict[str, Any]] = []


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def register_services() -> None:
    import moto
    import moto.backend_index as backend_index

    if EXTENSION_DIR not in moto.__path__:
        moto.__path__.append(EXTENSION_DIR)
    known = {name for name, _ in backend_index.backend_url_patterns}
    for name, pattern in EXTRA_SERVICES.items():
        if name not in known:
            backend_index.backend_url_patterns.append((name, pattern))


def guard_sns_http() -> None:
    from moto.sns.models import Subscription

    original = Subscription.publish
    if getattr(original, "_localcloud", False):
        return

    def publish(self: Subscription, message: str, message_id: str, *args: Any, **kwargs: Any) -> None:
        if self.protocol == "lambda":
            return _deliver_to_function(self, message, message_id, *args, **kwargs)
        if self.protocol in ("http", "https") and not is_loopback_host(urlparse(self.endpoint).hostname):
            with _deliveries_lock:
                SNS_DELIVERIES.append(
                    {
                        "time": time.time(),
                        "topic_arn": self.topic.arn,
                        "subscription_arn": self.arn,
                        "endpoint": self.endpoint,
                        "message_id": message_id,
                        "message": message,
                        "raw_message_delivery": str(self.attributes.get("RawMessageDelivery", "false")).lower() == "true",
                    }
                )
                del SNS_DELIVERIES[:-1000]
            return None
        return original(self, message, message_id, *args, **kwargs)

    publish._localcloud = True  # type: ignore[attr-defined]
    Subscription.publish = publish  # type: ignore[method-assign]


def _deliver_to_function(subscription: Any, message: str, message_id: str, *args: Any, **kwargs: Any) -> None:
    """SNS -> Lambda: an asynchronous invocation with the SNS event (moto's own path would start docker)."""
    from localcloud.functions import REGISTRY, sns_event

    params = dict(zip(("subject", "message_attributes", "group_id", "deduplication_id", "message_structure"), args))
    params.update(kwargs)
    if subscription._filter_policy_matcher is not None and not subscription._filter_policy_matcher.matches(params.get("message_attributes"), message):
        return
    if params.get("message_structure") == "json":
        message = subscription._parse_message_structure(message, "lambda")
    function = REGISTRY.get(subscription.endpoint)
    if function is None:
        with _deliveries_lock:
            SNS_DELIVERIES.append(
                {"time": time.time(), "topic_arn": subscription.topic.arn, "subscription_arn": subscription.arn,
                 "endpoint": subscription.endpoint, "message_id": message_id, "message": message,
                 "undeliverable": "no local function with this ARN (POST /_localcloud/functions)"}
            )
            del SNS_DELIVERIES[:-1000]
        return
    function.invoke_async(sns_event(subscription, message, message_id, params.get("subject"), params.get("message_attributes")))


def guard_sockets() -> None:
    """Refuse any outbound connection that is not to loopback (no real AWS, no Slack, ever)."""
    if getattr(socket.socket.connect, "_localcloud", False):
        return
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def allowed(sock: socket.socket, address: Any) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return True
        return is_loopback_host(str(address[0]))

    def connect(self: socket.socket, address: Any) -> None:
        if not allowed(self, address):
            raise ConnectionRefusedError(f"localcloud: outbound connection to {address!r} refused (loopback only)")
        return original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not allowed(self, address):
            return 111  # ECONNREFUSED
        return original_connect_ex(self, address)

    original_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        # No DNS lookups either: a name that is not loopback has nowhere to go.
        if host is not None and not is_loopback_host(host.decode() if isinstance(host, bytes) else str(host)):
            raise socket.gaierror(socket.EAI_NONAME, f"localcloud: no lookups of {host!r} (loopback only)")
        return original_getaddrinfo(host, *args, **kwargs)

    connect._localcloud = True  # type: ignore[attr-defined]
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]


_KEY_INDEX: dict[str, tuple[str, str]] = {}


def index_access_keys() -> None:
    import moto.backends
    import moto.iam.models as iam_models

    if getattr(iam_models.get_account_id_from, "_localcloud", False):
        return
    backend_cls = iam_models.IAMBackend
    moto_lookup = iam_models.get_account_id_from

    def indexed(create: Any) -> Any:
        @functools.wraps(create)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            key = create(self, *args, **kwargs)
            _KEY_INDEX[key.physical_resource_id] = (self.account_id, self.partition)
            return key

        return wrapper

    backend_cls.create_access_key = indexed(backend_cls.create_access_key)  # type: ignore[method-assign]
    backend_cls.create_temp_access_key = indexed(backend_cls.create_temp_access_key)  # type: ignore[method-assign]

    @functools.wraps(moto_lookup)
    def get_account_id_from(access_key: str) -> str:
        hit = _KEY_INDEX.get(access_key)
        if hit is not None:
            account, partition = hit
            if account in iam_models.iam_backends and access_key in iam_models.iam_backends[account][partition].access_keys:
                return account
        # A key made some other way (or none at all): moto's own scan, which ends at its default account.
        return moto_lookup(access_key)

    get_account_id_from._localcloud = True  # type: ignore[attr-defined]
    iam_models.get_account_id_from = get_account_id_from

    modules = tuple(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]


def session_key_issued_at(access_key: str | None) -> Any:
    """When the session (AssumeRole) credentials `access_key` were issued; None for other keys."""
    hit = _KEY_INDEX.get(access_key or "")
    if hit is None or not (access_key or "").startswith("ASIA"):
        return None
    import moto.iam.models as iam_models

    account, partition = hit
    key = iam_models.iam_backends[account][partition].access_keys.get(access_key)
    return getattr(key, "create_date", None)


def allow_stacksets_delegated_administrator() -> None:
    """CloudFormation StackSets takes a delegated administrator (`register-delegated-administrator
    --service-principal member.org.stacksets.cloudformation.amazonaws.com`, CloudFormation User Guide,
    "Register a delegated administrator"); moto's list of such services lacks it."""
    from moto.organizations.models import FakeDelegatedAdministrator

    principal = "member.org.stacksets.cloudformation.amazonaws.com"
    if principal not in FakeDelegatedAdministrator.SUPPORTED_SERVICES:
        FakeDelegatedAdministrator.SUPPORTED_SERVICES.append(principal)


def install() -> None:
    global _installed
    if _installed:
        return
    os.environ.pop("MOTO_ACCOUNT_ID", None)  # keys from AssumeRole must act in the role's account
    register_services()
    index_access_keys()
    guard_sns_http()
    guard_sockets()
    allow_stacksets_delegated_administrator()
    from localcloud import sts_trust

    sts_trust.install()
    _installed = True
