"""Support App URLs: every operation is a POST under /control/ (from the botocore model)."""

from localcloud.restjson import model_routes

from .responses import SupportAppResponse

url_bases = [r"https?://supportapp\.(.+)\.amazonaws\.com"]

url_paths = {"{0}" + path + "$": SupportAppResponse.dispatch for (_method, path) in model_routes("support-app")}
# Anything else under the service answers UnknownOperationException (JSON), not an HTML 404.
url_paths["{0}/.*$"] = SupportAppResponse.dispatch
