"""What the reload storm calls "the truth" on a client's view (bench/load/storms.py)."""

from bench.load.profiles import BRIEFING, CHANNEL, KyosoBriefing, KyosoChannel
from bench.load.storms import reaction_count, room_of


def channel_view(count):
    return {CHANNEL: {"messages_rx_state_": [
        {"id": 7, "body_html": "<p>x</p>", "stamps": [{"stamp": "👍", "count": count, "who": ""}]}]}}


def test_reaction_count_reads_the_thumbs_up_of_a_channel_message():
    profile = KyosoChannel("bench-room", 3, [], [], None)
    assert reaction_count(profile, channel_view(21), 7) == 21
    assert reaction_count(profile, channel_view(21), 8) == 0
    assert reaction_count(profile, {}, 7) == 0
    assert room_of(profile) == "channel:3"


def test_reaction_count_reads_a_briefing_questions_votes():
    profile = KyosoBriefing(5, 3, [], [], None)
    view = {BRIEFING: {"questions_rx_state_": [{"id": 9, "body": "q", "votes": 4}]}}
    assert reaction_count(profile, view, 9) == 4
    assert reaction_count(profile, view, 1) == 0
    assert room_of(profile) == "briefing:5"


def test_a_peek_waits_as_long_as_its_caller_asks(monkeypatch, tmp_path):
    """come-and-go's last reading (a full collection first) asks for its own
    timeout; the default is 120 s."""
    from types import SimpleNamespace

    from bench.load import peek, storms

    asked = []
    monkeypatch.setattr(peek, "peek", lambda inspect_dir, worker, **request: asked.append(request) or {})
    watch = storms.Watch(SimpleNamespace(workers=[123], refresh=lambda: False), tmp_path)
    watch.peek(rooms=["channel:1"])
    watch.peek(gc=True, timeout=300)
    assert asked == [{"rooms": ["channel:1"], "timeout": 120}, {"gc": True, "timeout": 300}]


def test_the_backend_finds_a_worker_gunicorn_started_in_place_of_one_that_ended(monkeypatch):
    """kyoso's worker ends when idle and grown (ops/recycle.py): the load
    tool then reads the new one."""
    from bench.load import procs

    alive = {10, 11}
    monkeypatch.setattr(procs, "rss_bytes", lambda pid: 1 if pid in alive else None)
    monkeypatch.setattr(procs, "backend_workers", lambda root: sorted(alive))
    backend = procs.Backend(1)
    assert backend.workers == [10, 11] and not backend.refresh()
    alive.discard(11)
    alive.add(12)
    assert backend.measured() == [10, 12]
