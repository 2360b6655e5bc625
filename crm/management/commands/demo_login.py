"""`manage.py demo_login`: make sure there is a demo login for every role; print them, the URLs of the
pages, the admin and the API, and which of the three each login uses."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count

from crm.constants import Role
from crm.models import Agency, Building, Promoter, Street, UserScope

DEMO_PASSWORD = "yuecheng-demo"
DEMO_PROMOTER = "promoter01"  # the seeded promoter who owns leads in every stage


class Command(BaseCommand):
    help = "创建/重置各角色演示账号并打印登录信息 / ensure a demo login per role and print them"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="where the site is served")

    def handle(self, *args, url: str, **options) -> None:
        if settings.DJANGO_ENV == "prod":
            raise CommandError("生产环境不创建演示账号 / demo logins are not made in production")
        with transaction.atomic():
            logins = self._ensure()
        site = url.rstrip("/")
        self.stdout.write(self.style.SUCCESS(f"演示登录 / demo logins: {site}/login/"))
        self.stdout.write(f"  页面 / pages:  {site}/login/  (every role)")
        self.stdout.write(f"  管理 / admin:  {site}/admin/  (staff logins only)")
        self.stdout.write(
            f"  API:           {site}/api/v1/docs/  (logged in, or an agency's key: create_api_key)"
        )
        self.stdout.write(f"  密码 / password (all): {DEMO_PASSWORD}")
        for username, role, scope in logins:
            user = get_user_model().objects.get(username=username)
            # Every role has pages (crm/web/auth.py HOME); the admin lets in staff only; the API any login.
            uses = "pages, admin, API" if user.is_staff else "pages, API (no admin)"
            self.stdout.write(f"  {username:12} {role:18} {uses:22} {scope}")

    def _ensure(self) -> list[tuple[str, str, str]]:
        street = Street.objects.annotate(n=Count("buildings")).filter(n__gt=0).order_by("-n", "name").first()
        building = Building.objects.order_by("code").first()
        agency = Agency.objects.order_by("name").first()
        promoter = (
            Promoter.objects.filter(user__username=DEMO_PROMOTER).first()
            or Promoter.objects.annotate(n=Count("leads")).order_by("-n", "pk").first()
        )
        logins = [
            self._user("admin", Role.DISTRICT_ADMIN, superuser=True),
            self._user("officer", Role.STREET_OFFICER, street=street),
            self._promoter(promoter),
            self._user("manager", Role.BUILDING_MANAGER, building=building),
            self._user("agency", Role.AGENCY, agency=agency, staff=False),  # the API only, no admin
            self._user("auditor", Role.AUDITOR),
        ]
        return logins

    def _user(
        self,
        username: str,
        role: str,
        *,
        superuser: bool = False,
        staff: bool = True,
        street: Street | None = None,
        building: Building | None = None,
        agency: Agency | None = None,
    ) -> tuple[str, str, str]:
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.is_staff = staff or superuser
        user.is_superuser = superuser
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        if street or building or agency:
            UserScope.objects.update_or_create(
                user=user, defaults={"street": street, "building": building, "agency": agency}
            )
        place = street or building or agency
        return username, role, str(place) if place else "全区 / whole district"

    def _promoter(self, promoter: Promoter | None) -> tuple[str, str, str]:
        if promoter is None:
            # Nothing seeded yet: a promoter without leads still shows what the role sees.
            user, _ = get_user_model().objects.get_or_create(username=DEMO_PROMOTER)
            promoter = Promoter.objects.create(user=user, name="演示招商员", team="招商一组")
        username, role, _ = self._user(promoter.username, Role.PROMOTER, street=promoter.street)
        leads = promoter.leads.count()
        return username, role, f"{promoter.name} · {promoter.team or '—'} · {leads} 条线索 / leads"
