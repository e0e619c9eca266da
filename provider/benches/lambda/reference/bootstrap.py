"""The smallest Lambda runtime client: the Runtime API loop of a custom
runtime (what awslambdaric does for the python3.x runtimes, minus its C
extension), for the benchmark's reference handler.

Run as the function's process: imports `handler` (module init, as a cold
start does), then fetches, handles and answers invocations until killed.
"""

import json
import os
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"


def post(path, body):
    request = urllib.request.Request(API + path, data=body, method="POST")
    with urllib.request.urlopen(request) as answer:
        answer.read()


try:
    import handler
except Exception as error:  # the init error Lambda reports
    post("/init/error", json.dumps({"errorMessage": str(error), "errorType": type(error).__name__}).encode())
    raise


class Context:
    def __init__(self, headers):
        self.aws_request_id = headers["Lambda-Runtime-Aws-Request-Id"]
        self.deadline_ms = int(headers["Lambda-Runtime-Deadline-Ms"])
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn")

    def get_remaining_time_in_millis(self):
        import time

        return self.deadline_ms - int(time.time() * 1000)


while True:
    with urllib.request.urlopen(API + "/invocation/next") as answer:
        context = Context(answer.headers)
        event = json.loads(answer.read())
    try:
        result = handler.handler(event, context)
        post(f"/invocation/{context.aws_request_id}/response", json.dumps(result).encode())
    except Exception as error:
        post(
            f"/invocation/{context.aws_request_id}/error",
            json.dumps({"errorMessage": str(error), "errorType": type(error).__name__}).encode(),
        )
