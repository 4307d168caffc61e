"""The server-rendered web UI: layout, templates, static assets."""
