"""An SMS finds its lead through the sender's pointer on the store's number, read with the number's
lookup; the contact key, the lead, the store and the owner the pointer names are then read together.
The pointer is a hint: a stale one (another lead), a missing one, one left by a number's old store or
one naming an owner the lead no longer has still puts the message on the contact's lead and alerts
its owner, and the message's transaction writes the pointer right for the next one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from chalicelib.clock import iso
from chalicelib.domain.accounts import Account
from chalicelib.domain.inbound import InboundMessage, SenderHint
from chalicelib.schemas.leads import UpdateLeadRequest
from chalicelib.services import inbound, lead_edits, routing
from tests.unit.services.shop import STORE_NUMBER, Shop, shop

PHONE = "+13125550177"


def _owned(s: Shop) -> str:
    lead = s.lead()
    [offer] = [o for o in s.deps.state.offers.values() if o.lead_id == lead.lead_id and o.state == "pending"]
    routing.accept_offer(s.deps, s.agents[0].caller(), offer.offer_id)
    return lead.lead_id


def _webhook(s: Shop, body: str, sid: str, number: str = STORE_NUMBER) -> inbound.InboundResult:
    """What sms_arrived does once the signature is checked: the number's store and the sender's pointer
    in one read, then the message to that store."""
    owner, hint = s.deps.accounts.sms_route(number, PHONE)
    assert owner is not None
    msg = InboundMessage(provider="twilio", provider_id=sid, channel="sms", sender=PHONE, recipient=number,
                         body=body, received_at=s.clock.now().isoformat())
    return inbound.receive(s.deps, owner.account_id, msg, hint)


def _count_reads(s: Shop) -> Counter[str]:
    """Counts the calls of the single reads a pointer saves (and of the read it is used for); "contact":
    the contact key, read with the store's routing when no pointer leads the way."""
    counted: Counter[str] = Counter()

    def spy(name: str, read: Callable[..., Any]) -> Callable[..., Any]:
        def counting(*args: Any, **kwargs: Any) -> Any:
            counted[name] += 1
            return read(*args, **kwargs)
        return counting

    leads: Any = s.deps.leads
    users: Any = s.deps.users
    leads.contact_and_routing = spy("contact", leads.contact_and_routing)
    leads.with_store = spy("with_store", leads.with_store)
    leads.conversation, users.get = spy("conversation", leads.conversation), spy("user", users.get)
    return counted


def _replied(s: Shop, user_id: str) -> list[str]:
    return [n.body for n in s.deps.state.notifications.get(user_id, {}).values() if n.kind == "customer_replied"]


def test_a_new_lead_points_its_phone_at_itself_and_accepting_names_the_owner() -> None:
    s = shop()
    lead = s.lead()
    assert s.deps.state.senders[(STORE_NUMBER, PHONE)] == SenderHint(s.account.account_id, lead.lead_id, None)
    lead_id = _owned(s)
    assert s.deps.state.senders[(STORE_NUMBER, PHONE)] == SenderHint(s.account.account_id, lead_id,
                                                                     s.agents[0].user_id)


def test_with_a_current_pointer_the_lead_store_and_owner_are_one_read() -> None:
    s = shop()
    lead_id = _owned(s)
    reads = _count_reads(s)
    result = _webhook(s, "Can I come at 5?", "SM" + "1" * 32)
    assert result.lead_id == lead_id
    assert reads == Counter({"conversation": 1})
    assert any("Can I come at 5?" in body for body in _replied(s, s.agents[0].user_id))
    assert s.deps.state.senders[(STORE_NUMBER, PHONE)].owner_id == s.agents[0].user_id


def test_a_missing_pointer_falls_back_to_the_contact_key_and_is_written_again() -> None:
    s = shop()
    lead_id = _owned(s)
    del s.deps.state.senders[(STORE_NUMBER, PHONE)]
    reads = _count_reads(s)
    assert _webhook(s, "Still there?", "SM" + "2" * 32).lead_id == lead_id
    assert reads == Counter({"contact": 1, "with_store": 1, "user": 1})
    assert s.deps.state.senders[(STORE_NUMBER, PHONE)] == SenderHint(s.account.account_id, lead_id,
                                                                     s.agents[0].user_id)
    reads.clear()
    _webhook(s, "Hello?", "SM" + "3" * 32)
    assert reads == Counter({"conversation": 1})


def test_a_stale_pointer_to_a_closed_lead_routes_to_the_contacts_new_lead() -> None:
    s = shop()
    first = _owned(s)
    assert s.manager is not None
    lead_edits.update_lead(s.deps, s.principal(s.manager), first, UpdateLeadRequest(status="sold"))
    second = s.lead(message="Back again").lead_id
    # A pointer write that lost to an older one: it names the closed lead, its old owner.
    s.deps.state.senders[(STORE_NUMBER, PHONE)] = SenderHint(s.account.account_id, first, s.agents[0].user_id)
    result = _webhook(s, "Do you have it in blue?", "SM" + "4" * 32)
    assert result.lead_id == second
    assert [e.data["body"] for e in s.deps.leads.timeline(first) if e.type == "message"][-1] != \
        "Do you have it in blue?"
    assert s.deps.state.senders[(STORE_NUMBER, PHONE)] == SenderHint(s.account.account_id, second, None)


def test_an_owner_changed_since_the_pointer_is_read_and_told_not_the_old_one() -> None:
    s = shop()
    lead_id = _owned(s)
    s.deps.state.senders[(STORE_NUMBER, PHONE)] = SenderHint(s.account.account_id, lead_id, s.agents[1].user_id)
    reads = _count_reads(s)
    _webhook(s, "Is the price firm?", "SM" + "5" * 32)
    assert reads == Counter({"conversation": 1, "user": 1})
    assert any("Is the price firm?" in body for body in _replied(s, s.agents[0].user_id))
    assert _replied(s, s.agents[1].user_id) == []
    assert s.deps.state.senders[(STORE_NUMBER, PHONE)].owner_id == s.agents[0].user_id


def test_a_number_moved_to_another_store_routes_to_that_store_at_once() -> None:
    s = shop()
    lead_id = _owned(s)
    now = iso(s.clock.now())
    other = Account(account_id="acc_2", group_id=s.account.group_id, name="Acme Kia", timezone="America/Chicago",
                    api_key="key-2", created_at=now, updated_at=now)
    s.deps.accounts.create(other)
    s.deps.accounts.replace(s.account, s.account.model_copy(update={"sms_number": None}))
    s.deps.accounts.replace(other, other.model_copy(update={"sms_number": STORE_NUMBER}))
    s.queued("inbound")
    result = _webhook(s, "Hi, a question about a Sorento", "SM" + "6" * 32)
    # The old store's pointer names a lead the number's new store does not have: a new contact there.
    made = s.deps.state.leads[result.lead_id or ""]
    assert (made.account_id, made.phone) == ("acc_2", PHONE)
    assert [e for e in s.deps.leads.timeline(lead_id) if e.type == "message"
            and e.data["body"] == "Hi, a question about a Sorento"] == []
