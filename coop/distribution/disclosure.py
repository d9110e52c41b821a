"""The public notice (公示) of a plan: a server-rendered page anyone with the link (or the
QR code on the village board) can read, without logging in.

It shows what a notice board shows and nothing more: the cooperative, the year's figures,
and each member's line under a masked name (张*三; the village collective, an
organization, by its name) beside the member's number on the register (成员编号,
coop/registry/numbering.py: five "刘*" are five numbers), amounts in yuan. No database
ids, no ID-card or bank numbers. On a phone each member's line is a card with every
figure labelled, so nothing needs sideways scrolling. The token is unguessable
(`secrets.token_urlsafe`); an unknown token, or a
plan that is not (or no longer) public, is a plain 404 page.
"""
from __future__ import annotations

import re

from flask import Blueprint, render_template
from sqlalchemy import select

from auth.policy import public
import coop.clock as clock
from coop.crypto import mask_name
from coop.distribution.models import DistributionLine, DistributionPlan
from coop.extensions import db
from coop.money import format_yuan
from coop.places.models import Village
from coop.registry.models import Cooperative, Member
from coop.registry.numbering import display, register_numbers

bp = Blueprint("distribution_disclosure", __name__, template_folder="templates")

PUBLIC_STATES = ("publicized", "approved", "paid")
STATUS_LABEL = {"publicized": "公示中", "approved": "公示期满，已批准", "paid": "已发放"}
METHOD_LABEL = {"statutory": "按交易量返还为主（法定方式）", "by_shares": "按股分配"}
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",   # the token must not leak to other sites
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}


def _yuan(fen: int) -> str:
    return format_yuan(fen, thousands=True)


@bp.route("/public/disclosures/<token>")
@bp.route("/api/v1/public/disclosures/<token>")
@public
def notice(token: str):
    """The notice page of a published plan."""
    plan = None
    if TOKEN.match(token):
        plan = db.session.execute(select(DistributionPlan).where(
            DistributionPlan.public_token == token,
            DistributionPlan.status.in_(PUBLIC_STATES))).scalar_one_or_none()
    if plan is None:
        return render_template("distribution/not_found.html"), 404, HEADERS
    coop = db.session.get(Cooperative, plan.cooperative_id)
    village = db.session.get(Village, coop.village_id)
    rows = db.session.execute(
        select(DistributionLine.member_id, Member.name, DistributionLine.is_collective,
               DistributionLine.trade_fen, DistributionLine.share_basis_fen,
               DistributionLine.patronage_fen, DistributionLine.share_fen,
               DistributionLine.total_fen, DistributionLine.convert_fen)
        .join(Member, Member.id == DistributionLine.member_id)
        .where(DistributionLine.plan_id == plan.id)
        .order_by(DistributionLine.member_id)).all()
    numbers = register_numbers(db.session, coop.id)
    lines = [{"no": display(numbers[r.member_id]),
              "name": _display_name(r.name, r.is_collective), "trade": _yuan(r.trade_fen),
              "basis": _yuan(r.share_basis_fen), "patronage": _yuan(r.patronage_fen),
              "share": _yuan(r.share_fen), "total": _yuan(r.total_fen),
              "convert": _yuan(r.convert_fen) if r.convert_fen else ""} for r in rows]
    figures = [("营业收入", plan.revenue_fen), ("成本费用", plan.cost_fen),
               ("本年盈余", plan.surplus_fen), ("弥补以前年度亏损", plan.loss_covered_fen),
               ("提取公积金", plan.reserve_fen), ("可分配盈余", plan.distributable_fen),
               ("按交易量返还", plan.patronage_pool_fen), ("按出资额等分配", plan.share_pool_fen)]
    if plan.fiscal_subsidy_fen:
        figures.append(("本年财政补助（平均量化到成员）", plan.fiscal_subsidy_fen))
    return render_template(
        "distribution/disclosure.html", coop_name=coop.name, village_name=village.name,
        year=plan.year, method=METHOD_LABEL.get(plan.method, plan.method),
        status=STATUS_LABEL[plan.status], reserve_rate=_percent(plan.reserve_rate),
        patronage_rate=_percent(plan.patronage_rate) if plan.patronage_rate is not None else None,
        figures=[(label, _yuan(fen)) for label, fen in figures],
        starts=clock.format_moment(plan.notice_starts_at), ends=clock.format_moment(plan.notice_ends_at),
        assembly_held_on=plan.assembly_held_on, votes_for=plan.votes_for,
        votes_total=(plan.basic_votes_total or 0) + (plan.extra_votes_total or 0),
        show_convert=any(line["convert"] for line in lines),
        statutory=plan.method == "statutory", lines=lines), 200, HEADERS


def _display_name(name: str, is_collective: bool) -> str:
    """People are masked (张*三); the village collective is an organization, named."""
    return f"{name}（村集体）" if is_collective else mask_name(name)


def _percent(rate) -> str:
    text = f"{rate * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"
