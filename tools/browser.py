"""Open pages of the course site in headless Chromium and report what a reader would see.

A small Chrome DevTools Protocol client (``websocket-client``, already installed with Jupyter): it
starts ``chromium --headless``, loads each page from disk, waits for MathJax to finish, and reports

* every request the page made that left the site (http(s) anywhere: the site must work offline),
* every request that failed (a 404 on a font or a script, a missing figure),
* "[Math Processing Error]" and TeX left unrendered on the page (``\\(``, ``\\[``, ``$..$`` outside code),
* images that did not load.

Usage::

    python tools/browser.py site/student/lectures/01_random_data_and_hmin.html [--shot out.png]

Chromium comes from Debian (``apt-get install chromium``); ``find_chromium()`` returns None without it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome-error:")

_INSPECT = r"""
(() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('pre, code, script, style, .MathJax_Preview, .highlight').forEach(e => e.remove());
  const text = body.innerText || body.textContent;
  const unrendered = [];
  const re = /\\\(|\\\[|\$[^$\s][^$\n]{0,200}?\$/g;
  let m; while ((m = re.exec(text)) !== null && unrendered.length < 10) {
    unrendered.push(text.slice(Math.max(0, m.index - 40), m.index + 60));
  }
  const imgs = Array.from(document.images);
  return JSON.stringify({
    title: document.title,
    text: document.body.innerText,
    math_errors: (document.body.innerText.match(/\[Math Processing Error\]/g) || []).length
                 + document.querySelectorAll('.MathJax_Error, merror').length,
    unrendered: unrendered,
    math_rendered: document.querySelectorAll('.MathJax, .MathJax_Display, mjx-container').length,
    images: imgs.length,
    broken_images: imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
  });
})()
"""

_MATHJAX_DONE = r"""
new Promise(resolve => {
  const t0 = Date.now();
  (function wait() {
    if (window.MathJax && window.MathJax.Hub && window.MathJax.Hub.Queue) {
      window.MathJax.Hub.Queue(() => resolve('done'));
    } else if (!document.querySelector('script[src*="MathJax"]') || Date.now() - t0 > 20000) {
      resolve('no-mathjax');
    } else { setTimeout(wait, 100); }
  })();
})
"""


def find_chromium() -> str | None:
    """The path of a Chromium/Chrome executable, or None."""
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageReport:
    url: str
    title: str = ""
    text: str = ""
    math_errors: int = 0
    math_rendered: int = 0
    unrendered: list = field(default_factory=list)
    images: int = 0
    broken_images: list = field(default_factory=list)
    external_requests: list = field(default_factory=list)
    failed_requests: list = field(default_factory=list)
    mathjax: str = ""

    def problems(self) -> list[str]:
        """Everything wrong with the page, one line each (empty: the page is fine)."""
        out = []
        if self.math_errors:
            out.append(f"{self.math_errors} math processing error(s)")
        out += [f"unrendered TeX: ...{u}..." for u in self.unrendered]
        out += [f"image did not load: {u}" for u in self.broken_images]
        out += [f"request outside the site: {u}" for u in self.external_requests]
        out += [f"request failed: {u}" for u in self.failed_requests]
        if not self.title or self.title.strip().lower() in {"notebook", "untitled"}:
            out.append(f"page title is {self.title!r}")
        return out


class Browser:
    """One headless Chromium with a DevTools connection; use as a context manager."""

    def __init__(self, executable: str | None = None, *, width: int = 1300, height: int = 1800):
        import websocket  # websocket-client

        self.executable = executable or find_chromium()
        if self.executable is None:
            raise FileNotFoundError("no chromium found (Debian: apt-get install chromium)")
        self._profile = tempfile.mkdtemp(prefix="hmin-chromium-")
        self._proc = subprocess.Popen(
            [self.executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-default-apps", "--allow-file-access-from-files", "--remote-debugging-port=0",
             f"--user-data-dir={self._profile}", f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self._profile) / "DevToolsActivePort"
        deadline = time.time() + 60
        while not port_file.exists() or len(port_file.read_text().splitlines()) < 2:
            if time.time() > deadline or self._proc.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port, path = port_file.read_text().splitlines()[:2]
        self._ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=60, suppress_origin=True)
        self._id = 0
        self._events: list = []
        target = self._call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self._call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Network", "Runtime"):
            self._call(f"{domain}.enable", session=True)
        self._call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=height,
                   deviceScaleFactor=1, mobile=False)

    def _call(self, method, session=False, **params):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self._session
        self._ws.send(json.dumps(msg))
        while True:
            reply = json.loads(self._ws.recv())
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def _wait_event(self, name, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for k, ev in enumerate(self._events):
                if ev.get("method") == name:
                    del self._events[: k + 1]
                    return ev
            self._events.append(json.loads(self._ws.recv()))
        raise TimeoutError(name)

    def open(self, url: str, *, screenshot: Path | None = None, site_root: str | None = None) -> PageReport:
        """Load ``url`` (``file://`` or http), wait for MathJax, and inspect the page.

        ``site_root``: a URL prefix; requests under it are the site's own (default: file:// only).
        """
        self._events.clear()
        self._call("Page.navigate", session=True, url=url)
        self._wait_event("Page.loadEventFired")
        mj = self._call("Runtime.evaluate", session=True, expression=_MATHJAX_DONE, awaitPromise=True,
                        returnByValue=True)["result"].get("value", "")
        time.sleep(0.3)
        data = json.loads(self._call("Runtime.evaluate", session=True, expression=_INSPECT,
                                     returnByValue=True)["result"]["value"])
        rep = PageReport(url=url, mathjax=mj, **data)
        self._call("Runtime.evaluate", session=True, expression="1")  # drain pending events
        requests = {}
        for ev in self._events:
            p = ev.get("params", {})
            if ev.get("method") == "Network.requestWillBeSent":
                requests[p["requestId"]] = p["request"]["url"]
                u = p["request"]["url"]
                own = u.startswith(LOCAL_SCHEMES) or (site_root is not None and u.startswith(site_root))
                if not own:
                    rep.external_requests.append(u)
            elif ev.get("method") == "Network.loadingFailed" and not requests.get(p["requestId"], "").startswith("about:"):
                rep.failed_requests.append(f"{requests.get(p['requestId'], '?')} ({p.get('errorText')})")
            elif ev.get("method") == "Network.responseReceived" and p["response"].get("status", 200) >= 400:
                rep.failed_requests.append(f"{p['response']['url']} (HTTP {p['response']['status']})")
        if screenshot is not None:
            shot = self._call("Page.captureScreenshot", session=True, format="png")
            import base64

            Path(screenshot).write_bytes(base64.b64decode(shot["data"]))
        return rep

    def close(self):
        try:
            if getattr(self, "_ws", None) is not None:
                self._ws.close()
        finally:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(10)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
            shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python tools/browser.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("pages", nargs="+", help="HTML files")
    ap.add_argument("--shot", help="screenshot of the last page (PNG)")
    a = ap.parse_args(argv)
    if find_chromium() is None:
        print("error: no chromium found (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    bad = 0
    with Browser() as b:
        for k, page in enumerate(a.pages):
            rep = b.open(Path(page).resolve().as_uri(), screenshot=a.shot if k == len(a.pages) - 1 else None)
            problems = rep.problems()
            bad += bool(problems)
            print(f"{page}: {rep.title!r}, {rep.math_rendered} formulas, {rep.images} images, mathjax {rep.mathjax}"
                  + "".join(f"\n  - {p}" for p in problems))
    return 1 if bad else 0


if __name__ == "__main__":
    os.environ.setdefault("DBUS_SESSION_BUS_ADDRESS", "disabled:")
    sys.exit(main())
