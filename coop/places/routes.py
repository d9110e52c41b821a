"""HTTP routes of the places capability: parse, call the service, serialize.

County roles read their county's places; county_admin writes; counties themselves are
created by a superuser (or `flask counties create`). Objects of another county → 404.
"""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from auth.policy import COUNTY, COUNTY_ADMIN, COUNTY_MONEY, access, current_user, scoped
from coop.api import Blueprint
from coop.extensions import db
from coop.pagination import PageArgs, page_schema, paginate
from coop.places import secretaries, services
from coop.places.models import County, Town, Village, VillageSecretary, Zone
from coop.places.schemas import (CountyIn, CountyOut, SecretaryIn, SecretaryOut,
                                 SecretaryPatch, TownIn, TownOut, VillageIn, VillageOut,
                                 ZoneIn, ZoneOut, ZonePatch)

blp = Blueprint("places", __name__, url_prefix="/api/v1", description="县、乡镇、村与片区")


def _page(stmt, model, args):
    return paginate(db.session, scoped(stmt.order_by(model.id), model),
                    args["page"], args["per_page"])


@blp.route("/counties")
class Counties(MethodView):
    @access(COUNTY)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(CountyOut))
    def get(self, args):
        """The counties the caller holds a county role in (all, for a superuser)."""
        return _page(select(County), County, args)

    @access(COUNTY_ADMIN)
    @blp.arguments(CountyIn)
    @blp.response(201, CountyOut)
    def post(self, data):
        """Create a county: superuser only (403 for anybody else)."""
        return services.create_county(db.session, current_user(), **data)


@blp.route("/counties/<int:county_id>", methods=["GET"])
@access(COUNTY, County, "county_id")
@blp.response(200, CountyOut)
def get_county(county):
    return county


@blp.route("/counties/<int:county_id>/towns")
class Towns(MethodView):
    @access(COUNTY, County, "county_id")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(TownOut))
    def get(self, args, county):
        return _page(select(Town).where(Town.county_id == county.id), Town, args)

    @access(COUNTY_ADMIN, County, "county_id")
    @blp.arguments(TownIn)
    @blp.response(201, TownOut)
    def post(self, data, county):
        return services.create_town(db.session, current_user(), county, **data)


@blp.route("/towns/<int:town_id>", methods=["GET"])
@access(COUNTY, Town, "town_id")
@blp.response(200, TownOut)
def get_town(town):
    return town


@blp.route("/towns/<int:town_id>/villages")
class Villages(MethodView):
    @access(COUNTY, Town, "town_id")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(VillageOut))
    def get(self, args, town):
        page = _page(select(Village).where(Village.town_id == town.id), Village, args)
        page["items"] = services.village_dicts(db.session, page["items"])
        return page

    @access(COUNTY_ADMIN, Town, "town_id")
    @blp.arguments(VillageIn)
    @blp.response(201, VillageOut)
    def post(self, data, town):
        """A village: `code` is its 12-digit statistical code, under the town's/county's;
        `party_secretary_name` opens a secretary's term from today."""
        village = services.create_village(db.session, current_user(), town, **data)
        return services.village_dicts(db.session, [village])[0]


@blp.route("/villages/<int:village_id>", methods=["GET"])
@access(COUNTY, Village, "village_id")
@blp.response(200, VillageOut)
def get_village(village):
    return services.village_dicts(db.session, [village])[0]


@blp.route("/villages/<int:village_id>/secretaries")
class VillageSecretaries(MethodView):
    @access(COUNTY, Village, "village_id")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(SecretaryOut))
    def get(self, args, village):
        """村党组织书记: the village's terms, newest first."""
        page = paginate(db.session, secretaries.terms_query(village), args["page"],
                        args["per_page"])
        page["items"] = [secretaries.term_view(t) for t in page["items"]]
        return page

    @access(COUNTY_MONEY, Village, "village_id")
    @blp.arguments(SecretaryIn)
    @blp.response(201, SecretaryOut)
    def post(self, data, village):
        """Open a term; terms of one village never overlap (422 TERM_OVERLAP)."""
        return secretaries.term_view(
            secretaries.add_term(db.session, current_user(), village, data))


@blp.route("/village-secretaries/<int:secretary_id>")
class VillageSecretaryItem(MethodView):
    @access(COUNTY, VillageSecretary, "secretary_id")
    @blp.response(200, SecretaryOut)
    def get(self, secretary):
        return secretaries.term_view(secretary)

    @access(COUNTY_MONEY, VillageSecretary, "secretary_id")
    @blp.arguments(SecretaryPatch)
    @blp.response(200, SecretaryOut)
    def patch(self, data, secretary):
        """End the term, or change the phone or the bank account (audited)."""
        return secretaries.term_view(
            secretaries.update_term(db.session, current_user(), secretary, data))


@blp.route("/counties/<int:county_id>/zones")
class Zones(MethodView):
    @access(COUNTY, County, "county_id")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(ZoneOut))
    def get(self, args, county):
        page = _page(select(Zone).where(Zone.county_id == county.id), Zone, args)
        page["items"] = services.zone_dicts(db.session, page["items"])
        return page

    @access(COUNTY_ADMIN, County, "county_id")
    @blp.arguments(ZoneIn)
    @blp.response(201, ZoneOut)
    def post(self, data, county):
        """A demonstration zone (片区): villages of one town of this county, as many as
        the county's setting allows (3–5 unless set otherwise)."""
        return services.create_zone(db.session, current_user(), county, **data)


@blp.route("/zones/<int:zone_id>")
class ZoneItem(MethodView):
    @access(COUNTY, Zone, "zone_id")
    @blp.response(200, ZoneOut)
    def get(self, zone):
        return services.zone_dicts(db.session, [zone])[0]

    @access(COUNTY_ADMIN, Zone, "zone_id")
    @blp.arguments(ZonePatch)
    @blp.response(200, ZoneOut)
    def patch(self, data, zone):
        """Rename the zone, change its villages or its secretary (audited)."""
        return services.update_zone(db.session, current_user(), zone, data)
