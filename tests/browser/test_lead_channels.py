"""The conversation's channels in the console: an email with its subject, a picture uploaded to the
media bucket and sent with a message, a logged activity and a click-to-call, each shown in the
timeline as the API recorded it; the conversation passes axe and fits a phone's width."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.browser.conftest import PHONE, Demo, check_accessibility, no_page_errors
from tests.browser.test_agent import BOSTON_AGENTS, eventually, number_in_daytime

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


def events(api: Any, lead_id: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in api.get(f"/leads/{lead_id}/timeline")["items"] if e["type"] == kind]


def wider_than_the_screen(page: Any) -> list[str]:
    """The elements that stick out past the viewport's right edge (none on a usable phone screen)."""
    return list(page.evaluate("""() => document.scrollingElement.scrollWidth <= window.innerWidth + 1 ? [] :
        [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 12).map(e => `${e.tagName.toLowerCase()}.${e.className} ${e.getBoundingClientRect().right}`)"""))


def test_email_picture_activity_and_call(demo: Demo, open_as: Any) -> None:
    boston = demo.info["account_ids"][0]
    ava = demo.info["agent_ids"][0]
    manager = demo.api(demo.info["manager_email"])
    lead = manager.call("POST", f"/accounts/{boston}/leads", {
        "first_name": "Morgan", "last_name": "Lee", "phone": number_in_daytime(datetime.now(UTC))[:-2] + "47",
        "email": "morgan.lee@example.com", "source": "Dealer website", "channel": "web",
        "message": "Could you email me a quote for the Highlander?"}, expect=201)
    lead_id = lead["lead_id"]
    assert lead["name"] == "Morgan Lee"  # a new lead, not joined to another customer's with the same number
    manager.call("POST", f"/leads/{lead_id}/assign", {"user_id": ava}, expect=200)

    page = open_as(BOSTON_AGENTS[0])
    page.goto(f"{demo.url}/#/leads/{lead_id}")
    page.get_by_role("heading", name="Morgan Lee").wait_for()

    # An email, with its subject.
    page.get_by_label("Send by").select_option("email")
    page.get_by_label("Subject").fill("Your Highlander quote")
    page.get_by_label("Message to the customer").fill("Hi Morgan, the quote is below.")
    page.get_by_role("button", name="Send", exact=True).click()
    page.locator(".bubble-msg.staff .msg-subject", has_text="Your Highlander quote").wait_for()
    [email] = [m for m in events(manager, lead_id, "message") if m["channel"] == "email" and not m.get("automated")]
    assert (email["subject"], email["body"]) == ("Your Highlander quote", "Hi Morgan, the quote is below.")

    # A picture: uploaded with the presigned POST the API made, then sent as the message's attachment.
    page.get_by_label("Send by").select_option("sms")
    page.get_by_role("button", name="Schedule / picture").click()
    page.get_by_label("Pictures (JPEG, PNG, GIF, WebP or PDF; up to 5 MB each)").set_input_files(
        files=[{"name": "highlander.png", "mimeType": "image/png", "buffer": PNG}])
    page.get_by_label("Message to the customer").fill("The Highlander on the lot")
    page.get_by_role("button", name="Send", exact=True).click()
    picture = page.locator(".bubble-msg.staff", has_text="The Highlander on the lot")
    picture.locator("a.attachment", has_text="image/png").wait_for()
    [sent] = [m for m in events(manager, lead_id, "message") if m["body"] == "The Highlander on the lot"]
    assert [a["content_type"] for a in sent["attachments"]] == ["image/png"]

    # A visit logged by hand.
    page.get_by_role("button", name="Log activity").click()
    page.get_by_label("What you did").select_option("visit")
    page.get_by_label("Note", exact=True).fill("Came by for a test drive")
    page.get_by_role("button", name="Log activity").last.click()
    page.locator(".event.ev-activity", has_text="Came by for a test drive").wait_for()
    logged = [(a["kind"], a["note"]) for a in events(manager, lead_id, "activity")]
    assert logged == [("visit", "Came by for a test drive")]

    # Click-to-call: Ava's phone rings first; the call event follows the call.
    page.get_by_role("button", name="Call", exact=True).click()
    page.get_by_role("status").filter(has_text="Calling").wait_for()
    page.locator(".event.ev-call", has_text="Call by you").wait_for()
    assert eventually(lambda: events(manager, lead_id, "call"))[0]["by"] == ava
    check_accessibility(page, "conversation with email, picture, activity and call")
    no_page_errors(page)

    phone = open_as(BOSTON_AGENTS[0], PHONE)
    phone.goto(f"{demo.url}/#/leads/{lead_id}")
    phone.locator(".event.ev-call").wait_for()
    assert not (wide := wider_than_the_screen(phone)), "\n".join(wide)
    check_accessibility(phone, "conversation on a phone")
    no_page_errors(phone)
