"""The local stack's HTTP server as a hostile or careless client meets it: every answer the server
makes on its own is in the contract's error shape, a burst of new connections is served, and a
webhook refuses a body in the wrong content type. One stack for the module."""

from __future__ import annotations

import json
import selectors
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.conftest import StackProcess, cli, free_port

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    home: Path = tmp_path_factory.mktemp("http") / "home"
    home.mkdir()
    running = StackProcess(home=home, port=free_port(), aws_port=free_port(), smtp_port=free_port()).start()
    yield running
    running.stop()


def raw_request(stack: StackProcess, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (no client library tidying them) and read the whole answer."""
    with socket.create_connection(("127.0.0.1", stack.port), timeout=10) as conn:
        conn.sendall(data)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
            head, sep, body = received.partition(b"\r\n\r\n")
            if sep:
                headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:])
                if len(body) >= int(headers.get("Content-Length", "0")):
                    break
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def assert_contract_error(status: int, headers: dict[str, str], body: bytes, expected_status: int) -> dict[str, Any]:
    assert status == expected_status, body[:300]
    assert headers.get("content-type", "").startswith("application/json"), headers
    error = json.loads(body)["error"]
    assert set(error) >= {"code", "message", "details"} and error["code"] and error["message"], error
    return dict(error)


def test_a_64_kb_header_is_refused_in_the_contract_shape(stack: StackProcess) -> None:
    reply = requests.get(stack.url + "/health", headers={"X-Padding": "a" * 65536}, timeout=10)
    error = assert_contract_error(reply.status_code, {k.lower(): v for k, v in reply.headers.items()},
                                  reply.content, 431)
    assert error["code"] == "too_large"


def test_a_100k_character_query_is_refused_in_the_contract_shape(stack: StackProcess) -> None:
    reply = requests.get(stack.url + "/leads?q=" + "x" * 100_000, timeout=10)
    error = assert_contract_error(reply.status_code, {k.lower(): v for k, v in reply.headers.items()},
                                  reply.content, 414)
    assert error["code"] == "too_large"


@pytest.mark.parametrize(("request_bytes", "status"), [
    (b"BREW /health HTTP/1.1\r\nHost: x\r\n\r\n", 501),  # a method the server does not take
    (b"GET /health HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    (b"NONSENSE\r\n\r\n", 400),
    (b"POST /accounts HTTP/1.1\r\nHost: x\r\nContent-Length: twelve\r\n\r\n", 400),
    (b"POST /accounts HTTP/1.1\r\nHost: x\r\nContent-Length: 10485761\r\n\r\n", 413),  # over API Gateway's 10 MB
    (b"GET /health HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(120)) + b"\r\n", 431),
    (b"GET /no-such-route HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404),
])
def test_what_the_server_answers_itself_is_in_the_contract_shape(stack: StackProcess, request_bytes: bytes,
                                                                 status: int) -> None:
    assert_contract_error(*raw_request(stack, request_bytes), expected_status=status)


def test_a_chunked_body_reaches_the_route(stack: StackProcess) -> None:
    made = cli(stack.home, "bootstrap", "--group", "Chunked Motors", "--email", "owner@chunked.com", "--name", "Cy")
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)["token"].encode()
    body = json.dumps({"name": "Chunked Kia", "timezone": "America/Chicago"}).encode()
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:7], body[7:])) + b"0\r\n\r\n"
    status, _, answer = raw_request(stack, b"POST /accounts HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                           b"Authorization: Bearer " + token + b"\r\n"
                                           b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    + chunked)
    assert status == 201, answer
    assert json.loads(answer)["name"] == "Chunked Kia"


def test_a_burst_of_100_new_connections_is_served(stack: StackProcess) -> None:
    """100 connections opened at once (non-blocking connects, then one request on each): with
    socketserver's listen backlog of 5 most wait on SYN retries or are reset."""
    count, deadline = 100, time.monotonic() + 10
    request = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    selector = selectors.DefaultSelector()
    answers: dict[int, bytes] = {}
    for i in range(count):
        conn = socket.socket()
        conn.setblocking(False)
        conn.connect_ex(("127.0.0.1", stack.port))
        selector.register(conn, selectors.EVENT_WRITE, i)
    try:
        while selector.get_map() and time.monotonic() < deadline:
            for key, events in selector.select(0.1):
                conn, i = cast(socket.socket, key.fileobj), key.data
                try:
                    if events & selectors.EVENT_WRITE:
                        conn.send(request)
                        selector.modify(conn, selectors.EVENT_READ, i)
                        continue
                    data = conn.recv(65536)
                except OSError as exc:
                    data, answers[i] = b"", type(exc).__name__.encode()
                answers[i] = answers.get(i, b"") + data
                if not data:
                    selector.unregister(conn)
                    conn.close()
    finally:
        for key in list(selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
    statuses = sorted(answers.get(i, b"no answer in 10 s").split(b"\r\n", 1)[0].decode() for i in range(count))
    assert statuses == ["HTTP/1.1 200 OK"] * count, statuses


def test_a_twilio_webhook_in_the_wrong_content_type_is_refused(stack: StackProcess) -> None:
    from chalicelib.domain.signatures import twilio_signature

    url = stack.url + "/webhooks/twilio/sms"
    params = {"MessageSid": "SM" + "0" * 32, "From": "+13125550199", "To": "+13125550100", "Body": "hi"}
    signature = twilio_signature("dev-twilio-token", url, {k: [v] for k, v in params.items()})
    form = "&".join(f"{k}={requests.utils.quote(v)}" for k, v in params.items())
    host = urlsplit(stack.url).netloc
    reply = requests.post(url, data=form, timeout=10, headers={
        "Content-Type": "text/plain", "X-Twilio-Signature": signature, "Host": host})
    error = assert_contract_error(reply.status_code, {k.lower(): v for k, v in reply.headers.items()},
                                  reply.content, 415)
    assert "application/x-www-form-urlencoded" in error["message"]
