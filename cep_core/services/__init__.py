"""Use cases: what the web app, the CLI and embedding portals call. No web code here."""
