"""AWS Support App for moto (loaded as `moto.supportapp` through moto.__path__, see localcloud/patches.py)."""

from .models import supportapp_backends  # noqa: F401
