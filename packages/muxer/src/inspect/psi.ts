/**
 * PSI of ISO/IEC 13818-1 §2.4.4: section reassembly across packets (pointer_field, stuffing) and
 * the program_association_section (PAT) and TS_program_map_section (PMT). Opus is recognised by
 * its registration_descriptor 'Opus' (Opus-in-TS mapping, stream_type 0x06).
 */

import { crc32Mpeg2 } from './crc32.js';
import type { StreamCodec } from './types.js';

/** Largest section_length of a PAT or PMT (§2.4.4.3: the first two bits of the field are '00'). */
const MAX_SECTION_LENGTH = 1021;

/** Receives whole sections, or a problem, from a {@link SectionAssembler}. */
export interface SectionSink {
  section(bytes: Uint8Array, packetIndex: number, byteOffset: number): void;
  malformed(message: string, packetIndex: number, byteOffset: number): void;
}

/** Reassembles the sections of one PID. Holds at most one section (≤ 1024 bytes). */
export class SectionAssembler {
  private readonly buf = new Uint8Array(3 + MAX_SECTION_LENGTH);
  private len = 0;
  private need = 0;
  private collecting = false;
  private startIndex = 0;
  private startOffset = 0;
  private readonly sink: SectionSink;

  constructor(sink: SectionSink) {
    this.sink = sink;
  }

  /** Forgets a partial section (after packet loss). */
  reset(): void {
    this.collecting = false;
  }

  /** Feeds the payload `b[s, e)` of one packet of this PID. */
  push(b: Uint8Array, s: number, e: number, pusi: boolean, packetIndex: number, byteOffset: number): void {
    if (!pusi) {
      // Without PUSI no section can start here: what follows a finished section is stuffing.
      if (this.collecting) this.append(b, s, e);
      return;
    }
    const pointer = b[s]!; // pointer_field
    s++;
    if (s + pointer > e) {
      this.collecting = false;
      this.sink.malformed(`pointer_field ${pointer} points past the packet end`, packetIndex, byteOffset);
      return;
    }
    if (this.collecting) {
      this.append(b, s, s + pointer);
      if (this.collecting) {
        this.collecting = false;
        this.sink.malformed(
          'a section ended before its section_length was complete',
          this.startIndex,
          this.startOffset,
        );
      }
    }
    s += pointer;
    while (s < e && b[s] !== 0xff) {
      this.collecting = true;
      this.len = 0;
      this.need = 0;
      this.startIndex = packetIndex;
      this.startOffset = byteOffset;
      s += this.append(b, s, e);
      if (this.collecting) break;
    }
  }

  private append(b: Uint8Array, s: number, e: number): number {
    let i = s;
    while (i < e && this.collecting) {
      if (this.need === 0) {
        this.buf[this.len++] = b[i++]!;
        if (this.len < 3) continue;
        const sectionLength = ((this.buf[1]! & 0x0f) << 8) | this.buf[2]!;
        if (sectionLength > MAX_SECTION_LENGTH) {
          this.collecting = false;
          this.sink.malformed(
            `section_length ${sectionLength} > ${MAX_SECTION_LENGTH}`,
            this.startIndex,
            this.startOffset,
          );
          break;
        }
        this.need = 3 + sectionLength;
      } else {
        const take = Math.min(this.need - this.len, e - i);
        this.buf.set(b.subarray(i, i + take), this.len);
        this.len += take;
        i += take;
      }
      if (this.len === this.need) {
        this.collecting = false;
        this.sink.section(this.buf.subarray(0, this.len), this.startIndex, this.startOffset);
      }
    }
    return i - s;
  }
}

/** Common long-form section header fields. */
export interface SectionHeader {
  tableId: number;
  /** transport_stream_id (PAT) or program_number (PMT). */
  tableIdExtension: number;
  version: number;
  currentNext: boolean;
}

/** Checks the syntax and CRC_32 of a long-form section; returns an error message or the header. */
export function checkLongSection(s: Uint8Array): SectionHeader | string {
  if (s.byteLength < 12) return `section of ${s.byteLength} bytes is too short`;
  const crc = crc32Mpeg2(s);
  if (crc !== 0) {
    const stored =
      ((s[s.byteLength - 4]! << 24) |
        (s[s.byteLength - 3]! << 16) |
        (s[s.byteLength - 2]! << 8) |
        s[s.byteLength - 1]!) >>>
      0;
    return `CRC_32 0x${stored.toString(16).padStart(8, '0')} does not match the section (remainder 0x${crc.toString(16).padStart(8, '0')})`;
  }
  if ((s[1]! & 0x80) === 0) return 'section_syntax_indicator is 0';
  return {
    tableId: s[0]!,
    tableIdExtension: (s[3]! << 8) | s[4]!,
    version: (s[5]! >> 1) & 0x1f,
    currentNext: (s[5]! & 1) === 1,
  };
}

/** One program_number → program_map_PID entry of a PAT (program 0, the network PID, is left out). */
export interface PatEntry {
  programNumber: number;
  pmtPid: number;
}

/** Parses the program loop of a PAT whose header and CRC were checked. */
export function parsePat(s: Uint8Array): PatEntry[] | string {
  const end = s.byteLength - 4;
  if ((end - 8) % 4 !== 0) return `PAT program loop of ${end - 8} bytes is not a multiple of 4`;
  const programs: PatEntry[] = [];
  for (let i = 8; i < end; i += 4) {
    const programNumber = (s[i]! << 8) | s[i + 1]!;
    const pid = ((s[i + 2]! & 0x1f) << 8) | s[i + 3]!;
    if (programNumber !== 0) programs.push({ programNumber, pmtPid: pid });
  }
  return programs;
}

/** One elementary stream of a PMT. */
export interface PmtStream {
  streamType: number;
  pid: number;
  codec: StreamCodec;
}

/** What a PMT says. */
export interface Pmt {
  programNumber: number;
  version: number;
  pcrPid: number;
  streams: PmtStream[];
}

/** Parses a PMT whose header and CRC were checked. */
export function parsePmt(s: Uint8Array, header: SectionHeader): Pmt | string {
  const end = s.byteLength - 4;
  const pcrPid = ((s[8]! & 0x1f) << 8) | s[9]!; // PCR_PID
  const programInfoLength = ((s[10]! & 0x0f) << 8) | s[11]!;
  let i = 12 + programInfoLength;
  if (i > end) return `program_info_length ${programInfoLength} runs past the section`;
  const streams: PmtStream[] = [];
  while (i < end) {
    if (i + 5 > end) return 'truncated elementary stream loop';
    const streamType = s[i]!;
    const pid = ((s[i + 1]! & 0x1f) << 8) | s[i + 2]!;
    const esInfoLength = ((s[i + 3]! & 0x0f) << 8) | s[i + 4]!;
    const dEnd = i + 5 + esInfoLength;
    if (dEnd > end) return `ES_info_length ${esInfoLength} of PID ${pid} runs past the section`;
    streams.push({ streamType, pid, codec: codecOf(streamType, s, i + 5, dEnd) });
    i = dEnd;
  }
  return { programNumber: header.tableIdExtension, version: header.version, pcrPid, streams };
}

function codecOf(streamType: number, s: Uint8Array, dStart: number, dEnd: number): StreamCodec {
  switch (streamType) {
    case 0x1b:
      return 'h264';
    case 0x24:
      return 'h265';
    case 0x0f:
      return 'aac';
    case 0x06:
      return hasRegistration(s, dStart, dEnd, 'Opus') ? 'opus' : 'unknown';
    default:
      return 'unknown';
  }
}

/** Whether the descriptor loop `s[start, end)` holds a registration_descriptor with `format`. */
function hasRegistration(s: Uint8Array, start: number, end: number, format: string): boolean {
  let i = start;
  while (i + 2 <= end) {
    const tag = s[i]!;
    const len = s[i + 1]!;
    if (tag === 0x05 && len >= 4 && i + 6 <= end) {
      let match = true;
      for (let k = 0; k < 4; k++) if (s[i + 2 + k] !== format.charCodeAt(k)) match = false;
      if (match) return true;
    }
    i += 2 + len;
  }
  return false;
}
