import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { beginLoad, loadAndOffer, sharedCompile, sharedSpec } from './spec-cache.js';

const ROUTES = fileURLToPath(new URL('../../../test/fixtures/openapi/routes.yaml', import.meta.url));
const options = { basePath: '', unknownProperties: 'allow', validateResponses: true } as const;

describe('specs shared within one config load', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pcl-spec-cache-'));
  const file = path.join(dir, 'spec.yaml');
  afterEach(() => beginLoad());

  it('gives every policy of a load the spec the loader read, compiled once per option set', () => {
    writeFileSync(file, readFileSync(ROUTES));
    beginLoad();
    const offered = loadAndOffer(file);
    expect(sharedSpec(file)).toBe(offered);
    const compiled = sharedCompile(offered, options);
    expect(sharedCompile(sharedSpec(file), { ...options })).toBe(compiled);
    expect(sharedCompile(offered, { ...options, basePath: '/api' })).not.toBe(compiled);
  });

  it('reads the file again when it changed since the load, or after the next load began', () => {
    writeFileSync(file, readFileSync(ROUTES));
    beginLoad();
    const offered = loadAndOffer(file);
    writeFileSync(file, readFileSync(ROUTES, 'utf8').replace('listPets', 'listAllPets'));
    const changed = sharedSpec(file);
    expect(changed).not.toBe(offered);
    expect(JSON.stringify(changed.documents.get(file))).toContain('listAllPets');

    const again = loadAndOffer(file);
    beginLoad();
    expect(sharedSpec(file)).not.toBe(again);
  });

  it('notices a same-size edit by its modification time', () => {
    writeFileSync(file, readFileSync(ROUTES));
    beginLoad();
    const offered = loadAndOffer(file);
    writeFileSync(file, readFileSync(ROUTES, 'utf8').replace('listPets', 'listCats'));
    const later = new Date(Date.now() + 5000);
    utimesSync(file, later, later);
    expect(sharedSpec(file)).not.toBe(offered);
    rmSync(dir, { recursive: true, force: true });
  });
});
