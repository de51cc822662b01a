/**
 * Program Specific Information: program_association_section and TS_program_map_section
 * (ISO/IEC 13818-1 §2.4.4.3, §2.4.4.8), each built once as a whole 188-byte packet.
 */

import { PAT_PID, TABLE_ID_PAT, TABLE_ID_PMT, TS_PACKET_SIZE } from './constants.js';
import { crc32Mpeg2 } from './crc32.js';
import { PAYLOAD_ONLY } from './ts-packet.js';

/** One elementary stream of the program, as the PMT lists it. */
export interface PmtStream {
  /** stream_type (ISO/IEC 13818-1 Table 2-34). */
  streamType: number;
  /** elementary_PID. */
  pid: number;
  /** The descriptors of the ES_info loop, already serialized. */
  descriptors: Uint8Array;
}

/** The largest section that fits one packet after the 4-byte header and pointer_field. */
const MAX_SECTION_BYTES = TS_PACKET_SIZE - 5;

/**
 * Wraps a section (without CRC) into one packet: header with payload_unit_start_indicator,
 * pointer_field 0, the section, its CRC_32, then 0xFF filler. The continuity_counter is left 0:
 * the muxer patches it on every repetition.
 */
function sectionPacket(pid: number, section: Uint8Array): Uint8Array {
  const packet = new Uint8Array(TS_PACKET_SIZE).fill(0xff);
  packet[0] = 0x47; // sync_byte
  packet[1] = 0x40 | (pid >>> 8); // payload_unit_start_indicator, PID[12..8]
  packet[2] = pid & 0xff; // PID[7..0]
  packet[3] = PAYLOAD_ONLY; // adaptation_field_control '01', continuity_counter patched later
  packet[4] = 0; // pointer_field
  packet.set(section, 5);
  const crc = crc32Mpeg2(packet, 5, 5 + section.length);
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  view.setUint32(5 + section.length, crc); // CRC_32
  return packet;
}

/** Writes the 8-byte long-form section header shared by PAT and PMT. */
function writeSectionHeader(
  section: Uint8Array,
  tableId: number,
  tableIdExtension: number,
  version: number,
): void {
  const sectionLength = section.length + 4 - 3; // bytes after section_length, CRC_32 included
  section[0] = tableId; // table_id
  // section_syntax_indicator 1, '0', reserved '11', section_length[11..8]
  section[1] = 0xb0 | (sectionLength >>> 8);
  section[2] = sectionLength & 0xff; // section_length[7..0]
  section[3] = tableIdExtension >>> 8; // transport_stream_id / program_number
  section[4] = tableIdExtension & 0xff;
  section[5] = 0xc1 | ((version & 0x1f) << 1); // reserved '11', version_number, current_next_indicator 1
  section[6] = 0; // section_number
  section[7] = 0; // last_section_number
}

/** A PAT packet listing one program. */
export function buildPatPacket(transportStreamId: number, programNumber: number, pmtPid: number): Uint8Array {
  const section = new Uint8Array(12);
  writeSectionHeader(section, TABLE_ID_PAT, transportStreamId, 0);
  section[8] = programNumber >>> 8; // program_number
  section[9] = programNumber & 0xff;
  section[10] = 0xe0 | (pmtPid >>> 8); // reserved '111', program_map_PID[12..8]
  section[11] = pmtPid & 0xff; // program_map_PID[7..0]
  return sectionPacket(PAT_PID, section);
}

/** A PMT packet for one program. Throws a RangeError if the streams do not fit one packet. */
export function buildPmtPacket(
  programNumber: number,
  pmtPid: number,
  pcrPid: number,
  streams: readonly PmtStream[],
): Uint8Array {
  let length = 12;
  for (const s of streams) length += 5 + s.descriptors.length;
  if (length + 4 > MAX_SECTION_BYTES) throw new RangeError('too many tracks: the PMT must fit one packet');
  const section = new Uint8Array(length);
  writeSectionHeader(section, TABLE_ID_PMT, programNumber, 0);
  section[8] = 0xe0 | (pcrPid >>> 8); // reserved '111', PCR_PID[12..8]
  section[9] = pcrPid & 0xff; // PCR_PID[7..0]
  section[10] = 0xf0; // reserved '1111', program_info_length[11..8] = 0
  section[11] = 0; // program_info_length[7..0]
  let o = 12;
  for (const s of streams) {
    section[o] = s.streamType; // stream_type
    section[o + 1] = 0xe0 | (s.pid >>> 8); // reserved '111', elementary_PID[12..8]
    section[o + 2] = s.pid & 0xff; // elementary_PID[7..0]
    section[o + 3] = 0xf0 | (s.descriptors.length >>> 8); // reserved '1111', ES_info_length[11..8]
    section[o + 4] = s.descriptors.length & 0xff; // ES_info_length[7..0]
    section.set(s.descriptors, o + 5);
    o += 5 + s.descriptors.length;
  }
  return sectionPacket(pmtPid, section);
}
