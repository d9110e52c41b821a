"""Row factories for tests (CTFd's gen_* habit). Each call commits what it creates.

Usage: `make.county()`, `make.cooperative(county=c)`, `make.member(coop)`,
`make.user("county_admin", county)`, `make.headers(user)` → Authorization header.
"""
from __future__ import annotations

import itertools
import random
from datetime import date
from decimal import Decimal

from auth.models import SCOPE_OF_ROLE, RoleAssignment, User
from auth.tokens import issue_pair
from coop import crypto
from coop.places.models import County, Town, Village, VillageSecretary, Zone, ZoneVillage
from coop.registry.models import Cooperative, Member
from coop.validators import id_card_check_char, uscc_check_char

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "建国秀英桂兰玉梅志强海燕丽娟红霞明华德胜春生文军"
_seq = itertools.count(1)


def valid_id_card(seq: int | None = None, born: date = date(1975, 6, 1),
                  region: str = "371722") -> str:
    """A GB 11643-valid 18-digit ID number (Shan county region code by default)."""
    seq = next(_seq) if seq is None else seq
    first17 = f"{region}{born:%Y%m%d}{seq % 1000:03d}"
    return first17 + id_card_check_char(first17)


def valid_credit_code(seq: int | None = None) -> str:
    """A GB 32100-valid unified social credit code for a farmers' cooperative (93…)."""
    seq = next(_seq) if seq is None else seq
    first17 = f"93371722MA{seq % 10**7:07d}"
    return first17 + uscc_check_char(first17)


def chinese_name(rng: random.Random | None = None) -> str:
    rng = rng or random
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


class Factory:
    def __init__(self, session):
        self.session = session

    def _save(self, obj):
        self.session.add(obj)
        self.session.commit()
        return obj

    def county(self, name: str = "单县", code: str | None = None) -> County:
        # Distinct within a test (however many it makes) and apart from the real codes
        # tests spell out (3717xx).
        code = code or f"{800000 + next(_seq) % 100000:06d}"
        return self._save(County(name=name, code=code))

    def town(self, county: County | None = None, name: str | None = None) -> Town:
        county = county or self.county()
        return self._save(Town(county_id=county.id, name=name or f"镇{next(_seq)}"))

    def village(self, town: Town | None = None, name: str | None = None,
                secretary: str = "李书记") -> Village:
        town = town or self.town()
        n = next(_seq)
        village = self._save(Village(county_id=town.county_id, town_id=town.id,
                                     name=name or f"村{n}", code=f"3717221{n:05d}",
                                     party_secretary_name=secretary))
        if secretary:
            # The secretary is a dated term (CONTRACT §10): in office since long ago.
            self._save(VillageSecretary(county_id=village.county_id, village_id=village.id,
                                        name=secretary, start_on=date(2000, 1, 1)))
        return village

    def zone(self, villages: list[Village], name: str | None = None) -> Zone:
        first = villages[0]
        zone = self._save(Zone(county_id=first.county_id, town_id=first.town_id,
                               name=name or f"片区{next(_seq)}", secretary_name="片区书记"))
        for v in villages:
            self.session.add(ZoneVillage(zone_id=zone.id, village_id=v.id))
        self.session.commit()
        return zone

    def cooperative(self, village: Village | None = None, county: County | None = None,
                    **charter) -> Cooperative:
        if village is None:
            village = self.village(self.town(county) if county else None)
        values = dict(name=f"合作社{next(_seq)}", credit_code=valid_credit_code(),
                      founded_on=date(2020, 3, 1), industry="种植",
                      distribution_method="statutory", land_rate_fen_per_mu=800_000,
                      labour_ticket_rate_fen=200_000, single_member_cap_rate=Decimal("0.20"))
        values.update(charter)
        return self._save(Cooperative(county_id=village.county_id, town_id=village.town_id,
                                      village_id=village.id, **values))

    def member(self, coop: Cooperative, name: str | None = None, member_type: str = "farmer",
               id_card: str | None = None, joined_on: date = date(2020, 3, 1),
               bank_account: str | None = "6228480000000000000", **extra) -> Member:
        id_card = id_card or valid_id_card()
        member = Member(
            county_id=coop.county_id, cooperative_id=coop.id, name=name or chinese_name(),
            member_type=member_type, id_card_enc=crypto.encrypt(id_card),
            id_card_hash=crypto.blind_index(id_card), id_card_masked=crypto.mask_id_card(id_card),
            phone=extra.pop("phone", None), joined_on=joined_on, bank_name="农业银行",
            collective_of=coop.id if member_type == "collective" else None, **extra)
        if bank_account:
            member.bank_account_enc = crypto.encrypt(bank_account)
            member.bank_account_hash = crypto.blind_index(bank_account)
            member.bank_account_masked = crypto.mask_account(bank_account)
        return self._save(member)

    def user(self, role: str | None = None, scope=None, *, department: str = "",
             phone: str | None = None, name: str = "测试用户", password: str | None = None,
             superuser: bool = False, roles: list[tuple] = ()) -> User:
        """A user holding `role` on `scope` (a County, Cooperative or Member row), plus
        any extra `(role, scope[, department])` tuples in `roles`."""
        from auth.passwords import hash_password  # arrives with the identity issue
        user = User(phone=phone or f"139{next(_seq):08d}", name=name,
                    password_hash=hash_password(password) if password else None,
                    is_superuser=superuser)
        wanted = ([(role, scope, department)] if role else []) + [
            (r[0], r[1], r[2] if len(r) > 2 else "") for r in roles]
        for r, s, dept in wanted:
            user.roles.append(RoleAssignment(role=r, scope_type=SCOPE_OF_ROLE[r],
                                             scope_id=s.id, department=dept))
        return self._save(user)

    def headers(self, user: User) -> dict:
        pair = issue_pair(self.session, user)
        self.session.commit()
        return {"Authorization": f"Bearer {pair['access_token']}"}

    def login(self, role: str, scope, **kw) -> tuple[User, dict]:
        user = self.user(role, scope, **kw)
        return user, self.headers(user)
