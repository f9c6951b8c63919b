// Request/response over a generic netlink socket: one request at a time, replies matched by sequence number,
// dumps collected until NLMSG_DONE, NLMSG_ERROR turned into DriverError {call, errno}. Waiting happens in poll(2)
// on koffi's worker pool, so the event loop never blocks.
import { DriverError, UnsupportedError } from '../../errors/index.js';
import { decodeFamily, decodeGeneric, encodeGetFamily, NETLINK_GENERIC, type GenericFamily } from './genetlink-codec.js';
import { decodeError, decodeMessages, NLMSG_DONE, NLMSG_ERROR, type NetlinkMessage } from './netlink-message.js';
import { NetlinkSocket } from './netlink-socket.js';

const ENOENT = 2;
const ETIMEDOUT = 110;

/** How a request is answered: one reply message, an ACK only, or a dump ending in NLMSG_DONE. */
export type ReplyShape = 'reply' | 'ack' | 'dump';

export class GenericNetlink {
  readonly #sock: NetlinkSocket;
  readonly #timeoutMs: number;
  #seq = 0;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(sock: NetlinkSocket, timeoutMs: number) {
    this.#sock = sock;
    this.#timeoutMs = timeoutMs;
  }

  /** Opens a NETLINK_GENERIC socket; UnsupportedError where netlink is unavailable. */
  static open(timeoutMs = 2000): GenericNetlink {
    return new GenericNetlink(NetlinkSocket.open(NETLINK_GENERIC), timeoutMs);
  }

  get portId(): number {
    return this.#sock.portId;
  }

  /** The next sequence number for a request built by the caller. */
  nextSeq(): number {
    this.#seq = (this.#seq + 1) >>> 0 || 1;
    return this.#seq;
  }

  /**
   * Sends `bytes` (whose header carries `seq`) and collects the answer. `call` names the request in errors.
   * Requests are serialised: netlink allows one dump per socket at a time.
   */
  request(call: string, bytes: Uint8Array, seq: number, shape: ReplyShape): Promise<NetlinkMessage[]> {
    const run = this.#queue.then(() => this.#exchange(call, bytes, seq, shape));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #exchange(call: string, bytes: Uint8Array, seq: number, shape: ReplyShape): Promise<NetlinkMessage[]> {
    this.#sock.send(bytes);
    const replies: NetlinkMessage[] = [];
    const deadline = Date.now() + this.#timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0 || (await this.#sock.waitAsync(left)) === 'timeout') {
        throw new DriverError(`netlink: no answer to ${call} within ${this.#timeoutMs} ms`, { call, errno: ETIMEDOUT });
      }
      const r = this.#sock.receive();
      if (r.kind === 'empty') continue;
      if (r.kind === 'overrun') throw new DriverError(`netlink: receive buffer overrun during ${call}`, { call, errno: 105 });
      for (const m of decodeMessages(r.bytes)) {
        if (m.seq !== seq || m.pid !== this.#sock.portId) continue; // a stale answer to an earlier, timed-out request
        if (m.type === NLMSG_ERROR) {
          const { errno } = decodeError(m);
          if (errno !== 0) throw new DriverError(`netlink: ${call} failed (errno ${errno})`, { call, errno });
          return replies; // the ACK ends the exchange
        }
        if (m.type === NLMSG_DONE) return replies;
        replies.push(m);
        if (shape === 'reply') return replies;
      }
    }
  }

  /**
   * Looks a family up by name with CTRL_CMD_GETFAMILY. A family the kernel does not have (ENOENT) is
   * UnsupportedError {call: 'CTRL_CMD_GETFAMILY', errno: 2, family}.
   */
  async resolveFamily(name: string): Promise<GenericFamily> {
    const seq = this.nextSeq();
    let replies: NetlinkMessage[];
    try {
      replies = await this.request('CTRL_CMD_GETFAMILY', encodeGetFamily(name, seq), seq, 'reply');
    } catch (e) {
      if (e instanceof DriverError && e.details['errno'] === ENOENT) {
        throw new UnsupportedError(`generic netlink family "${name}" is not available in this kernel`, { call: 'CTRL_CMD_GETFAMILY', errno: ENOENT, family: name }, { cause: e });
      }
      throw e;
    }
    const first = replies[0];
    if (first === undefined) throw new DriverError(`netlink: empty answer to CTRL_CMD_GETFAMILY for "${name}"`, { call: 'CTRL_CMD_GETFAMILY', errno: 0 });
    return decodeFamily(decodeGeneric(first));
  }

  close(): void {
    this.#sock.close();
  }
}
