"""HTML pages kassa serves: the sandbox 3DS page, the card widgets, the dashboard.

Templates (Jinja2, autoescaped) live in ``templates/``, the one stylesheet and the scripts in
``static/``; both ship as package data. Every page goes through ``pages.render``, which sets
the security headers (strict CSP with a per-response nonce, no caching, no framing unless a
page allows origins).
"""
