"""The rotation hand-over on its own: every interleaving of two sockets' frames gives each event once."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from binance_pm._stream_handover import Handover

A, B = object(), object()


def _run(events: list[str], k: int, order: list[object]) -> tuple[list[str], list[object]]:
    """Socket A carries every event, B (opened at event ``k``) the rest; read in ``order``."""
    out: list[str] = []
    retired: list[object] = []
    route: Handover[object] = Handover(out.append, retired.append)
    route.reset(A)
    route.begin(B)
    frames = {A: iter(events), B: iter(events[k:])}
    for conn in order:
        route.on_frame(conn, next(frames[conn]))
    if route.standby is not None:  # no frame matched before the end: the overlap timed out
        route.switch()
    return out, retired


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_every_interleaving_delivers_each_event_once(data: st.DataObject) -> None:
    """Any read order of the two sockets: the events in order, each once; the old socket retired."""
    copies = data.draw(st.lists(st.integers(1, 3), max_size=25), label="copies per event")
    events = [f'{{"e":"x","n":{i}}}' for i, c in enumerate(copies) for _ in range(c)]
    starts = [sum(copies[:i]) for i in range(len(copies) + 1)]  # B never opens inside a group
    k = data.draw(st.sampled_from(starts), label="B opens at")
    order = data.draw(st.permutations([A] * len(events) + [B] * (len(events) - k)), label="order")
    out, retired = _run(events, k, order)
    assert out == events
    assert retired == [A]


def test_old_socket_frames_after_switch_ignored() -> None:
    """Once B took over, what A still says is not delivered (B says it too)."""
    out: list[str] = []
    route: Handover[object] = Handover(out.append, lambda old: None)
    route.reset(A)
    route.begin(B)
    route.on_frame(A, "1")
    route.on_frame(B, "1")  # caught up: B takes over
    route.on_frame(A, "2")
    route.on_frame(B, "2")
    assert out == ["1", "2"] and route.primary is B


def test_abandoned_standby_leaves_primary_alone() -> None:
    """A standby given up before catching up: its held frames are dropped, A goes on."""
    out: list[str] = []
    route: Handover[object] = Handover(out.append, lambda old: None)
    route.reset(A)
    route.begin(B)
    route.on_frame(B, "9")
    assert route.abandon() is B
    route.on_frame(A, "9")
    route.on_frame(B, "10")
    assert out == ["9"] and route.primary is A
