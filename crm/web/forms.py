"""The pages' forms: they parse and label input; the services decide what is allowed."""

import datetime as dt
from html import escape

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.api.exceptions import in_language
from crm.constants import (
    PLANNED_ACTIVITY_KINDS,
    ActivityKind,
    FeaturedType,
    LawfulBasis,
    LeadChannel,
    LeadStage,
    TaxTier,
)
from crm.district_io.archives import archive_problem
from crm.models import Building, Industry, Promoter, Street, Unit
from crm.validators import REPORT_YEAR_MIN, YEAR_MAX, DateRangeValidator, unsafe_text_error
from crm.web.params import BadParameter, ids_param

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=DATETIME_LOCAL)


class LongSelect(forms.Select):
    """A <select> written in one pass instead of one template render per option.

    A promoter of a city-wide office picks from thousands of buildings; rendering each option through
    the template engine took half a second of every lead page.
    """

    def render(self, name, value, attrs=None, renderer=None):
        choices = list(iter(self.choices))  # list() of the iterator itself would COUNT first
        if any(isinstance(label, (list, tuple)) for _value, label in choices):
            return super().render(name, value, attrs, renderer)  # option groups: Django's own way
        selected = set(self.format_value(value))
        # Neither Django's option dicts (optgroups) nor format_html per option: both cost more than
        # the rest of a lead page for 2,000 buildings. html.escape escapes what Django's does.
        options = "".join(
            f'<option value="{escape(v)}"{" selected" if v in selected else ""}>{escape(str(label))}</option>'
            for v, label in ((str(value_) if value_ is not None else "", label) for value_, label in choices)
        )
        final_attrs = self.build_attrs(self.attrs, attrs)
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(final_attrs), mark_safe(options))


class _BuildingRows(ModelChoiceIterator):
    """The choices as (id, "name (code)") tuples from one values_list: 2,000 model instances built
    only to be labelled cost more than writing the whole <select>."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for pk, name, code in self.queryset.values_list("pk", "name", "code"):
            yield (pk, f"{name} ({code})")  # Building.__str__


class BuildingChoiceField(forms.ModelChoiceField):
    """A building picked from the (possibly thousands of) buildings a user may link, written in one
    pass (LongSelect); the choice is still validated against the queryset."""

    iterator = _BuildingRows
    widget = LongSelect


def now_local() -> str:
    return timezone.localtime().strftime(DATETIME_LOCAL)


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's field errors beside the form's fields (others above the form), each in the
    user's language (services write "中文 / English")."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, [in_language(m) for m in messages])
    else:
        form.add_error(None, [in_language(m) for m in error.messages])


class BoundedDateField(forms.DateField):
    """A date in the years every entry point accepts (crm.validators.YEAR_MIN–YEAR_MAX)."""

    default_validators = [DateRangeValidator()]


class BoundedDateTimeField(forms.DateTimeField):
    """A date and time in YEAR_MIN–YEAR_MAX, refused before it is stored (year 1 in Asia/Shanghai
    is 1 BC in UTC, which the database keeps and no page can read back)."""

    default_validators = [DateRangeValidator()]

    def to_python(self, value):
        try:
            return super().to_python(value)
        except OverflowError:
            # Made aware at the edge of the calendar (9999-12-31 23:59 east of UTC).
            raise ValidationError(DateRangeValidator.message, code=DateRangeValidator.code) from None


class SafeForm(forms.Form):
    """A form that refuses, in any text field, what no column can hold (crm.validators): one rule for all.

    Django's CharField already refuses NUL; this adds the other controls, the bidirectional
    overrides and text over MAX_TEXT_LENGTH, which a Textarea has no limit for.
    """

    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            error = unsafe_text_error(value) if isinstance(value, str) else None
            if error:
                self.add_error(name, error)
        return cleaned

    def full_clean(self):
        super().full_clean()
        # The forms' own bilingual messages ("中文 / English"), as the services', in one language.
        for name, errors in list((self._errors or {}).items()):
            self._errors[name] = self.error_class(
                [in_language(message) for message in errors],
                error_class=errors.error_class.replace("errorlist", "").strip() or None,
                renderer=self.renderer,
            )


class DivisionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Industry) -> str:
        return f"{obj.code} {obj.name}"


def unit_label(unit: Unit) -> str:
    """A unit inside a form of one building: floor, number and area ("5F 501 · 200㎡")."""
    return f"{unit.floor}F {unit.number} · {unit.area_m2.normalize():f}㎡"


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        return unit_label(obj)


class UnitsChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        return unit_label(obj)


def divisions():
    return Industry.objects.filter(level="division").order_by("code")


# ------------------------------------------------------------------ leads


class LeadFilterForm(forms.Form):
    SORTS = {
        "-last_activity_at": _("最近跟进"),
        "-created_at": _("最新登记"),
        "company_name": _("企业名称"),
        "stage": _("阶段"),
        "-expected_annual_tax": _("预计年纳税"),
    }
    q = forms.CharField(label=_("搜索"), required=False, help_text=_("企业名称、线索编号或信用代码"))
    stage = forms.ChoiceField(label=_("阶段"), required=False, choices=[("", "—"), *LeadStage.choices])
    channel = forms.ChoiceField(label=_("渠道"), required=False, choices=[("", "—"), *LeadChannel.choices])
    owner = forms.ModelChoiceField(label=_("负责人"), required=False, queryset=Promoter.objects.none())
    case_by_case = forms.BooleanField(label=_("仅一事一议"), required=False)
    sort = forms.ChoiceField(label=_("排序"), required=False, choices=list(SORTS.items()))

    def __init__(self, *args, promoters=None, **kwargs):
        super().__init__(*args, **kwargs)
        if promoters is None:
            del self.fields["owner"]
        else:
            self.fields["owner"].queryset = promoters


class LeadFactsForm(SafeForm):
    """The company, what it does, who to talk to and how it came to us: what quick add asks and the
    lead's edit page corrects alike."""

    company_name = forms.CharField(label=_("企业名称"), max_length=200)
    credit_code = forms.CharField(
        label=_("统一社会信用代码"), max_length=18, required=False, help_text=_("18位,签约时必填")
    )
    business_scope = forms.CharField(
        label=_("经营范围"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("输入后自动推荐行业"),
    )
    industry = DivisionChoiceField(
        label=_("行业(大类)"),
        queryset=Industry.objects.none(),
        required=False,
        help_text=_("没有行业的线索无法匹配楼宇"),
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=100, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=40, required=False)
    lawful_basis = forms.ChoiceField(
        label=_("个人信息处理依据"),
        choices=[("", "—"), *LawfulBasis.choices],
        required=False,
        help_text=_("填写联系人或电话时必填(见隐私说明)"),
    )
    channel = forms.ChoiceField(label=_("渠道"), choices=LeadChannel.choices)
    # 以商招商: the tenant that referred the company, named by its credit code (the lead services
    # check that it is a tenant and that the channel is tenant referral).
    referred_by = forms.CharField(
        label=_("推荐企业(统一社会信用代码)"),
        max_length=18,
        required=False,
        help_text=_("以商招商:推荐本企业的区内租户"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["industry"].queryset = divisions()
        self.fields["business_scope"].widget.attrs.update(
            {
                "hx-post": reverse("web:industry_suggestions"),
                "hx-trigger": "input changed delay:600ms",
                "hx-target": "#industry-suggestions",
                "hx-include": "#id_business_scope",
            }
        )


class LeadForm(LeadFactsForm):
    """Quick add: the lead's facts and, for the office, its owner. Areas, budget, tax, streets and the
    entry intentions are filled in on the lead page; the three intentions start as yes, as the plan's
    entry threshold assumes."""

    owner = forms.ModelChoiceField(label=_("负责人"), queryset=Promoter.objects.none(), required=False)

    def __init__(self, *args, promoters=None, **kwargs):
        super().__init__(*args, **kwargs)
        if promoters is None:
            del self.fields["owner"]
        else:
            self.fields["owner"].queryset = promoters
        # The duplicate check runs as the name or the code is typed (htmx), before anything is saved.
        for name in ("company_name", "credit_code"):
            self.fields[name].widget.attrs.update(
                {
                    "hx-post": reverse("web:lead_duplicate_check"),
                    "hx-trigger": "input changed delay:400ms, change",
                    "hx-target": "#duplicate-warning",
                    "hx-include": "#id_company_name, #id_credit_code",
                    "autocomplete": "off",
                }
            )


class StageForm(SafeForm):
    to_stage = forms.ChoiceField(label=_("变更为"), choices=LeadStage.choices)
    reason = forms.CharField(label=_("原因"), max_length=300, required=False, help_text=_("流失时必填"))


class ActivityForm(SafeForm):
    kind = forms.ChoiceField(label=_("类型"), choices=ActivityKind.choices)
    occurred_at = BoundedDateTimeField(label=_("发生时间"), widget=DateTimeInput())
    building = BuildingChoiceField(
        label=_("看房楼宇"),
        queryset=Building.objects.none(),
        required=False,
        help_text=_("实地看房必选"),
    )
    unit = UnitChoiceField(label=_("看房单元"), queryset=Unit.objects.none(), required=False)
    notes = forms.CharField(label=_("记录"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    next_follow_up_at = BoundedDateTimeField(label=_("下次跟进"), required=False, widget=DateTimeInput())
    next_kind = forms.ChoiceField(
        label=_("下次跟进方式"),
        required=False,
        choices=[("", "—"), *((kind.value, kind.label) for kind in PLANNED_ACTIVITY_KINDS)],
    )
    next_assignee = forms.ModelChoiceField(
        label=_("下次跟进负责人"),
        queryset=Promoter.objects.none(),
        required=False,
        help_text=_("留空则为线索负责人"),
    )

    def __init__(self, *args, buildings=None, units=None, units_url: str = "", assignees=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings if buildings is not None else Building.objects.none()
        self.fields["unit"].queryset = units if units is not None else Unit.objects.none()
        self.fields["next_assignee"].queryset = (
            assignees if assignees is not None else Promoter.objects.none()
        )
        # Picking the building fills the unit select with that building's units.
        self.fields["building"].widget.attrs.update(
            {"hx-get": units_url, "hx-target": "#id_unit", "hx-trigger": "change"}
        )


class TourForm(SafeForm):
    """Book a site tour of a matched building: the time goes in as the lead's next follow-up."""

    building = forms.ModelChoiceField(queryset=Building.objects.none(), widget=forms.HiddenInput)
    units = forms.CharField(required=False, widget=forms.HiddenInput)
    at = BoundedDateTimeField(label=_("看房时间"), widget=DateTimeInput())

    def __init__(self, *args, buildings=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings if buildings is not None else Building.objects.none()

    def clean_units(self) -> list[int]:
        # The matched offer's unit ids, "12;13", as the matches fragment writes them.
        try:
            return ids_param(self.cleaned_data, "units")
        except BadParameter as exc:
            raise ValidationError(exc.message) from None

    def clean_at(self):
        at = self.cleaned_data["at"]
        if at < timezone.now() - dt.timedelta(minutes=1):
            raise ValidationError(_("看房时间不能早于现在 / the tour cannot be in the past"))
        return at


class PlanDoneForm(SafeForm):
    """Done, from the desk: the kind only when the plan did not say which."""

    kind = forms.ChoiceField(
        label=_("完成的跟进方式"),
        required=False,
        choices=[("", "—"), *((kind.value, kind.label) for kind in PLANNED_ACTIVITY_KINDS)],
    )


class PlanRescheduleForm(SafeForm):
    due_at = BoundedDateTimeField(label=_("改到"), widget=DateTimeInput())


class SignForm(SafeForm):
    building = BuildingChoiceField(label=_("签约楼宇"), queryset=Building.objects.none())
    units = UnitsChoiceField(
        label=_("签约房源"), queryset=Unit.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    rent = forms.DecimalField(label=_("租金(元/㎡·天)"), required=False, max_digits=8, decimal_places=2)
    signed_on = BoundedDateField(label=_("签约日期"), widget=DateInput())
    end = BoundedDateField(label=_("租约到期"), required=False, widget=DateInput())

    def __init__(self, *args, buildings=None, units=None, units_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings if buildings is not None else Building.objects.none()
        self.fields["units"].queryset = units if units is not None else Unit.objects.none()
        # Picking a building reloads the units that may be offered in it.
        self.fields["building"].widget.attrs.update(
            {
                "hx-get": units_url,
                "hx-target": "#sign-units",
                "hx-select": "#sign-units",
                "hx-swap": "outerHTML",
            },
        )


# ------------------------------------------------------------------ buildings


class BuildingFilterForm(forms.Form):
    SORTS = {
        "code": _("编号"),
        "name": _("名称"),
        "-vacant_area_m2": _("空置面积"),
        "-star_rating": _("星级"),
        "rent_min": _("租金"),
    }
    q = forms.CharField(label=_("搜索"), required=False)
    # A city has hundreds of streets: written in one pass (LongSelect), not one template per option.
    street = forms.ModelChoiceField(
        label=_("镇街"), queryset=Street.objects.none(), required=False, widget=LongSelect
    )
    featured_type = forms.ChoiceField(
        label=_("特色类型"), required=False, choices=[("", "—"), *FeaturedType.choices]
    )
    min_star = forms.IntegerField(label=_("最低星级"), required=False, min_value=0, max_value=5)
    tier = forms.ChoiceField(label=_("税收层级"), required=False, choices=[("", "—"), *TaxTier.choices])
    sort = forms.ChoiceField(label=_("排序"), required=False, choices=list(SORTS.items()))

    def __init__(self, *args, streets=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["street"].queryset = streets if streets is not None else Street.objects.all()


class VacancyFilterForm(forms.Form):
    street = forms.ModelChoiceField(
        label=_("镇街"), queryset=Street.objects.none(), required=False, widget=LongSelect
    )
    building = forms.CharField(label=_("楼宇"), required=False)
    min_area = forms.DecimalField(label=_("面积不小于(㎡)"), required=False, min_value=0)
    max_area = forms.DecimalField(label=_("面积不大于(㎡)"), required=False, min_value=0)
    max_rent = forms.DecimalField(label=_("租金不高于(元/㎡·天)"), required=False, min_value=0)

    def __init__(self, *args, streets=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["street"].queryset = streets if streets is not None else Street.objects.all()


# ------------------------------------------------------------------ plan, policies, import


class YearForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=REPORT_YEAR_MIN, max_value=YEAR_MAX)
    street = forms.ModelChoiceField(label=_("镇街"), queryset=Street.objects.none(), required=False)

    def __init__(self, *args, streets=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["street"].queryset = streets if streets is not None else Street.objects.all()


class PolicyWhatIfForm(forms.Form):
    building = BuildingChoiceField(label=_("楼宇"), queryset=Building.objects.none())
    industry_code = forms.CharField(
        label=_("行业代码"), required=False, max_length=2, help_text=_("门类字母或两位大类代码,如 I 或 65")
    )
    area_m2 = forms.DecimalField(label=_("面积(㎡)"), max_digits=12, decimal_places=2, min_value=0)
    rent_per_m2_day = forms.DecimalField(
        label=_("租金(元/㎡·天)"),
        required=False,
        max_digits=8,
        decimal_places=2,
        help_text=_("留空按楼宇参考租金"),
    )
    expected_annual_tax = forms.DecimalField(
        label=_("预计年纳税(元)"), required=False, max_digits=16, decimal_places=2
    )
    employees = forms.IntegerField(label=_("员工人数"), required=False, min_value=0)
    is_headquarters = forms.BooleanField(label=_("总部企业"), required=False)
    referred = forms.BooleanField(
        label=_("以商招商(由区内租户推荐)"),
        required=False,
        help_text=_("有推荐企业时计入以商招商奖励 / counts referral rewards, paid to the referring tenant"),
    )
    on = BoundedDateField(label=_("测算日期"), widget=DateInput())

    def __init__(self, *args, buildings=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings if buildings is not None else Building.objects.none()


class ReviewForm(SafeForm):
    decision = forms.ChoiceField(label=_("决定"), choices=[("approve", _("批准")), ("reject", _("驳回"))])
    note = forms.CharField(label=_("审批意见"), max_length=300, required=False, help_text=_("驳回须说明理由"))


class ImportForm(forms.Form):
    file = forms.FileField(label=_("数据文件"), help_text=_(".xlsx 工作簿或 CSV 文件的 .zip 压缩包"))

    @staticmethod
    def too_large_message() -> str:
        mb = settings.IMPORT_MAX_UPLOAD_BYTES / (1024 * 1024)
        return gettext("文件超过 %(mb)g MB / the file is larger than %(mb)g MB") % {"mb": mb}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".xlsx", ".zip")):
            raise ValidationError(_("请上传 .xlsx 或 .zip 文件 / upload an .xlsx or a .zip file"))
        if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
            raise ValidationError(self.too_large_message())
        # A zip bomb is refused here, before a worker would unpack it (crm.district_io.archives).
        problem = archive_problem(upload)
        if problem:
            raise ValidationError(problem)
        return upload
