from django.urls import path

from . import views, views_staff

app_name = "accounts"

urlpatterns = [
    path("login/", views.OpenIOPLoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("mfa/", views.mfa, name="mfa"),
    path("link/<str:token>/", views_staff.invitation, name="invitation"),
    path("staff/", views_staff.staff_list, name="staff"),
    path("staff/invite/", views_staff.staff_invite, name="staff_invite"),
    path("staff/<uuid:code>/reset/", views_staff.staff_reset, name="staff_reset"),
    path("staff/<uuid:code>/deactivate/", views_staff.staff_deactivate,
         name="staff_deactivate"),
    path("staff/<uuid:code>/reactivate/", views_staff.staff_reactivate,
         name="staff_reactivate"),
]
