"""Tenant revisions: every flush that adds, changes or deletes a tenant's rows bumps ``tenants.revision`` in the
same transaction, whatever process writes (the API, ``homeroom run``, the scheduler). A reader that remembers the
revision an answer was computed at can tell, with one light query, whether the answer is still current.
"""

from __future__ import annotations

from itertools import chain

from sqlalchemy import event, update
from sqlalchemy.orm import Session, sessionmaker

from homeroom.store.models import Tenant

_TENANTS = Tenant.__table__


def track_revisions(sessions: sessionmaker[Session]) -> None:
    """Bump the revision of every tenant whose rows a session of ``sessions`` is about to flush."""

    @event.listens_for(sessions, "before_flush")
    def bump(session: Session, _context, _instances) -> None:
        touched = {t for o in chain(session.new, session.dirty, session.deleted) if isinstance(t := getattr(o, "tenant_id", None), str)}
        if touched:
            # On the session's connection: Session.execute would autoflush, inside this flush.
            session.connection().execute(
                update(_TENANTS).where(_TENANTS.c.id.in_(sorted(touched))).values(revision=_TENANTS.c.revision + 1))
