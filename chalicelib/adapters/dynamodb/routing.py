"""Routing items: a store's routing config and rotations, offers, leads waiting for an
opening, the feedback parts earned on a lead, and the score ledger's read side.
Keys: keys.py (patterns 8, 22-24, 26; 22 with 5 when accepting).

Offers are indexed while pending only (sparse): GSI6 lists an agent's pending offers,
the due index (due.py) lets the sweep find expired ones. Deciding an offer removes both index
attributes in the same conditional update that changes its state."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.due import DueIndex, due_entry
from chalicelib.adapters.dynamodb.table import ConditionFailed, Table, Write, entity_fields
from chalicelib.clock import parse_time
from chalicelib.domain.accounts import Account
from chalicelib.domain.errors import AlreadyDecided, LostRace, VersionConflict
from chalicelib.domain.paging import decode_cursor, encode_cursor
from chalicelib.domain.rerouting import Revival
from chalicelib.domain.routing import Offer, OfferDecision, Rotation, RoutingConfig, StoreRouting, Waiting
from chalicelib.domain.scoring import ScoreEvent
from chalicelib.domain.users import User

_NEW = "attribute_not_exists(PK)"
# Sorts after every id character: `{time}#~` is an upper bound for every `{time}#{id}` key.
_AFTER_ANY_ID = "#~"
# A decided offer is kept this long (a late accept still gets its 409, an audit can follow a
# lead's offers), then DynamoDB's TTL removes it; routing never reads a decided offer again.
DECIDED_OFFER_DAYS = 90


def _index_attrs(n: int, pk: str, sk: str) -> dict[str, str]:
    _, pk_attr, sk_attr = keys.gsi(n)
    return {pk_attr: pk, sk_attr: sk}


class RoutingRepository:
    def __init__(self, table: Table) -> None:
        self.table = table
        self.due_index = DueIndex(table)

    # -- config and rotation (pattern 8) -------------------------------------------------

    def config(self, account_id: str) -> RoutingConfig | None:
        item = self.table.get(keys.routing_key(account_id))
        return RoutingConfig.model_validate(entity_fields(item)) if item else None

    def store_routing(self, account_id: str) -> StoreRouting:
        """The store's record, routing config and rotation in one consistent BatchGetItem (pattern 8)."""
        return store_routing_of(account_id, self.table.batch_get(store_routing_keys(account_id), consistent=True))

    def put_config(self, config: RoutingConfig) -> None:
        self.table.put({**keys.routing_key(config.account_id), "type": "routing_config",
                        **config.model_dump(mode="json")})

    def rotation(self, account_id: str) -> Rotation:
        item = self.table.get(keys.rotation_key(account_id), consistent=True)
        return Rotation.model_validate(entity_fields(item)) if item else Rotation()

    def save_rotation(self, account_id: str, before: Rotation, after: Rotation) -> Write:
        """Save a rotation only if nobody moved it since `before` was read (VersionConflict)."""
        item = {**keys.rotation_key(account_id), "type": "rotation",
                **after.model_copy(update={"rev": before.rev + 1}).model_dump(mode="json")}
        if before.rev == 0:
            return Write({"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(PK) OR rev = :seen",
                                  "ExpressionAttributeValues": {":seen": 0}}}, VersionConflict)
        return Write({"Put": {"Item": item, "ConditionExpression": "rev = :seen",
                              "ExpressionAttributeValues": {":seen": before.rev}}}, VersionConflict)

    # -- offers (patterns 22-24) ----------------------------------------------------------

    def offer(self, offer_id: str) -> Offer | None:
        item = self.table.get(keys.offer_key(offer_id), consistent=True)
        return Offer.model_validate(entity_fields(item)) if item else None

    def offer_with_user(self, offer_id: str, user_id: str) -> tuple[Offer | None, User | None]:
        """The offer and a user record in one consistent BatchGetItem (patterns 22 and 5): accepting
        reads the caller's record with the offer."""
        found = {item["PK"]: item for item in self.table.batch_get(
            [keys.offer_key(offer_id), keys.user_key(user_id)], consistent=True)}
        offer, user = found.get(keys.offer_key(offer_id)["PK"]), found.get(keys.user_key(user_id)["PK"])
        return (Offer.model_validate(entity_fields(offer)) if offer else None,
                User.model_validate(entity_fields(user)) if user else None)

    def add_offer(self, offer: Offer) -> Write:
        sort = keys.activity_sk(offer.expires_at, offer.offer_id)
        item = {**keys.offer_key(offer.offer_id), "type": "offer", **offer.model_dump(mode="json", exclude_none=True),
                **_index_attrs(6, keys.agent_offers_pk(offer.agent_id), sort),
                **due_entry("OFFER", offer.offer_id, offer.expires_at)}
        return Write({"Put": {"Item": item, "ConditionExpression": _NEW}}, LostRace)

    def close_offer(self, decision: OfferDecision, now: str) -> Write:
        """Close a pending offer; `requires` live (accept, decline) or expired (timer) at `now`.
        AlreadyDecided when it is closed already or not (or no longer) in that window."""
        expiry = "expires_at > :now" if decision.requires == "live" else "expires_at <= :now"
        removed_at = int((parse_time(now) + timedelta(days=DECIDED_OFFER_DAYS)).timestamp())
        values: dict[str, Any] = {":pending": "pending", ":state": decision.state, ":now": now, ":ttl": removed_at}
        expression = "SET #state = :state, decided_at = :now, #ttl = :ttl"
        if decision.reason is not None:
            expression += ", reason = :reason"
            values[":reason"] = decision.reason
        expression += " REMOVE GSI6PK, GSI6SK, GSI7PK, GSI7SK"
        return Write({"Update": {"Key": keys.offer_key(decision.offer_id), "UpdateExpression": expression,
                                 "ConditionExpression": f"#state = :pending AND {expiry}",
                                 "ExpressionAttributeNames": {"#state": "state", "#ttl": "ttl"},
                                 "ExpressionAttributeValues": values}}, AlreadyDecided)

    def decide_offer(self, decision: OfferDecision, now: str) -> bool:
        """The same on its own (closing a superseded offer); False when it was already closed."""
        op = self.close_offer(decision, now).op["Update"]
        try:
            self.table.update(op["Key"], op["UpdateExpression"], condition=op["ConditionExpression"],
                              names=op["ExpressionAttributeNames"], values=op["ExpressionAttributeValues"])
        except ConditionFailed:
            return False
        return True

    def pending_offers(self, agent_id: str, now: str, limit: int,
                       cursor: str | None) -> tuple[list[Offer], str | None]:
        """An agent's pending offers that have not expired, soonest to expire first."""
        start = decode_cursor(cursor) if cursor else None
        if isinstance(start, dict) and isinstance(start.get("GSI6SK"), str) and start["GSI6SK"] <= now + _AFTER_ANY_ID:
            # The page ended on an offer that has expired since: everything before it has expired
            # too, so the list starts over (DynamoDB refuses a start key outside `#sk > :now`).
            start = None
        items, last = self.table.query_page(keys.agent_offers_pk(agent_id), index=6, sk_condition="#sk > :now",
                                            sk_values={":now": now + _AFTER_ANY_ID}, limit=limit, start_key=start)
        return [Offer.model_validate(entity_fields(i)) for i in items], (encode_cursor(last) if last else None)

    def due_offers(self, now: str, limit: int, start: dict[str, Any] | None = None,
                   ) -> tuple[list[Offer], dict[str, Any] | None]:
        """A page of pending offers expired by `now`, oldest first, and where the next page starts."""
        items, last = self.due_index.page("OFFER", now, limit, start)
        return [Offer.model_validate(entity_fields(i)) for i in items], last

    # -- leads waiting for an opening (pattern 24) -----------------------------------------

    def waiting(self, lead_id: str) -> Waiting | None:
        item = self.table.get(keys.lead_waiting_key(lead_id), consistent=True)
        return Waiting.model_validate(entity_fields(item)) if item else None

    def add_waiting(self, waiting: Waiting) -> Write:
        item = {**keys.lead_waiting_key(waiting.lead_id), "type": "waiting", **waiting.model_dump(mode="json"),
                **due_entry("OPENING", waiting.lead_id, waiting.opens_at)}
        return Write({"Put": {"Item": item}})

    def remove_waiting(self, waiting: Waiting) -> Write:
        """Only the marker of this routing version (VersionConflict when it was replaced or removed)."""
        return Write({"Delete": {"Key": keys.lead_waiting_key(waiting.lead_id),
                                 "ConditionExpression": "routing_version = :v",
                                 "ExpressionAttributeValues": {":v": waiting.routing_version}}}, VersionConflict)

    def drop_waiting(self, waiting: Waiting) -> None:
        """The same on its own; nothing when the marker moved on already."""
        op = self.remove_waiting(waiting).op["Delete"]
        try:
            self.table.delete(op["Key"], condition=op["ConditionExpression"], values=op["ExpressionAttributeValues"])
        except ConditionFailed:
            return

    def due_openings(self, now: str, limit: int, start: dict[str, Any] | None = None,
                     ) -> tuple[list[Waiting], dict[str, Any] | None]:
        items, last = self.due_index.page("OPENING", now, limit, start)
        return [Waiting.model_validate(entity_fields(i)) for i in items], last

    # -- stores whose delinquent leads are offered again when they open (pattern 24) ------

    def add_revival(self, revival: Revival) -> Write:
        """The marker of one opening of a store (idempotent: leads going delinquent before it share it)."""
        item = {**keys.revival_key(revival.account_id, revival.opens_at), "type": "revival",
                **revival.model_dump(mode="json"), **due_entry("REVIVAL", revival.account_id, revival.opens_at)}
        return Write({"Put": {"Item": item}})

    def drop_revival(self, revival: Revival) -> None:
        self.table.delete(keys.revival_key(revival.account_id, revival.opens_at))

    def due_revivals(self, now: str, limit: int, start: dict[str, Any] | None = None,
                     ) -> tuple[list[Revival], dict[str, Any] | None]:
        items, last = self.due_index.page("REVIVAL", now, limit, start)
        return [Revival.model_validate(entity_fields(i)) for i in items], last

    # -- feedback and the score ledger (pattern 26) ----------------------------------------

    def feedback_earned(self, lead_id: str, user_id: str) -> set[str]:
        item = self.table.get(keys.lead_feedback_key(lead_id, user_id), consistent=True)
        return set(item.get("earned", [])) if item else set()

    def record_feedback(self, lead_id: str, user_id: str, earned: set[str], at: str) -> Write:
        # Guarded by the lead's version in the same transaction: two feedbacks cannot both earn a part.
        return Write({"Put": {"Item": {**keys.lead_feedback_key(lead_id, user_id), "type": "feedback_earned",
                                       "lead_id": lead_id, "user_id": user_id, "earned": sorted(earned), "at": at}}})

    def score_events(self, user_id: str, start: str, end: str) -> list[ScoreEvent]:
        """Score entries of a user with `start <= at <= end` (ISO `Z` strings), oldest first."""
        items = self.table.query(keys.user_key(user_id)["PK"], sk_condition="#sk BETWEEN :a AND :b",
                                 sk_values={":a": f"SCORE#{start}", ":b": f"SCORE#{end}{_AFTER_ANY_ID}"})
        return [ScoreEvent.model_validate({k: v for k, v in entity_fields(i).items() if k in ScoreEvent.model_fields})
                for i in items]


def store_routing_keys(account_id: str) -> list[dict[str, str]]:
    """Pattern 8's keys: the store's record, routing config, rotation and arrival cadences (one partition)."""
    return [keys.account_key(account_id), keys.routing_key(account_id), keys.rotation_key(account_id),
            keys.arrivals_key(account_id)]


def store_routing_of(account_id: str, items: list[dict[str, Any]]) -> StoreRouting:
    """A StoreRouting from a read of `store_routing_keys` (other items of the read are ignored)."""
    partition = keys.account_key(account_id)["PK"]
    found = {item["SK"]: item for item in items if item["PK"] == partition}
    account, config, rotation, arrivals = (found.get(sk) for sk in ("ACCOUNT", "ROUTING", "ROTATION", "ARRIVALS"))
    return StoreRouting(account=Account.model_validate(entity_fields(account)) if account else None,
                        config=RoutingConfig.model_validate(entity_fields(config)) if config else None,
                        rotation=Rotation.model_validate(entity_fields(rotation)) if rotation else Rotation(),
                        arrival_cadences=tuple(sorted(arrivals.get("ids") or ())) if arrivals else None)
