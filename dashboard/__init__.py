"""Server-rendered pages (jinja2 + htmx, live updates over server-sent events) for runs,
screenshot review and devices, with sign-in, roles and CSRF; installable as a PWA.

`install(app)` adds the pages under `/` to the service's FastAPI app (the API stays under `/api`)."""

from dashboard.app import install

__all__ = ["install"]
