"""What an alert says, pure: the lead's facts in every form (in-app, SMS, email text and HTML), the
time left or how late, HTML escaping, and the email as a real multipart message whose headers the
stdlib email package writes."""

from __future__ import annotations

from email import message_from_bytes, policy

from chalicelib.clock import parse_time
from chalicelib.domain.alerts import Facts, Timing, duration, lead_alert
from chalicelib.domain.leads import Lead
from chalicelib.domain.mail import Email
from chalicelib.domain.mime import address, build_message

NOW = parse_time("2026-11-02T15:00:00Z")


def _lead(**fields: object) -> Lead:
    values: dict[str, object] = {
        "lead_id": "lead_1", "account_id": "acc_1", "group_id": "grp_1", "first_name": "Zoë", "last_name": "O'Neil",
        "phone": "+13125550177", "source": "Cars & Trucks",
        "vehicle": {"year": 2024, "make": "Honda", "model": "Civic"},
        "last_message_preview": "Is it <still> there?", "created_at": "2026-11-02T14:00:00.000Z",
        "received_at": "2026-11-02T14:00:00.000Z", "last_activity_at": "2026-11-02T14:00:00.000Z", **fields}
    return Lead.model_validate(values)


def test_durations_read_as_people_say_them() -> None:
    assert [duration(s) for s in (0, 45, 60, 270, 3600, 7500, 86400, 97200)] == [
        "0 s", "45 s", "1 min", "4 min 30 s", "1 h", "2 h 5 min", "1 d", "1 d 3 h"]


def test_every_form_carries_the_lead_and_the_link() -> None:
    facts = Facts(store="Acme Honda", timezone="America/Chicago", timing=Timing("2026-11-02T15:04:30.000Z", 270))
    alert = lead_alert("target_warning", _lead(), NOW, "https://console.example.com/", facts)
    link = "https://console.example.com/#/leads/lead_1"
    assert alert.title == "Answer Zoë O'Neil soon: the response target is near"
    assert alert.body.splitlines()[:6] == [
        "Customer: Zoë O'Neil (+13125550177)", "Vehicle: 2024 Honda Civic", "Source: Cars & Trucks",
        "Message: Is it <still> there?", "Time left: 4 min 30 s (due Mon 09:04)", "Store: Acme Honda"]
    assert alert.body.endswith(f"Open the lead: {link}") and alert.subject == alert.title
    assert alert.sms == (f"{alert.title} · 2024 Honda Civic · Cars & Trucks · Is it <still> there? · "
                         f"Time left: 4 min 30 s (due Mon 09:04) · {link}")
    assert "Is it &lt;still&gt; there?" in alert.html and "Cars &amp; Trucks" in alert.html
    assert f'href="{link}"' in alert.html and "<still>" not in alert.html


def test_a_late_alert_says_how_late_and_no_console_means_no_link() -> None:
    facts = Facts(timing=Timing("2026-11-02T14:58:00.000Z", 0), message="a" * 900, who="Agent 1")
    alert = lead_alert("target_missed", _lead(vehicle=None, phone=None), NOW, "", facts)
    assert alert.title == "Response target missed on Zoë O'Neil (Agent 1)"
    lines = dict(alert.lines)
    assert lines["Time left"] == "overdue by 2 min (was due Mon 14:58)" and "Vehicle" not in lines
    assert len(lines["Message"]) == 500 and alert.link is None and "Open the lead" not in alert.body + alert.html


def test_an_html_email_is_multipart_alternative_with_encoded_headers() -> None:
    alert = lead_alert("offer", _lead(), NOW, "https://c.example.com", Facts())
    email = Email(to=["agent@acme.com"], subject=alert.subject, text=alert.text, html=alert.html)
    raw = build_message(address("leadline@example.com", "Leadline"), email).as_bytes()
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    headers = raw.split(b"\r\n\r\n")[0].decode("ascii")  # non-ASCII names travel as encoded words
    assert "=?utf-8?" in headers.lower() and str(parsed["Subject"]) == alert.subject
    parts = {p.get_content_type(): p.get_content().replace("\r\n", "\n") for p in parsed.iter_parts()}
    assert parts["text/plain"].strip() == alert.text.strip() and parts["text/html"].strip() == alert.html
