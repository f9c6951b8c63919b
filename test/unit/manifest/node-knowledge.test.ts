// The node manifest's `knowledge` section: paths resolved against the manifest's folder, defaults filled, frozen,
// absent when not given; every bad value named by its field path; the schema's enums and defaults in step with
// the TypeScript constants (and with the choices host/kb accepts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NODE_MANIFEST_SCHEMA, parseNodeManifest } from '../../../host/core/manifest/index.js';
import { DEFAULT_KNOWLEDGE, KNOWLEDGE_EMBEDDERS, KNOWLEDGE_INDEXES } from '../../../host/core/manifest/node-spec.js';
import { EMBEDDER_CHOICES, INDEX_CHOICES } from '../../../host/kb/open-knowledge-base.js';
import { assertInvalidAt, getAt, validNode } from './arbitraries.js';

const CTX = { manifestPath: '/etc/x0t/nodes/a.json', baseDir: '/etc/x0t/nodes' } as const;
const withKnowledge = (knowledge: unknown) => parseNodeManifest({ ...validNode(), knowledge }, CTX);

describe('node manifest: knowledge', () => {
  it('is absent from the spec when the manifest has none', () => {
    const spec = parseNodeManifest(validNode(), CTX);
    assert.equal(Object.hasOwn(spec, 'knowledge'), false);
    assert.equal(spec.knowledge, undefined);
  });

  it('fills the defaults and resolves dir against the manifest folder', () => {
    const spec = withKnowledge({ dir: '../../.x0t/kb' });
    assert.deepEqual(spec.knowledge, { dir: '/etc/.x0t/kb', models: null, embedder: 'auto', index: 'hnsw', ingest: [] });
    assert.ok(Object.isFrozen(spec.knowledge));
    assert.ok(Object.isFrozen(spec.knowledge!.ingest));
  });

  it('carries every field, with models and ingest paths resolved (absolute ones kept)', () => {
    const spec = withKnowledge({
      dir: 'kb', models: '../models', embedder: 'lexical', index: 'exact', ingest: ['../../runbooks', '/var/x0t/incidents.jsonl'],
    });
    assert.deepEqual(spec.knowledge, {
      dir: '/etc/x0t/nodes/kb',
      models: '/etc/x0t/models',
      embedder: 'lexical',
      index: 'exact',
      ingest: ['/etc/runbooks', '/var/x0t/incidents.jsonl'],
    });
  });

  const cases: [string, unknown, string][] = [
    ['not an object', 'kb', 'knowledge'],
    ['dir missing', { embedder: 'auto' }, 'knowledge.dir'],
    ['dir empty', { dir: '' }, 'knowledge.dir'],
    ['dir with a NUL', { dir: 'a\u0000b' }, 'knowledge.dir'],
    ['dir not a string', { dir: 7 }, 'knowledge.dir'],
    ['models empty', { dir: 'kb', models: '' }, 'knowledge.models'],
    ['unknown embedder', { dir: 'kb', embedder: 'bert' }, 'knowledge.embedder'],
    ['unknown index', { dir: 'kb', index: 'ivf' }, 'knowledge.index'],
    ['ingest not an array', { dir: 'kb', ingest: 'runbooks' }, 'knowledge.ingest'],
    ['ingest item empty', { dir: 'kb', ingest: ['a', ''] }, 'knowledge.ingest[1]'],
    ['ingest item not a string', { dir: 'kb', ingest: [1] }, 'knowledge.ingest[0]'],
    ['unknown field', { dir: 'kb', reranker: 'x' }, 'knowledge.reranker'],
    ['ingest twice the same path', { dir: 'kb', ingest: ['runbooks', './runbooks/'] }, 'knowledge.ingest[1]'],
    ['ingest of the knowledge-base folder', { dir: 'kb', ingest: ['docs', 'kb'] }, 'knowledge.ingest[1]'],
  ];
  for (const [what, knowledge, path] of cases) {
    it(`${what} → ${JSON.stringify(path)}`, () => {
      assertInvalidAt(() => withKnowledge(knowledge), path);
    });
  }

  it('the schema agrees with the TypeScript constants and with host/kb', () => {
    const props = (...p: string[]) => getAt(NODE_MANIFEST_SCHEMA, ['properties', 'knowledge', 'properties', ...p]);
    assert.deepEqual(props('embedder', 'enum'), [...KNOWLEDGE_EMBEDDERS]);
    assert.deepEqual(props('index', 'enum'), [...KNOWLEDGE_INDEXES]);
    assert.equal(props('embedder', 'default'), DEFAULT_KNOWLEDGE.embedder);
    assert.equal(props('index', 'default'), DEFAULT_KNOWLEDGE.index);
    assert.deepEqual([...KNOWLEDGE_EMBEDDERS], [...EMBEDDER_CHOICES]);
    assert.deepEqual([...KNOWLEDGE_INDEXES], [...INDEX_CHOICES]);
  });
});
