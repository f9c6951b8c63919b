// One short line per mesh event for `x0t node start` (text mode), and the flat JSON form (--json).
import type { MeshEvent } from '../node/mesh/mesh-service.js';
import { shortFp } from './mesh-admin.js';

export function describeMeshEvent(e: MeshEvent): { text: string; stderr: boolean } | null {
  switch (e.kind) {
    case 'started':
      return null; // the start banner says it
    case 'session-up':
      return { text: `mesh: session up with ${shortFp(e.peer)} at ${e.endpoint ?? '?'}`, stderr: false };
    case 'session-down':
      return { text: `mesh: session down with ${shortFp(e.peer)} (${e.reason})`, stderr: false };
    case 'session-rejected':
      return { text: `mesh: refused a ${e.reason} frame from ${e.endpoint ?? '?'}`, stderr: false };
    case 'peer-restarted':
      return { text: `mesh: ${shortFp(e.peer)} restarted`, stderr: false };
    case 'neighbour-down':
      return { text: `mesh: neighbour ${shortFp(e.neighbour)} down (${e.reason})`, stderr: false };
    case 'route-changed':
      return {
        text: `mesh: route to ${shortFp(e.dest)} via ${e.nextHops.map(shortFp).join(', backup ') || '-'}`,
        stderr: false,
      };
    case 'route-lost':
      return { text: `mesh: route to ${shortFp(e.dest)} lost`, stderr: false };
    case 'discovery-failed':
      return { text: `mesh: no route to ${shortFp(e.dest)} found`, stderr: false };
    case 'error':
      return { text: `mesh: ${e.error.code}: ${e.error.message}`, stderr: true };
  }
}

export function meshEventJson(e: MeshEvent): Record<string, unknown> {
  if (e.kind === 'error') return { event: 'mesh', kind: e.kind, error: e.error.toJSON() };
  return { event: 'mesh', ...e };
}
