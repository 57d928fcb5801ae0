from django.contrib import admin
from django.urls import include, path

from helpdesk import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("livez", views.livez, name="livez"),
    path("metrics", views.metrics_view, name="metrics"),
    path("", include("agents.urls")),
    path("", include("conversations.urls")),
]
