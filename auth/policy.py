"""Authorization in one place.

Every route under /api/v1 declares its policy with `@access(roles, Model, "x_id")` or
`@public`; a test walks the URL map and fails on any route without one.

* Role check: the caller must hold one of `roles` somewhere, else 403 FORBIDDEN.
* Scope check: the object named in the path is loaded here and must lie inside the scope
  of one of those role assignments, else 404 NOT_FOUND (we do not confirm it exists).
* Lists: `scoped(stmt, Model)` adds the same scope rule to the query's WHERE clause.

An object's scope is read from three attributes models expose (columns or hybrid
properties): `county_id`, `cooperative_id`, `member_id`. A county role covers objects
whose `county_id` is its county; a cooperative role those whose `cooperative_id` is its
cooperative; the member role those whose `member_id` is its member record.
"""
from __future__ import annotations

import functools
from collections import namedtuple
from dataclasses import dataclass
from inspect import getattr_static as inspect_static

from flask import g, request
from sqlalchemy import and_, bindparam, false, inspect, or_, select, true
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import ColumnProperty, aliased

from auth.models import ROLES, RoleAssignment, TokenFamily, User
from auth.scopes import scope_model
from auth.tokens import decode
from coop.dbtypes import MAX_ID
from coop.errors import Forbidden, NotFound, Unauthorized
from coop.extensions import db

PUBLIC = "public"
ANY_USER = "any_user"
SCOPE_ATTR = {"county": "county_id", "cooperative": "cooperative_id", "member": "member_id",
              "city": "city_id"}

# Role groups routes use; kept here so the matrix of who-may-do-what reads in one file.
COUNTY_STAFF = ("county_admin", "county_finance", "county_reviewer")
# A city's viewer reads what every county role reads, in each county of its city, and
# writes nothing: CITY is in the read groups below and in no write group
# (tests/city/test_city_access.py holds every write route to that).
CITY = ("city_viewer",)
COUNTY = COUNTY_STAFF + CITY
COUNTY_ADMIN = ("county_admin",)
COUNTY_MONEY = ("county_admin", "county_finance")
COUNTY_FINANCE = ("county_finance",)
COOP_WRITE = ("coop_manager",)
COOP_READ = COUNTY + ("coop_manager", "commissioner")
MEMBER_READ = COOP_READ + ("member",)


@dataclass(frozen=True)
class Grant:
    role: str
    scope_type: str
    scope_id: int
    department: str = ""


@dataclass(frozen=True)
class Policy:
    roles: tuple | str
    model: type | None = None
    id_arg: str | None = None


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("请先登录", code="AUTH_REQUIRED")
    return token.strip()


def _caller_query(target=None, columns: tuple = ()):
    """An active user whose token family is live, with every role assignment (no row
    otherwise); with `target`, the row of that model whose id is `:id` beside each (the
    object, or only its `columns`).

    The checks are in the WHERE clause rather than columns to read back: on MariaDB every
    column of a result is a descriptor for the driver to parse, on every request. The
    object is outer-joined to the user first, on its id alone, so the caller's rows come
    whether or not it exists (joined later, SQLAlchemy's MySQL compiler would warn of a
    cartesian product it cannot see through)."""
    stmt = select(User.is_superuser, RoleAssignment.role, RoleAssignment.scope_type,
                  RoleAssignment.scope_id, RoleAssignment.department).select_from(User)
    if target is not None:
        stmt = (stmt.add_columns(*(columns or (target,)))
                .outerjoin(target, target.id == bindparam("id")))
    return (stmt.join(TokenFamily, and_(TokenFamily.user_id == User.id,
                                        TokenFamily.id == bindparam("family_id"),
                                        TokenFamily.revoked_at.is_(None)))
            .outerjoin(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(User.id == bindparam("user_id"), User.status == "active"))


# Built once: the statement and its compiled form are reused by every request.
_CALLER = _caller_query()
_CALLER_COLUMNS = len(_CALLER.selected_columns)


@dataclass(frozen=True)
class Caller:
    """Who is calling, as `authenticate` found them: enough to authorize without the ORM."""
    id: int
    is_superuser: bool


def _bearer_identity() -> tuple[int, int]:
    """(user id, token family id) of the request's bearer access token."""
    claims = decode(_bearer_token(), "access")
    g.token_claims = claims
    return int(claims["sub"]), claims["fam"]


def authenticate(load: tuple | None = None):
    """Resolve the bearer token to an active user whose token family is not revoked.

    One query, read as plain rows: the user, the token family and every role assignment
    (an outer join, so a user without roles still gets one row). This runs on every
    request, so it avoids ORM object loading; `current_user()` loads the ORM user only for
    the views that need it.

    With `load` = (model, id, columns) the object the path names comes in the same
    statement (`_caller_and`), and is returned (None if there is no such row): on
    MariaDB a statement is a network exchange the driver parses in Python, the largest
    single cost of an object read. Nothing of the object is looked at before the caller
    is known valid. With `columns`, what is returned is not an ORM object but a row of
    those columns (`shown_row`).
    """
    user_id, family_id = g.get("identity_source", _bearer_identity)()
    params = {"user_id": user_id, "family_id": family_id}
    if load is None:
        rows = _first_read(_CALLER, params)
    else:
        model, obj_id, columns = load
        stmt, shown = _caller_and(model, columns)
        rows = _first_read(stmt, {**params, "id": obj_id}, orm=shown is None)
    if not rows:
        raise Unauthorized("登录已失效，请重新登录", code="TOKEN_INVALID")
    g.caller = Caller(user_id, bool(rows[0].is_superuser))
    g.grants = _with_city_counties(tuple(Grant(r.role, r.scope_type, r.scope_id,
                                               r.department or "")
                                         for r in rows if r.role is not None))
    if load is None:
        return g.caller
    if shown is None:
        return rows[0][-1]
    values = rows[0][_CALLER_COLUMNS:]
    return None if values[0] is None else shown._make(values)


@functools.cache
def _caller_and(model, columns: tuple = ()):
    """The caller query with the object of `model` named by `:id`, built once; with
    `columns`, only those (and its id and scope's), and the row type they are read into.
    """
    # Aliased: the object may be of a table the caller query reads too (a user, a role).
    target = aliased(model)
    if not columns:
        return _caller_query(target), None
    shown = shown_row(model, columns)
    return _caller_query(target, tuple(getattr(target, name) for name in shown._fields)), shown


@functools.cache
def shown_row(model, columns: tuple):
    """The type of a read view's object: a named tuple of `columns` of `model`, its id
    (first) and its scope's columns, with the model's scope properties (`member_id` is
    a member's `id`) so that `in_scope` judges it as it judges the object.

    Not an ORM object: loading one costs more CPU than the whole statement's round trip
    on SQLite, and a good part of it on MariaDB (docs/performance.md). A view that reads
    a column it did not name fails with AttributeError in its first test, rather than
    showing nothing or costing a statement unseen.
    """
    mapper = inspect(model)
    scope = [attr for attr in SCOPE_ATTR.values()
             if isinstance(mapper.attrs.get(attr), ColumnProperty)]
    names = tuple(dict.fromkeys(["id", *(column.key for column in columns), *scope]))
    # A scope attribute that is not a column is a (hybrid) property of the others.
    properties = {attr: property(getter) for attr in SCOPE_ATTR.values() if attr not in names
                  and (getter := getattr(inspect_static(model, attr, None), "fget", None))}
    return type(f"{model.__name__}Shown", (namedtuple(f"{model.__name__}Row", names),),
                {"__slots__": (), **properties})


def _first_read(stmt, params, orm: bool = False) -> list:
    """The request's first statement, read again once if its pooled connection had been
    dropped (a server restart, a KILL, a failover, an idle timeout).

    Connections are not pinged on checkout (coop/__init__.py, `_engine_options`): a dead
    one shows itself here instead. SQLAlchemy then invalidates it and every connection the
    pool opened before it; nothing has been written yet, so the read simply runs again
    on a fresh connection.
    """
    def read():
        # ORM rows when the statement loads an object, plain rows straight from the
        # connection otherwise.
        return (db.session.execute(stmt, params) if orm
                else db.session.connection().execute(stmt, params)).all()

    try:
        return read()
    except DBAPIError as exc:
        session = db.session
        if not exc.connection_invalidated or session.new or session.dirty or session.deleted:
            raise
    db.session.rollback()
    return read()


def _with_city_counties(grants: tuple[Grant, ...]) -> tuple[Grant, ...]:
    """A city grant also covers each county of the city: the same role held on each
    county, so every scope check and scoped list treats the city's counties as the
    role's (one more query, for city viewers only)."""
    city_ids = {gr.scope_id for gr in grants if gr.scope_type == "city"}
    if not city_ids:
        return grants
    county = scope_model("county")
    rows = db.session.connection().execute(
        select(county.id, county.city_id).where(county.city_id.in_(city_ids))).all()
    return grants + tuple(Grant(gr.role, "county", county_id)
                          for gr in grants if gr.scope_type == "city"
                          for county_id, city_id in rows if city_id == gr.scope_id)


def caller() -> Caller:
    return g.caller


def current_user() -> User:
    """The calling user as an ORM object (loaded on first use: writes record who did it)."""
    user = g.get("user")
    if user is None:
        user = g.user = db.session.get(User, g.caller.id)
    return user


def grants_for(roles) -> tuple[Grant, ...]:
    """The caller's grants whose role is in `roles` (all grants for ANY_USER)."""
    grants = g.get("grants", ())
    if roles == ANY_USER:
        return grants
    return tuple(gr for gr in grants if gr.role in roles)


def covers(grant: Grant, obj) -> bool:
    attr = SCOPE_ATTR.get(grant.scope_type)
    return attr is not None and getattr(obj, attr, None) == grant.scope_id


def in_scope(obj, roles) -> bool:
    caller = g.get("caller")
    if caller is not None and caller.is_superuser:
        return True
    return any(covers(grant, obj) for grant in grants_for(roles))


def require_role(roles) -> None:
    if roles == ANY_USER or g.caller.is_superuser:
        return
    if not grants_for(roles):
        raise Forbidden()


def load_scoped(model, obj_id, roles=None):
    """Load `model` by id if it lies in the caller's scope for `roles`, else 404.

    Routes use it for ids named in a request body (a village, a member…); the object a
    path names comes with the caller (`access`).
    """
    roles = roles if roles is not None else g.get("policy_roles", ANY_USER)
    if not _valid_id(obj_id):
        raise NotFound()
    obj = db.session.execute(_by_id(model), {"id": obj_id}).scalar_one_or_none()
    if obj is None or not in_scope(obj, roles):
        raise NotFound()
    return obj


def _valid_id(obj_id) -> bool:
    return isinstance(obj_id, int) and not isinstance(obj_id, bool) and 0 < obj_id <= MAX_ID


@functools.cache
def _by_id(model):
    """`model` by its id, the statement built once: `session.get` builds and hashes one
    per call, a fair part of an object read's CPU (docs/performance.md)."""
    return select(model).where(model.id == bindparam("id"))


def scoped(stmt, model, roles=None):
    """Restrict a SELECT on `model` to the caller's scope, in SQL."""
    attrs, values = scope_of(model, roles)
    return stmt if attrs is None else stmt.where(scope_clause(model, attrs, values))


def scope_of(model, roles=None) -> tuple[tuple[str, ...] | None, dict]:
    """The caller's scope on `model` as (the scope attributes it filters on, their ids by
    bind parameter name); None for no restriction (a superuser). A list built once per
    shape (coop/pagination.py, PageQuery) keys on the attributes and binds the ids."""
    if g.caller.is_superuser:
        return None, {}
    roles = roles if roles is not None else g.get("policy_roles", ANY_USER)
    ids: dict[str, set] = {}
    for grant in grants_for(roles):
        attr = SCOPE_ATTR.get(grant.scope_type, "")
        if getattr(model, attr, None) is not None:
            ids.setdefault(attr, set()).add(grant.scope_id)
    return tuple(sorted(ids)), {f"scope_{attr}": sorted(v) for attr, v in ids.items()}


def scope_clause(model, attrs: tuple[str, ...] | None, values: dict | None = None):
    """The WHERE clause of a scope `scope_of` gave: its ids bound now from `values`, or
    left as parameters for each execution."""
    if attrs is None:
        return true()
    if not attrs:
        return false()
    return or_(*(getattr(model, attr).in_(
        bindparam(f"scope_{attr}", expanding=True,
                  **({"value": values[f"scope_{attr}"]} if values is not None else {})))
        for attr in attrs))


def has_grant(role: str, scope_type: str, scope_id: int, department: str | None = None) -> bool:
    return any(gr.role == role and gr.scope_type == scope_type and gr.scope_id == scope_id
               and (department is None or gr.department == department)
               for gr in g.get("grants", ()))


def require_reviewer_of(county_id: int, department: str) -> None:
    """A county_reviewer scores for their own department of their own county only (403)."""
    if not has_grant("county_reviewer", "county", county_id, department):
        raise Forbidden("只有该部门的考核人员可以评分")


def access(roles, model=None, id_arg: str | None = None, *, columns: tuple = ()):
    """Declare who may call a view; load and scope-check the object named by `id_arg`.

    The loaded object replaces the path argument, under its name without `_id`
    (`coop_id` → `coop`). Put it above the smorest decorators so 401/403/404 come
    before body validation. A read view that shows only some of the object's columns
    names them in `columns`: it gets a row of those (`shown_row`), not the ORM object,
    and the rest are not read (on MariaDB every column of a result costs the driver a
    descriptor to parse; tests/integration/test_round_trips.py checks the statement).
    """
    if roles not in (ANY_USER,):
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles {unknown}")
    if model is not None and id_arg is None:
        raise ValueError("access() with a model needs the path argument naming its id")

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if model is None:
                authenticate()
                require_role(roles)
                g.policy_roles = roles
                return view(*args, **kwargs)
            obj_id = kwargs.pop(id_arg)
            valid_id = _valid_id(obj_id)
            # 401, then 403, then 404: the object is judged only after its caller.
            obj = authenticate((model, obj_id, columns) if valid_id else None)
            require_role(roles)
            g.policy_roles = roles
            if not valid_id or obj is None or not in_scope(obj, roles):
                raise NotFound()
            kwargs[id_arg.removesuffix("_id")] = obj
            return view(*args, **kwargs)

        wrapper._policy = Policy(roles, model, id_arg)
        return wrapper

    return decorate


def public(view):
    """Mark a view as deliberately open (login, public notices, health)."""
    view._policy = Policy(PUBLIC)
    return view


def policy_of(view) -> Policy | None:
    return getattr(view, "_policy", None)
