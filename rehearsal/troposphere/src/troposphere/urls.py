from api import views
from django.urls import re_path

urlpatterns = [
    re_path(r"^application/?$", views.application),
    re_path(r"^maintenance/?$", views.maintenance),
    re_path(r"^login/?$", views.login),
    re_path(r"^tropo-api/version/?$", views.version),
    re_path(r"^api/(?P<path>.*)$", views.api_proxy),
]
