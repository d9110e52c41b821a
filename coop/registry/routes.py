"""HTTP routes of the registry capability: parse, call the service, serialize.

Who may do what (CONTRACT §3, §4):
* county_admin registers cooperatives, changes their status, pairs commissioners, and
  may PATCH every cooperative field;
* the cooperative's coop_manager may PATCH its charter fields only (分配方式, 折股率,
  持股上限…), and keeps its officers, managers and member register;
* county roles and commissioners read; a `member` reads only their own member record.
Officer, manager and commissioner routes live in board_routes.py, member routes in
member_routes.py; all hang on this module's `blp`.
"""
from __future__ import annotations


from flask.views import MethodView

from auth.policy import (COOP_READ, COOP_WRITE, COUNTY_ADMIN, access, current_user,
                         in_scope, load_scoped, scoped)
from coop.errors import Forbidden
from coop.extensions import db
from coop.pagination import PageArgs, page_schema, paginate
from coop.places.models import Village, Zone
from coop.registry import lifecycle
from coop.registry.blueprint import blp
from coop.registry.cooperatives import (REGISTRATION_FIELDS, create_cooperative,
                                        filter_cooperatives, update_cooperative)
from coop.registry.models import Cooperative
from coop.registry.schemas import (CooperativeIn, CooperativeListArgs, CooperativeOut,
                                   CooperativePatch, StatusChangeIn, StatusChangeOut)


@blp.route("/cooperatives")
class Cooperatives(MethodView):
    @access(COOP_READ)
    @blp.arguments(CooperativeListArgs, location="query")
    @blp.response(200, page_schema(CooperativeOut))
    def get(self, args):
        """List cooperatives in the caller's scope (filters: county, town, status, name)."""
        page, per_page = args.pop("page"), args.pop("per_page")
        stmt = filter_cooperatives(scoped(db.select(Cooperative), Cooperative), **args)
        return paginate(db.session, stmt, page, per_page)

    @access(COUNTY_ADMIN)
    @blp.arguments(CooperativeIn)
    @blp.response(201, CooperativeOut)
    def post(self, data):
        """Register a cooperative in the caller's county (county_admin)."""
        village = load_scoped(Village, data.pop("village_id"))
        zone_id = data.pop("zone_id", None)
        zone = load_scoped(Zone, zone_id) if zone_id is not None else None
        return create_cooperative(db.session, current_user(), data, village, zone)


@blp.route("/cooperatives/<int:coop_id>")
class CooperativeItem(MethodView):
    @access(COOP_READ, Cooperative, "coop_id")
    @blp.response(200, CooperativeOut)
    def get(self, coop):
        return coop

    @access(COUNTY_ADMIN + COOP_WRITE, Cooperative, "coop_id")
    @blp.arguments(CooperativePatch)
    @blp.response(200, CooperativeOut)
    def patch(self, data, coop):
        """Change registration fields (county_admin) or charter settings (also the
        cooperative's manager). Status changes: POST …/status-changes."""
        if set(data) & set(REGISTRATION_FIELDS) and not in_scope(coop, COUNTY_ADMIN):
            raise Forbidden("只有县级管理员可以修改合作社登记信息（名称、信用代码、所在村、片区、成立日期）")
        village = load_scoped(Village, data["village_id"]) if "village_id" in data else None
        zone = load_scoped(Zone, data["zone_id"]) if data.get("zone_id") is not None else None
        return update_cooperative(db.session, current_user(), coop, data, village, zone)


@blp.route("/cooperatives/<int:coop_id>/status-changes")
class StatusChanges(MethodView):
    @access(COOP_READ, Cooperative, "coop_id")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(StatusChangeOut))
    def get(self, args, coop):
        """The lifecycle history of the cooperative, oldest first."""
        return paginate(db.session, lifecycle.history_query(coop), args["page"],
                        args["per_page"])

    @access(COUNTY_ADMIN, Cooperative, "coop_id")
    @blp.arguments(StatusChangeIn)
    @blp.response(201, StatusChangeOut)
    def post(self, data, coop):
        """Move the cooperative along its lifecycle; an illegal step is 409 STATE_CONFLICT.
        `effective_on` (default today) records a change made earlier (a past campaign)."""
        target_id = data.get("merged_into_id")
        target = load_scoped(Cooperative, target_id) if target_id is not None else None
        return lifecycle.change_status(db.session, current_user(), coop, data["to"],
                                       data["reason"], target, data.get("effective_on"))
