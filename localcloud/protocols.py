"""Tell which service, operation and account a raw request is for, and answer errors in its protocol.

Every SDK client points at one endpoint, so the service comes from the SigV4
credential scope (the Authorization header, or X-Amz-Credential in a
pre-signed URL), the operation from the protocol (X-Amz-Target for json,
Action for query, the model's URI for restJson, method and path for S3), and
the account from x-moto-account-id or the access key (AssumeRole keys belong
to the role's account). Errors are rendered the way each SDK parses them, so
an injected throttle is seen as throttling by botocore and the Rust SDK.
"""

from __future__ import annotations

import functools
import json
import uuid
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote
from xml.sax.saxutils import escape

SIGNING_TO_MODEL = {"supportapp": "support-app", "support-app": "support-app", "events": "events", "states": "stepfunctions"}


class Call(NamedTuple):
    service: str | None
    operation: str | None
    access_key: str | None
    headers_account: str | None


@functools.cache
def protocol_of(service: str) -> str:
    """The botocore protocol of a signing name: rest-json, json, query, rest-xml or ec2 (json if unknown)."""
    if service == "s3":
        return "rest-xml"
    try:
        from localcloud.modelvalidation import service_model

        return str(service_model(SIGNING_TO_MODEL.get(service, service)).metadata["protocol"])
    except Exception:  # an unknown signing name: most newer services speak json
        return "json"


def _credential(environ: dict[str, Any], query: dict[str, list[str]]) -> list[str] | None:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].strip()
        return scope.split("/")
    if "X-Amz-Credential" in query:
        return unquote(query["X-Amz-Credential"][0]).split("/")
    return None


def credential_scope(environ: dict[str, Any]) -> list[str] | None:
    """The SigV4 credential scope (key, date, region, service, aws4_request) of a signed request."""
    return _credential(environ, parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True))


def signing_region(environ: dict[str, Any]) -> str | None:
    """The region of the SigV4 credential scope (Authorization header or pre-signed query)."""
    scope = credential_scope(environ)
    return scope[2] if scope and len(scope) >= 5 else None


def signing_service(environ: dict[str, Any]) -> str | None:
    """The service of a SigV4 Authorization header (cheap: no query string or body parsing)."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if "Credential=" not in auth:
        return None
    scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
    return scope[3].lower() if len(scope) >= 5 else None


def _s3_operation(method: str, path: str, query: dict[str, list[str]], environ: dict[str, Any]) -> str | None:
    parts = [p for p in path.split("/") if p]
    if not parts:
        return "ListBuckets" if method == "GET" else None
    has_key = len(parts) > 1
    if has_key:
        if method == "PUT":
            if "partNumber" in query:
                return "UploadPart"
            return "CopyObject" if environ.get("HTTP_X_AMZ_COPY_SOURCE") else "PutObject"
        return {"GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject", "POST": "CreateMultipartUpload"}.get(method)
    return {"PUT": "CreateBucket", "GET": "ListObjectsV2", "HEAD": "HeadBucket", "DELETE": "DeleteBucket"}.get(method)


def classify(environ: dict[str, Any], body: bytes | None) -> Call:
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    scope = _credential(environ, query)
    service = scope[3].lower() if scope and len(scope) >= 5 else None
    access_key = scope[0] if scope else None
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "/")
    operation = None
    if service:
        protocol = protocol_of(service)
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            operation = target.rsplit(".", 1)[-1]
        elif protocol in ("query", "ec2"):
            action = query.get("Action")
            if not action and body:
                action = parse_qs(body.decode("utf-8", "replace")).get("Action")
            operation = action[0] if action else None
        elif service == "s3":
            operation = _s3_operation(method, path, query, environ)
        elif protocol == "rest-json":
            from localcloud.restjson import model_routes

            try:
                op = model_routes(SIGNING_TO_MODEL.get(service, service)).get((method, path.rstrip("/") or "/"))
            except Exception:
                op = None
            operation = op.name if op else None
    return Call(service, operation, access_key, environ.get("HTTP_X_MOTO_ACCOUNT_ID"))


def normalize_service(name: str) -> str:
    name = name.lower()
    return "supportapp" if name == "support-app" else name


def throttle_error(service: str) -> tuple[int, str, str]:
    """(status, code, message) of the service's throttling error, as its SDKs recognise it."""
    protocol = protocol_of(service)
    if service in ("chatbot", "supportapp"):
        return 429, "TooManyRequestsException", "Rate exceeded"
    if service == "s3":
        return 503, "SlowDown", "Please reduce your request rate."
    if protocol in ("query", "ec2"):
        return 400, "Throttling", "Rate exceeded"
    if service == "organizations":
        return 400, "TooManyRequestsException", "AWS Organizations can't complete your request because of too many requests. Try again later."
    if protocol == "rest-json":
        return 429, "ThrottlingException", "Rate exceeded"
    return 400, "ThrottlingException", "Rate exceeded"


def expired_token_error(service: str) -> tuple[int, str, str]:
    """(status, code, message) of the service's answer to expired session credentials."""
    message = "The security token included in the request is expired"
    if service == "s3":
        return 400, "ExpiredToken", "The provided token has expired."
    if protocol_of(service) in ("query", "ec2"):
        return 403, "ExpiredToken", message
    if protocol_of(service) == "rest-json":
        return 403, "ExpiredTokenException", message
    return 400, "ExpiredTokenException", message


def server_error(service: str, status: int) -> tuple[int, str, str]:
    """(status, code, message) of a 5xx answer of the service."""
    if status == 503:
        code = {"s3": "ServiceUnavailable", "chatbot": "ServiceUnavailableException"}.get(service)
        if code is None:
            code = "ServiceUnavailable" if protocol_of(service) in ("query", "ec2") else "ServiceUnavailableException"
        return 503, code, "Service is unavailable. Please try again."
    code = {"chatbot": "InternalServiceError", "supportapp": "InternalServerException", "s3": "InternalError"}.get(
        service, "InternalFailure"
    )
    return status, code, "We encountered an internal error. Please try again."


def render_error(service: str | None, status: int, code: str, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """An error response in the service's wire protocol (JSON for unknown services)."""
    request_id = str(uuid.uuid4())
    protocol = protocol_of(service) if service else "json"
    if service == "s3" or protocol == "rest-xml":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
            f"<RequestId>{request_id}</RequestId><HostId>localcloud</HostId></Error>"
        )
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
    elif protocol in ("query", "ec2"):
        fault = "Sender" if status < 500 else "Receiver"
        body = (
            "<ErrorResponse><Error>"
            f"<Type>{fault}</Type><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    elif protocol == "rest-json":
        body = json.dumps({"message": message, "Message": message})
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", code), ("x-amzn-RequestId", request_id)]
    else:
        body = json.dumps({"__type": code, "message": message, "Message": message})
        headers = [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-ErrorType", code),
            ("x-amzn-RequestId", request_id),
        ]
    data = body.encode()
    headers.append(("Content-Length", str(len(data))))
    return status, headers, data
