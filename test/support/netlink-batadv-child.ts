// Runs inside a test's network namespace where a batman-adv interface exists (only on kernels with batman-adv):
// reads the mesh settings, changes orig_interval and gw_mode, reads them back, and dumps the originator, neighbour
// and gateway tables. Prints one JSON object on stdout: the results, or the error.
import { readFileSync } from 'node:fs';
import { openBatadv } from '../../host/driver/netlink/index.js';
import { isX0tError } from '../../host/errors/index.js';

const meshIf = process.argv[2] ?? 'bat0';
const out = (v: unknown) => process.stdout.write(`${JSON.stringify(v)}\n`);
try {
  const ifindex = Number(readFileSync(`/sys/class/net/${meshIf}/ifindex`, 'utf8').trim());
  const client = await openBatadv();
  try {
    const before = await client.meshInfo(ifindex);
    await client.setMesh(ifindex, { origInterval: 2500, gwMode: 'server', hopPenalty: 20 });
    const afterSet = await client.meshInfo(ifindex);
    out({
      t: 'result', ifindex, family: client.family, before, after: afterSet,
      originators: await client.originators(ifindex), neighbours: await client.neighbours(ifindex), gateways: await client.gateways(ifindex),
    });
  } finally {
    client.close();
  }
} catch (e) {
  out({ t: 'error', ...(isX0tError(e) ? e.toJSON() : { code: 'UNKNOWN', message: String(e), details: {} }) });
}
