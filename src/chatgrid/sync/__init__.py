"""Keeping every process's caches honest after an admin change.

The gateway answers from memory, so an admin change must reach every
process before the admin's request returns. Two mechanisms, used together:

* ``marker`` — a file in the data dir that every process on one machine
  watches (one ``stat`` per request and four times a second).
* ``redis`` — for replicas on several machines: a change moves the change
  state in Redis (an epoch within a generation that is new whenever Redis
  is, see ``state``) and is published; each replica drops its caches and
  acknowledges *that* state. A replica serves only while it holds a
  *lease*: it must have read the state within the last
  ``CHATGRID_SYNC_LEASE_SECONDS``. The publisher waits for every live
  replica's acknowledgement, or for one lease (plus a margin) to pass, so
  when it returns no replica can still be using what changed: either it has
  seen the change, or its lease ran out and it refuses calls. A replica
  that cannot reach Redis refuses rather than serve a key that may have
  been revoked, and drops every cache when it reaches Redis again.
"""

from chatgrid.sync.publisher import ChangePublisher
from chatgrid.sync.replica import ReplicaSync, SharedStateUnavailable

__all__ = ["ChangePublisher", "ReplicaSync", "SharedStateUnavailable"]
