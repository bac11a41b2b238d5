"""Routing: the store's routing config, an agent's offers, accept / decline, requeue,
feedback, scores; the timers-queue consumer and the every-minute due sweep."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Rate

from chalicelib.config import get_settings
from chalicelib.deps import get_deps
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.routing import Offer
from chalicelib.handlers.http import Call, api
from chalicelib.handlers.leads import lead_view
from chalicelib.lazy import lazy_module
from chalicelib.observability import logger
from chalicelib.schemas.leads import LeadResponse
from chalicelib.schemas.routing import (
    DeclineRequest,
    FeedbackRequest,
    FeedbackResponse,
    OfferPage,
    OfferResponse,
    RoutingConfigRequest,
    RoutingConfigResponse,
    ScoreResponse,
)

if TYPE_CHECKING:
    from chalicelib.services import due, routing_config, scores
    from chalicelib.services import routing as service
else:
    service = lazy_module("chalicelib.services.routing")
    routing_config = lazy_module("chalicelib.services.routing_config")
    scores = lazy_module("chalicelib.services.scores")
    due = lazy_module("chalicelib.services.due")


bp = Blueprint(__name__)

def offer_view(offer: Offer) -> dict[str, Any]:
    return OfferResponse.model_validate(offer.model_dump()).model_dump(mode="json")


@api(bp, "/accounts/{account_id}/routing", "PUT", body=RoutingConfigRequest, response=RoutingConfigResponse,
     summary="Replace a store's routing config (admin)")
def put_routing(call: Call, account_id: str) -> Any:
    config = routing_config.put_config(call.deps, call.principal, account_id, call.body.model_dump(mode="json"))
    return RoutingConfigResponse.model_validate(config.model_dump(mode="json"))


@api(bp, "/accounts/{account_id}/routing", "GET", response=RoutingConfigResponse,
     summary="A store's routing config (defaults when never set)")
def get_routing(call: Call, account_id: str) -> Any:
    config = routing_config.get_config(call.deps, call.principal, account_id)
    return RoutingConfigResponse.model_validate(config.model_dump(mode="json"))


@api(bp, "/me/offers", "GET", response=OfferPage, summary="The caller's pending offers, soonest to expire first")
def list_my_offers(call: Call) -> Any:
    limit, cursor = call.paging()
    offers, next_cursor = service.my_offers(call.deps, call.principal, limit, cursor)
    return {"items": [offer_view(o) for o in offers], "next_cursor": next_cursor}


@api(bp, "/offers/{offer_id}/accept", "POST", response=LeadResponse, caller_only=True,
     summary="Accept an offer: the lead is yours (409 once decided or expired)")
def accept_offer(call: Call, offer_id: str) -> Any:
    # The use case reads the caller's record with the offer and authorises on it (caller_only).
    return lead_view(call.deps, service.accept_offer(call.deps, call.caller, offer_id))


@api(bp, "/offers/{offer_id}/decline", "POST", body=DeclineRequest, response=OfferResponse, caller_only=True,
     summary="Decline an offer with a reason: the lead goes to the next agent (409 once decided or expired)")
def decline_offer(call: Call, offer_id: str) -> Any:
    # As accept: the use case reads the caller's record with the offer and authorises on it.
    offer = service.decline_offer(call.deps, call.caller, offer_id, call.body.reason)
    return offer_view(offer)


@api(bp, "/leads/{lead_id}/requeue", "POST", response=LeadResponse,
     summary="Claim a delinquent lead (one claim wins; 409 otherwise)")
def requeue_lead(call: Call, lead_id: str) -> Any:
    return lead_view(call.deps, service.requeue_lead(call.deps, call.principal, lead_id))


@api(bp, "/leads/{lead_id}/feedback", "POST", body=FeedbackRequest, response=FeedbackResponse,
     summary="What came of a lead; its owner earns up to +4 once per lead")
def lead_feedback(call: Call, lead_id: str) -> Any:
    return scores.give_feedback(call.deps, call.principal, lead_id, call.body.contact_status, call.body.comment)


@api(bp, "/users/{user_id}/score", "GET", response=ScoreResponse,
     query={"from": "date or time (default: 30 days before to)", "to": "date or time (default: now)",
            "timezone": "the zone dates are days of (default: the zone of the user's stores, as the dashboard "
                        "counts them; UTC when their stores are in several zones)"},
     summary="A user's performance score over a date range, with every entry that makes it")
def user_score(call: Call, user_id: str) -> Any:
    start = _bound(call.query.get("from"), "from")
    end = _bound(call.query.get("to"), "to")
    report = scores.user_score(call.deps, call.principal, user_id, start, end, call.query.get("timezone"))
    return {"user_id": report.user_id, "from": report.start, "to": report.end, "timezone": report.timezone,
            "base": 100, "score": report.score,
            "events": [{"event_id": e.event_id, "at": e.at, "reason": e.reason, "points": e.points,
                        "lead_id": e.lead_id, "account_id": e.account_id} for e in report.events]}


def _bound(raw: str | None, field: str) -> date | datetime | None:
    """A `from` / `to` bound: a date (a whole day, `to` inclusive; the service knows whose day) or a
    time with offset."""
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
        from chalicelib.clock import parse_time

        return parse_time(raw)
    except ValueError as exc:
        raise ValidationFailed.field(field, "is not a YYYY-MM-DD date or an ISO 8601 time with offset") from exc


# -- events ---------------------------------------------------------------------------------

@bp.on_sqs_message(queue=get_settings().queue_name("timers"), batch_size=10)
def routing_timers(event: Any) -> Any:
    """Offer expiries, openings and routing retries; each message is decided by the clock, idempotently."""
    from chalicelib.handlers.queues import TimerRecord, consume

    return consume(event, TimerRecord, _timer_record)


def _timer_record(record: Any) -> None:
    timer = record.body
    outcome = due.handle_timer(get_deps(), timer)
    logger.info("timer handled", extra={"kind": timer.kind, "offer_id": getattr(timer, "offer_id", None),
                                        "lead_id": getattr(timer, "lead_id", None), "outcome": outcome})


SWEEP_RESERVE_MS = 10_000


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def routing_due_sweep(event: Any) -> dict[str, int]:
    """Every minute: expired offers and due openings whose timer message was lost."""
    context = getattr(event, "context", None)
    # Stop paging with time to spare, so a backlog is worked off over a few runs, not cut mid-offer.
    time_left = (lambda: context.get_remaining_time_in_millis() > SWEEP_RESERVE_MS) if context else (lambda: True)
    counts = due.sweep_due(get_deps(), time_left)
    if any(counts.values()):
        logger.info("due sweep", extra=counts)
    return counts
