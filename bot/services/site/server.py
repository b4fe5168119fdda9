"""The site served live (`paperbot run` with HTTP_PORT set): the same pages and feeds as
`paperbot export-site`, read from the store on request, over aiohttp."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.services.site.pages import SitePages

log = logging.getLogger("paperbot.site")


class SiteServer:
    """Serves `pages` on host:port (port 0: any free port; `port` says which) until
    `stop`. GET and HEAD only; 404 for a page the site does not have."""

    def __init__(self, pages: SitePages, host: str, port: int) -> None:
        self.pages = pages
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{path:.*}", self._handle)  # HEAD too
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        if path.endswith("/"):
            path += "index.html"  # a folder's index, as a static host serves it
        page = await self.pages.page(path)
        if page is None:
            raise web.HTTPNotFound(text="No such page.\n")
        return web.Response(body=page.body, headers={"Content-Type": page.content_type})

    async def start(self) -> None:
        """Bind and start serving; an OSError (the port is taken) leaves nothing open."""
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = _bound_port(runner, self.port)
        log.info("serving the site on http://%s:%d/", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()


def _bound_port(runner: web.AppRunner, asked: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return asked
