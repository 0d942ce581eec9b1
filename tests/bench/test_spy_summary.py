"""bench/spy_summary.py: shares of a py-spy raw profile."""

from bench.spy_summary import buckets, main_thread, package, parse, summarise

SP = "/w/.venv/lib/python3.11/site-packages"


def test_shares_inclusive_and_self(tmp_path):
    raw = tmp_path / "p.raw"
    raw.write_text(
        f"run (/w/kyoso/states/channel.py:10);execute ({SP}/sqlalchemy/engine/base.py:5) 3\n"
        f"run (/w/kyoso/states/channel.py:10);emit ({SP}/socketio/server.py:2) 1\n"
        "Thread._bootstrap (threading.py:1);_worker (concurrent/futures/thread.py:81) 50\n"
    )
    text = summarise(main_thread(parse(raw)), top=10, matches=["sqlalchemy", "nothing"])
    assert "4 busy samples" in text
    assert "100.0 %  run (/w/kyoso/states/channel.py)" in text
    assert " 75.0 %  sqlalchemy" in text
    assert " 25.0 %  socketio" in text
    assert "  0.0 %  nothing" in text


def test_package_names():
    assert package(f"x ({SP}/engineio/async_socket.py:3)") == "engineio"
    assert package("y (/work/wt/kyoso/services/accounts.py:9)") == "kyoso.services"
    assert package("z (/usr/lib/python3.11/asyncio/events.py:80)") == "asyncio"
    assert package("w (sqlalchemy/orm/session.py:5)") == "sqlalchemy"
    assert package("v (kyoso/states/channel.py:5)") == "kyoso.states"


def test_buckets_are_exclusive_in_the_order_given():
    stacks = [(["a (x.py:1)", "b (y.py:2)"], 2), (["b (y.py:2)"], 1), (["c (z.py:3)"], 1)]
    got = dict(buckets(stacks, ["A=a (", "B=b ("]))
    assert got == {"A": 50.0, "B": 25.0, "other": 25.0}
