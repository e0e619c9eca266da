"""The WSGI app in front of moto: control endpoints, fault injection, and no tracebacks on the wire.

Control endpoints (JSON, same port as the AWS APIs):
  GET    /_localcloud/health            200 {"ok": true}
  GET    /_localcloud/info              what `serve` printed (endpoint, accounts, ...)
  POST   /_localcloud/faults            add a fault (localcloud/faults.py) -> {"id": ...}
  GET    /_localcloud/faults            the faults with their remaining counts
  DELETE /_localcloud/faults            clear all faults; DELETE /_localcloud/faults/ID clears one
  POST   /_localcloud/response-url      {"key"?: str, "expires"?: seconds} -> {"url", "bucket", "key"}
  GET    /_localcloud/response?key=K    the body PUT to that URL (404 until then)
  POST   /_localcloud/slack-authorize   {"service": "chatbot"|"supportapp", "account", "team_id",
                                         "team_name"?, "for_organization"?, "disabled_reason"?}: the console OAuth
                                         step; a chatbot workspace with disabled_reason is listed DISABLED
  POST   /_localcloud/teams-configure   {"account", "team_id", "tenant_id", "team_name"?, "disabled_reason"?}:
                                         Chatbot's console step that configures a Microsoft Teams team
  GET    /_localcloud/sns-deliveries    messages SNS would have POSTed to non-loopback https subscribers
  GET    /_localcloud/sessions?account=ID  the session credentials AssumeRole issued in that account (secret key and
                                         token included): for audits that no credential reaches a log
  POST   /_localcloud/functions         register a Lambda function (localcloud/functions.py) -> its description
  GET    /_localcloud/functions         {"functions": [...]}; GET/DELETE /_localcloud/functions/NAME one of them
  POST   /_localcloud/functions/NAME/invoke   a synchronous invocation with the body as event -> {"outcome", "payload"}
  GET    /_localcloud/functions/NAME/failed   async invocations that failed every attempt (the dead-letter records)
  POST   /_localcloud/cloudformation/stage  TEST ONLY: {"request", "phase"?} makes CloudFormation's state what it is
                                         while it sends that custom resource request (localcloud/cfn/stage.py)
  POST   /_localcloud/reset             wipe every backend and seed again (not for shared servers)
"""

from __future__ import annotations

import datetime
import io
import json
import logging
import re
import sys
import threading
import time
import traceback
import uuid
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

from localcloud import iam_enforce, patches, protocols, queryvalidation, regions
from localcloud.faults import FaultRegistry, FaultSpecError
from localcloud.protocols import Call

log = logging.getLogger("localcloud")

PREFIX = "/_localcloud/"
# The UUID shape of the chatbot API model (ConfiguredTeam.TeamId, TenantId).
UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
StartResponse = Callable[..., Any]


class LocalCloudApp:
    def __init__(self, inner: Callable[..., Iterable[bytes]], seed: dict[str, Any], apply_seed: Callable[[dict[str, Any], str], dict[str, Any]]):
        self.inner = inner
        self.seed = seed
        self._apply_seed = apply_seed
        self.faults = FaultRegistry()
        self.endpoint = ""
        self.info: dict[str, Any] = {}
        self._presigner: Any = None
        self._reset_lock = threading.Lock()

    def seed_now(self, endpoint: str) -> dict[str, Any]:
        self.endpoint = endpoint
        self.info = self._apply_seed(self.seed, endpoint)
        from localcloud.cfn.engine import SETTINGS

        SETTINGS.response_url = lambda key: self.response_url({"key": key})[1]["url"]
        SETTINGS.read_response = self._stored_response
        return self.info

    def _stored_response(self, key: str) -> bytes | None:
        status, body = self.read_response(key)
        return body if status == 200 else None

    # -- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX):
            try:
                status, payload = self.control(environ, path[len(PREFIX):])
            except Exception:
                log.error("control endpoint %s failed:\n%s", path, traceback.format_exc())
                status, payload = 500, {"error": "internal error in localcloud (see its stderr)"}
            return self._json(start_response, status, payload)

        unserved = regions.unserved_call(environ)
        if unserved is not None:
            log.info("%s has no endpoint in %s: connection closed without an answer", *unserved)
            regions.drop_connection(environ, f"{unserved[0]} has no endpoint in {unserved[1]}")
        if (
            environ.get("REQUEST_METHOD") == "PUT"
            and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")
            and protocols.signing_service(environ) in (None, "s3")  # S3, signed or pre-signed
        ):
            # moto's S3 parses such a body as a form and stores nothing; real S3 keeps the bytes.
            environ["CONTENT_TYPE"] = "application/octet-stream"
        expired = _presigned_expired(environ)
        if expired:
            return self._send(start_response, *protocols.render_error("s3", 403, "AccessDenied", expired))
        call: Call | None = None
        signing = protocols.signing_service(environ)
        validated = signing in queryvalidation.SERVICES
        enforced = iam_enforce.Settings.enabled and signing in iam_enforce.SERVICES
        if self.faults or validated or enforced:
            body = self._body_for_action(environ) if (self.faults or validated) else None
            if enforced and body is None:
                body = self._read_body(environ)
            call = protocols.classify(environ, body)
            if self.faults:
                answer = self._apply_faults(call)
                if answer is not None:
                    return self._send(start_response, *answer)
            if enforced:
                answer = self._authorize(environ, call, body)
                if answer is not None:
                    return self._send(start_response, *answer)
            problem = queryvalidation.check(call, environ, body) if validated else None
            if problem is not None:
                return self._send(start_response, *protocols.render_error(call.service, *problem))
            if call.service == "cloudformation":
                answer = self._cloudformation(environ, call, body)
                if answer is not None:
                    return self._send(start_response, *answer)
        return self._call_inner(environ, start_response, call)

    @staticmethod
    def _authorize(environ: dict[str, Any], call: Call, body: bytes | None) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """AccessDenied, in the service's protocol, for a role session whose policies do not allow the call, or
        for an Organizations read from a member account that is no delegated administrator (whose allowed reads
        are answered from the management account, where moto keeps the organization)."""
        service = protocols.normalize_service(call.service or "")
        if call.operation is None:
            return None
        caller = iam_enforce.session_caller(call.access_key)
        if caller is not None:
            region = protocols.signing_region(environ) or "us-east-1"
            params = iam_enforce.request_params(service, environ, body)
            message = iam_enforce.authorize(service, call.operation, params, caller, region)
            if message is not None:
                log.info("iam: %s", message)
                status, code = iam_enforce.ERRORS[service]
                return protocols.render_error(call.service, status, code, message)
        if service == "organizations":
            from moto.iam.models import get_account_id_from

            account = call.headers_account or get_account_id_from(call.access_key or "")
            access = iam_enforce.organizations_access(call.operation, account)
            if access.refusal is not None:
                return protocols.render_error(call.service, *iam_enforce.ERRORS["organizations"], access.refusal)
            if access.answered_by is not None:
                environ["HTTP_X_MOTO_ACCOUNT_ID"] = access.answered_by
        return None

    @staticmethod
    def _read_body(environ: dict[str, Any]) -> bytes:
        """The body of any request, put back for the service to read."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        return body

    @staticmethod
    def _cloudformation(environ: dict[str, Any], call: Call, body: bytes | None) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """Stacks and StackSets live in the caller's account (AssumeRole keys act as the role's account) and region."""
        from moto.iam.models import get_account_id_from

        from localcloud import cfn

        account = call.headers_account or get_account_id_from(call.access_key or "")
        region = protocols.signing_region(environ) or "us-east-1"
        try:
            return cfn.handle(call.operation, account, region, environ, body)
        except Exception:
            log.error("unhandled error in cloudformation %s:\n%s", call.operation, traceback.format_exc())
            return protocols.render_error("cloudformation", *protocols.server_error("cloudformation", 500))

    def _call_inner(self, environ: dict[str, Any], start_response: StartResponse, call: Call | None) -> Iterable[bytes]:
        started = []

        def tracking_start_response(*args: Any, **kwargs: Any) -> Any:
            started.append(True)
            return start_response(*args, **kwargs)

        try:
            return self.inner(environ, tracking_start_response)
        except Exception:
            if started:
                raise
            if call is None:
                call = protocols.classify(environ, None)
            log.error("unhandled error in %s %s:\n%s", call.service, call.operation, traceback.format_exc())
            status, code, message = protocols.server_error(call.service or "", 500)
            return self._send(start_response, *protocols.render_error(call.service, status, code, message))

    @staticmethod
    def _body_for_action(environ: dict[str, Any]) -> bytes | None:
        """Query-protocol calls name their operation in a form body; read it and put it back."""
        if not environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        return body

    def _apply_faults(self, call: Call) -> tuple[int, list[tuple[str, str]], bytes] | None:
        account = None
        if self.faults.needs_account():
            account = call.headers_account
            if account is None and call.access_key:
                from moto.iam.models import get_account_id_from

                account = get_account_id_from(call.access_key)
        fired = self.faults.fire(call, account, lambda: patches.session_key_issued_at(call.access_key))
        if not fired:
            return None
        delay = sum(f.latency_ms for f in fired if f.kind == "latency")
        if delay:
            time.sleep(delay / 1000.0)
        service = protocols.normalize_service(call.service or "")
        for fault in fired:
            if fault.kind == "throttle":
                status, code, message = protocols.throttle_error(service)
            elif fault.kind == "expired":
                status, code, message = protocols.expired_token_error(service)
            elif fault.kind == "error":
                status, code, message = protocols.server_error(service, fault.status)
            else:
                continue
            log.info("fault %s: %s %s -> %s %s", fault.id, service, call.operation, status, fault.code or code)
            return protocols.render_error(call.service, status, fault.code or code, message)
        return None

    @staticmethod
    def _send(start_response: StartResponse, status: int, headers: list[tuple[str, str]], body: bytes) -> list[bytes]:
        start_response(f"{status} {_reason(status)}", headers)
        return [body]

    @staticmethod
    def _json(start_response: StartResponse, status: int, payload: Any) -> list[bytes]:
        if isinstance(payload, bytes):
            body, ctype = payload, "application/octet-stream"
        else:
            body, ctype = json.dumps(payload).encode(), "application/json"
        start_response(f"{status} {_reason(status)}", [("Content-Type", ctype), ("Content-Length", str(len(body)))])
        return [body]

    # -- control endpoints ---------------------------------------------------------------------

    def control(self, environ: dict[str, Any], route: str) -> tuple[int, Any]:
        method = environ.get("REQUEST_METHOD", "GET")
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        route = route.rstrip("/")
        if route == "health":
            return 200, {"ok": True}
        if route == "info" and method == "GET":
            return 200, self.info
        if route == "faults":
            if method == "GET":
                return 200, {"faults": self.faults.list()}
            if method == "DELETE":
                return 200, {"cleared": self.faults.clear()}
            if method == "POST":
                spec, error = _read_json(environ)
                if error:
                    return 400, {"error": error}
                try:
                    fault = self.faults.add(spec)
                except FaultSpecError as err:
                    return 400, {"error": str(err)}
                return 200, {"id": fault.id, "fault": fault.describe()}
        if route.startswith("faults/") and method == "DELETE":
            fault_id = route.split("/", 1)[1]
            return (200, {"deleted": fault_id}) if self.faults.remove(fault_id) else (404, {"error": f"no fault {fault_id}"})
        if route == "response-url" and method == "POST":
            spec, error = _read_json(environ, allow_empty=True)
            if error:
                return 400, {"error": error}
            return self.response_url(spec or {})
        if route == "response" and method == "GET":
            if not query.get("key"):
                return 400, {"error": "give ?key=KEY"}
            return self.read_response(query["key"][0])
        if route == "slack-authorize" and method == "POST":
            spec, error = _read_json(environ)
            if error:
                return 400, {"error": error}
            return self.slack_authorize(spec)
        if route == "teams-configure" and method == "POST":
            spec, error = _read_json(environ)
            if error:
                return 400, {"error": error}
            return self.teams_configure(spec)
        if route == "sessions" and method == "GET":
            if not query.get("account"):
                return 400, {"error": "give ?account=ID"}
            return 200, {"sessions": self.sessions(query["account"][0])}
        if route == "sns-deliveries" and method == "GET":
            return 200, {"deliveries": list(patches.SNS_DELIVERIES)}
        if route == "reset" and method == "POST":
            return 200, self.reset()
        if route == "cloudformation/stage" and method == "POST":
            from localcloud.cfn.stage import StageError, stage

            spec, error = _read_json(environ)
            if error:
                return 400, {"error": error}
            try:
                return 200, stage(spec)
            except StageError as err:
                return 400, {"error": str(err)}
        if route == "functions" or route.startswith("functions/"):
            return self.functions(method, route.split("/")[1:], environ)
        return 404, {"error": f"no control endpoint {method} {PREFIX}{route}"}

    def functions(self, method: str, parts: list[str], environ: dict[str, Any]) -> tuple[int, Any]:
        from localcloud.functions import REGISTRY, SpecError

        if not parts:
            if method == "GET":
                return 200, {"functions": [f.describe() for f in list(REGISTRY.by_arn.values())]}
            if method == "POST":
                spec, error = _read_json(environ)
                if error:
                    return 400, {"error": error}
                try:
                    function = REGISTRY.register(spec, self.info["management_account"], self.info["region"])
                except SpecError as err:
                    return 400, {"error": str(err)}
                return 200, function.describe()
            return 405, {"error": f"{method} is not allowed on {PREFIX}functions"}
        function = REGISTRY.get(parts[0])
        if function is None:
            return 404, {"error": f"no function {parts[0]} (register it with POST {PREFIX}functions)"}
        rest = parts[1:]
        if not rest and method == "GET":
            return 200, function.describe()
        if not rest and method == "DELETE":
            REGISTRY.remove(function.arn)
            return 200, {"deleted": function.arn}
        if rest == ["failed"] and method == "GET":
            return 200, {"failed": list(function.failures)}
        if rest == ["invoke"] and method == "POST":
            event, error = _read_json(environ)
            if error:
                return 400, {"error": error}
            outcome, body = function.invoke(event)
            try:
                payload: Any = json.loads(body) if body else None
            except ValueError:
                payload = body.decode(errors="replace")
            return 200, {"outcome": outcome, "payload": payload}
        return 404, {"error": f"no control endpoint {method} {PREFIX}functions/{'/'.join(parts)}"}

    def response_url(self, spec: dict[str, Any]) -> tuple[int, Any]:
        key = spec.get("key") or f"responses/{uuid.uuid4()}"
        expires = spec.get("expires", 7200)
        if not isinstance(key, str) or not isinstance(expires, int) or isinstance(expires, bool) or expires <= 0:
            return 400, {"error": "key must be a string and expires a positive number of seconds"}
        if self._presigner is None:
            import boto3
            from botocore.config import Config

            self._presigner = boto3.session.Session().client(
                "s3",
                endpoint_url=self.endpoint,
                region_name="us-east-1",
                aws_access_key_id="localcloud",
                aws_secret_access_key="localcloud",
                config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
            )
        bucket = self.info["response_bucket"]
        # Only the host is signed (no Content-Type): CloudFormation's responses are PUT with an empty one.
        url = self._presigner.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires)
        return 200, {"url": url, "bucket": bucket, "key": key}

    def read_response(self, key: str) -> tuple[int, Any]:
        from moto.s3.models import s3_backends

        backend = s3_backends[self.info["management_account"]]["aws"]
        try:
            obj = backend.get_object(self.info["response_bucket"], key)
        except Exception:
            obj = None
        if obj is None:
            return 404, {"error": f"nothing was PUT to {key} yet"}
        return 200, bytes(obj.value)

    def slack_authorize(self, spec: Any) -> tuple[int, Any]:
        if not isinstance(spec, dict) or spec.get("service") not in ("chatbot", "supportapp"):
            return 400, {"error": "service must be chatbot or supportapp"}
        account, team_id = spec.get("account"), spec.get("team_id")
        if not isinstance(account, str) or not account.isdigit() or len(account) != 12 or not isinstance(team_id, str) or not team_id:
            return 400, {"error": "account (12 digits) and team_id are required"}
        name = spec.get("team_name") or team_id
        if spec["service"] == "chatbot":
            from moto.chatbot.models import chatbot_backends

            disabled = spec.get("disabled_reason")
            if disabled is not None and not isinstance(disabled, str):
                return 400, {"error": "disabled_reason must be a string"}
            chatbot_backends[account]["aws"].authorize_slack_workspace(team_id, name, disabled)
        else:
            from localcloud.modelvalidation import ServiceError
            from moto.supportapp.models import supportapp_backends

            try:
                supportapp_backends[account]["aws"].authorize_workspace(team_id, name, bool(spec.get("for_organization")))
            except ServiceError as err:
                return 409, {"error": err.message, "code": err.code}
        return 200, {"authorized": team_id, "account": account, "service": spec["service"]}

    @staticmethod
    def teams_configure(spec: Any) -> tuple[int, Any]:
        """The console step of AWS Chatbot that configures a Microsoft Teams team (no API does it)."""
        if not isinstance(spec, dict):
            return 400, {"error": "give {account, team_id, tenant_id}"}
        account, team_id, tenant_id = spec.get("account"), spec.get("team_id"), spec.get("tenant_id")
        if not isinstance(account, str) or not account.isdigit() or len(account) != 12:
            return 400, {"error": "account (12 digits) is required"}
        if not all(isinstance(v, str) and UUID.fullmatch(v) for v in (team_id, tenant_id)):
            # ConfiguredTeam.TeamId and TenantId are UUIDs in the API model.
            return 400, {"error": "team_id and tenant_id are required, each a UUID"}
        disabled = spec.get("disabled_reason")
        if disabled is not None and not isinstance(disabled, str):
            return 400, {"error": "disabled_reason must be a string"}
        from moto.chatbot.models import chatbot_backends

        chatbot_backends[account]["aws"].configure_teams_team(team_id, tenant_id, spec.get("team_name") or team_id, disabled)
        return 200, {"configured": team_id, "account": account}

    @staticmethod
    def sessions(account: str) -> list[dict[str, str]]:
        from moto.sts.models import sts_backends

        if account not in sts_backends:
            return []
        return [
            {
                "access_key_id": role.access_key_id,
                "secret_access_key": role.secret_access_key,
                "session_token": role.session_token,
                "role_arn": role.role_arn,
                "session_name": role.session_name,
            }
            for partition in ("aws",)
            for role in list(sts_backends[account][partition].assumed_roles)
        ]

    def reset(self) -> dict[str, Any]:
        from moto.core.base_backend import BackendDict
        from moto.organizations.models import organizations_backends
        from moto.s3.models import s3_backends

        from localcloud.functions import REGISTRY

        from localcloud import cfn

        with self._reset_lock:
            REGISTRY.close_all()
            cfn.reset()
            BackendDict.reset()
            organizations_backends.master_accounts.clear()
            s3_backends.bucket_accounts.clear()
            patches.SNS_DELIVERIES.clear()
            self.faults.clear()
            return self.seed_now(self.endpoint)


def _presigned_expired(environ: dict[str, Any]) -> str | None:
    """S3 refuses a pre-signed URL after X-Amz-Date + X-Amz-Expires; moto does not check."""
    query = environ.get("QUERY_STRING", "")
    if "X-Amz-Expires=" not in query:
        return None
    params = parse_qs(query)
    try:
        signed = datetime.datetime.strptime(params["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        lifetime = int(params["X-Amz-Expires"][0])
    except (KeyError, ValueError):
        return "Invalid date or expiry in the pre-signed URL"
    if datetime.datetime.now(datetime.timezone.utc) > signed + datetime.timedelta(seconds=lifetime):
        return "Request has expired"
    return None


def _read_json(environ: dict[str, Any], allow_empty: bool = False) -> tuple[Any, str | None]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None, "bad Content-Length"
    raw = environ["wsgi.input"].read(length) if length else b""
    if not raw.strip():
        return (None, None) if allow_empty else (None, "a JSON body is required")
    try:
        return json.loads(raw), None
    except ValueError as err:
        return None, f"the body is not JSON: {err}"


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("localcloud %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("werkzeug").setLevel(logging.INFO if verbose else logging.WARNING)
