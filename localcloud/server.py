"""`localcloud/serve --port P [--seed FILE]`: run the local cloud on 127.0.0.1 in the foreground.

Once the seed is in place it prints exactly one JSON line on stdout (the
endpoint, the accounts and what is in them) and flushes; everything else
goes to stderr. SIGTERM or SIGINT stop it cleanly.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from localcloud import patches  # noqa: E402

log = logging.getLogger("localcloud")

# Backends whose Flask apps are built before the first request, so no test pays for it.
WARM_SERVICES = ("chatbot", "supportapp", "sts", "iam", "sns", "organizations", "s3")


def build_app(seed: dict[str, Any]) -> Any:
    """The full WSGI app (moto's dispatcher behind LocalCloudApp), not yet seeded."""
    patches.install()
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from localcloud.app import LocalCloudApp
    from localcloud.seeding import apply_seed

    inner = DomainDispatcherApplication(create_backend_app)
    for service in WARM_SERVICES:
        inner.app_instances[service] = create_backend_app(service)
    return LocalCloudApp(inner, seed, apply_seed)


def port_is_free(port: int) -> bool:
    """Checked before the slow imports, so a busy port fails at once."""
    if port == 0:
        return True
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="localcloud/serve", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: pick a free one)")
    parser.add_argument("--seed", default=None, help="seed file, JSON or YAML (default: localcloud/seed.yaml)")
    parser.add_argument("--verbose", "-v", action="store_true", help="log every request on stderr")
    parser.add_argument(
        "--custom-resource-timeout", type=float, default=120.0, metavar="SECONDS",
        help="how long a stack waits for a custom resource's answer when the resource sets no ServiceTimeout "
        "(CloudFormation's default is 3600; default here 120)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from localcloud.app import configure_logging

    configure_logging(args.verbose)
    started = time.monotonic()
    from localcloud.seeding import SeedError, load_seed

    try:
        seed = load_seed(args.seed)
    except (OSError, SeedError) as err:
        log.error("cannot load the seed: %s", err)
        return 2
    if not port_is_free(args.port):
        log.error("cannot listen on 127.0.0.1:%s: the port is in use", args.port)
        return 2
    app = build_app(seed)
    from localcloud.cfn.engine import SETTINGS

    SETTINGS.custom_resource_timeout = args.custom_resource_timeout

    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    try:
        server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=MotoRequestHandler)
    except (OSError, SystemExit) as err:  # werkzeug exits when the port is taken
        log.error("cannot listen on 127.0.0.1:%s: %s", args.port, err if isinstance(err, OSError) else "port in use")
        return 2
    endpoint = f"http://127.0.0.1:{server.server_port}"
    os.environ["MOTO_PORT"] = str(server.server_port)
    info = app.seed_now(endpoint)

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping", signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    log.info(
        "ready on %s in %.2fs: management %s, %d members, outside %s",
        endpoint, time.monotonic() - started, info["management_account"], len(info["member_accounts"]), info["outside_account"],
    )
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        from localcloud.functions import REGISTRY

        REGISTRY.close_all()
        server.server_close()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
