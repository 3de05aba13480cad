"""A link as an identity: the same article behind differently written links is one item.

Feeds link one article with tracking parameters, default ports or fragments that differ from
round to round; `normalise_url` drops them, so an item is known again by its link.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_RE = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|ocid|xtor|wt_mc|wt_zmc|"
    r"at_medium|at_campaign|ref_src|_ga)$", re.IGNORECASE)


def normalise_url(url: str) -> str:
    """A link as an identity: lower-case scheme and host, no default port, no fragment, no
    tracking parameters (utm_*, fbclid, ...)."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, {"http": 80, "https": 443}.get(scheme)) else f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not TRACKING_RE.match(k)])
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))
