"""Entry point: `gunicorn wsgi:app`, `flask --app wsgi …`."""
from coop import create_app

app = create_app()
