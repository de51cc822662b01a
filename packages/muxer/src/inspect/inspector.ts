/**
 * Streaming MPEG-TS checker (ISO/IEC 13818-1 §2.4; thresholds of ETSI TR 101 290 priority 1).
 * Memory is bounded by the number of PIDs: no packet is kept, PES payloads are checked by
 * streaming parsers, PSI sections are reassembled one at a time.
 */

import { AdtsChecker, AnnexBChecker, type EsChecker, NullChecker, OpusChecker } from './codecs.js';
import { checkLongSection, parsePat, parsePmt, SectionAssembler, type SectionSink } from './psi.js';
import {
  readPcr,
  readTimestamp,
  timestampFieldValid,
  unwrapNear,
  WRAP_27M,
  WRAP_90K,
  wrappedDifference,
} from './timestamps.js';
import type {
  InspectOptions,
  PidReport,
  ProgramReport,
  StreamCodec,
  StreamReport,
  TsReport,
  Violation,
  ViolationCode,
} from './types.js';

const PACKET = 188;
const SYNC = 0x47;
const NULL_PID = 0x1fff;
/** Bytes of a PES header: 9 fixed, up to 255 of PES_header_data_length. */
const MAX_PES_HEADER = 9 + 255;
/** stream_id values whose PES carry no optional header (§2.4.3.7 Table 2-21). */
const NO_HEADER_STREAM_IDS = new Set([0xbc, 0xbe, 0xbf, 0xf0, 0xf1, 0xf2, 0xf8, 0xff]);

interface ResolvedOptions {
  maxTableGapMs: number;
  maxPcrGapMs: number;
  minDtsMinusPcrMs: number;
  maxDtsMinusPcrMs: number;
  requirePsiFirst: boolean;
  maxViolations: number;
}

function resolveOptions(options: InspectOptions | undefined): ResolvedOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError('options must be an object');
  }
  const o = options ?? {};
  const positive = (name: keyof InspectOptions, fallback: number): number => {
    const v = o[name];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) {
      throw new RangeError(`options.${name} must be a positive number`);
    }
    return v;
  };
  const finite = (name: keyof InspectOptions, fallback: number): number => {
    const v = o[name];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new RangeError(`options.${name} must be a finite number`);
    return v;
  };
  if (o.requirePsiFirst !== undefined && typeof o.requirePsiFirst !== 'boolean') {
    throw new TypeError('options.requirePsiFirst must be a boolean');
  }
  const maxViolations = o.maxViolations ?? 100;
  if (!Number.isInteger(maxViolations) || maxViolations < 0) {
    throw new RangeError('options.maxViolations must be a non-negative integer');
  }
  const resolved: ResolvedOptions = {
    maxTableGapMs: positive('maxTableGapMs', 500),
    maxPcrGapMs: positive('maxPcrGapMs', 100),
    minDtsMinusPcrMs: finite('minDtsMinusPcrMs', 0),
    maxDtsMinusPcrMs: finite('maxDtsMinusPcrMs', 1000),
    requirePsiFirst: o.requirePsiFirst ?? true,
    maxViolations,
  };
  if (resolved.maxDtsMinusPcrMs <= resolved.minDtsMinusPcrMs) {
    throw new RangeError('options.maxDtsMinusPcrMs must be greater than options.minDtsMinusPcrMs');
  }
  return resolved;
}

/**
 * Interval between occurrences of one table, measured on two clocks: PCR time (27 MHz) and, for
 * streams without PCR, PES time (largest DTS so far, 90 kHz). An occurrence before a clock starts
 * is stamped with the clock's first value.
 */
class TableGap {
  last27: number | null = null;
  pending27 = false;
  max27: number | null = null;
  last90: number | null = null;
  pending90 = false;
  max90: number | null = null;
  max90At: [number, number] = [0, 0];
  count = 0;
  lastIndex = 0;
  lastOffset = 0;
}

interface PesState {
  active: boolean;
  damaged: boolean;
  header: Uint8Array;
  headerLen: number;
  headerNeed: number;
  headerDone: boolean;
  headerBad: boolean;
  /** PES_packet_length, or -1 before the header is read. */
  declared: number;
  /** Bytes of the PES received, counting from packet_start_code_prefix. */
  received: number;
  startIndex: number;
  startOffset: number;
  /** Time-base epoch of the PES: PCR discontinuities and discontinuities of its PID before it began. */
  epoch: number;
  /** PCR discontinuities before this PES began: the time base its timestamps refer to. */
  pcrEpoch: number;
  hasPts: boolean;
  pts: number;
  dts: number;
  pcrStart: number | null;
  pcrEnd: number | null;
  checker: EsChecker;
  checkerCodec: StreamCodec;
  videoStep: number;
}

interface PidState {
  pid: number;
  kind: PidReport['kind'];
  packets: number;
  ccErrors: number;
  lastCc: number;
  duplicate: boolean;
  /** Discontinuities seen on this PID after its first packet. */
  epoch: number;
  section: SectionAssembler | null;
  stream: StreamState | null;
}

interface StreamState {
  report: StreamReport;
  pes: PesState;
  lastDts: number | null;
  firstChecked: boolean;
  payloadBeforePcrReported: boolean;
  /** Time-base epoch of the current presentation span. */
  spanEpoch: number;
  spanMin: number | null;
  spanMax: number;
  spanMaxDuration: number;
  closedSpans: number;
}

function isVideo(codec: StreamCodec): boolean {
  return codec === 'h264' || codec === 'h265';
}

function isAudio(codec: StreamCodec): boolean {
  return codec === 'aac' || codec === 'opus';
}

function checkerFor(codec: StreamCodec): EsChecker {
  switch (codec) {
    case 'h264':
      return new AnnexBChecker(false);
    case 'h265':
      return new AnnexBChecker(true);
    case 'aac':
      return new AdtsChecker();
    case 'opus':
      return new OpusChecker();
    default:
      return new NullChecker();
  }
}

const ms27 = (ticks: number): number => ticks / 27_000;
const ms90 = (ticks: number): number => ticks / 90;
const round3 = (v: number): number => Math.round(v * 1000) / 1000;

/**
 * Checks an MPEG-TS byte stream pushed in chunks of any size. Memory stays constant whatever the
 * stream length. Call {@link TsInspector.finish} once at the end to get the report.
 *
 * @example
 * const inspector = new TsInspector({ maxTableGapMs: 101 });
 * for await (const chunk of stream) inspector.push(chunk);
 * const report = inspector.finish();
 */
export class TsInspector {
  private readonly opt: ResolvedOptions;
  private finished = false;

  // Byte stream and sync.
  private carry: Uint8Array = new Uint8Array(0);
  private streamPos = 0;
  private bufBase = 0;
  private totalBytes = 0;
  private syncLost = false;
  private skippedBytes = 0;
  private trailingBytes = 0;
  private packetIndex = 0;
  private packets = 0;

  // Violations.
  private readonly violations: Violation[] = [];
  private readonly counts: Partial<Record<ViolationCode, number>> = {};
  private violationTotal = 0;

  // Tables.
  private readonly pids = new Map<number, PidState>();
  private readonly programs: ProgramReport[] = [];
  private readonly pmtPids = new Set<number>();
  private readonly patGap = new TableGap();
  private readonly pmtGaps = new Map<number, TableGap>();
  private patSeen = false;
  private psiOrderDecided = false;

  // Clock.
  private pcrPid: number | null = null;
  private pcrCount = 0;
  private pcrLast: number | null = null;
  private pcrGapRef: number | null = null;
  private pcrEpoch = 0;
  private maxPcrGap: number | null = null;
  /** Largest unwrapped DTS seen on any PID: the fallback clock for table gaps. */
  private pesClock: number | null = null;
  private firstTimestamp: number | null = null;
  private dtsPcrMin = Number.POSITIVE_INFINITY;
  private dtsPcrMax = Number.NEGATIVE_INFINITY;

  private readonly patSink: SectionSink;
  private lastPacketOffset = 0;

  /** @param options thresholds; see {@link InspectOptions} for the defaults. */
  constructor(options?: InspectOptions) {
    this.opt = resolveOptions(options);
    this.patSink = {
      section: (s, index, offset) => this.onPat(s, index, offset),
      malformed: (message, index, offset) => this.violation('INVALID_SECTION', 0, index, offset, message),
    };
  }

  /** Checks the next bytes of the stream. `chunk` is not retained after the call. */
  push(chunk: Uint8Array): void {
    if (this.finished) throw new Error('TsInspector.push() after finish()');
    if (!(chunk instanceof Uint8Array)) throw new TypeError('chunk must be a Uint8Array');
    this.totalBytes += chunk.byteLength;
    let from = 0;
    if (this.carry.byteLength > 0) {
      // Complete the carried bytes with the head of the chunk (enough for any resync look-ahead).
      const carryLen = this.carry.byteLength;
      const take = Math.min(chunk.byteLength, 4 * PACKET);
      const joined = new Uint8Array(carryLen + take);
      joined.set(this.carry, 0);
      joined.set(chunk.subarray(0, take), carryLen);
      this.bufBase = this.streamPos;
      const p = this.scan(joined, 0, joined.byteLength, false);
      this.streamPos += p;
      if (p < carryLen || take === chunk.byteLength) {
        const rest = new Uint8Array(joined.byteLength - p + chunk.byteLength - take);
        rest.set(joined.subarray(p), 0);
        rest.set(chunk.subarray(take), joined.byteLength - p);
        this.carry = rest;
        return;
      }
      from = p - carryLen;
      this.carry = new Uint8Array(0);
    }
    this.bufBase = this.streamPos - from;
    const p = this.scan(chunk, from, chunk.byteLength, false);
    this.streamPos += p - from;
    this.carry = chunk.slice(p);
  }

  /** Ends the stream: checks what only the end can tell and returns the report. */
  finish(): TsReport {
    if (this.finished) throw new Error('TsInspector.finish() called twice');
    this.finished = true;
    const carry = this.carry;
    this.bufBase = this.streamPos;
    const p = this.scan(carry, 0, carry.byteLength, true);
    this.streamPos += p;
    const rest = carry.byteLength - p;
    if (rest > 0) {
      if (this.syncLost) this.skippedBytes += rest;
      else {
        this.trailingBytes = rest;
        this.violation(
          'TRAILING_PARTIAL_PACKET',
          -1,
          this.packetIndex,
          this.streamPos,
          `the stream ends with ${rest} bytes that do not form a whole packet`,
        );
      }
    }
    this.carry = new Uint8Array(0);
    return this.endOfStream();
  }

  // ---------------------------------------------------------------------------------------------
  // Sync

  /** 1: synchronised at `q`; 0: not; -1: cannot tell yet (needs more bytes). */
  private syncAt(b: Uint8Array, q: number, end: number, final: boolean): number {
    if (q >= end) return final ? 0 : -1;
    if (b[q] !== SYNC) return 0;
    for (let k = 1; k <= 2; k++) {
      const r = q + k * PACKET;
      if (r < end) {
        if (b[r] !== SYNC) return 0;
      } else return final ? 1 : -1;
    }
    return 1;
  }

  /** Processes whole packets of `b[p, end)`; returns where it stopped. */
  private scan(b: Uint8Array, p: number, end: number, final: boolean): number {
    while (p < end) {
      if (!this.syncLost) {
        if (end - p < PACKET) return p;
        if (b[p] === SYNC) {
          this.packet(b, p);
          p += PACKET;
          continue;
        }
        const next = this.syncAt(b, p + PACKET, end, final);
        if (next === -1) return p;
        const index = this.packetIndex;
        if (next === 1) {
          // Only this packet's sync byte is wrong: drop the packet and stay aligned.
          this.violation(
            'SYNC_LOST',
            -1,
            index,
            this.bufBase + p,
            `packet ${index} has sync byte 0x${hex2(b[p]!)}, not 0x47`,
          );
          this.packetIndex++;
          this.skippedBytes += PACKET;
          p += PACKET;
          continue;
        }
        this.violation(
          'SYNC_LOST',
          -1,
          index,
          this.bufBase + p,
          `sync lost at packet ${index} (byte 0x${hex2(b[p]!)})`,
        );
        this.syncLost = true;
      }
      let q = p + 1;
      let found = -1;
      while (q < end) {
        q = b.indexOf(SYNC, q);
        if (q < 0 || q >= end) break;
        const r = this.syncAt(b, q, end, final);
        if (r === 1) {
          found = q;
          break;
        }
        if (r === -1) {
          this.skippedBytes += q - p;
          return q;
        }
        q++;
      }
      if (found < 0) {
        // Keep the last bytes: a sync byte among them may prove itself with more data.
        const keep = final ? end : Math.max(p, end - 2 * PACKET);
        this.skippedBytes += keep - p;
        return keep;
      }
      this.skippedBytes += found - p;
      p = found;
      this.syncLost = false;
    }
    return p;
  }

  // ---------------------------------------------------------------------------------------------
  // Packets

  private pidState(pid: number): PidState {
    let st = this.pids.get(pid);
    if (st === undefined) {
      st = {
        pid,
        kind: pid === 0 ? 'pat' : pid === NULL_PID ? 'null' : 'other',
        packets: 0,
        ccErrors: 0,
        lastCc: -1,
        duplicate: false,
        epoch: 0,
        section: pid === 0 ? new SectionAssembler(this.patSink) : null,
        stream: null,
      };
      this.pids.set(pid, st);
    }
    return st;
  }

  private packet(b: Uint8Array, p: number): void {
    const index = this.packetIndex++;
    const offset = this.bufBase + p;
    this.lastPacketOffset = offset;
    this.packets++;
    const b1 = b[p + 1]!;
    const pid = ((b1 & 0x1f) << 8) | b[p + 2]!;
    const b3 = b[p + 3]!;
    const st = this.pidState(pid);
    st.packets++;
    if (st.stream !== null) st.stream.report.packets++;
    if (b1 & 0x80) {
      this.violation('TRANSPORT_ERROR', pid, index, offset, 'transport_error_indicator is set');
      return;
    }
    if (pid === NULL_PID) return;
    const afc = (b3 >> 4) & 3; // adaptation_field_control
    const cc = b3 & 0x0f; // continuity_counter
    if (afc === 0) {
      this.violation('INVALID_PACKET', pid, index, offset, "adaptation_field_control is '00'");
      return;
    }
    const end = p + PACKET;
    let s = p + 4;
    let discontinuity = false;
    let pcr = -1;
    if (afc & 2) {
      const afLength = b[s]!; // adaptation_field_length
      if ((afc === 2 && afLength !== 183) || (afc === 3 && afLength > 182)) {
        this.violation(
          'INVALID_PACKET',
          pid,
          index,
          offset,
          `adaptation_field_length ${afLength} with adaptation_field_control ${afc}`,
        );
        return;
      }
      if (afLength > 0) {
        const flags = b[s + 1]!;
        discontinuity = (flags & 0x80) !== 0; // discontinuity_indicator
        if (flags & 0x10 && afLength >= 7) pcr = readPcr(b, s + 2); // PCR_flag
      }
      s += 1 + afLength;
    }
    const hasPayload = (afc & 1) !== 0;
    const pusi = (b1 & 0x40) !== 0;

    if (discontinuity && st.packets > 1) this.onDiscontinuity(st);

    let duplicate = false;
    if (hasPayload) {
      if (st.lastCc >= 0 && !discontinuity) {
        const expected = (st.lastCc + 1) & 0x0f;
        if (cc === st.lastCc && !st.duplicate) {
          duplicate = true; // a packet may be sent twice (§2.4.3.3); the copy is ignored
          st.duplicate = true;
        } else if (cc !== expected) {
          st.ccErrors++;
          if (st.stream !== null) {
            st.stream.report.ccErrors++;
            if (st.stream.pes.active) st.stream.pes.damaged = true;
          }
          st.section?.reset();
          this.violation('CC_ERROR', pid, index, offset, `continuity_counter ${cc}, expected ${expected}`);
          st.duplicate = false;
          duplicate = cc === st.lastCc;
        } else st.duplicate = false;
      } else st.duplicate = false;
      st.lastCc = cc;
    }

    if (this.opt.requirePsiFirst && !this.psiOrderDecided && pid >= 0x20) {
      this.psiOrderDecided = true;
      if (!this.pmtPids.has(pid)) {
        this.violation(
          'PSI_NOT_FIRST',
          pid,
          index,
          offset,
          this.patSeen ? `packet of PID ${pid} before the PMT` : `packet of PID ${pid} before the PAT`,
        );
      }
    }

    if (pcr >= 0 && pid === this.pcrPid) this.onPcr(pcr, index, offset);

    // transport_scrambling_control: a scrambled payload cannot be parsed.
    if (!hasPayload || duplicate || b3 >> 6 !== 0) return;
    if (st.section !== null) {
      st.section.push(b, s, end, pusi, index, offset);
    } else if (st.stream !== null) {
      this.pesPayload(st, st.stream, b, s, end, pusi, index, offset);
    } else if (pusi && pid >= 0x20 && end - s >= 3 && b[s] === 0 && b[s + 1] === 0 && b[s + 2] === 1) {
      // A PES that no PMT describes: still check its header and timestamps.
      st.kind = 'pes';
      st.stream = this.newStream(pid, -1, -1, 'unknown');
      st.stream.report.packets = st.packets;
      this.pesPayload(st, st.stream, b, s, end, pusi, index, offset);
    }
  }

  private onDiscontinuity(st: PidState): void {
    st.epoch++;
    st.duplicate = false;
    const stream = st.stream;
    if (stream !== null) stream.lastDts = null;
    if (st.pid === this.pcrPid) {
      // A new system time base (§2.4.3.5): PES that start from now on, on every PID, refer to it.
      if (this.pcrCount > 0) this.pcrEpoch++;
      this.pcrGapRef = null;
      for (const other of this.pids.values()) if (other.stream !== null) other.stream.lastDts = null;
      // Tables stay due, but the new time base cannot measure from the old one.
      for (const gap of this.allGaps()) {
        if (gap.last27 !== null) {
          gap.last27 = null;
          gap.pending27 = true;
        }
      }
    }
  }

  private allGaps(): TableGap[] {
    return [this.patGap, ...this.pmtGaps.values()];
  }

  private onPcr(raw: number, index: number, offset: number): void {
    const reference = this.pcrLast ?? (this.firstTimestamp !== null ? this.firstTimestamp * 300 : raw);
    const pcr = unwrapNear(raw, reference, WRAP_27M);
    if (this.pcrGapRef !== null) {
      const gap = pcr - this.pcrGapRef;
      if (gap < 0) {
        this.violation(
          'PCR_BACKWARDS',
          this.pcrPid!,
          index,
          offset,
          `PCR went back by ${round3(ms27(-gap))} ms`,
        );
      } else {
        const gapMs = ms27(gap);
        if (this.maxPcrGap === null || gapMs > this.maxPcrGap) this.maxPcrGap = gapMs;
        if (gapMs > this.opt.maxPcrGapMs) {
          this.violation(
            'PCR_GAP',
            this.pcrPid!,
            index,
            offset,
            `${round3(gapMs)} ms since the previous PCR (limit ${this.opt.maxPcrGapMs} ms)`,
          );
        }
      }
    }
    this.pcrGapRef = pcr;
    this.pcrLast = pcr;
    this.pcrCount++;
    for (const gap of this.allGaps()) {
      if (gap.pending27) {
        gap.pending27 = false;
        gap.last27 = pcr;
      }
    }
  }

  /** Records an occurrence of a table for the gap measurement. */
  private tableSeen(
    gap: TableGap,
    code: 'PAT_GAP' | 'PMT_GAP',
    pid: number,
    index: number,
    offset: number,
  ): void {
    gap.count++;
    gap.lastIndex = index;
    gap.lastOffset = offset;
    if (this.pcrLast === null) gap.pending27 = true;
    else {
      if (gap.last27 !== null)
        this.tableInterval(gap, code, pid, index, offset, this.pcrLast - gap.last27, '');
      gap.last27 = this.pcrLast;
    }
    if (this.pesClock === null) gap.pending90 = true;
    else {
      if (gap.last90 !== null) {
        const d = ms90(this.pesClock - gap.last90);
        if (gap.max90 === null || d > gap.max90) {
          gap.max90 = d;
          gap.max90At = [index, offset];
        }
      }
      gap.last90 = this.pesClock;
    }
  }

  private tableInterval(
    gap: TableGap,
    code: 'PAT_GAP' | 'PMT_GAP',
    pid: number,
    index: number,
    offset: number,
    ticks27: number,
    suffix: string,
  ): void {
    const d = ms27(ticks27);
    if (gap.max27 === null || d > gap.max27) gap.max27 = d;
    if (d > this.opt.maxTableGapMs) {
      const table = code === 'PAT_GAP' ? 'PAT' : 'PMT';
      this.violation(
        code,
        pid,
        index,
        offset,
        `${round3(d)} ms without a ${table}${suffix} (limit ${this.opt.maxTableGapMs} ms)`,
      );
    }
  }

  // ---------------------------------------------------------------------------------------------
  // PSI

  private onPat(s: Uint8Array, index: number, offset: number): void {
    const header = checkLongSection(s);
    if (typeof header === 'string') {
      this.violation(
        header.startsWith('CRC') ? 'CRC_ERROR' : 'INVALID_SECTION',
        0,
        index,
        offset,
        `PAT: ${header}`,
      );
      return;
    }
    if (header.tableId !== 0x00) {
      this.violation('INVALID_SECTION', 0, index, offset, `table_id 0x${hex2(header.tableId)} on PID 0`);
      return;
    }
    if (!header.currentNext) return;
    const entries = parsePat(s);
    if (typeof entries === 'string') {
      this.violation('INVALID_SECTION', 0, index, offset, `PAT: ${entries}`);
      return;
    }
    this.patSeen = true;
    for (const entry of entries) {
      let program = this.programs.find((p) => p.programNumber === entry.programNumber);
      if (program === undefined) {
        program = { programNumber: entry.programNumber, pmtPid: entry.pmtPid, pcrPid: null, version: null };
        this.programs.push(program);
      }
      program.pmtPid = entry.pmtPid;
      if (!this.pmtPids.has(entry.pmtPid)) {
        this.pmtPids.add(entry.pmtPid);
        this.pmtGaps.set(entry.pmtPid, new TableGap());
        const st = this.pidState(entry.pmtPid);
        st.kind = 'pmt';
        const pmtPid = entry.pmtPid;
        st.section ??= new SectionAssembler({
          section: (s, index, offset) => this.onPmt(pmtPid, s, index, offset),
          malformed: (message, index, offset) =>
            this.violation('INVALID_SECTION', pmtPid, index, offset, message),
        });
      }
    }
    this.tableSeen(this.patGap, 'PAT_GAP', 0, index, offset);
  }

  private onPmt(pid: number, s: Uint8Array, index: number, offset: number): void {
    const header = checkLongSection(s);
    if (typeof header === 'string') {
      this.violation(
        header.startsWith('CRC') ? 'CRC_ERROR' : 'INVALID_SECTION',
        pid,
        index,
        offset,
        `PMT: ${header}`,
      );
      return;
    }
    if (header.tableId !== 0x02) return; // other tables may share the PID
    if (!header.currentNext) return;
    const pmt = parsePmt(s, header);
    if (typeof pmt === 'string') {
      this.violation('INVALID_SECTION', pid, index, offset, `PMT: ${pmt}`);
      return;
    }
    const program = this.programs.find((p) => p.programNumber === pmt.programNumber);
    if (program === undefined || program.pmtPid !== pid) {
      this.violation(
        'INVALID_SECTION',
        pid,
        index,
        offset,
        `PMT of program ${pmt.programNumber}, which the PAT does not map to PID ${pid}`,
      );
      return;
    }
    program.pcrPid = pmt.pcrPid;
    program.version = pmt.version;
    if (program === this.programs[0]) this.pcrPid = pmt.pcrPid;
    for (const es of pmt.streams) {
      const st = this.pidState(es.pid);
      if (st.section !== null) continue; // a PSI PID listed as a stream: ignore
      st.kind = 'pes';
      if (st.stream === null) {
        st.stream = this.newStream(es.pid, pmt.programNumber, es.streamType, es.codec);
        st.stream.report.packets = st.packets;
      } else {
        st.stream.report.streamType = es.streamType;
        st.stream.report.codec = es.codec;
        st.stream.report.programNumber = pmt.programNumber;
      }
    }
    const gap = this.pmtGaps.get(pid);
    if (gap !== undefined) this.tableSeen(gap, 'PMT_GAP', pid, index, offset);
  }

  // ---------------------------------------------------------------------------------------------
  // PES

  private newStream(pid: number, programNumber: number, streamType: number, codec: StreamCodec): StreamState {
    return {
      report: {
        pid,
        programNumber,
        streamType,
        codec,
        packets: 0,
        pesCount: 0,
        frames: 0,
        keyframes: 0,
        firstPts: null,
        lastPts: null,
        firstDts: null,
        lastDts: null,
        durationMs: 0,
        ccErrors: 0,
        bytes: 0,
      },
      pes: {
        active: false,
        damaged: false,
        header: new Uint8Array(MAX_PES_HEADER),
        headerLen: 0,
        headerNeed: 9,
        headerDone: false,
        headerBad: false,
        declared: -1,
        received: 0,
        startIndex: 0,
        startOffset: 0,
        epoch: 0,
        pcrEpoch: 0,
        hasPts: false,
        pts: 0,
        dts: 0,
        pcrStart: null,
        pcrEnd: null,
        checker: checkerFor(codec),
        checkerCodec: codec,
        videoStep: 0,
      },
      lastDts: null,
      firstChecked: false,
      payloadBeforePcrReported: false,
      spanEpoch: 0,
      spanMin: null,
      spanMax: 0,
      spanMaxDuration: 0,
      closedSpans: 0,
    };
  }

  private pesPayload(
    st: PidState,
    stream: StreamState,
    b: Uint8Array,
    s: number,
    e: number,
    pusi: boolean,
    index: number,
    offset: number,
  ): void {
    const pes = stream.pes;
    if (pusi) {
      if (pes.active) this.pesEnd(st, stream, false);
      this.pesStart(st, stream, index, offset);
    }
    if (!pes.active) return; // the stream began inside a PES
    if (pes.pcrEpoch === this.pcrEpoch && this.pcrLast !== null) pes.pcrEnd = this.pcrLast;
    if (pes.damaged) return;
    let i = s;
    if (!pes.headerDone) {
      while (i < e && pes.headerLen < pes.headerNeed) {
        pes.header[pes.headerLen++] = b[i++]!;
        if (pes.headerLen === 9 && pes.headerNeed === 9) this.pesFixedHeader(st, stream);
      }
      pes.received += i - s;
      if (pes.headerLen < pes.headerNeed || pes.headerBad) return;
      this.pesHeader(st, stream);
      if (pes.headerBad) return;
    }
    let n = e - i;
    if (pes.declared > 0) n = Math.max(0, Math.min(n, 6 + pes.declared - pes.received));
    pes.received += e - i;
    if (n > 0) {
      stream.report.bytes += n;
      pes.checker.push(b, i, i + n);
    }
  }

  private pesStart(st: PidState, stream: StreamState, index: number, offset: number): void {
    const pes = stream.pes;
    pes.active = true;
    pes.damaged = false;
    pes.headerLen = 0;
    pes.headerNeed = 9;
    pes.headerDone = false;
    pes.headerBad = false;
    pes.declared = -1;
    pes.received = 0;
    pes.startIndex = index;
    pes.startOffset = offset;
    pes.pcrEpoch = this.pcrEpoch;
    pes.epoch = this.pcrEpoch * 65536 + st.epoch;
    pes.hasPts = false;
    pes.pcrStart = this.pcrLast;
    pes.pcrEnd = null;
    stream.report.pesCount++;
    if (pes.checkerCodec !== stream.report.codec) {
      pes.checker = checkerFor(stream.report.codec);
      pes.checkerCodec = stream.report.codec;
    }
    pes.checker.begin();
    if (this.pcrCount === 0 && this.pcrPid !== NULL_PID && !stream.payloadBeforePcrReported) {
      stream.payloadBeforePcrReported = true;
      this.violation('PAYLOAD_BEFORE_PCR', st.pid, index, offset, 'PES before the first PCR of the program');
    }
  }

  /** The 9 fixed bytes are in: learn the header size. */
  private pesFixedHeader(st: PidState, stream: StreamState): void {
    const pes = stream.pes;
    const h = pes.header;
    if (h[0] !== 0 || h[1] !== 0 || h[2] !== 1) {
      this.pesBad(st, stream, 'PES does not start with packet_start_code_prefix 00 00 01');
      return;
    }
    pes.declared = (h[4]! << 8) | h[5]!; // PES_packet_length
    if (NO_HEADER_STREAM_IDS.has(h[3]!)) {
      pes.headerNeed = 6;
      return;
    }
    if ((h[6]! & 0xc0) !== 0x80) {
      this.pesBad(st, stream, "PES header does not have the '10' marker bits");
      return;
    }
    pes.headerNeed = 9 + h[8]!; // PES_header_data_length
  }

  private pesBad(st: PidState, stream: StreamState, message: string): void {
    stream.pes.headerBad = true;
    this.violation('INVALID_PES_HEADER', st.pid, stream.pes.startIndex, stream.pes.startOffset, message);
  }

  private pesHeader(st: PidState, stream: StreamState): void {
    const pes = stream.pes;
    pes.headerDone = true;
    // received counted the header bytes; bytes past the header are added by the caller.
    pes.received = pes.headerLen;
    const h = pes.header;
    if (pes.headerNeed === 6) return;
    const flags = h[7]! >> 6; // PTS_DTS_flags
    const hdl = h[8]!;
    if (flags === 0) {
      this.violation(
        'PES_WITHOUT_PTS',
        st.pid,
        pes.startIndex,
        pes.startOffset,
        'PES without PTS (PTS_DTS_flags 00)',
      );
      return;
    }
    if (flags === 1) {
      this.pesBad(st, stream, "PTS_DTS_flags '01' is forbidden");
      return;
    }
    if (hdl < (flags === 3 ? 10 : 5)) {
      this.pesBad(st, stream, `PES_header_data_length ${hdl} too short for PTS_DTS_flags ${flags}`);
      return;
    }
    if (
      !timestampFieldValid(h, 9, flags === 3 ? 0b0011 : 0b0010) ||
      (flags === 3 && !timestampFieldValid(h, 14, 0b0001))
    ) {
      this.pesBad(st, stream, 'PTS/DTS field with a wrong prefix or marker bit');
      return;
    }
    const ptsRaw = readTimestamp(h, 9);
    const dtsRaw = flags === 3 ? readTimestamp(h, 14) : ptsRaw;
    this.firstTimestamp ??= dtsRaw;
    const reference =
      stream.lastDts ?? (this.pcrLast !== null ? this.pcrLast / 300 : (this.pesClock ?? this.firstTimestamp));
    const dts = unwrapNear(dtsRaw, reference, WRAP_90K);
    const pts = unwrapNear(ptsRaw, dts, WRAP_90K);
    pes.hasPts = true;
    pes.pts = pts;
    pes.dts = dts;
    pes.videoStep = 0;
    if (pts < dts) {
      this.violation(
        'PTS_BEFORE_DTS',
        st.pid,
        pes.startIndex,
        pes.startOffset,
        `PTS ${pts} is ${round3(ms90(dts - pts))} ms before DTS ${dts}`,
      );
    }
    if (stream.lastDts !== null) {
      if (dts < stream.lastDts) {
        this.violation(
          'PTS_BACKWARDS',
          st.pid,
          pes.startIndex,
          pes.startOffset,
          `DTS ${dts} is ${round3(ms90(stream.lastDts - dts))} ms before the previous one`,
        );
      } else pes.videoStep = dts - stream.lastDts;
    }
    stream.lastDts = dts;
    const r = stream.report;
    if (r.firstPts === null) {
      r.firstPts = pts;
      r.firstDts = dts;
    }
    r.lastPts = pts;
    r.lastDts = dts;
    if (this.pesClock === null || dts > this.pesClock) {
      const first = this.pesClock === null;
      this.pesClock = dts;
      if (first) {
        for (const gap of this.allGaps()) {
          if (gap.pending90) {
            gap.pending90 = false;
            gap.last90 = dts;
          }
        }
      }
    }
  }

  /** A PES ended (next PUSI on its PID, or the end of the stream). */
  private pesEnd(st: PidState, stream: StreamState, atEnd: boolean): void {
    const pes = stream.pes;
    pes.active = false;
    if (pes.damaged || pes.headerBad) {
      stream.firstChecked = true; // the first access unit could not be judged: do not judge the second
      return;
    }
    const where = `PES at packet ${pes.startIndex}`;
    if (!pes.headerDone) {
      this.violation(
        'TRUNCATED_PES',
        st.pid,
        pes.startIndex,
        pes.startOffset,
        `${where} ends inside its header`,
      );
      return;
    }
    const codec = stream.report.codec;
    if (pes.declared > 0) {
      const expected = 6 + pes.declared;
      if (pes.received < expected) {
        this.violation(
          'TRUNCATED_PES',
          st.pid,
          pes.startIndex,
          pes.startOffset,
          `${where} has ${pes.received} of its ${expected} bytes (PES_packet_length ${pes.declared})${atEnd ? ' at the end of the stream' : ''}`,
        );
        return;
      }
      if (pes.received > expected) {
        this.violation(
          'PES_LENGTH_MISMATCH',
          st.pid,
          pes.startIndex,
          pes.startOffset,
          `${where} carries ${pes.received} bytes, PES_packet_length ${pes.declared} says ${expected}`,
        );
      }
    } else if (pes.declared === 0 && isAudio(codec)) {
      this.violation(
        'PES_LENGTH_MISMATCH',
        st.pid,
        pes.startIndex,
        pes.startOffset,
        `${where}: audio PES with PES_packet_length 0`,
      );
    }
    const result = pes.checker.end();
    for (const problem of result.problems) {
      this.violation(problem.code, st.pid, pes.startIndex, pes.startOffset, `${where}: ${problem.message}`);
    }
    const r = stream.report;
    r.frames += result.frames;
    if (result.keyframe) r.keyframes++;
    if (isVideo(codec) && !stream.firstChecked) {
      stream.firstChecked = true;
      if (!result.keyframe) {
        this.violation(
          'FIRST_VIDEO_NOT_IDR',
          st.pid,
          pes.startIndex,
          pes.startOffset,
          `${where}: the first video access unit is not an IDR`,
        );
      }
    }
    if (!pes.hasPts) return;
    // Presentation span of this time-base epoch.
    const duration = isVideo(codec) ? pes.videoStep : result.durationTicks;
    if (pes.epoch !== stream.spanEpoch) {
      if (stream.spanMin !== null)
        stream.closedSpans += stream.spanMax - stream.spanMin + stream.spanMaxDuration;
      stream.spanMin = null;
      stream.spanEpoch = pes.epoch;
    }
    if (stream.spanMin === null) {
      stream.spanMin = pes.pts;
      stream.spanMax = pes.pts;
      stream.spanMaxDuration = duration;
    } else {
      if (pes.pts < stream.spanMin) stream.spanMin = pes.pts;
      if (pes.pts >= stream.spanMax) {
        stream.spanMax = pes.pts;
        stream.spanMaxDuration = duration;
      }
    }
    // DTS − PCR: the last PCR up to the last packet bounds from below, the one at the first from above.
    if (pes.pcrEnd !== null) {
      const d = ms90(wrappedDifference(pes.dts, pes.pcrEnd / 300, WRAP_90K));
      if (d < this.dtsPcrMin) this.dtsPcrMin = d;
      if (d <= this.opt.minDtsMinusPcrMs) {
        this.violation(
          'DTS_BEFORE_PCR',
          st.pid,
          pes.startIndex,
          pes.startOffset,
          `${where}: DTS − PCR = ${round3(d)} ms (must be > ${this.opt.minDtsMinusPcrMs} ms)`,
        );
      }
    }
    if (pes.pcrStart !== null) {
      const d = ms90(wrappedDifference(pes.dts, pes.pcrStart / 300, WRAP_90K));
      if (d > this.dtsPcrMax) this.dtsPcrMax = d;
      if (d > this.opt.maxDtsMinusPcrMs) {
        this.violation(
          'DTS_PCR_TOO_FAR',
          st.pid,
          pes.startIndex,
          pes.startOffset,
          `${where}: DTS − PCR = ${round3(d)} ms (limit ${this.opt.maxDtsMinusPcrMs} ms)`,
        );
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // End

  private violation(
    code: ViolationCode,
    pid: number,
    packetIndex: number,
    byteOffset: number,
    message: string,
  ): void {
    this.counts[code] = (this.counts[code] ?? 0) + 1;
    this.violationTotal++;
    if (this.violations.length < this.opt.maxViolations)
      this.violations.push({ code, pid, packetIndex, byteOffset, message });
  }

  private endOfStream(): TsReport {
    for (const st of this.pids.values()) {
      if (st.stream?.pes.active) this.pesEnd(st, st.stream, true);
    }
    const lastIndex = Math.max(0, this.packetIndex - 1);
    const lastOffset = this.lastPacketOffset;
    // Intervals from the last table to the end of the stream.
    const usePcr = this.pcrCount > 0;
    const tables: Array<[TableGap, 'PAT_GAP' | 'PMT_GAP', number]> = [[this.patGap, 'PAT_GAP', 0]];
    for (const [pid, gap] of this.pmtGaps) tables.push([gap, 'PMT_GAP', pid]);
    for (const [gap, code, pid] of tables) {
      if (gap.count === 0) continue;
      if (usePcr) {
        if (gap.last27 !== null && this.pcrLast !== null) {
          this.tableInterval(
            gap,
            code,
            pid,
            lastIndex,
            lastOffset,
            this.pcrLast - gap.last27,
            ' until the end of the stream',
          );
        }
      } else if (this.pesClock !== null) {
        if (gap.last90 !== null) {
          const d = ms90(this.pesClock - gap.last90);
          if (gap.max90 === null || d > gap.max90) {
            gap.max90 = d;
            gap.max90At = [lastIndex, lastOffset];
          }
        }
        if (gap.max90 !== null && gap.max90 > this.opt.maxTableGapMs) {
          const table = code === 'PAT_GAP' ? 'PAT' : 'PMT';
          this.violation(
            code,
            pid,
            gap.max90At[0],
            gap.max90At[1],
            `${round3(gap.max90)} ms without a ${table}, measured in PES time as the stream has no PCR (limit ${this.opt.maxTableGapMs} ms)`,
          );
        }
      }
    }
    if (!this.patSeen) this.violation('MISSING_PAT', 0, 0, 0, 'no valid PAT in the stream');
    for (const program of this.programs) {
      if (program.version === null) {
        this.violation(
          'MISSING_PMT',
          program.pmtPid,
          0,
          0,
          `no valid PMT for program ${program.programNumber} on PID ${program.pmtPid}`,
        );
      }
    }
    const anyPes = [...this.pids.values()].some((st) => st.stream !== null && st.stream.report.pesCount > 0);
    if (this.pcrCount === 0 && (anyPes || this.pcrPid !== null)) {
      this.violation(
        'PCR_MISSING',
        this.pcrPid ?? -1,
        0,
        0,
        this.pcrPid === NULL_PID
          ? 'PCR_PID is 0x1FFF: the program has no clock'
          : `no PCR on PCR_PID ${this.pcrPid ?? '(no PMT)'}`,
      );
    }

    const streams: StreamReport[] = [];
    const pids: PidReport[] = [];
    for (const st of [...this.pids.values()].sort((a, b) => a.pid - b.pid)) {
      pids.push({ pid: st.pid, kind: st.kind, packets: st.packets, ccErrors: st.ccErrors });
      const stream = st.stream;
      if (stream === null) continue;
      let ticks = stream.closedSpans;
      if (stream.spanMin !== null) ticks += stream.spanMax - stream.spanMin + stream.spanMaxDuration;
      stream.report.durationMs = round3(ms90(ticks));
      streams.push({ ...stream.report });
    }
    const gapMax = (gaps: TableGap[]): number | null => {
      let max: number | null = null;
      for (const g of gaps) {
        const v = usePcr ? g.max27 : g.max90;
        if (v !== null && (max === null || v > max)) max = v;
      }
      return max === null ? null : round3(max);
    };
    this.violations.sort((a, b) => a.byteOffset - b.byteOffset);
    return {
      packets: this.packets,
      bytes: this.totalBytes,
      trailingBytes: this.trailingBytes,
      skippedBytes: this.skippedBytes,
      programs: this.programs.map((p) => ({ ...p })),
      streams,
      pids,
      pcrPid: this.pcrPid,
      pcrCount: this.pcrCount,
      maxPcrGapMs: this.maxPcrGap === null ? null : round3(this.maxPcrGap),
      maxPatGapMs: gapMax(this.patGap.count > 0 ? [this.patGap] : []),
      maxPmtGapMs: gapMax([...this.pmtGaps.values()].filter((g) => g.count > 0)),
      dtsMinusPcrMs:
        this.dtsPcrMin <= this.dtsPcrMax
          ? { min: round3(this.dtsPcrMin), max: round3(this.dtsPcrMax) }
          : null,
      durationMs: streams.reduce((m, s) => Math.max(m, s.durationMs), 0),
      violations: this.violations.slice(),
      violationCounts: { ...this.counts },
      violationTotal: this.violationTotal,
      ok: this.violationTotal === 0,
    };
  }
}

function hex2(v: number): string {
  return v.toString(16).padStart(2, '0');
}

/**
 * Checks a whole MPEG-TS byte stream held in memory. Same as pushing it into a
 * {@link TsInspector} and calling `finish()`.
 */
export function inspectTs(bytes: Uint8Array, options?: InspectOptions): TsReport {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  const inspector = new TsInspector(options);
  inspector.push(bytes);
  return inspector.finish();
}
