"""`python -m stores.simulator --port N`: both stores on 127.0.0.1 for tests and `make demo`.

Prints `stores simulator listening on http://127.0.0.1:PORT` once it accepts connections (`--port 0`
picks a free port)."""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

import uvicorn

from stores.simulator.descriptions import DEFAULT_ASC_SCHEMAS
from stores.simulator.server import (
    DEFAULT_APP_ID,
    DEFAULT_PACKAGE,
    SimulatorConfig,
    StoreSimulator,
    create_app,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stores.simulator", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument(
        "--play-package", action="append", help=f"Play package name (default {DEFAULT_PACKAGE})"
    )
    parser.add_argument(
        "--app-store-app",
        action="append",
        metavar="ID=BUNDLE_ID",
        help=f"App Store Connect app (default {DEFAULT_APP_ID}={DEFAULT_PACKAGE})",
    )
    parser.add_argument(
        "--asc-schemas",
        type=Path,
        default=DEFAULT_ASC_SCHEMAS,
        help="App Store Connect schemas extracted by scripts/install-store-schemas.sh",
    )
    parser.add_argument("--edit-ttl", type=float, default=3600.0, help="seconds before a Play edit expires")
    args = parser.parse_args(argv)
    config = SimulatorConfig(asc_schemas=args.asc_schemas, edit_ttl_s=args.edit_ttl)
    if args.play_package:
        config.play_packages = args.play_package
    if args.app_store_app:
        config.app_store_apps = dict(item.split("=", 1) for item in args.app_store_app)
    simulator = StoreSimulator(config)
    if simulator.asc_description is None:
        print(
            f"stores simulator: {simulator.asc_missing}; App Store Connect requests get 503", file=sys.stderr
        )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", args.port))
    except OSError as exc:
        print(f"stores simulator: cannot listen on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 2
    sock.listen(128)
    server = uvicorn.Server(uvicorn.Config(create_app(simulator), log_level="warning", access_log=False))
    print(f"stores simulator listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
