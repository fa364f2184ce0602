"""The audit log: who did what, when and from where. Append-only.

Every admin action and every sign-in goes here. Keys appear by fingerprint
only; details are plain JSON values chosen by the caller, never a secret.
"""

from chatgrid.audit.trail import Actor, AuditEntry, AuditFilter, AuditTrail

__all__ = ["Actor", "AuditEntry", "AuditFilter", "AuditTrail"]
