// How failed libbpf calls become registry errors: permission, missing bpf() and unsupported operations are
// UnsupportedError with a reason; everything else is DriverError with the call and the errno.
import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { describe, it } from 'node:test';
import { callError } from '../../../host/driver/libbpf.js';
import { DriverError, UnsupportedError } from '../../../host/errors/index.js';

describe('libbpf call errors', () => {
  it('maps errnos to Unsupported reasons or DriverError', () => {
    const cases: [number, string | null][] = [
      [constants.errno.EPERM, 'permission'],
      [constants.errno.EACCES, 'permission'],
      [constants.errno.ENOSYS, 'no-bpf'],
      [constants.errno.EOPNOTSUPP, 'not-supported'],
      [524, 'not-supported'], // the kernel's ENOTSUPP
      [constants.errno.EINVAL, null],
      [constants.errno.EBUSY, null],
      [constants.errno.ENOENT, null],
    ];
    for (const [errno, reason] of cases) {
      const e = callError('bpf_link_create', errno, 'xdp');
      assert.equal(e.details['call'], 'bpf_link_create');
      assert.equal(e.details['errno'], errno);
      if (reason === null) {
        assert.ok(e instanceof DriverError, String(errno));
        assert.equal(e.exitCode, 60);
      } else {
        assert.ok(e instanceof UnsupportedError, String(errno));
        assert.equal(e.details['reason'], reason);
        assert.equal(e.exitCode, 30);
      }
    }
    assert.equal(callError('bpf_map_lookup_elem', constants.errno.E2BIG).details['errnoName'], 'E2BIG');
  });
});
