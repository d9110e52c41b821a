"""The ceiling for bench/load.py: a bare Flask JSON endpoint, no auth, no database.

Served by the same gunicorn.conf.py as the real app, so the ratio real/ceiling shows what
our authentication, ORM and serialization cost on top of Flask itself.
"""
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/ceiling")
def ceiling():
    return jsonify(id=1, name="张三", total_fen=123456, status="active")
