/**
 * Crash repair of an MPEG-TS file (ISO/IEC 13818-1): the longest prefix made of whole packets in
 * which every PES is complete. PES are found by payload_unit_start_indicator and their
 * packet_start_code_prefix; their end by PES_packet_length, or by the next PES start on the PID
 * when PES_packet_length is 0 (video).
 */

const PACKET = 188;
const SYNC = 0x47;
const NULL_PID = 0x1fff;

/** Options of {@link completePrefixLength}. */
export interface CompletePrefixOptions {
  /**
   * Treat a PES with PES_packet_length 0 that is the last one of its PID as complete. Pass true
   * only when the writer is known to have finished the file (it wrote its last PES whole). Ignored
   * when `bytes` does not end with a whole packet (the last write was torn). Default false: such a
   * PES may have been cut, and is dropped.
   */
  lastVideoPesComplete?: boolean;
}

interface OpenPes {
  start: number;
  /** The first 6 bytes of the PES (start code, stream_id, PES_packet_length). */
  prefix: Uint8Array;
  prefixLen: number;
  received: number;
}

/**
 * Length in bytes (a multiple of 188) of the longest prefix of `bytes` whose PES are all complete,
 * for truncating a file after a crash so that every player reads it cleanly.
 *
 * Semantics:
 * - Only whole packets count; a trailing partial packet is dropped, and so is everything from the
 *   first packet whose sync byte is not 0x47 (a crash may leave zeros at the end of a file).
 * - A PES with a non-zero PES_packet_length (audio) is complete when all its bytes are present.
 * - A PES with PES_packet_length 0 (video) is complete when the next packet with payload on its PID
 *   starts a new PES. The last such PES of a PID therefore counts as incomplete, unless
 *   `options.lastVideoPesComplete` is true.
 * - The cut is placed at the first packet of the earliest incomplete PES; since that may cut a PES
 *   of another PID that overlaps it, the search repeats until no PES straddles the cut. Tables and
 *   PCR-only packets never make a prefix incomplete.
 * - `bytes` may also be the tail of a file that starts at a packet boundary: packets of a PID
 *   before its first PES start are taken as the end of an earlier, complete PES.
 *
 * A writer that appends each PES (with the tables and PCR packets before it) in one write can only
 * leave its last write partial, so the result loses at most the last PES of each PID.
 */
export function completePrefixLength(bytes: Uint8Array, options?: CompletePrefixOptions): number {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError('options must be an object');
  }
  const lastComplete = options?.lastVideoPesComplete ?? false;
  if (typeof lastComplete !== 'boolean')
    throw new TypeError('options.lastVideoPesComplete must be a boolean');
  let n = Math.floor(bytes.byteLength / PACKET);
  for (let i = 0; i < n; i++) {
    if (bytes[i * PACKET] !== SYNC) {
      n = i;
      break;
    }
  }
  // A torn last write (partial packet, garbage) shows the writer did not finish.
  const finished = lastComplete && n * PACKET === bytes.byteLength;
  let cut = n;
  for (;;) {
    const next = incompleteFrom(bytes, cut, n, finished);
    if (next === cut) return cut * PACKET;
    cut = next;
  }
}

/** Payload start of packet `i`, or -1 without payload. */
function payloadStart(b: Uint8Array, p: number): number {
  const afc = (b[p + 3]! >> 4) & 3; // adaptation_field_control
  if ((afc & 1) === 0) return -1;
  const s = afc === 3 ? p + 5 + b[p + 4]! : p + 4;
  return s < p + PACKET ? s : -1;
}

/** The earliest start of a PES that is incomplete in the prefix of `cut` packets, or `cut`. */
function incompleteFrom(b: Uint8Array, cut: number, n: number, lastComplete: boolean): number {
  const open = new Map<number, OpenPes>();
  const notPes = new Set<number>();
  for (let i = 0; i < cut; i++) {
    const p = i * PACKET;
    const pid = ((b[p + 1]! & 0x1f) << 8) | b[p + 2]!;
    if (pid === NULL_PID || notPes.has(pid)) continue;
    const s = payloadStart(b, p);
    if (s < 0) continue;
    const end = p + PACKET;
    let pes = open.get(pid);
    if (b[p + 1]! & 0x40) {
      // payload_unit_start_indicator: a PES starts with 00 00 01; anything else is a section.
      const maybePes = b[s] === 0 && (s + 1 >= end || b[s + 1] === 0) && (s + 2 >= end || b[s + 2] === 1);
      if (!maybePes) {
        notPes.add(pid);
        open.delete(pid);
        continue;
      }
      pes = { start: i, prefix: new Uint8Array(6), prefixLen: 0, received: 0 };
      open.set(pid, pes);
    }
    if (pes === undefined) continue;
    for (let k = s; k < end && pes.prefixLen < 6; k++) pes.prefix[pes.prefixLen++] = b[k]!;
    pes.received += end - s;
  }
  let result = cut;
  const waiting = new Map<number, OpenPes>();
  for (const [pid, pes] of open) {
    if (pes.prefixLen < 6 || pes.prefix[0] !== 0 || pes.prefix[1] !== 0 || pes.prefix[2] !== 1) {
      result = Math.min(result, pes.start);
      continue;
    }
    const declared = (pes.prefix[4]! << 8) | pes.prefix[5]!; // PES_packet_length
    if (declared > 0) {
      if (pes.received < 6 + declared) result = Math.min(result, pes.start);
    } else waiting.set(pid, pes);
  }
  // Unbounded PES: complete only if the next payload packet of the PID starts a new PES.
  for (let i = cut; i < n && waiting.size > 0; i++) {
    const p = i * PACKET;
    const pid = ((b[p + 1]! & 0x1f) << 8) | b[p + 2]!;
    const pes = waiting.get(pid);
    if (pes === undefined || payloadStart(b, p) < 0) continue;
    waiting.delete(pid);
    if ((b[p + 1]! & 0x40) === 0) result = Math.min(result, pes.start);
  }
  if (!lastComplete) for (const pes of waiting.values()) result = Math.min(result, pes.start);
  return result;
}
