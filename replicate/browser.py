"""A real browser for the site's test: headless Chromium driven over the DevTools protocol (no Selenium, no driver).

``Chromium()`` starts Debian's ``chromium-headless-shell`` (or ``chromium``; ``$CHROMIUM`` names another binary) with
a throw-away profile and a DevTools port, and talks to its page over one websocket (``websocket-client``).
:meth:`Chromium.visit` loads a URL and reports what a reader would meet there: every image (loaded or broken), every
link and the HTTP status a ``fetch`` of it gets from the page itself, every request the page made that failed, and
whether the site's stylesheet applied; :meth:`Chromium.screenshot` saves the page as a PNG.

``make test-site`` installs the browser (Debian's package, root needed) and runs ``tests/test_site.py``; ``make test``
installs it where it can, and the browser test says why it was skipped where it could not.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from .errors import MissingInputError

#: Debian's packages, the lighter first
BINARIES = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")

#: what the page reports about itself once loaded: images, links (each fetched from the page), the stylesheet
PAGE_REPORT = """
(async () => {
  const images = [...document.images].map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0}));
  const hrefs = [...new Set([...document.querySelectorAll('a[href]')].map(a => a.href.split('#')[0]))];
  const links = await Promise.all(hrefs.map(h => fetch(h).then(r => ({href: h, status: r.status}),
                                                              e => ({href: h, status: String(e)}))));
  const header = document.querySelector('header');
  return JSON.stringify({title: document.title, images, links,
                         styled: header ? getComputedStyle(header).backgroundColor : null,
                         text: document.body.innerText.length});
})()
"""


def find_chromium() -> str | None:
    """The browser binary: ``$CHROMIUM``, else the first of :data:`BINARIES` on PATH, else None."""
    named = os.environ.get("CHROMIUM")
    if named:
        return shutil.which(named)
    return next((found for found in map(shutil.which, BINARIES) if found), None)


class Chromium:
    """One headless Chromium with one page; use as a context manager (the process and its profile go at exit)."""

    def __init__(self, binary: str | None = None, width: int = 1280, height: int = 900, timeout: float = 30.0):
        self.binary = binary or find_chromium()
        if self.binary is None:
            raise MissingInputError(f"no Chromium on PATH (looked for {', '.join(BINARIES)}): `make test-site` "
                                    "installs Debian's chromium-headless-shell, or set CHROMIUM to a browser binary")
        self.size, self.timeout = (width, height), timeout
        self._next_id, self.failed_requests, self._urls = 0, [], {}

    def __enter__(self) -> "Chromium":
        import websocket

        self._profile = tempfile.mkdtemp(prefix="chromium-profile-")
        args = [self.binary, "--headless", "--no-sandbox",  # --no-sandbox: the test may run as root (CI here does)
                "--disable-gpu", "--no-first-run", "--disable-extensions", "--remote-debugging-port=0",
                f"--user-data-dir={self._profile}", f"--window-size={self.size[0]},{self.size[1]}", "about:blank"]
        # its own process group: Chromium's renderer and GPU processes outlive a terminated browser process
        self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         start_new_session=True)
        port_file, deadline = Path(self._profile) / "DevToolsActivePort", time.monotonic() + self.timeout
        while not (port_file.is_file() and port_file.read_text().strip()):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"{self.binary} did not open its DevTools port (exit code {self._process.poll()})")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=self.timeout) as r:
            page = next(t for t in json.load(r) if t["type"] == "page")
        # suppress_origin: Chromium refuses DevTools websockets that send an Origin it was not told to allow
        self._ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=self.timeout, suppress_origin=True)
        for domain in ("Page", "Network", "Runtime"):
            self.send(f"{domain}.enable")
        return self

    def __exit__(self, *exc) -> None:
        if getattr(self, "_ws", None) is not None:
            self._ws.close()
        try:
            os.killpg(self._process.pid, signal.SIGTERM)
            self._process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        try:  # what is left of the group (renderers outlive the browser process by a moment)
            os.killpg(self._process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._process.wait()
        shutil.rmtree(self._profile, ignore_errors=True)

    def send(self, method: str, **params) -> dict:
        """One DevTools command; the events that arrive before its answer are kept (failed requests) or dropped."""
        self._next_id += 1
        self._ws.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        return self._until(lambda m: m.get("id") == self._next_id)

    def _until(self, done) -> dict:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            message = json.loads(self._ws.recv())
            event, params = message.get("method"), message.get("params", {})
            if event == "Network.requestWillBeSent":
                self._urls[params["requestId"]] = params["request"]["url"]
            elif event == "Network.responseReceived" and params.get("type") == "Document":
                self.document_status = params["response"]["status"]
            elif event == "Network.loadingFailed":
                self.failed_requests.append({"url": self._urls.get(params["requestId"]), "error": params.get("errorText")})
            if done(message):
                if "error" in message:
                    raise RuntimeError(f"DevTools: {message['error']}")
                return message.get("result", message.get("params", {}))
        raise TimeoutError(f"no answer from {self.binary} within {self.timeout} s")

    def visit(self, url: str) -> dict:
        """Load ``url``, wait for its load event, and return :data:`PAGE_REPORT`'s findings plus the page's own HTTP
        ``status`` (None for a file:// URL) and ``failed_requests`` (requests of this page that failed: a missing
        stylesheet or image, a blocked script)."""
        self.failed_requests, self.document_status = [], None
        self.send("Page.navigate", url=url)
        self._until(lambda m: m.get("method") == "Page.loadEventFired")
        result = self.send("Runtime.evaluate", expression=PAGE_REPORT, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"the page report failed on {url}: {result['exceptionDetails']}")
        found = json.loads(result["result"]["value"])
        found["failed_requests"], found["status"] = list(self.failed_requests), self.document_status
        return found

    def screenshot(self, path: os.PathLike | str) -> Path:
        """The page as a PNG at ``path``."""
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path = Path(path)
        path.write_bytes(base64.b64decode(data))
        return path
