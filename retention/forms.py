"""The one-click retention visit form: notes are optional, everything else comes from the row."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.services.retention import NOTES_MAX


class RetentionVisitForm(forms.Form):
    notes = forms.CharField(label=_("走访记录"), required=False, max_length=NOTES_MAX, widget=forms.TextInput)
