"""URL wiring only: each app owns its routes."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("sofia_checkout.core.urls")),
    path("api/", include("sofia_checkout.appointments.urls")),
    path("api/", include("sofia_checkout.checkout.urls")),
    path("api/", include("sofia_checkout.payments.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
]
if settings.API_DOCS_ENABLED:
    urlpatterns.append(path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"))

handler400 = "sofia_checkout.core.views.bad_request"
handler403 = "sofia_checkout.core.views.permission_denied"
handler404 = "sofia_checkout.core.views.not_found"
handler500 = "sofia_checkout.core.views.server_error"
