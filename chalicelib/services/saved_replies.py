"""A store's saved replies: list, add, change, delete. A reply's body may use smart fields; one no
message could fill is refused when it is saved.

Who: everyone who sees the store lists them and sends them (an agent's message by
`saved_reply_id`); managers and up add, change and delete them — a reply is sent by every agent
of the store, so an agent must not rewrite what colleagues send (or plant a link in it)."""

from __future__ import annotations

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain import conversations as rules
from chalicelib.domain.accounts import Account
from chalicelib.domain.errors import NotFound
from chalicelib.domain.leads import Lead
from chalicelib.domain.saved_replies import SavedReply
from chalicelib.domain.tenancy import Principal, Role
from chalicelib.ids import new_id
from chalicelib.services.access import visible_account


def list_saved_replies(deps: Deps, actor: Principal, account_id: str, limit: int,
                       cursor: str | None) -> tuple[list[SavedReply], str | None]:
    visible_account(deps, actor, account_id)
    return deps.saved_replies.page(account_id, limit, cursor)


def create_saved_reply(deps: Deps, actor: Principal, account_id: str, title: str, body: str) -> SavedReply:
    account = visible_account(deps, actor, account_id)
    actor.require_role(Role.MANAGER)
    now = iso(deps.clock.now())
    reply = SavedReply(saved_reply_id=new_id("svr", deps.clock.now()), account_id=account_id,
                       group_id=account.group_id, title=title, body=body, created_by=actor.user_id,
                       created_at=now, updated_at=now)
    _check_template(body)
    deps.saved_replies.put(reply, new=True)
    return reply


def _check_template(body: str) -> None:
    """Refuse a saved reply with a field no message could ever fill."""
    known = {k: "x" for k in rules.smart_field_values(
        Lead(lead_id="l", account_id="a", group_id="g", created_at="", received_at="", last_activity_at=""),
        Account(account_id="a", group_id="g", name="x", timezone="UTC", created_at="", updated_at=""), "x")}
    rules.render(body, known, field="body")


def _visible_saved_reply(deps: Deps, actor: Principal, saved_reply_id: str) -> SavedReply:
    reply = deps.saved_replies.get(saved_reply_id)
    if reply is None or not actor.can_see_account(reply.group_id, reply.account_id):
        raise NotFound("saved reply not found")
    return reply


def update_saved_reply(deps: Deps, actor: Principal, saved_reply_id: str, title: str | None,
                       body: str | None) -> SavedReply:
    reply = _visible_saved_reply(deps, actor, saved_reply_id)
    actor.require_role(Role.MANAGER)
    if body is not None:
        _check_template(body)
    after = reply.model_copy(update={"updated_at": iso(deps.clock.now()), **({"title": title} if title else {}),
                                     **({"body": body} if body is not None else {})})
    deps.saved_replies.put(after, new=False)
    return after


def delete_saved_reply(deps: Deps, actor: Principal, saved_reply_id: str) -> None:
    _visible_saved_reply(deps, actor, saved_reply_id)
    actor.require_role(Role.MANAGER)
    deps.saved_replies.delete(saved_reply_id)
