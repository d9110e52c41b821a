"""A second yardstick for bench/load.py: the least a JWT-authenticated ORM read can do.

Flask + Flask-SQLAlchemy + PyJWT and nothing else: verify an HS256 bearer token, load one
member row through the ORM, return four fields as JSON. No token-family check, no roles,
no scope, no schema, no error format, no request id. Our real object read does all of
those on top; the distance between this and the bare ceiling is what any authenticated
database read costs on the machine, whatever the application.
"""
import os

import jwt
from flask import Flask, abort, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import BigInteger, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Member(db.Model):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))


app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
db.init_app(app)
SECRET = os.environ["JWT_SECRET"]


@app.get("/minimal/members/<int:member_id>")
def member(member_id):
    header = request.headers.get("Authorization", "")
    try:
        jwt.decode(header.removeprefix("Bearer "), SECRET, algorithms=["HS256"],
                   options={"verify_aud": False})
    except jwt.PyJWTError:
        abort(401)
    row = db.session.get(Member, member_id)
    if row is None:
        abort(404)
    return jsonify(id=row.id, cooperative_id=row.cooperative_id, name=row.name,
                   status=row.status)
