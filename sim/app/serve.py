"""Serving the explorer: on 127.0.0.1 only, one page per browser session; and inline in a notebook."""

from __future__ import annotations

import contextlib
import socket
import webbrowser
from collections.abc import Callable
from typing import Any

import panel as pn

from sim.app.model import Explorer
from sim.app.page import Page
from sim.errors import UserError

HOST = "127.0.0.1"
DEFAULT_PORT = 5006


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def choose_port(port: int | None) -> int:
    """``port`` if given (refused when taken); else 5006, or any free port when 5006 is taken."""
    if port is not None:
        if not 0 < port < 65536:
            raise UserError(f"--port: {port} is not a port number (1 to 65535)")
        if not _free(port):
            raise UserError(f"--port: {port} is in use on {HOST}; choose another")
        return port
    if _free(DEFAULT_PORT):
        return DEFAULT_PORT
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def session(explorer: Explorer) -> Any:
    """A new page for a browser session, in the state its address holds."""
    args = {k: [v.decode("utf-8", "replace") for v in vs] for k, vs in pn.state.session_args.items()}
    page = Page(explorer, args)
    if page.given.value:
        pn.state.onload(page.refresh)  # a run given a history can take seconds: the page says it is working
    else:
        page.refresh_now()  # the first values in the page as it is sent (the file's are run at start)
    pn.state.on_session_destroyed(lambda _: page.close())
    return page.view


def serve(
    explorer: Explorer,
    port: int | None = None,
    open_browser: bool = True,
    say: Callable[[str], None] = print,
) -> None:
    """Serve the explorer on 127.0.0.1 until Ctrl-C."""
    chosen = choose_port(port)
    url = f"http://{HOST}:{chosen}/"
    origins = [f"{HOST}:{chosen}", f"localhost:{chosen}"]
    title = f"negsim explore: {explorer.original.title or explorer.original.name}"
    try:
        server = pn.serve(
            {"/": lambda: session(explorer)},
            port=chosen,
            address=HOST,
            websocket_origin=origins,
            show=False,
            start=False,
            title=title,
            verbose=False,
            admin=False,
        )
    except OSError as exc:
        raise UserError(f"cannot serve on {HOST}:{chosen}: {exc.strerror or exc}") from None
    explorer.warm()
    server.start()
    say(f"negsim explore: {url} (Ctrl-C to stop)")
    if open_browser:
        with contextlib.suppress(webbrowser.Error):
            webbrowser.open(url)
    try:
        server.io_loop.start()
    finally:
        server.stop()
        explorer.close()


def notebook(explorer: Explorer) -> Page:
    """The same page, for a notebook cell (it shows itself inline): its first values computed
    before it is shown."""
    pn.extension(inline=True)  # the scripts go into the notebook, not fetched from a CDN
    page = Page(explorer, notebook=True)
    page.refresh_now()
    return page
