from core import views
from django.urls import re_path

urlpatterns = [
    re_path(r"^api/v2/version/?$", views.version),
    re_path(r"^api/v2/instances/?$", views.instances),
    re_path(r"^api/status/celery/?$", views.celery_status),
    re_path(r"^auth/?$", views.auth),
]
