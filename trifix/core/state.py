"""Session states and the legal moves between them, as data.

Theory of operation (FIX 4.4 Volume 2, "Session Protocol"): a session lives across many
connections; each connection starts with a Logon exchange and ends with a Logout exchange or a
disconnect. Sequence numbers belong to the session, not the connection. Within a connection:

    DISCONNECTED --connect (initiator)--> LOGON_SENT --logon received--> ACTIVE
    DISCONNECTED --connect (acceptor)---> AWAITING_LOGON --logon received--> ACTIVE
    ACTIVE --logout sent--> LOGOUT_SENT --logout received / timeout--> DISCONNECTED
    any connected state --disconnect--> DISCONNECTED

A gap being filled, a TestRequest awaiting its Heartbeat and a replay in progress are not
states of their own here but data held while ACTIVE (see `Session`), because messages keep
flowing in both directions meanwhile. Every transition goes through `transition`, which
refuses illegal moves and leaves the state unchanged (as h11 does).
"""

from __future__ import annotations

import enum
from typing import Final

from trifix.core.errors import LocalProtocolError


class SessionState(enum.Enum):
    """Where a session is in its connection's life."""

    DISCONNECTED = "disconnected"
    """No connection. Sequence numbers are kept; nothing is sent or received."""
    AWAITING_LOGON = "awaiting_logon"
    """Acceptor: connected, waiting for the peer's Logon (and nothing else)."""
    LOGON_SENT = "logon_sent"
    """Initiator: our Logon is out, waiting for the peer's answer."""
    ACTIVE = "active"
    """Logged on: application messages flow both ways."""
    LOGOUT_SENT = "logout_sent"
    """We sent Logout and wait for the peer's Logout (or the logout timeout)."""


class Trigger(enum.Enum):
    """What moves a session from one state to another."""

    CONNECT_INITIATOR = "connect_initiator"
    CONNECT_ACCEPTOR = "connect_acceptor"
    LOGON_RECEIVED = "logon_received"
    LOGOUT_SENT = "logout_sent"
    DISCONNECT = "disconnect"


S = SessionState
T = Trigger

TRANSITIONS: Final[dict[tuple[SessionState, Trigger], SessionState]] = {
    (S.DISCONNECTED, T.CONNECT_INITIATOR): S.LOGON_SENT,
    (S.DISCONNECTED, T.CONNECT_ACCEPTOR): S.AWAITING_LOGON,
    (S.AWAITING_LOGON, T.LOGON_RECEIVED): S.ACTIVE,
    (S.LOGON_SENT, T.LOGON_RECEIVED): S.ACTIVE,
    (S.ACTIVE, T.LOGOUT_SENT): S.LOGOUT_SENT,
    (S.LOGON_SENT, T.LOGOUT_SENT): S.LOGOUT_SENT,
    (S.AWAITING_LOGON, T.LOGOUT_SENT): S.LOGOUT_SENT,
    (S.AWAITING_LOGON, T.DISCONNECT): S.DISCONNECTED,
    (S.LOGON_SENT, T.DISCONNECT): S.DISCONNECTED,
    (S.ACTIVE, T.DISCONNECT): S.DISCONNECTED,
    (S.LOGOUT_SENT, T.DISCONNECT): S.DISCONNECTED,
}
"""Every legal (state, trigger) pair and where it leads; anything else is a bug."""

CONNECTED: Final = frozenset({S.AWAITING_LOGON, S.LOGON_SENT, S.ACTIVE, S.LOGOUT_SENT})
"""States with a live transport."""


def transition(state: SessionState, trigger: Trigger) -> SessionState:
    """The state after `trigger`; raises LocalProtocolError for an illegal move."""
    try:
        return TRANSITIONS[(state, trigger)]
    except KeyError:
        raise LocalProtocolError(
            f"illegal session transition: {trigger.value} in state {state.value}"
        ) from None
