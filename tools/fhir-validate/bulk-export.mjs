// Runs a FHIR Bulk Data export with Medplum's client (MedplumClient.bulkExport: the
// kick-off with `Prefer: respond-async`, then polling the Content-Location until the
// manifest), then downloads every NDJSON file the manifest lists, with the bearer token
// (the manifest says requiresAccessToken). A real client written by others, not the
// server's own tests, checks that the flow works end to end.
//
// Environment: FHIR_BASE (the server's root URL), FHIR_TOKEN (a bearer token), and
// optionally EXPORT_LEVEL ("" system, "Patient", "Group/<id>"), EXPORT_TYPES, EXPORT_SINCE.
// stdout: {"manifest": {...}, "files": {"<type>": [resources...]}}
import { MedplumClient } from '@medplum/core';

const base = process.env.FHIR_BASE;
const token = process.env.FHIR_TOKEN;
if (!base || !token) {
  process.stderr.write('FHIR_BASE and FHIR_TOKEN are required\n');
  process.exit(2);
}
const medplum = new MedplumClient({ baseUrl: base, fhirUrlPath: 'fhir/R4', fetch });
medplum.setAccessToken(token);
const manifest = await medplum.bulkExport(
  process.env.EXPORT_LEVEL ?? '', process.env.EXPORT_TYPES || undefined,
  process.env.EXPORT_SINCE || undefined, { pollStatusOnAccepted: true, pollStatusPeriod: 100 });
const files = {};
for (const item of manifest.output ?? []) {
  const response = await fetch(item.url, {
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/fhir+ndjson' },
  });
  if (!response.ok) throw new Error(`${item.url}: HTTP ${response.status}`);
  const lines = (await response.text()).split('\n').filter((line) => line.trim());
  files[item.type] = (files[item.type] ?? []).concat(lines.map((line) => JSON.parse(line)));
}
process.stdout.write(JSON.stringify({ manifest, files }));
