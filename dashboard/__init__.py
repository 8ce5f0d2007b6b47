"""Server-rendered pages for runs, screenshot review, releases, web parity and devices."""
