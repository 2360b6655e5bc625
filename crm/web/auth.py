"""Login, logout, password change, and the home page that sends each role where its work is."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy

from crm.constants import Role
from crm.web.access import request_viewer

# Each role's first page: promoters their desk, the office and auditor the plan, a street officer
# the plan of their street, a property manager their building, an agency the leads it referred.
HOME = {
    Role.PROMOTER: "web:desk",
    Role.DISTRICT_ADMIN: "web:dashboard",
    Role.AUDITOR: "web:dashboard",
    Role.STREET_OFFICER: "web:dashboard",
    Role.AGENCY: "web:leads",
}


@login_required
def home(request):
    viewer = request_viewer(request)
    if viewer.role == Role.BUILDING_MANAGER and viewer.building_id:
        return redirect("web:building", pk=viewer.building_id)
    if viewer.role in HOME:
        return redirect(HOME[viewer.role])
    # A login without a role (or a manager without a building) has nothing to work on yet.
    return render(request, "web/no_role.html", status=403)


class LoginPage(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("web:home")


class LogoutPage(auth_views.LogoutView):
    next_page = reverse_lazy("web:login")


class PasswordChangePage(auth_views.PasswordChangeView):
    template_name = "web/password_change.html"
    success_url = reverse_lazy("web:password_change_done")


class PasswordChangeDonePage(auth_views.PasswordChangeDoneView):
    template_name = "web/password_change_done.html"
