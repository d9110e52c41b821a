"""gunicorn settings; `gunicorn -c gunicorn.conf.py wsgi:app`. Environment overrides.

Worker class and count come from `bench/load.py --sweep` on the 2-core machine: sync
workers, one request at a time each, beat gthread at every count we tried (the work is
CPU-bound Python; threads only add GIL hand-offs), and CPUs + 1 workers beat 2 × CPUs + 1
(more processes than cores just queue). nginx in front buffers slow clients, so a sync
worker never waits on a phone's network. docs/performance.md has the numbers.
"""
import gc
import multiprocessing
import os

# gunicorn writes the access log below (JSON, with the request id): the app's own
# per-request line would only repeat it.
os.environ.setdefault("REQUEST_LOG", "0")

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = 5
# Recycle workers now and then; with the app preloaded a new worker is a fork (ms), not a
# second of imports during which its share of requests waits.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 10000))
max_requests_jitter = 500
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
access_log_format = (
    '{"time":"%(t)s","remote":"%(h)s","method":"%(m)s","path":"%(U)s","query":"%(q)s",'
    '"status":%(s)s,"bytes":"%(B)s","ms":%(M)s,"request_id":"%({x-request-id}o)s",'
    '"agent":"%(a)s"}')
errorlog = "-"


def post_fork(server, worker):
    """Database connections must not cross a fork: drop any the master's pools hold (the
    app opens none at import, this is the guard), so each worker opens its own."""
    app = getattr(server.app, "callable", None)
    if app is None or "sqlalchemy" not in getattr(app, "extensions", {}):
        return
    db = app.extensions["sqlalchemy"]
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def pre_fork(server, worker):
    """Freeze what the preloaded app built (modules, mappers, schemas: most of a worker's
    objects) before the fork. Python's collector then never walks them again: a full
    collection that lands in a request walks only what requests made, not the whole app
    (docs/performance.md, "CPU per request"), and the collector does not touch, and so
    copy, the pages the workers share with the master."""
    gc.freeze()
