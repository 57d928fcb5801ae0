"""ASGI entry point: HTTP goes to Django, websockets to the apps' consumers."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402 - after Django is set up
from django.conf import settings  # noqa: E402

from agents.routing import websocket_urlpatterns as console_routes  # noqa: E402
from conversations.routing import http_routes  # noqa: E402
from conversations.routing import websocket_urlpatterns as conversation_routes  # noqa: E402
from helpdesk.celery import embedded_beat_start  # noqa: E402
from helpdesk.observability.metrics import forget_dead_processes  # noqa: E402
from helpdesk.runtime import dbbudget, warmup  # noqa: E402
from helpdesk.web.clientip import ClientAddressMiddleware  # noqa: E402

forget_dead_processes()  # websocket gauges of a previous run in a kept metrics volume stop counting
embedded_beat_start()  # embedded mode: what beat runs in production (the reply sweeper), on a thread of this process

dbbudget.process_connections_configure(settings.DATABASES, name="helpdesk web")
if settings.WARM_UP:
    # Daphne imports the application before it listens: the first customer finds the caches built. A warm-up
    # longer than WARM_UP_WAIT_S goes on in the background, and /healthz says not ready until it ends.
    warmup.warm_start("web")
    warmup.warm_wait(settings.WARM_UP_WAIT_S)

# The client address is settled once, before anything reads it (helpdesk/web/clientip.py).
application = ClientAddressMiddleware(
    ProtocolTypeRouter(
        {
            # The app channel's event stream is an ASGI application of its own (it watches its socket's buffers).
            "http": http_routes(django_asgi_app),
            # Origins are checked by the consumers themselves, so a refused
            # browser gets a close code and a reason, not a bare HTTP 403.
            "websocket": URLRouter([*conversation_routes, *console_routes]),
        }
    )
)
