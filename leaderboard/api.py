"""A client for OpenAI-compatible chat servers (vLLM's `vllm serve`, TGI, SGLang, OpenAI).

`POST {base}/chat/completions` with the conversation, `n`, `temperature`, `top_p`,
`max_tokens` and `seed`. `base` may be given with or without the trailing `/v1`.
Connection errors, timeouts, 429 and 5xx responses are retried with exponential
backoff; other errors stop the run with the server's own message. The key is read
from `$OPENAI_API_KEY` when set (local servers need none). Standard library only.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from typing import Any, Sequence

from agents.types import SamplingConfig
from leaderboard.models import Context, Generated, Messages


class ApiError(RuntimeError):
    """The server refused a request, or did not answer after every retry."""


class ApiModel:
    """Completions from `model` behind an OpenAI-compatible `/v1/chat/completions` endpoint."""

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, timeout_s: float = 600.0,
                 retries: int = 4, backoff_s: float = 1.0):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"api_base={base_url!r} must start with http:// or https://, e.g. http://127.0.0.1:8000/v1")
        base = base_url.rstrip("/")
        self.url = (base if base.endswith("/v1") else base + "/v1") + "/chat/completions"
        self.model = model
        self.name = f"api:{model}"
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(payload).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    return json.loads(response.read().decode("utf-8"))
            except urllib.error.HTTPError as error:
                detail = error.read().decode("utf-8", errors="replace")[:500]
                last = f"HTTP {error.code} from {self.url}: {detail}"
                if error.code != 429 and error.code < 500:
                    raise ApiError(f"{last} (model={self.model!r}; is that the name the server serves?)") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError, json.JSONDecodeError) as error:
                last = f"no valid answer from {self.url}: {getattr(error, 'reason', error)}"
        raise ApiError(f"{last} (gave up after {self.retries + 1} tries; is the server running?)")

    def complete(self, conversations: Sequence[Messages], contexts: Sequence[Context], n: int,
                 sampling: SamplingConfig) -> list[list[Generated]]:
        out = []
        for messages in conversations:
            payload: dict[str, Any] = {"model": self.model, "messages": list(messages), "n": n,
                                       "temperature": sampling.temperature, "top_p": sampling.top_p,
                                       "max_tokens": sampling.max_new_tokens}
            if sampling.seed is not None:
                payload["seed"] = int(sampling.seed) % 2**31
            if sampling.stop:
                payload["stop"] = list(sampling.stop)
            data = self._post(payload)
            choices = sorted(data.get("choices") or [], key=lambda c: c.get("index", 0))
            if len(choices) != n:
                raise ApiError(f"{self.url} returned {len(choices)} choices for n={n}; "
                               "the server must support the `n` parameter")
            usage = (data.get("usage") or {}).get("completion_tokens")
            # Token counts come per response, not per choice: exact only when n == 1.
            tokens = int(usage) if usage is not None and n == 1 else None
            out.append([Generated((c.get("message") or {}).get("content") or "", tokens) for c in choices])
        return out
