"""One uvicorn worker on a listening socket it inherits from config/web_pool.py.

    python -m config.uvicorn_worker FD

uvicorn's own `--fd` adopts a socket as a Unix one whatever it is, and its connections then
miss what asyncio gives a TCP one (TCP_NODELAY first): so the socket is adopted here as what
it is and handed to uvicorn's server as its supervisor hands one to each of its workers.
Its settings are config/serving.py's `uvicorn_options`.
"""

import os
import socket
import sys
from contextlib import suppress

import uvicorn

APPLICATION = "config.asgi:application"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return os.EX_USAGE
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")  # as config.asgi
    from config.serving import uvicorn_options

    listening = socket.socket(fileno=int(argv[0]))  # its family and type read from the fd
    config = uvicorn.Config(APPLICATION, **uvicorn_options())
    # uvicorn stops gracefully on SIGINT too (a terminal's Ctrl-C reaches every process of
    # the group), then raises it again as KeyboardInterrupt: the stop, not an error.
    with suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[listening])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
