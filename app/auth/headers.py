"""Security headers on every response, by flask-talisman.

The Content-Security-Policy allows scripts, styles, images, fonts and requests from
our own origin only: no inline <script>, no style="" attributes, no eval (htmx is
told not to use it, and not to inject its indicator <style>; see base.html). Nothing
may frame the dashboard, so a click-jacking page cannot put it under a decoy.
"""

from __future__ import annotations

from flask import Flask
from flask_talisman import Talisman

SELF = "'self'"

CONTENT_SECURITY_POLICY = {
    "default-src": SELF,
    "script-src": SELF,
    "style-src": SELF,
    "img-src": SELF,
    "font-src": SELF,
    "connect-src": SELF,
    "form-action": SELF,
    "base-uri": SELF,
    "object-src": "'none'",
    "frame-ancestors": "'none'",
}

# Features the dashboard never uses; a script that got in cannot use them either.
PERMISSIONS_POLICY = {
    "camera": "()",
    "microphone": "()",
    "geolocation": "()",
    "payment": "()",
    "usb": "()",
    "browsing-topics": "()",
}

# Reachable over plain HTTP even when HTTPS is forced: load balancers and systemd probe it so.
PLAIN_HTTP_ENDPOINTS = ("main.healthz",)


def init_security_headers(app: Flask) -> Talisman:
    """One Talisman per app: it keeps its options (and the app) on the instance."""
    config = app.config
    talisman = Talisman(
        app,
        force_https=config["FORCE_HTTPS"],
        strict_transport_security=True,  # sent on HTTPS responses only
        strict_transport_security_max_age=config["HSTS_SECONDS"],
        strict_transport_security_include_subdomains=False,
        content_security_policy=CONTENT_SECURITY_POLICY,
        permissions_policy=PERMISSIONS_POLICY,
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        session_cookie_secure=config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=config["SESSION_COOKIE_HTTPONLY"],
        session_cookie_samesite=config["SESSION_COOKIE_SAMESITE"],
    )
    for endpoint in PLAIN_HTTP_ENDPOINTS:
        view = app.view_functions.get(endpoint)
        if view is not None:
            view.talisman_view_options = {"force_https": False}
    app.extensions["talisman"] = talisman
    return talisman
