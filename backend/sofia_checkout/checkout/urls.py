from django.urls import path

from sofia_checkout.checkout.apis import (
    AppointmentCancelApi,
    AppointmentCreateApi,
    AppointmentDetailApi,
    AppointmentReceiptApi,
    AppointmentRescheduleApi,
    CheckoutConfigApi,
)

urlpatterns = [
    path("config/", CheckoutConfigApi.as_view(), name="config"),
    path("appointments/", AppointmentCreateApi.as_view(), name="appointment-create"),
    path("appointments/<uuid:appointment_id>/", AppointmentDetailApi.as_view(), name="appointment-detail"),
    path(
        "appointments/<uuid:appointment_id>/cancel/",
        AppointmentCancelApi.as_view(),
        name="appointment-cancel",
    ),
    path(
        "appointments/<uuid:appointment_id>/receipt/",
        AppointmentReceiptApi.as_view(),
        name="appointment-receipt",
    ),
    path(
        "appointments/<uuid:appointment_id>/reschedule/",
        AppointmentRescheduleApi.as_view(),
        name="appointment-reschedule",
    ),
]
