"""The papers outside Discord: a static site with Atom feeds (`paperbot export-site`),
and the same pages served live by `paperbot run` when HTTP_PORT is set.

`pages.SitePages` reads the store through the `SiteReader` port and renders each page
(`html.py` with Jinja2 templates, `atom.py` for the feeds); `export.py` writes them all
to a folder and `server.py` serves them one request at a time.
"""
