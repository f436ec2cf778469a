"""Model -> FHIR R4 resource mappings, one module per resource (validated by fhir.resources R4B)."""
