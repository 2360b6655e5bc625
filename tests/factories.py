"""factory_boy factories for the CRM's tables; values are valid unless a test says otherwise."""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from crm import models
from crm.constants import LeadChannel, UnitStatus
from crm.credit_code import credit_code_check_character
from crm.roles import roles_sync_permissions


def make_credit_code(n: int, authority: str = "9", kind: str = "1", region: str = "330602") -> str:
    """A valid 18-character code whose organisation part is the number n."""
    first17 = f"{authority}{kind}{region}{n:09d}"
    return first17 + credit_code_check_character(first17)


def industry(code: str) -> models.Industry:
    """The shipped industry row for a section letter or a two-digit division."""
    return models.Industry.objects.get(code=code)


class StreetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Street
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"街道{n}")
    kind = "subdistrict"


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Building

    code = factory.Sequence(lambda n: f"B{n:04d}")
    name = factory.Sequence(lambda n: f"大厦{n}")
    street = factory.SubFactory(StreetFactory)
    gross_area_m2 = Decimal("10000")
    leasable_area_m2 = Decimal("8000")
    floors = 20


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Unit

    building = factory.SubFactory(BuildingFactory)
    floor = 5
    number = factory.Sequence(lambda n: f"{500 + n}")
    area_m2 = Decimal("200")
    status = UnitStatus.VACANT
    asking_rent = Decimal("2.50")


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Enterprise

    credit_code = factory.Sequence(lambda n: make_credit_code(100000 + n))
    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    registered_in_district = True
    settles_in_district = True


class TenancyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Tenancy

    enterprise = factory.SubFactory(EnterpriseFactory)
    building = factory.SubFactory(BuildingFactory)
    area_m2 = Decimal("100")
    start = dt.date(2020, 1, 1)
    end = None


class TaxRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.TaxRecord

    enterprise = factory.SubFactory(EnterpriseFactory)
    year = 2021
    month = None
    amount_yuan = Decimal("100000")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pass-word-123")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            group = Group.objects.filter(name=extracted).first()
            if group is None:  # a transactional test flushed the role groups: make them again
                roles_sync_permissions()
                group = Group.objects.get(name=extracted)
            self.groups.add(group)


class PromoterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Promoter

    user = factory.SubFactory(UserFactory, role="promoter")
    name = factory.Sequence(lambda n: f"招商员{n}")
    team = "一组"


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Agency
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"中介{n}")


class LeadFactory(factory.django.DjangoModelFactory):
    """A lead written straight to the table; tests of lead rules go through crm.services instead."""

    class Meta:
        model = models.Lead

    ref = factory.Sequence(lambda n: f"L{n:06d}")
    company_name = factory.Sequence(lambda n: f"意向企业{n}有限公司")
    channel = LeadChannel.DEPARTMENT
    owner = factory.SubFactory(PromoterFactory)
    area_min_m2 = Decimal("150")
    area_max_m2 = Decimal("300")
    budget_rent = Decimal("3.00")
    created_at = factory.LazyFunction(timezone.now)
    last_activity_at = factory.LazyFunction(timezone.now)
