"""An org admin's workspace choices (today: whether titles are made by a model).

No row means the defaults of the org's billing mode (``chat/titles.py``),
so an org that switches mode without ever choosing follows its new mode.
"""

from __future__ import annotations

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from chatgrid.chat.titles import titles_by_default
from chatgrid.identity.models import BillingMode
from chatgrid.store.tables import org_chat_settings, orgs
from chatgrid.store.types import utcnow


class ChatSettingsRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def chosen(self, org_id: str) -> bool | None:
        """What the admin chose, or None while the mode's default applies."""
        statement = select(org_chat_settings.c.generated_titles).where(
            org_chat_settings.c.org_id == org_id
        )
        with self.engine.connect() as conn:
            found = conn.execute(statement).scalar()
        return None if found is None else bool(found)

    def generated_titles(self, org_id: str) -> bool:
        """Whether this org's conversations get a model's title (the choice, else the default)."""
        s = org_chat_settings.c
        statement = (
            select(orgs.c.billing_mode, s.generated_titles)
            .select_from(orgs.outerjoin(org_chat_settings, s.org_id == orgs.c.id))
            .where(orgs.c.id == org_id)
        )
        with self.engine.connect() as conn:
            row = conn.execute(statement).first()
        if row is None:
            return False
        if row.generated_titles is not None:
            return bool(row.generated_titles)
        return titles_by_default(row.billing_mode == BillingMode.SHARED.value)

    def set_generated_titles(self, org_id: str, enabled: bool) -> None:
        values = {"generated_titles": enabled, "updated_at": utcnow()}
        s = org_chat_settings.c
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(org_chat_settings).where(s.org_id == org_id).values(**values)
            ).rowcount
            if changed:
                return
        try:
            with self.engine.begin() as conn:
                conn.execute(org_chat_settings.insert().values(org_id=org_id, **values))
        except IntegrityError:  # chosen twice at once: the later choice wins
            with self.engine.begin() as conn:
                conn.execute(update(org_chat_settings).where(s.org_id == org_id).values(**values))
