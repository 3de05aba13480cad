"""A small news site on 127.0.0.1 for the feed tests: an RSS and an Atom feed listing the same
articles, article pages wrapped in realistic boilerplate, and broken cases."""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HUGE = b"<rss>" + b" " * 6_000_000  # over the 5 MB cap
BOMB = gzip.compress(b"\0" * 60_000_000, compresslevel=9)  # ~60 KB that unpack to 60 MB
BOILERPLATE_WORDS = ["Startseite", "Cookies", "Lesen Sie auch", "Impressum", "Newsletter"]

STREIK = (
    "Die Lokführergewerkschaft Quarzfeld hat für Donnerstag einen neuen Streik im "
    "Personenverkehr angekündigt. Betroffen sind vor allem Pendler in Nordrhein-Westfalen und "
    "Bayern, teilte die Gewerkschaft am Montag in Frankfurt mit.",
    "Seit Monaten verhandeln Bahn und Gewerkschaft über kürzere Arbeitszeiten. Die "
    "Gewerkschaft fordert die 35-Stunden-Woche bei vollem Lohnausgleich, die Bahn lehnt das "
    "bisher ab und verweist auf den Fachkräftemangel.",
)
HITZE = (
    "In Ihringen am Kaiserstuhl sind am Sonntag 39,8 Grad gemessen worden, so viel wie noch "
    "nie an einem Junitag in Baden-Württemberg. Der Wetterdienst warnte vor starker "
    "Wärmebelastung im ganzen Südwesten.",
    "Die Hitze soll bis Mittwoch anhalten. Erst zum Wochenende bringen Gewitter von Westen "
    "her etwas Abkühlung, sagte ein Sprecher des Wetterdienstes in Offenbach.",
)
SUMMARY_ONLY = (
    "Der Stadtrat von Ulmenau hat am Dienstagabend den Bau einer neuen Seilbahn über den "
    "Fluss beschlossen. Die Bahn soll ab 2027 bis zu 3000 Fahrgäste pro Stunde befördern und "
    "rund 40 Millionen Euro kosten, teilte die Stadtverwaltung mit."
)


def page(title: str, paragraphs: tuple[str, ...], date: str = "2025-06-02") -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">
<title>{title} | Tagesblatt</title>
<meta property="og:site_name" content="Tagesblatt">
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="{date}T08:00:00+02:00">
</head><body>
<header><nav><ul><li><a href="/">Startseite</a></li><li><a href="/politik">Politik</a></li>
<li><a href="/wirtschaft">Wirtschaft</a></li><li><a href="/sport">Sport</a></li></ul></nav></header>
<div id="cookie-banner" class="cookie-consent">Wir verwenden Cookies, um Ihnen das beste
Erlebnis zu bieten. <button>Alle akzeptieren</button> <button>Einstellungen</button></div>
<main><article><h1>{title}</h1><p class="byline">Von Anna Schmidt</p>{body}</article>
<aside class="read-more teaser"><h3>Lesen Sie auch</h3><ul>
<li><a href="/a">Lesen Sie auch: Zehn Tipps fürs Homeoffice</a></li>
<li><a href="/b">Lesen Sie auch: So sparen Sie Strom im Winter</a></li></ul></aside></main>
<footer><p>Newsletter abonnieren</p><a href="/impressum">Impressum</a> |
<a href="/datenschutz">Datenschutz</a> | © 2025 Tagesblatt</footer></body></html>""".encode()


def rss(base: str, items: list[dict]) -> bytes:
    entries = "".join(
        f"<item><title>{i['title']}</title><link>"
        f"{i.get('link') or base + i['path'] + '?utm_source=rss&amp;utm_medium=feed#top'}"
        f"</link><guid isPermaLink=\"false\">rss-{i['path']}</guid>"
        f"<pubDate>{i['pub']}</pubDate><description><![CDATA[{i.get('summary', '')}]]>"
        "</description></item>" for i in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Tagesblatt</title><link>{base}/</link>{entries}</channel></rss>").encode()


def atom(base: str, items: list[dict]) -> bytes:
    entries = "".join(
        f"<entry><title>{i['title']}</title><link href=\"{base.upper().replace('HTTP', 'http')}"
        f"{i['path']}\"/><id>tag:tagesblatt,2025:{i['path']}</id><updated>{i['updated']}"
        f"</updated><summary>{i.get('summary', '')}</summary></entry>" for i in items)
    return ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Tagesblatt</title><id>tag:tagesblatt</id><updated>2025-06-02T08:00:00Z"
            f"</updated>{entries}</feed>").encode()


class Site:
    """The site's routes: path → (status, headers, body); change them between rounds."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        handler = type("Handler", (_Handler,), {"site": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.items = [
            {"title": "Neuer Bahnstreik am Donnerstag", "path": "/artikel/bahnstreik",
             "pub": "Mon, 02 Jun 2025 08:00:00 +0200", "updated": "2025-06-02T06:00:00Z"},
            {"title": "Hitzerekord in Ihringen", "path": "/artikel/hitze",
             "pub": "Mon, 02 Jun 2025 09:00:00 +0200", "updated": "2025-06-02T07:00:00Z"},
            {"title": "Seilbahn für Ulmenau", "path": "/artikel/seilbahn",
             "pub": "Mon, 02 Jun 2025 10:00:00 +0200", "updated": "2025-06-02T08:00:00Z",
             "summary": f"<p>{SUMMARY_ONLY}</p>"},
            {"title": "Kurzmeldung", "path": "/artikel/kurz",
             "pub": "Mon, 02 Jun 2025 11:00:00 +0200", "updated": "2025-06-02T09:00:00Z",
             "summary": "Mehr in Kürze."},
        ]
        html = {"Content-Type": "text/html; charset=utf-8"}
        self.routes.update({
            "/artikel/bahnstreik": (200, html, page("Neuer Bahnstreik am Donnerstag", STREIK)),
            "/artikel/hitze": (200, html, page("Hitzerekord in Ihringen", HITZE)),
            "/artikel/seilbahn": (404, html, b"<html><body>Nicht gefunden</body></html>"),
            "/artikel/kurz": (200, html, b"<html><body><nav><a href='/'>Startseite</a></nav>"
                              b"<p>Mehr in K\xc3\xbcrze.</p></body></html>"),
            "/broken.xml": (200, {"Content-Type": "application/rss+xml"},
                            b"<<<this is <not xml & at all"),
            "/huge.xml": (200, {"Content-Type": "application/rss+xml"}, HUGE),
            "/bomb.xml": (200, {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"},
                          BOMB),
            "/loop": (302, {"Location": "/loop"}, b""),
        })
        self.publish()

    def publish(self) -> None:
        """(Re)build both feeds from `items`."""
        self.routes["/rss.xml"] = (200, {"Content-Type": "application/rss+xml"},
                                   rss(self.base, self.items))
        self.routes["/atom.xml"] = (200, {"Content-Type": "application/atom+xml"},
                                    atom(self.base, self.items))

    def url(self, path: str) -> str:
        return self.base + path

    def start(self) -> Site:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    site: Site

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?")[0].split("#")[0]
        self.site.requests.append((self.path, dict(self.headers)))
        if path == "/slow":
            time.sleep(3)
        status, headers, body = self.site.routes.get(path, (404, {}, b"not found"))
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if status == 200 and self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if status == 200:
            self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
