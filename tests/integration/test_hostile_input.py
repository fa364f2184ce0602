"""Whatever arrives at ``/v1``, the gateway answers it: OpenAI-shaped, never a 500, never a hang.

Everything here goes over real HTTP to a real ``chatgrid serve`` in front of
the simulator: through ``httpx`` for well-formed requests, through a raw
socket for requests no well-behaved client would send, through the official
``openai`` SDK to show its typed exceptions, and through Hypothesis for
bodies nobody thought of. Inputs that crash the server today run against a
second server (``crash_prone``), so the main one's log stays a clean check.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import openai
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.support.deployment import DatabaseFactory, Deployment, OrgHandle, start_deployment
from tests.support.openapi_schemas import assert_fits, assert_openai_error
from tests.support.processes import RunningProcess

CHAT, EMBEDDINGS = "/chat/completions", "/embeddings"
CHAT_MODEL, EMBEDDING_MODEL = "gpt-4o-mini", "text-embedding-3-small"
HELLO = [{"role": "user", "content": "hi"}]
LIMIT = 8 * 1024 * 1024  # CHATGRID_MAX_BODY_BYTES default
TIMEOUT = httpx.Timeout(20.0)


@pytest.fixture(scope="module")
def org(deployment: Deployment) -> OrgHandle:
    return deployment.new_org()


@pytest.fixture(scope="module")
def client(deployment: Deployment, org: OrgHandle) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {org.token}"}
    with httpx.Client(base_url=deployment.v1, headers=headers, timeout=TIMEOUT) as http:
        yield http


@pytest.fixture(scope="module")
def crash_prone(
    tmp_path_factory: pytest.TempPathFactory,
    new_database: DatabaseFactory,
    simulator: RunningProcess,
) -> Iterator[httpx.Client]:
    """A second server for inputs that once crashed the gateway, so a regression cannot hide
    behind the log check on the main server."""
    server = contextlib.contextmanager(start_deployment)
    with server(tmp_path_factory.mktemp("crash-prone"), new_database(), simulator) as other:
        headers = {"Authorization": f"Bearer {other.new_org().token}"}
        with httpx.Client(base_url=other.v1, headers=headers, timeout=TIMEOUT) as http:
            yield http


def chat(**fields: Any) -> bytes:
    return json.dumps({"model": CHAT_MODEL, "messages": HELLO, **fields}).encode()


def embedding(**fields: Any) -> bytes:
    return json.dumps({"model": EMBEDDING_MODEL, "input": "hi", **fields}).encode()


def assert_success(endpoint: str, response: httpx.Response, *, stream: bool = False) -> None:
    assert response.status_code == 200, response.text[:300]
    if stream:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [e for e in response.text.split("\n\n") if e]
        assert events[-1] == "data: [DONE]", events[-1][:300]
        for event in events[:-1]:
            assert json.loads(event.removeprefix("data: "))["object"] == "chat.completion.chunk"
        return
    schema = "CreateChatCompletionResponse" if endpoint == CHAT else "CreateEmbeddingResponse"
    assert_fits(schema, response.json())


# --- raw HTTP, for requests httpx would refuse to send ------------------------------------


def raw_request(
    deployment: Deployment, head: bytes, body: bytes = b"", *, half_close: bool = False
) -> httpx.Response | None:
    """Send bytes as they are; the final response, or None if the server closed silently.

    ``head`` is the request line and headers without the blank line; the
    connection is closed after the response, so reading to EOF reads it all.
    A timeout here is the hang the gateway promises never to have.
    """
    url = httpx.URL(deployment.instance.base_url)
    data = head + b"\r\nHost: x\r\nConnection: close\r\n\r\n" + body
    with socket.create_connection((url.host, url.port or 80), timeout=15) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    while received.startswith(b"HTTP/1.1 1"):  # 100 Continue and other interim answers
        received = received.partition(b"\r\n\r\n")[2]
    if not received:
        return None
    raw_head, _, payload = received.partition(b"\r\n\r\n")
    status_line, *lines = raw_head.split(b"\r\n")
    headers = [
        (name.strip(), value.strip()) for name, _, value in (x.partition(b":") for x in lines)
    ]
    request = httpx.Request(head.split(b" ")[0].decode(), url.join(head.split(b" ")[1].decode()))
    return httpx.Response(
        int(status_line.split()[1]), headers=headers, content=payload, request=request
    )


def raw_post(token: str, body: bytes, *extra: bytes) -> bytes:
    headers = [b"Authorization: Bearer " + token.encode(), *extra]
    if not any(h.lower().startswith((b"content-length", b"transfer-encoding")) for h in extra):
        headers.append(b"Content-Length: %d" % len(body))
    return b"POST /v1/chat/completions HTTP/1.1\r\n" + b"\r\n".join(headers)


# --- who is calling --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "missing_api_key"),
        ("", "missing_api_key"),
        ("Bearer", "missing_api_key"),
        ("Basic Zm9vOmJhcg==", "missing_api_key"),
        ("Bearer \t cgk_", "invalid_api_key"),
        ("Bearer cgk_not-a-real-token", "invalid_api_key"),
        ("Bearer " + "A" * 100_000, "invalid_api_key"),
    ],
)
def test_a_bad_or_missing_token_is_a_401(
    deployment: Deployment, authorization: str | None, code: str
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = httpx.post(deployment.v1 + CHAT, content=chat(), headers=headers, timeout=TIMEOUT)
    assert assert_openai_error(response, 401, param=None)["code"] == code


@pytest.mark.parametrize(
    "value",
    [b"Bearer \xff\xfe\x80", b"Bearer \xc3\x28", b"Bearer cgk_\x80" + b"\xff" * 1_000_000],
    ids=["latin1", "bad-utf8", "megabyte-of-high-bytes"],
)
def test_odd_bytes_in_the_token_are_a_401(deployment: Deployment, value: bytes) -> None:
    head = b"POST /v1/chat/completions HTTP/1.1\r\nAuthorization: " + value
    head += b"\r\nContent-Length: %d" % len(chat())
    response = raw_request(deployment, head, chat())
    assert response is not None
    assert_openai_error(response, 401)


def test_bearer_is_case_insensitive_and_spaces_are_trimmed(
    deployment: Deployment, org: OrgHandle
) -> None:
    headers = {"Authorization": f"bEaReR \t  {org.token}"}
    response = httpx.post(deployment.v1 + CHAT, content=chat(), headers=headers, timeout=TIMEOUT)
    assert_success(CHAT, response)


# --- where and how ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        b"/v1/nope",
        b"/v1/",
        b"/v1/chat/completions/",
        b"/v1/chat",
        b"/v1/../v1/models",
        b"/v1/models/..",
        b"/v1/models/%2e%2e",
        b"/v1/models/%2e%2e/%2e%2e/healthz",
        b"/v1/models/../../etc/passwd",
        b"/v1/models/%ff%fe%00",
        b"/v1/models/" + b"x" * 20_000,
    ],
)
def test_unknown_routes_and_traversal_are_an_openai_404(
    deployment: Deployment, org: OrgHandle, target: bytes
) -> None:
    head = b"GET " + target + b" HTTP/1.1\r\nAuthorization: Bearer " + org.token.encode()
    response = raw_request(deployment, head)
    assert response is not None
    assert_openai_error(response, 404, param=None)


def test_the_bare_v1_root_is_an_openai_404(deployment: Deployment) -> None:
    response = raw_request(deployment, b"GET /v1 HTTP/1.1\r\nAuthorization: Bearer x")
    assert response is not None
    assert_openai_error(response, 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        *[(m, p) for m in ("GET", "PUT", "PATCH", "DELETE", "OPTIONS") for p in (CHAT, EMBEDDINGS)],
        ("POST", "/models"),
        ("DELETE", "/models/gpt-4o"),
    ],
)
def test_a_wrong_method_is_a_405(client: httpx.Client, method: str, path: str) -> None:
    assert_openai_error(client.request(method, path, content=chat()), 405, param=None)


# --- what the body says ----------------------------------------------------------------------

MALFORMED = {
    "empty": b"",
    "not-json": b"{model: gpt-4o-mini}",
    "truncated": chat()[:-3],
    "trailing-garbage": chat() + b"}x",
    "bom": b"\xef\xbb\xbf" + chat(),
    "invalid-utf8": chat().replace(b'"hi"', b'"\xff\xfe\xc3\x28"'),
    "raw-nul-in-string": chat().replace(b'"hi"', b'"h\x00i"'),
    "lone-surrogate": chat().replace(b'"hi"', b'"\\ud800"'),
    "top-level-array": b"[" + chat() + b"]",
    "top-level-string": b'"model"',
    "top-level-number": b"1e5",
    "top-level-null": b"null",
    "top-level-true": b"true",
    "100k-nested-arrays": b"[" * 100_000 + b"]" * 100_000,
    "100k-nested-objects": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "form-encoded": b"model=gpt-4o-mini&messages=hi",
    "utf16": chat().decode().encode("utf-16"),
    "max_tokens-1e309": chat().replace(b"}", b', "max_tokens": 1e309}'),
    "temperature--1e400": chat().replace(b"}", b', "temperature": -1e400}'),
}


@pytest.mark.parametrize("endpoint", [CHAT, EMBEDDINGS])
@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_bodies_are_a_400(client: httpx.Client, endpoint: str, raw: bytes) -> None:
    assert_openai_error(client.post(endpoint, content=raw), 400)


BAD_CHAT_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"model": None}, "model"),
    ({"model": 5}, "model"),
    ({"model": ["gpt-4o-mini"]}, "model"),
    ({"model": {"id": "gpt-4o-mini"}}, "model"),
    ({"model": "   "}, "model"),
    ({"model": "g" * 100_000}, "model"),
    ({"messages": None}, "messages"),
    ({"messages": []}, "messages"),
    ({"messages": "hi"}, "messages"),
    ({"messages": {"role": "user"}}, "messages"),
    ({"messages": ["hi"]}, "messages[0].role"),
    ({"messages": [*HELLO, {"content": "no role"}]}, "messages[1].role"),
    ({"messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
    ({"messages": [{"role": 1, "content": "x"}]}, "messages[0].role"),
    ({"stream": "true"}, "stream"),
    ({"stream": 1}, "stream"),
    ({"stream_options": {"include_usage": True}}, "stream_options"),
    ({"stream": True, "stream_options": "yes"}, "stream_options"),
    ({"n": -1}, "n"),
    ({"n": 0}, "n"),
    ({"n": 129}, "n"),
    ({"n": 1.5}, "n"),
    ({"n": True}, "n"),
    ({"n": 2**64}, "n"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"max_tokens": "5"}, "max_tokens"),
    ({"max_tokens": 1e308}, "max_tokens"),
    ({"max_tokens": 10**30}, "max_tokens"),
    ({"max_tokens": -(2**63)}, "max_tokens"),
    ({"max_completion_tokens": []}, "max_completion_tokens"),
]


@pytest.mark.parametrize(("fields", "param"), BAD_CHAT_FIELDS, ids=lambda v: str(v)[:40])
def test_a_bad_chat_field_is_a_400_naming_it(
    client: httpx.Client, fields: dict[str, Any], param: str
) -> None:
    assert_openai_error(client.post(CHAT, content=chat(**fields)), 400, param=param)


@pytest.mark.parametrize(
    "value", [None, "", [], [""], ["a", 1], [1, "a"], [[]], [[1], []], [True], {"text": "a"}, 3]
)
def test_a_bad_embedding_input_is_a_400_naming_it(client: httpx.Client, value: object) -> None:
    assert_openai_error(client.post(EMBEDDINGS, content=embedding(input=value)), 400, param="input")


@pytest.mark.parametrize("model", [None, 7, "", "x" * 1000])
def test_a_bad_embedding_model_is_a_400_naming_it(client: httpx.Client, model: object) -> None:
    assert_openai_error(client.post(EMBEDDINGS, content=embedding(model=model)), 400, param="model")


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"model": "no-such-model"}, 404),  # the key's provider does not list it: model_not_found
        ({"model": "gpt-4o\r\nSet-Cookie: a=b"}, 404),
        ({"model": EMBEDDING_MODEL}, 404),  # the upstream's own answer, passed through
        ({"tools": [{"type": "function", "function": 5}]}, 400),
        ({"tool_choice": {"type": []}}, 400),
        ({"messages": [{"role": "user", "content": {"nested": True}}]}, 400),
        ({"temperature": 10**40}, 400),
    ],
    ids=str,
)
def test_what_the_upstream_or_the_org_refuses_comes_back_openai_shaped(
    client: httpx.Client, fields: dict[str, Any], status: int
) -> None:
    response = client.post(CHAT, content=chat(**fields))
    assert_openai_error(response, status)
    assert "set-cookie" not in response.headers


ODD_BUT_VALID = {
    "duplicate-keys": b'{"model": 1, "model": "gpt-4o-mini", "messages": [], "messages": '
    b'[{"role": "user", "content": "dup"}]}',
    "escaped-nul": chat(messages=[{"role": "user", "content": "nul \x00 inside"}]),
    "odd-unicode": chat(messages=[{"role": "user", "content": "\u2028\ufeff\U0001f600 ok"}]),
    "10k-messages": chat(messages=HELLO * 10_000),
    "extremes": chat(max_tokens=10_000_000, n=128, seed=2**64 - 1, temperature=1e-400),
    "explicit-nulls": chat(stream=None, stream_options=None, n=None, max_tokens=None),
    "200-deep-extra-field": chat(metadata=json.loads("[" * 200 + "]" * 200)),
    "stream": chat(stream=True, stream_options={"include_usage": True}),
}


@pytest.mark.parametrize("name", ODD_BUT_VALID)
def test_odd_but_valid_chat_bodies_succeed(client: httpx.Client, name: str) -> None:
    response = client.post(CHAT, content=ODD_BUT_VALID[name])
    assert_success(CHAT, response, stream=name == "stream")


def test_odd_but_valid_embedding_bodies_succeed(client: httpx.Client) -> None:
    for value in ["\x00", ["a"] * 2048, [2**64 - 1], [[0], [1, 2]]]:
        # dimensions=1 keeps 2048 vectors small enough to check against the schema quickly
        sent = embedding(input=value, dimensions=1)
        assert_success(EMBEDDINGS, client.post(EMBEDDINGS, content=sent))


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "image/png"]
)
def test_a_lying_content_type_does_not_matter(
    client: httpx.Client, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    assert_success(CHAT, client.post(CHAT, content=chat(), headers=headers))


# --- how big, how sent -----------------------------------------------------------------------


def test_a_body_at_the_limit_is_read_and_one_byte_more_is_a_413(client: httpx.Client) -> None:
    fits = chat() + b" " * (LIMIT - len(chat()))
    assert_success(CHAT, client.post(CHAT, content=fits))
    assert_openai_error(client.post(CHAT, content=fits + b" "), 413, param=None)


def test_a_chunked_body_over_the_limit_is_a_413(client: httpx.Client) -> None:
    def megabytes() -> Iterator[bytes]:
        yield chat()[:-1]
        for _ in range(9):
            yield b" " * (1024 * 1024)
        yield b"}"

    assert_openai_error(client.post(EMBEDDINGS, content=megabytes()), 413)


def test_a_chunked_body_under_the_limit_is_read(client: httpx.Client) -> None:
    pieces = iter([chat()[:5], chat()[5:20], b"", chat()[20:]])
    assert_success(CHAT, client.post(CHAT, content=pieces))


def test_an_unauthenticated_huge_body_is_a_401_not_a_read(deployment: Deployment) -> None:
    response = httpx.post(
        deployment.v1 + CHAT,
        content=b" " * (3 * LIMIT),
        headers={"Authorization": "Bearer x"},
        timeout=TIMEOUT,
    )
    assert_openai_error(response, 401)


def test_raw_chunked_encoding_and_expect_continue_work(
    deployment: Deployment, org: OrgHandle
) -> None:
    body = chat()
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (body[:7], body[7:])) + b"0\r\n\r\n"
    head = raw_post(org.token, b"", b"Transfer-Encoding: chunked")
    response = raw_request(deployment, head, chunked)
    assert response is not None
    assert_success(CHAT, response)
    head = raw_post(org.token, body, b"Expect: 100-continue")
    response = raw_request(deployment, head, body)
    assert response is not None
    assert_success(CHAT, response)


def test_a_content_length_shorter_than_the_body_is_a_400(
    deployment: Deployment, org: OrgHandle
) -> None:
    head = raw_post(org.token, b"", b"Content-Length: 10")
    response = raw_request(deployment, head, chat())
    assert response is not None
    assert_openai_error(response, 400)


@pytest.mark.parametrize(
    "extra",
    [
        [b"Content-Length: -1"],
        [b"Content-Length: 99999999999999999999999"],
        [b"Content-Length: 5", b"Transfer-Encoding: chunked"],
        [b"Transfer-Encoding: chunked", b"X-Smuggle: a\nInjected: b"],
        [b"X-Injected: a\rSet-Cookie: b"],
    ],
    ids=["negative-length", "huge-length", "length-and-chunked", "bare-lf", "bare-cr"],
)
def test_malformed_http_is_refused_before_the_gateway(
    deployment: Deployment, org: OrgHandle, extra: list[bytes]
) -> None:
    """uvicorn's parser answers these (400 text/plain) before ChatGrid sees them."""
    response = raw_request(deployment, raw_post(org.token, b"", *extra), chat())
    assert response is not None
    assert response.status_code == 400
    assert "set-cookie" not in response.headers


def test_abandoned_and_stalled_uploads_do_not_block_anyone(
    deployment: Deployment, org: OrgHandle, client: httpx.Client
) -> None:
    head = raw_post(org.token, b"", b"Content-Length: 1000")
    assert raw_request(deployment, head, chat(), half_close=True) is None  # client gave up
    url = httpx.URL(deployment.instance.base_url)
    with socket.create_connection((url.host, url.port or 80), timeout=15) as stalled:
        stalled.sendall(head + b"\r\nHost: x\r\n\r\n" + chat()[:10])
        assert_success(CHAT, client.post(CHAT, content=chat()))
    assert_success(CHAT, client.post(CHAT, content=chat()))


def test_a_burst_of_hostile_requests_is_answered_in_full(client: httpx.Client) -> None:
    bodies = [
        *MALFORMED.values(),
        *ODD_BUT_VALID.values(),
        *(chat(**f) for f, _ in BAD_CHAT_FIELDS),
    ]
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda raw: client.post(CHAT, content=raw).status_code, bodies))
    assert len(statuses) == len(bodies)
    assert all(status in (200, 400) for status in statuses), sorted(set(statuses))


# --- through the official SDK ----------------------------------------------------------------


def test_the_openai_sdk_raises_its_typed_errors(deployment: Deployment, org: OrgHandle) -> None:
    sdk = openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0, timeout=20)
    with pytest.raises(openai.BadRequestError) as bad:
        sdk.chat.completions.create(model=CHAT_MODEL, messages=[])
    assert (bad.value.status_code, bad.value.param) == (400, "messages")
    assert "messages must be a non-empty array" in bad.value.message
    with pytest.raises(openai.BadRequestError) as bad:
        sdk.chat.completions.create(
            model=CHAT_MODEL, messages=[{"role": "user", "content": "hi"}], n=-1
        )
    assert bad.value.param == "n"
    with pytest.raises(openai.NotFoundError) as missing:
        sdk.models.retrieve("no-such-model")
    assert missing.value.code == "model_not_found"
    assert "no-such-model" in missing.value.message
    stranger = openai.OpenAI(base_url=deployment.v1, api_key="cgk_nobody", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as refused:
        stranger.embeddings.create(model=EMBEDDING_MODEL, input="hi")
    assert refused.value.code == "invalid_api_key"
    assert "Incorrect API key" in refused.value.message


# --- bodies nobody thought of ----------------------------------------------------------------

text = st.text(max_size=30)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=15,
)


def pick(*choices: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """One of ``choices``, each as likely as the next (repeat one to weight it).

    ``one_of`` would flatten ``json_values`` into its many branches and pick
    garbage far more often than meant.
    """
    return st.sampled_from(choices).flatmap(lambda chosen: chosen)


def one_in(n: int, valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``valid``, or any JSON value once in ``n`` draws."""
    return pick(*[valid] * (n - 1), json_values)


def mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return one_in(4, valid)


text_part = st.fixed_dictionaries({"type": mostly(st.just("text")), "text": mostly(text)})
message = st.fixed_dictionaries(
    {
        "role": one_in(10, st.sampled_from(["system", "developer", "user", "assistant", "tool"])),
        "content": mostly(text | st.lists(text_part, max_size=2)),
    },
    optional={"tool_call_id": mostly(text), "name": text},
)
function = st.fixed_dictionaries({"name": mostly(st.from_regex(r"[a-z_]{1,12}", fullmatch=True))})
tool = st.fixed_dictionaries({"type": mostly(st.just("function")), "function": mostly(function)})


def field_bodies(models: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Bodies with the real field names, each usually sensible, sometimes anything."""
    hostile_numbers = st.integers() | st.floats()
    counts = pick(*[st.integers(1, 200)] * 4, st.integers(-2, 0), hostile_numbers, json_values)
    inputs = text | st.lists(text, min_size=1, max_size=3) | st.lists(st.integers(0, 2**64))
    fields = {
        "model": one_in(10, st.sampled_from(models)),
        "messages": one_in(10, st.lists(one_in(10, message), min_size=1, max_size=3)),
        "input": one_in(10, inputs),
        "max_tokens": counts,
        "n": pick(st.integers(1, 4), st.integers(1, 4), counts),
        "tools": mostly(st.lists(tool, max_size=2)),
    }
    options = st.fixed_dictionaries({}, optional={"include_usage": mostly(st.booleans())})
    streaming = pick(
        st.just({}),
        st.fixed_dictionaries({"stream": st.booleans()}),
        st.fixed_dictionaries({"stream": st.just(True), "stream_options": options}),
        st.fixed_dictionaries({}, optional={"stream": json_values, "stream_options": json_values}),
    )
    core = {name: fields.pop(name) for name in ("model", "messages", "input")}
    complete = st.fixed_dictionaries(core, optional=fields)
    loose = st.fixed_dictionaries({}, optional={**core, **fields})
    bodies = pick(complete, complete, complete, loose)
    return st.tuples(bodies, streaming).map(lambda parts: {**parts[0], **parts[1]})


BODIES = {
    CHAT: field_bodies([CHAT_MODEL, "gpt-4o", "gpt-5-nano", EMBEDDING_MODEL, "nope"]),
    EMBEDDINGS: field_bodies([EMBEDDING_MODEL, "text-embedding-ada-002", CHAT_MODEL, "nope"]),
}
FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def send_and_judge(client: httpx.Client, endpoint: str, body: object, ascii_only: bool) -> None:
    raw = json.dumps(body, ensure_ascii=ascii_only)
    assume("[sim:" not in raw)  # the simulator's own fault directives
    response = client.post(endpoint, content=raw.encode("utf-8", "surrogatepass"))
    assert response.status_code != 500, response.text[:300]
    assert response.status_code < 600, response.text[:300]
    if response.status_code >= 300:
        assert_openai_error(response)
        return
    wants_stream = endpoint == CHAT and isinstance(body, dict) and body.get("stream") is True
    assert_success(endpoint, response, stream=wants_stream)


@pytest.mark.parametrize("endpoint", [CHAT, EMBEDDINGS])
@FUZZ
@given(body=json_values, ascii_only=st.booleans())
def test_any_json_value_gets_an_openai_answer(
    client: httpx.Client, endpoint: str, body: object, ascii_only: bool
) -> None:
    send_and_judge(client, endpoint, body, ascii_only)


@pytest.mark.parametrize("endpoint", [CHAT, EMBEDDINGS])
@FUZZ
@given(data=st.data(), ascii_only=st.booleans())
def test_any_mix_of_the_real_fields_gets_an_openai_answer(
    client: httpx.Client, endpoint: str, data: st.DataObject, ascii_only: bool
) -> None:
    send_and_judge(client, endpoint, data.draw(BODIES[endpoint], label="body"), ascii_only)


# --- inputs that once crashed the gateway, on their own server -------------------------------


@pytest.mark.parametrize("role", [[], ["user"], {}, {"user": 1}], ids=str)
def test_an_unhashable_role_is_a_400(crash_prone: httpx.Client, role: object) -> None:
    response = crash_prone.post(CHAT, content=chat(messages=[{"role": role, "content": "x"}]))
    assert_openai_error(response, 400, param="messages[0].role")


@pytest.mark.parametrize("endpoint", [CHAT, EMBEDDINGS])
@pytest.mark.parametrize("depth", [255, 600, 1023])
def test_deep_nesting_in_a_passed_through_field_is_not_a_500(
    crash_prone: httpx.Client, endpoint: str, depth: int
) -> None:
    body = (chat() if endpoint == CHAT else embedding())[:-1]
    body += b', "metadata": ' + b"[" * depth + b"]" * depth + b"}"
    response = crash_prone.post(endpoint, content=body)
    assert response.status_code != 500
    if response.status_code != 200:
        assert_openai_error(response, 400)


# --- and afterwards --------------------------------------------------------------------------


def test_the_server_logged_no_crash_through_all_of_this(deployment: Deployment) -> None:
    """Runs last in this module: every request above went to this one server."""
    assert deployment.instance.server is not None
    log = deployment.instance.server.log_text()
    assert "Application startup complete" in log
    for sign in ("Traceback", "Exception in ASGI application", '"level":"error"'):
        assert sign not in log, [line for line in log.splitlines() if sign in line][:5]
    assert httpx.get(deployment.instance.base_url + "/healthz", timeout=TIMEOUT).status_code == 200
