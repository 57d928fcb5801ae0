from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


def livez(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. It checks no dependency, so an outage of the database, Redis or
    Ollama never makes Kubernetes restart healthy web pods (readiness, /healthz, covers those)."""
    return JsonResponse({"ok": True})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("livez", livez, name="livez"),
    path("", include("agents.urls")),
    path("", include("conversations.urls")),
]
