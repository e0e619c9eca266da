"""The ResponseURL: a pre-signed S3 PUT into the local S3, read back like CloudFormation would read it."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlparse

import pytest


@pytest.fixture(autouse=True)
def clear_faults(lc):
    yield
    lc.control("DELETE", "faults")


def put(url: str, body: bytes) -> int:
    # CloudFormation's responses go out with an empty Content-Type.
    req = urllib.request.Request(url, data=body, method="PUT", headers={"Content-Type": ""})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def test_presigned_put_then_read_back(lc):
    status, out = lc.control("POST", "response-url", {})
    assert status == 200 and out["bucket"] == "cfn-responses"
    url = urlparse(out["url"])
    assert f"{url.scheme}://{url.netloc}" == lc.endpoint
    assert url.path == f"/cfn-responses/{out['key']}"  # path style
    query = parse_qs(url.query)
    assert query["X-Amz-SignedHeaders"] == ["host"] and "X-Amz-Signature" in query

    assert lc.control("GET", f"response?key={out['key']}")[0] == 404
    body = json.dumps({"Status": "SUCCESS", "PhysicalResourceId": "p", "StackId": "s", "RequestId": "r", "LogicalResourceId": "L"}).encode()
    assert put(out["url"], body) == 200
    status, stored = lc.control("GET", f"response?key={out['key']}")
    assert status == 200 and json.loads(stored) == json.loads(body)


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded", "application/json"])
def test_put_keeps_the_bytes_whatever_the_content_type(lc, content_type):
    out = lc.control("POST", "response-url", {})[1]
    body = b'{"Status":"SUCCESS","Reason":"a=b&c=d"}'
    req = urllib.request.Request(out["url"], data=body, method="PUT")
    if content_type is not None:
        req.add_header("Content-Type", content_type)
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200
    assert lc.control("GET", f"response?key={out['key']}") == (200, body)


def test_chosen_key_and_the_object_is_in_management_s3(lc):
    key = f"arn%3Aaws%3Acloudformation%3Aus-east-1%3A{lc.members[0]}%3Astack/app/1|Channel|{time.time()}"
    out = lc.control("POST", "response-url", {"key": key})[1]
    assert out["key"] == key
    assert put(out["url"], b'{"Status":"FAILED","Reason":"boom"}') == 200
    obj = lc.client("s3").get_object(Bucket="cfn-responses", Key=key)
    assert json.loads(obj["Body"].read())["Reason"] == "boom"


def test_put_fails_twice_then_is_accepted(lc):
    out = lc.control("POST", "response-url", {})[1]
    lc.add_fault(service="s3", operation="PutObject", kind="error", status=503, count=2)
    assert [put(out["url"], b"{}") for _ in range(3)] == [503, 503, 200]
    assert lc.control("GET", f"response?key={out['key']}")[0] == 200


def test_slow_response_url(lc):
    out = lc.control("POST", "response-url", {})[1]
    lc.add_fault(service="s3", operation="PutObject", kind="latency", latency_ms=300, count=1)
    started = time.monotonic()
    assert put(out["url"], b"{}") == 200
    assert time.monotonic() - started >= 0.3


def test_expired_url_is_refused(lc):
    out = lc.control("POST", "response-url", {"expires": 1})[1]
    time.sleep(2.1)
    req = urllib.request.Request(out["url"], data=b"{}", method="PUT", headers={"Content-Type": ""})
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=10)
    assert exc.value.code == 403 and b"<Code>AccessDenied</Code>" in exc.value.read()
    assert lc.control("GET", f"response?key={out['key']}")[0] == 404


def test_bad_requests_to_the_control_endpoints(lc):
    assert lc.control("POST", "response-url", {"expires": -1})[0] == 400
    assert lc.control("GET", "response")[0] == 400
    assert lc.control("GET", "nothing-here")[0] == 404
    assert lc.control("GET", "health") == (200, {"ok": True})
    status, info = lc.control("GET", "info")
    assert status == 200 and info["management_account"] == lc.management
