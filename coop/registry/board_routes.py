"""Officers, professional managers and commissioners of a cooperative (CONTRACT §3).

Phones are shown in full only to the cooperative's own manager; ID cards always masked.
"""
from __future__ import annotations

from flask.views import MethodView

from auth.policy import COOP_READ, COOP_WRITE, COUNTY_ADMIN, access, current_user, in_scope
import coop.clock as clock
from coop.extensions import db
from coop.pagination import PageArgs, page_schema, paginate, present
from coop.registry import board
from coop.registry.blueprint import blp
from coop.registry.models import Cooperative, Officer, ProfessionalManager
from coop.registry.schemas import (CommissionerIn, CommissionerOut, ManagerIn, ManagerOut,
                                   ManagerPatch, OfficerIn, OfficerOut, OfficerPatch)


def _reveal(obj) -> bool:
    return in_scope(obj, COOP_WRITE)


@blp.route("/cooperatives/<int:coop_id>/officers")
class Officers(MethodView):
    @access(COOP_READ, Cooperative, "coop_id")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(OfficerOut))
    def get(self, args, coop):
        """Board, supervisory board and accountant, past and present."""
        stmt = (db.select(Officer).where(Officer.cooperative_id == coop.id)
                .order_by(Officer.start_on.desc(), Officer.id))
        reveal, today = _reveal(coop), clock.today()
        return present(paginate(db.session, stmt, args["page"], args["per_page"]),
                       lambda officer: board.officer_view(officer, reveal, today))

    @access(COOP_WRITE, Cooperative, "coop_id")
    @blp.arguments(OfficerIn)
    @blp.response(201, OfficerOut)
    def post(self, data, coop):
        officer = board.add_officer(db.session, current_user(), coop, data)
        return board.officer_view(officer, True, clock.today())


@blp.route("/officers/<int:officer_id>")
class OfficerItem(MethodView):
    @access(COOP_READ, Officer, "officer_id")
    @blp.response(200, OfficerOut)
    def get(self, officer):
        return board.officer_view(officer, _reveal(officer), clock.today())

    @access(COOP_WRITE, Officer, "officer_id")
    @blp.arguments(OfficerPatch)
    @blp.response(200, OfficerOut)
    def patch(self, data, officer):
        """End a term, or correct the village-committee flag or the phone."""
        officer = board.update_officer(db.session, current_user(), officer, data)
        return board.officer_view(officer, True, clock.today())


@blp.route("/cooperatives/<int:coop_id>/managers")
class Managers(MethodView):
    @access(COOP_READ, Cooperative, "coop_id")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(ManagerOut))
    def get(self, args, coop):
        """Professional managers (职业经理人) and their contracts."""
        stmt = (db.select(ProfessionalManager)
                .where(ProfessionalManager.cooperative_id == coop.id)
                .order_by(ProfessionalManager.contract_start.desc(), ProfessionalManager.id))
        reveal = _reveal(coop)
        return present(paginate(db.session, stmt, args["page"], args["per_page"]),
                       lambda manager: board.manager_view(manager, reveal))

    @access(COOP_WRITE, Cooperative, "coop_id")
    @blp.arguments(ManagerIn)
    @blp.response(201, ManagerOut)
    def post(self, data, coop):
        """Record a contract; overlapping contracts of one person → 422 CONTRACT_OVERLAP."""
        return board.manager_view(board.add_manager(db.session, current_user(), coop, data),
                                  True)


@blp.route("/managers/<int:manager_id>")
class ManagerItem(MethodView):
    @access(COOP_READ, ProfessionalManager, "manager_id")
    @blp.response(200, ManagerOut)
    def get(self, manager):
        return board.manager_view(manager, _reveal(manager))

    @access(COOP_WRITE, ProfessionalManager, "manager_id")
    @blp.arguments(ManagerPatch)
    @blp.response(200, ManagerOut)
    def patch(self, data, manager):
        manager = board.update_manager(db.session, current_user(), manager, data)
        return board.manager_view(manager, True)


@blp.route("/cooperatives/<int:coop_id>/commissioners")
class Commissioners(MethodView):
    @access(COOP_READ, Cooperative, "coop_id")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(CommissionerOut))
    def get(self, args, coop):
        """County users paired with this cooperative (全周期发展推进专员)."""
        return present(paginate(db.session, board.commissioners_query(coop), args["page"],
                                args["per_page"], scalars=False), board.commissioner_view)

    @access(COUNTY_ADMIN, Cooperative, "coop_id")
    @blp.arguments(CommissionerIn)
    @blp.response(201, CommissionerOut)
    def post(self, data, coop):
        """Pair a county user with the cooperative: read-only access to it."""
        row = board.pair_commissioner(db.session, current_user(), coop, data["user_id"])
        return board.commissioner_view(row)


@blp.route("/cooperatives/<int:coop_id>/commissioners/<int:user_id>")
class CommissionerItem(MethodView):
    @access(COUNTY_ADMIN, Cooperative, "coop_id")
    @blp.response(204)
    def delete(self, coop, user_id):
        """End the pairing (the user's commissioner grant on this cooperative)."""
        board.unpair_commissioner(db.session, current_user(), coop, user_id)
