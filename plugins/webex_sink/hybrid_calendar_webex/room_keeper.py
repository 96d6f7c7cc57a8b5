"""Periodic convergence of room devices, without any meeting changing.

Every :data:`~.bookings.ROOMS_TTL` by the gateway's clock, for each organisation with
rooms in its room index (:mod:`.room_records`), the room map is read again (a device
added to a room appears in it) and every device of those rooms is converged
(:mod:`.room_converge`): a device added later gets the room's bookings, a booking whose
write failed is written again, a removal that did not reach an offline device reaches
it. Where nothing differs, no xAPI call is made.

A task started by the ``startup`` hook looks every :data:`TICK_SECONDS` whether a
convergence is due; the engine's ``until_idle`` (tests, the demo, one-shot commands)
looks too (:meth:`~hybrid_calendar.engine.engine.Engine.add_drain`), so a test moves
the manual clock and waits for idleness, without sleeping.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from hybrid_calendar.errors import GatewayError
from hybrid_calendar_webex import room_records as records
from hybrid_calendar_webex.bookings import ROOMS_TTL, room_devices
from hybrid_calendar_webex.context import context
from hybrid_calendar_webex.room_converge import converge_rooms

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)

TICK_SECONDS = 30.0
"""How often (wall clock) the task looks whether a convergence is due."""
ENGINE_WAIT_SECONDS = 0.05
"""How often the task looks for the engine while the gateway starts."""


async def converge_due(gateway: Gateway) -> None:
    """Converge the rooms of each organisation whose last periodic convergence is
    :data:`~.bookings.ROOMS_TTL` old or that never converged since start."""
    ctx = context(gateway)
    if not ctx.rooms_enabled:
        return
    watch_engine(gateway)
    for org in await gateway.store.list_organisations():
        if not _due(gateway, org.id):
            continue
        async with ctx.room_lock(org.id):
            if not _due(gateway, org.id):
                continue  # converged while this waited for the lock
            ctx.rooms_converged[org.id] = gateway.clock.now()
            rooms = await records.read_index(gateway.store, org.id)
            if not rooms:
                continue
            client = ctx.client(gateway, org.id)
            try:
                room_map = await room_devices(gateway, client, org.id, refresh=True)
            except GatewayError as err:
                log.warning("room devices of organisation %s not converged: no room map "
                            "was read: %s", org.id, err)
                continue
            await converge_rooms(gateway, client, org.id, room_map, rooms)


def _due(gateway: Gateway, org_id: str) -> bool:
    last = context(gateway).rooms_converged.get(org_id)
    return last is None or gateway.clock.now() - last >= ROOMS_TTL


async def _converge_logged(gateway: Gateway) -> None:
    try:
        await converge_due(gateway)
    except Exception:  # a store failure: the next tick tries again
        log.exception("room-device convergence failed")


def watch_engine(gateway: Gateway) -> None:
    """Have the running engine's ``until_idle`` run due convergences (once per engine)."""
    ctx = context(gateway)
    engine = gateway.engine
    if engine is not None and ctx.drained_by is not engine:
        ctx.drained_by = engine
        engine.add_drain(lambda: _converge_logged(gateway))


async def _run(gateway: Gateway) -> None:
    while True:
        watch_engine(gateway)
        await _converge_logged(gateway)
        await asyncio.sleep(ENGINE_WAIT_SECONDS if gateway.engine is None
                            else TICK_SECONDS)


def start(gateway: Gateway) -> None:
    """Start the periodic task (when room bookings are on)."""
    ctx = context(gateway)
    if ctx.rooms_enabled and ctx.room_keeper is None:
        ctx.room_keeper = asyncio.get_running_loop().create_task(
            _run(gateway), name="webex-room-keeper")


async def stop(gateway: Gateway) -> None:
    """Stop the periodic task."""
    ctx = context(gateway)
    task, ctx.room_keeper = ctx.room_keeper, None
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
