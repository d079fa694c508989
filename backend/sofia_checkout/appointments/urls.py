from django.urls import path

from sofia_checkout.appointments.apis import AvailabilityApi, PractitionerListApi

urlpatterns = [
    path("practitioners/", PractitionerListApi.as_view(), name="practitioner-list"),
    path("availability/", AvailabilityApi.as_view(), name="availability"),
]
