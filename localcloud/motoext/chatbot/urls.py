"""Chatbot URLs: every operation is a POST to a fixed path (from the botocore model)."""

from localcloud.restjson import model_routes

from .responses import ChatbotResponse

url_bases = [r"https?://chatbot\.(.+)\.amazonaws\.com"]

url_paths = {"{0}" + path + "$": ChatbotResponse.dispatch for (_method, path) in model_routes("chatbot")}
# Anything else under the service answers UnknownOperationException (JSON), not an HTML 404.
url_paths["{0}/.*$"] = ChatbotResponse.dispatch
