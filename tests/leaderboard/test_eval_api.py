"""`--api-base`: evaluation against a small OpenAI-compatible server started on 127.0.0.1."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agents.types import SamplingConfig
from leaderboard.api import ApiError, ApiModel
from leaderboard.evaluate import EvalConfig, evaluate
from leaderboard.suites import SUITES, Suite, SuiteEntry


class FakeServer:
    """/v1/chat/completions that solves "a + b" style arithmetic prompts badly or well on demand."""

    def __init__(self):
        self.requests: list[dict] = []
        self.fail_next = 0  # answer this many requests with HTTP 503 first
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                if body.get("model") != "fake-model":
                    return self._send(404, {"error": {"message": f"model {body.get('model')!r} does not exist"}})
                if server.fail_next:
                    server.fail_next -= 1
                    return self._send(503, {"error": {"message": "overloaded"}})
                prompt = body["messages"][-1]["content"]
                choices = [{"index": i, "message": {"role": "assistant", "content": f"\\boxed{{{len(prompt) % 7}}}"},
                            "finish_reason": "stop"} for i in range(body["n"])]
                self._send(200, {"choices": choices, "usage": {"completion_tokens": 4 * body["n"]}})

            def _send(self, code, payload):
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    with FakeServer() as fake:
        yield fake


def test_eval_against_an_openai_compatible_server(server, tmp_path, monkeypatch):
    small = Suite("api-test", 1, "three arithmetic tasks", (SuiteEntry("distil/math-arithmetic-v0", seeds=3),))
    monkeypatch.setitem(SUITES, small.name, small)
    config = EvalConfig(suite=small.name, n=4, ks=(1, 4), temperature=0.7, top_p=0.9, max_new_tokens=64,
                        bootstrap=100)
    summary = evaluate("ignored", config, tmp_path, api_base=server.base, api_model="fake-model", progress=False)
    assert summary["model"] == "api:fake-model" and summary["num_samples"] == 12
    assert len(server.requests) == 3
    body = server.requests[0]["body"]
    assert body["n"] == 4 and body["temperature"] == 0.7 and body["top_p"] == 0.9 and body["max_tokens"] == 64
    assert body["messages"][0]["role"] == "user" and "seed" in body
    records = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    assert all(re.fullmatch(r"\\boxed\{\d\}", r["completion"]) for r in records)
    assert all(r["tokens"] is None for r in records)  # usage is per response: unknown per choice when n > 1


def test_retries_with_backoff_then_succeeds(server):
    server.fail_next = 2
    model = ApiModel(server.base.removesuffix("/v1"), "fake-model", backoff_s=0.01, api_key="k")
    out = model.complete([[{"role": "user", "content": "hi"}]], [None], 1, SamplingConfig(max_new_tokens=5))
    assert out[0][0].text == "\\boxed{2}" and out[0][0].tokens == 4
    assert len(server.requests) == 3 and server.requests[-1]["auth"] == "Bearer k"


def test_clear_errors(server):
    wrong_model = ApiModel(server.base, "other-model", backoff_s=0.01)
    with pytest.raises(ApiError, match="HTTP 404.*does not exist.*is that the name"):
        wrong_model.complete([[{"role": "user", "content": "hi"}]], [None], 1, SamplingConfig())
    server.fail_next = 10
    busy = ApiModel(server.base, "fake-model", retries=2, backoff_s=0.01)
    with pytest.raises(ApiError, match="HTTP 503.*gave up after 3 tries"):
        busy.complete([[{"role": "user", "content": "hi"}]], [None], 1, SamplingConfig())
    nobody = ApiModel("http://127.0.0.1:9/v1", "m", retries=1, backoff_s=0.01, timeout_s=2)
    with pytest.raises(ApiError, match="is the server running"):
        nobody.complete([[{"role": "user", "content": "hi"}]], [None], 1, SamplingConfig())
    with pytest.raises(ValueError, match="http://"):
        ApiModel("127.0.0.1:8000", "m")
