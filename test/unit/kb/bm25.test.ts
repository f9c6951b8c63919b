// BM25 and its analyzer: technical tokens kept whole and split into parts, stopwords, the Porter stemmer against
// reference outputs, BM25 scores against the formula worked by hand, incremental add/remove equal to a fresh
// build (property), filtered search, and the binary serialisation round trip and its corruption checks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { KbIndexCorruptError } from '../../../host/errors/index.js';
import { Bm25Index } from '../../../host/kb/bm25.js';
import { analyze, normalizeForDedup, stem } from '../../../host/kb/text-normalize.js';

// Reference stems computed with NLTK 3.9 `PorterStemmer(mode=PorterStemmer.ORIGINAL_ALGORITHM)` (the 1980 paper's
// algorithm), for words from the paper's examples and from this project's runbooks.
const PORTER_REFERENCE: readonly [string, string][] = [
  ['caresses', 'caress'], ['ponies', 'poni'], ['ties', 'ti'], ['caress', 'caress'], ['cats', 'cat'], ['feed', 'feed'], ['agreed', 'agre'], ['plastered', 'plaster'], ['bled', 'bled'], ['motoring', 'motor'], ['sing', 'sing'], ['conflated', 'conflat'], ['troubled', 'troubl'], ['sized', 'size'], ['hopping', 'hop'], ['tanned', 'tan'], ['falling', 'fall'], ['hissing', 'hiss'], ['fizzed', 'fizz'], ['failing', 'fail'], ['filing', 'file'], ['happy', 'happi'], ['sky', 'sky'], ['relational', 'relat'], ['conditional', 'condit'], ['rational', 'ration'], ['valenci', 'valenc'], ['hesitanci', 'hesit'], ['digitizer', 'digit'], ['conformabli', 'conform'], ['radicalli', 'radic'], ['differentli', 'differ'], ['vileli', 'vile'], ['analogousli', 'analog'], ['vietnamization', 'vietnam'], ['predication', 'predic'], ['operator', 'oper'], ['feudalism', 'feudal'], ['decisiveness', 'decis'], ['hopefulness', 'hope'], ['callousness', 'callous'], ['formaliti', 'formal'], ['sensitiviti', 'sensit'], ['sensibiliti', 'sensibl'], ['triplicate', 'triplic'], ['formative', 'form'], ['formalize', 'formal'], ['electriciti', 'electr'], ['electrical', 'electr'], ['hopeful', 'hope'], ['goodness', 'good'], ['revival', 'reviv'], ['allowance', 'allow'], ['inference', 'infer'], ['airliner', 'airlin'], ['gyroscopic', 'gyroscop'], ['adjustable', 'adjust'], ['defensible', 'defens'], ['irritant', 'irrit'], ['replacement', 'replac'], ['adjustment', 'adjust'], ['dependent', 'depend'], ['adoption', 'adopt'], ['homologou', 'homolog'], ['communism', 'commun'], ['activate', 'activ'], ['angulariti', 'angular'], ['homologous', 'homolog'], ['effective', 'effect'], ['bowdlerize', 'bowdler'], ['probate', 'probat'], ['rate', 'rate'], ['cease', 'ceas'], ['controll', 'control'], ['roll', 'roll'], ['generalization', 'gener'], ['connections', 'connect'], ['connected', 'connect'], ['connecting', 'connect'], ['restarted', 'restart'], ['restarting', 'restart'], ['flapping', 'flap'], ['routers', 'router'], ['routing', 'rout'], ['failures', 'failur'], ['interfaces', 'interfac'],
];

describe('analyzer', () => {
  test('Porter stemmer agrees with the reference on every word', () => {
    for (const [w, s] of PORTER_REFERENCE) assert.equal(stem(w), s, w);
  });

  test('identifiers stay whole and also yield their parts; addresses stay whole only', () => {
    assert.deepEqual(analyze('X0T_PLUGIN_TRAP on wlan0'), ['x0t_plugin_trap', 'x0t', 'plugin', 'trap', 'wlan0']);
    assert.deepEqual(analyze('ping 10.0.0.1 failed'), ['ping', '10.0.0.1', 'fail']);
    assert.deepEqual(analyze('Wi-Fi link flaps'), ['wi-fi', 'wi', 'fi', 'wifi', 'link', 'flap']);
    assert.deepEqual(analyze('maxRetries exceeded.'), ['maxretries', 'max', 'retri', 'exceed']);
    assert.deepEqual(analyze('eth0.100 is the VLAN'), ['eth0.100', 'eth0', '100', 'vlan']);
  });

  test('stopwords are dropped, negations kept, Unicode words split', () => {
    assert.deepEqual(analyze('The node is not in the mesh'), ['node', 'not', 'mesh']);
    assert.deepEqual(analyze('Überlast: Knoten fällt aus — ошибка сети'), ['überlast', 'knoten', 'fällt', 'au', 'ошибка', 'сети']);
  });

  test('dedup normal form ignores case and whitespace runs', () => {
    assert.equal(normalizeForDedup('  Restart\n\thostapd  NOW '), 'restart hostapd now');
  });
});

describe('Bm25Index', () => {
  test('scores equal the BM25 formula worked by hand (k1 1.2, b 0.75)', () => {
    const idx = new Bm25Index();
    idx.addTerms(1, ['a', 'b', 'a']);        // length 3
    idx.addTerms(2, ['b', 'c']);             // length 2
    idx.addTerms(3, ['c', 'c', 'c', 'd']);   // length 4
    // N = 3, avgdl = 3. Query "a c".
    const idf = (df: number): number => Math.log(1 + (3 - df + 0.5) / (df + 0.5));
    const part = (f: number, dl: number, df: number): number => idf(df) * (f * 2.2) / (f + 1.2 * (0.25 + 0.75 * dl / 3));
    const hits = idx.searchTerms(['a', 'c'], 10);
    const expected = new Map([[1, part(2, 3, 1)], [2, part(1, 2, 2)], [3, part(3, 4, 2)]]);
    assert.equal(hits.length, 3);
    for (const h of hits) assert.ok(Math.abs(h.score - expected.get(h.id)!) < 1e-12, `doc ${h.id}`);
    assert.deepEqual(hits.map((h) => h.id), [...expected].sort((x, y) => y[1] - x[1]).map(([id]) => id));
    assert.ok(Math.abs(idx.idf('a') - Math.log(1 + 2.5 / 1.5)) < 1e-12);
  });

  test('documents without query terms are not returned; k and the allow predicate limit results', () => {
    const idx = new Bm25Index();
    idx.add(1, 'wlan0 link flaps after channel change');
    idx.add(2, 'raft leader lost quorum');
    idx.add(3, 'wlan0 driver crash');
    assert.deepEqual(idx.search('wlan0', 10).map((h) => h.id).sort(), [1, 3]);
    assert.equal(idx.search('wlan0', 1).length, 1);
    assert.deepEqual(idx.search('wlan0', 10, (id) => id !== 3).map((h) => h.id), [1]);
    assert.deepEqual(idx.search('nothing matches here', 10), []);
    assert.deepEqual(idx.search('leader elections', 10).map((h) => h.id), [2]); // "elections" does not match; "leader" does
  });

  test('incremental add/remove gives the same scores as building from scratch (property)', () => {
    const vocab = ['mesh', 'node', 'link', 'flap', 'raft', 'quorum', 'wlan0', 'trap', 'plugin', 'route'];
    const doc = fc.array(fc.constantFrom(...vocab), { minLength: 0, maxLength: 12 });
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 15 }), doc, fc.boolean()), { maxLength: 40 }),
      fc.array(fc.constantFrom(...vocab), { minLength: 1, maxLength: 4 }), (ops, query) => {
        const live = new Map<number, string[]>();
        const inc = new Bm25Index();
        for (const [id, terms, del] of ops) {
          if (del) { inc.remove(id); live.delete(id); } else { inc.addTerms(id, terms); live.set(id, terms); }
        }
        const fresh = new Bm25Index();
        for (const [id, terms] of live) fresh.addTerms(id, terms);
        assert.equal(inc.size, fresh.size);
        const a = inc.searchTerms(query, 20);
        const b = fresh.searchTerms(query, 20);
        assert.deepEqual(a.map((h) => h.id), b.map((h) => h.id));
        a.forEach((h, i) => assert.ok(Math.abs(h.score - b[i]!.score) < 1e-9));
        const back = Bm25Index.deserialize(inc.serialize());
        assert.deepEqual(back.searchTerms(query, 20), a);
      }), { numRuns: 200 });
  });

  test('serialisation round-trips and detects damage', () => {
    const idx = new Bm25Index({ k1: 1.5, b: 0.5 });
    idx.add(7, 'Über wlan0 X0T_PLUGIN_TRAP');
    idx.add(4_000_000_000, 'mesh route');
    const bytes = idx.serialize();
    const back = Bm25Index.deserialize(bytes);
    assert.deepEqual(back.params, { k1: 1.5, b: 0.5 });
    assert.deepEqual(back.search('trap mesh über', 5), idx.search('trap mesh über', 5));
    assert.throws(() => Bm25Index.deserialize(bytes.subarray(0, bytes.length - 3)), KbIndexCorruptError);
    const bad = bytes.slice(); bad[0] = bad[0]! ^ 1;
    assert.throws(() => Bm25Index.deserialize(bad), KbIndexCorruptError);
    assert.throws(() => Bm25Index.deserialize(new Uint8Array([...bytes, 0])), KbIndexCorruptError);
  });
});
