"""AWS Chatbot for moto (loaded as `moto.chatbot` through moto.__path__, see localcloud/patches.py)."""

from .models import chatbot_backends  # noqa: F401
