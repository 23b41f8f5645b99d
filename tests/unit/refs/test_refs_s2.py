"""The Semantic Scholar client against the loopback fake: shapes, paging, limits, failures."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from zotsync.refs.s2 import BATCH_FIELDS, S2Client, S2Error, _retry_after
from zotsync.testing.fake_s2 import FakeS2, make_paper


def refs(n: int, prefix: str = "r") -> list[dict[str, object]]:
    return [
        make_paper(f"{prefix}{i:04d}" if i % 3 else None, f"Cited work {i}", 2000 + i % 20)
        for i in range(n)
    ]


ATTENTION = make_paper(
    "s2attn", "Attention Is All You Need", 2017, arxiv="1706.03762", references=refs(5)
)
RESNET = make_paper(
    "s2resn", "Deep Residual Learning", 2016, doi="10.1109/CVPR.2016.90", references=refs(2300)
)


@pytest.fixture
def fake() -> Iterator[FakeS2]:
    server = FakeS2([ATTENTION, RESNET])
    server.start()
    yield server
    server.stop()


def client_for(fake: FakeS2, sleeps: list[float] | None = None, **kw: object) -> S2Client:
    options: dict[str, object] = {"min_interval": 0.0, "timeout": 2.0}
    options.update(kw)
    if sleeps is not None:
        options["sleep"] = sleeps.append
    return S2Client(fake.base_url, **options)  # type: ignore[arg-type]


def test_batch_keeps_order_and_answers_null_for_unknown_ids(fake: FakeS2) -> None:
    with client_for(fake) as client:
        answer = client.batch(
            ["DOI:10.9999/unknown", "ARXIV:1706.03762", "doi:10.1109/cvpr.2016.90"]
        )
    assert answer[0] is None
    assert answer[1] is not None and answer[1]["paperId"] == "s2attn"
    assert answer[2] is not None and answer[2]["paperId"] == "s2resn"
    assert len(answer[1]["references"]) == 5 and answer[1]["referenceCount"] == 5
    sent = fake.requests[0]
    assert sent.method == "POST" and sent.query["fields"] == [BATCH_FIELDS]
    assert sent.body == {
        "ids": ["DOI:10.9999/unknown", "ARXIV:1706.03762", "doi:10.1109/cvpr.2016.90"]
    }


def test_batch_refuses_more_than_500_ids_without_asking(fake: FakeS2) -> None:
    with client_for(fake) as client, pytest.raises(ValueError):
        client.batch([f"ARXIV:2101.{i:05d}" for i in range(501)])
    assert fake.request_count == 0


def test_paging_follows_next_until_the_last_page(fake: FakeS2) -> None:
    with client_for(fake) as client:
        cited = client.all_references("s2resn")
    assert [c["title"] for c in cited] == [f"Cited work {i}" for i in range(2300)]
    offsets = [r.query["offset"][0] for r in fake.requests]
    assert offsets == ["0", "1000", "2000"]
    assert cited[0]["paperId"] is None and cited[1]["paperId"] == "r0001"


def test_api_key_is_sent_as_x_api_key(fake: FakeS2, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2_API_KEY", "sekret")
    with client_for(fake) as client:
        client.batch(["ARXIV:1706.03762"])
    assert fake.requests[0].headers.get("x-api-key") == "sekret"


def test_base_url_comes_from_the_environment(fake: FakeS2, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOTSYNC_S2_URL", fake.base_url + "/")
    with S2Client(min_interval=0) as client:
        assert client.base_url == fake.base_url
        assert client.batch(["ARXIV:1706.03762"])[0] is not None


def test_429_with_retry_after_waits_that_long_then_succeeds(fake: FakeS2) -> None:
    fake.add_fault(429, retry_after="7", times=2)
    sleeps: list[float] = []
    with client_for(fake, sleeps) as client:
        answer = client.batch(["ARXIV:1706.03762"])
    assert answer[0] is not None
    assert sleeps == [7.0, 7.0] and fake.request_count == 3


def test_429_without_retry_after_backs_off_exponentially(fake: FakeS2) -> None:
    fake.add_fault(429, times=3)
    sleeps: list[float] = []
    with client_for(fake, sleeps, backoff_base=0.5) as client:
        assert client.batch(["ARXIV:1706.03762"])[0] is not None
    assert sleeps == [0.5, 1.0, 2.0]


def test_endless_429_gives_up_as_rate_limited(fake: FakeS2) -> None:
    fake.add_fault(429, times=100)
    with client_for(fake, [], max_retries=3) as client, pytest.raises(S2Error) as err:
        client.batch(["ARXIV:1706.03762"])
    assert err.value.reason == "rate-limited" and fake.request_count == 4


def test_backoff_that_would_pass_the_deadline_is_not_slept(fake: FakeS2) -> None:
    fake.add_fault(429, retry_after="60")
    sleeps: list[float] = []
    with client_for(fake, sleeps) as client, pytest.raises(S2Error) as err:
        client.batch(["ARXIV:1706.03762"], deadline=time.monotonic() + 5)
    assert err.value.reason == "rate-limited" and sleeps == []


def test_server_errors_are_retried(fake: FakeS2) -> None:
    fake.add_fault(500)
    sleeps: list[float] = []
    with client_for(fake, sleeps) as client:
        assert client.batch(["ARXIV:1706.03762"])[0] is not None
    assert sleeps == [1.0]


def test_unknown_paper_404_and_bad_parameters_400_are_not_found(fake: FakeS2) -> None:
    with client_for(fake) as client:
        with pytest.raises(S2Error) as missing:
            client.references_page("nosuchpaper")
        with pytest.raises(S2Error) as bad:
            client.references_page("s2resn", limit=5000)
    assert missing.value.reason == "not-found" and "not found" in str(missing.value)
    assert bad.value.reason == "not-found" and "Limit" in str(bad.value)


def test_slow_server_times_out(fake: FakeS2) -> None:
    fake.add_fault(delay=2.0)
    with client_for(fake, timeout=0.1) as client, pytest.raises(S2Error) as err:
        client.batch(["ARXIV:1706.03762"])
    assert err.value.reason == "timeout"


def test_spent_budget_sends_nothing(fake: FakeS2) -> None:
    with client_for(fake) as client, pytest.raises(S2Error) as err:
        client.batch(["ARXIV:1706.03762"], deadline=time.monotonic() - 1)
    assert err.value.reason == "timeout" and fake.request_count == 0


def test_unreachable_server_is_reported_as_unreachable() -> None:
    server = FakeS2()
    url = server.start()
    server.stop()
    with S2Client(url, min_interval=0, timeout=1) as client, pytest.raises(S2Error) as err:
        client.batch(["ARXIV:1706.03762"])
    assert err.value.reason == "unreachable"


def test_requests_are_spaced_by_the_minimum_interval(fake: FakeS2) -> None:
    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    with S2Client(fake.base_url, min_interval=1.0, clock=lambda: now[0], sleep=sleep) as client:
        client.batch(["ARXIV:1706.03762"])
        now[0] += 0.25
        client.batch(["ARXIV:1706.03762"])
    assert sleeps == [0.75]


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert _retry_after("3") == 3.0
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert _retry_after("soon") is None and _retry_after(None) is None
