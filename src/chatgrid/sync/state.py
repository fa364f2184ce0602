"""The shared change state in Redis: a generation and an epoch, read and moved by one script.

An epoch alone can go backwards: a Redis restarted empty counts from 1
again, and one restored from a snapshot (or a replica promoted after a
failover) comes back to an older number. A replica holding a higher number
would then ignore real changes, and an acknowledgement of "epoch 3" could be
of a different change than the one the admin just made. So every epoch
belongs to a *generation*: a random id, created (set only if absent) by
whoever first finds the state missing, and replaced whenever the Redis
server's ``run_id`` differs from the one recorded (every restart and every
failover gets a new ``run_id``, even with persistence). Within one
generation the epoch only grows; a new generation means "everything may
have changed".

The script also records when its generation was born (Redis's own clock):
replicas whose last confirmation was made against the previous server may
still be serving for one lease after it, and nothing in the new server can
name them, so a change made in a young generation waits that lease out.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

# Covers the time a confirmation spends on the wire and clocks running at slightly
# different rates: a publisher waits one lease plus this.
LEASE_MARGIN_SECONDS = 0.5

# KEYS[1] the state hash; KEYS[2] (optional) the caller's heartbeat key.
# ARGV: a fresh generation id, "1" to move the epoch, the heartbeat value and
# its time to live in milliseconds.
CONFIRM_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local run = ''
local info = redis.pcall('INFO', 'server')
if type(info) == 'string' then
  run = string.match(info, 'run_id:(%w+)') or ''
end
local state = redis.call('HMGET', KEYS[1], 'generation', 'run_id', 'born_ms', 'epoch')
local generation, born, epoch = state[1], tonumber(state[3]), tonumber(state[4])
if not generation or state[2] ~= run or not born or not epoch then
  generation, born, epoch = ARGV[1], now, 0
  redis.call('HSET', KEYS[1], 'generation', generation, 'run_id', run, 'born_ms', born,
             'epoch', 0)
end
if ARGV[2] == '1' then
  epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
end
if #KEYS > 1 then
  redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
end
return {generation, epoch, born, now}
"""


def new_generation() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True, slots=True)
class ChangeState:
    """Where admin changes stand: equal states mean "nothing changed in between"."""

    generation: str
    epoch: int

    def encode(self) -> str:
        return f"{self.generation}:{self.epoch}"

    @classmethod
    def decode(cls, value: bytes | str | None) -> ChangeState | None:
        if value is None:
            return None
        text = value.decode() if isinstance(value, bytes) else value
        generation, _, epoch = text.rpartition(":")
        if not generation or not epoch.isdigit():
            return None
        return cls(generation, int(epoch))

    def covers(self, change: ChangeState) -> bool:
        """True if whoever holds this state has seen ``change`` (same generation, no older)."""
        return self.generation == change.generation and self.epoch >= change.epoch


@dataclass(frozen=True, slots=True)
class Confirmed:
    """One run of the script: the state, when its generation began and Redis's time, in ms."""

    state: ChangeState
    born_ms: int
    now_ms: int

    @classmethod
    def parse(cls, reply: Any) -> Confirmed:
        generation, epoch, born, now = reply
        text = generation.decode() if isinstance(generation, bytes) else str(generation)
        return cls(ChangeState(text, int(epoch)), int(born), int(now))
