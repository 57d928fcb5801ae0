from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("console/", views.console, name="console"),
    path("console/compare/", views.compare, name="console-compare"),
    path("console/dashboard/", views.dashboard, name="console-dashboard"),
    path("console/evaluation/", views.evaluation, name="console-evaluation"),
    path("console/gaps/", views.gaps, name="console-gaps"),
    path("console/articles/", views.article_health, name="console-articles"),
    path("console/agents/", views.agents_report, name="console-agents"),
    path("console/contacts/<int:customer_id>/", views.contact, name="console-contact"),
    path("console/evaluation/apply/", views.evaluation_apply, name="console-evaluation-apply"),
    # Agents need not be staff, so they sign in here rather than through the admin's login.
    path("console/login/", views.ConsoleLoginView.as_view(), name="console-login"),
    path("console/logout/", auth_views.LogoutView.as_view(next_page="/console/login/"), name="console-logout"),
]
