"""Portal forms."""

from __future__ import annotations

from django import forms


class MessageForm(forms.Form):
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 4}), max_length=4000,
                           help_text="Your care team reads messages during clinic hours. "
                           "In an emergency call 911; in a crisis call or text 988.")


class SharedNoteForm(forms.Form):
    title = forms.CharField(max_length=200)
    body = forms.CharField(label="Note for the family", widget=forms.Textarea(attrs={"rows": 3}), max_length=4000,
                           help_text="Family members see this only while the participant's consent includes shared notes.")
