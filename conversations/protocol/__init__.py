"""The websocket protocol of the customer's and the agents' sockets, in one place.

- `codes`: ErrorCode, HandoffReason, CloseCode, and FrameError, the one error a client is answered with
- `fields`: decoding a frame, and each field's rule (shared with the services)
- `client`: the client -> server frames as frozen dataclasses, built by parsing
- `server`: the server -> client frames as TypedDicts
- `javascript`: the codes the widget and the console need, written into them by `manage.py protocol_js`
"""

from .codes import CloseCode, ErrorCode, FrameError, HandoffReason

__all__ = ["CloseCode", "ErrorCode", "FrameError", "HandoffReason"]
