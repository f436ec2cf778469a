from __future__ import annotations

app_name = "fhir"

urlpatterns: list = []
