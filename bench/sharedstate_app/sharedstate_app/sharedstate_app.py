"""The naive way to share live state in Reflex, for comparison with kyoso's
room emit: every client's on_load links it to ONE ``rx.SharedState``; a
change is then pushed to each linked client by Reflex (one
``app.modify_state`` per client). Driven headless by bench/loadgen.py
(``--baseline``); it has the same three actions as the kyoso scenarios: post
a message, vote (a tally), and a cheap per-client event for round trips.
"""

import reflex as rx

ROOM_TOKEN = "benchroom"  # no "_" in a link token


class Room(rx.SharedState):
    messages: list[str] = []
    tally: int = 0

    @rx.event
    async def join(self):
        await self._link_to(ROOM_TOKEN)

    @rx.event
    def post(self, form: dict):
        self.messages = [*self.messages[-49:], str(form.get("body", ""))]

    @rx.event
    def vote(self):
        self.tally += 1


class ProbeState(rx.State):
    """Not shared: a cheap event whose round trip is measured."""

    pings: int = 0

    @rx.event
    def ping(self):
        self.pings += 1


def index() -> rx.Component:
    return rx.box(
        rx.text(Room.tally),
        rx.foreach(Room.messages, rx.text),
        rx.text(ProbeState.pings),
    )


app = rx.App()
app.add_page(index, route="/", on_load=Room.join)
