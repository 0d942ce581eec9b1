"""bench/spy_summary.py: shares of a py-spy raw profile."""

from bench.spy_summary import package, parse, summarise

SP = "/w/.venv/lib/python3.11/site-packages"


def test_shares_inclusive_and_self(tmp_path):
    raw = tmp_path / "p.raw"
    raw.write_text(
        f"process 1;run (/w/kyoso/states/channel.py:10);execute ({SP}/sqlalchemy/engine/base.py:5) 3\n"
        f"process 1;run (/w/kyoso/states/channel.py:10);emit ({SP}/socketio/server.py:2) 1\n"
    )
    text = summarise(parse(raw), top=10, matches=["sqlalchemy", "nothing"])
    assert "4 busy samples" in text
    assert "100.0 %  run (/w/kyoso/states/channel.py)" in text
    assert " 75.0 %  sqlalchemy" in text
    assert " 25.0 %  socketio" in text
    assert "  0.0 %  nothing" in text


def test_package_names():
    assert package(f"x ({SP}/engineio/async_socket.py:3)") == "engineio"
    assert package("y (/work/wt/kyoso/services/accounts.py:9)") == "kyoso.services"
    assert package("z (/usr/lib/python3.11/asyncio/events.py:80)") == "stdlib asyncio"
