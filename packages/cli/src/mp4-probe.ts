/**
 * A checker of MP4 recordings (ISO/IEC 14496-12: §4.2 box headers, §8.2–8.7 `moov` sample tables,
 * §8.8 movie fragments; fMP4 HLS segments per RFC 8216 §3.3). It walks the top-level boxes with
 * positioned reads — only `moov` and `moof` boxes are read whole, `mdat` payloads are skipped — so
 * memory stays flat whatever the file's size. It reports the brand, the tracks, the fragments and
 * samples, and the faults a crash or a broken writer leaves: a torn last box, a `moof` without its
 * `mdat`, a missing `moov`, decode times (`tfdt`) that do not continue the previous fragment.
 */

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** One track as the file describes it. */
export interface Mp4TrackProbe {
  /** tkhd track_ID. */
  trackId: number;
  /** hdlr handler_type: `vide`, `soun`, … */
  handler: string;
  /** The sample entry's 4CC (`avc1`, `mp4a`, `Opus`, …). */
  codec: string;
  /** Picture size from a visual sample entry (0 for audio). */
  width: number;
  height: number;
  /** mdhd timescale. */
  timescale: number;
  /** Samples: stsz sample_count of a progressive file plus the trun sample_count of the file's fragments. */
  samples: number;
  /** From the first to the end of the last sample, seconds. */
  durationS: number;
}

/** What {@link probeMp4File} finds. */
export interface Mp4Probe {
  /** Absolute path of the file. */
  path: string;
  /** File size. */
  bytes: number;
  /** ftyp (or a segment's styp) major_brand, or null without either. */
  brand: string | null;
  /** ftyp compatible_brands. */
  compatibleBrands: string[];
  /** Movie fragments: `mvex` in the moov or `moof` boxes present. */
  fragmented: boolean;
  tracks: Mp4TrackProbe[];
  /** Whole `moof`+`mdat` pairs. */
  fragments: number;
  /** The longest track, seconds. */
  durationS: number;
  /** Length of the longest prefix made of whole boxes (for fragmented files: ending on a whole fragment). */
  completeBytes: number;
  /** The file ends on a whole box, and a fragmented one on a whole fragment: `completeBytes === bytes`. */
  wholeFragments: boolean;
  /** Faults found, in file order. */
  violations: string[];
  /** No violation. */
  ok: boolean;
}

interface TrackState {
  probe: Mp4TrackProbe;
  /** trex default_sample_duration. */
  defaultDuration: number;
  /** Decode time where the next fragment must start (tfdt), or null before the first fragment. */
  nextDts: number | null;
  /** Sum of stts durations of a progressive file. */
  progressiveTicks: number;
}

/**
 * State carried from an init segment to the media segments that use it (HLS `EXT-X-MAP`): the tracks
 * and where each track's decode times must continue.
 */
export interface Mp4Context {
  /** Tracks by track_ID. */
  readonly tracks: Map<number, TrackState>;
  /** The last mfhd sequence_number, or null. */
  sequence: number | null;
}

/** A fresh context (no tracks yet). */
export function newMp4Context(): Mp4Context {
  return { tracks: new Map(), sequence: null };
}

interface Fragment {
  start: number;
  end: number;
  sequence: number;
  trafs: { trackId: number; tfdt: number | null; samples: number; ticks: number }[];
}

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'mvex', 'moof', 'traf']);

/**
 * Checks one MP4 file: a whole recording (`ftyp` + `moov` + fragments, or a progressive file), an init
 * segment, or — with `context` from its init segment and `segment: true` — a media segment (`.m4s`),
 * whose decode times must continue those of the segments before it in the same context.
 */
export function probeMp4File(
  path: string,
  options: { context?: Mp4Context; segment?: boolean } = {},
): Mp4Probe {
  const context = options.context ?? newMp4Context();
  const segment = options.segment === true;
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const read = (at: number, length: number): Uint8Array => {
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, at + done);
        if (n <= 0) break;
        done += n;
      }
      return out.subarray(0, done);
    };
    return walk(path, size, read, context, segment);
  } finally {
    closeSync(fd);
  }
}

/** {@link probeMp4File} on bytes in memory (`path` only names them in the report). */
export function probeMp4Bytes(
  bytes: Uint8Array,
  options: { context?: Mp4Context; segment?: boolean; path?: string } = {},
): Mp4Probe {
  const read = (at: number, length: number): Uint8Array =>
    bytes.subarray(at, Math.min(bytes.length, at + length));
  return walk(
    options.path ?? '<memory>',
    bytes.length,
    read,
    options.context ?? newMp4Context(),
    options.segment === true,
  );
}

function walk(
  path: string,
  size: number,
  read: (at: number, length: number) => Uint8Array,
  context: Mp4Context,
  segment: boolean,
): Mp4Probe {
  const violations: string[] = [];
  let brand: string | null = null;
  let compatibleBrands: string[] = [];
  let sawMoov = segment;
  let sawMvex = false;
  let sawMdat = false;
  let fragments = 0;
  let complete = 0;
  let pending: Fragment | null = null;
  /** This file's fragments per track: samples and first decode time (the context spans segments). */
  const local = new Map<number, { samples: number; firstDts: number | null }>();
  let o = 0;
  while (o < size) {
    if (o + 8 > size) {
      violations.push(`torn box header at ${o}: ${size - o} trailing bytes`);
      break;
    }
    const head = read(o, Math.min(16, size - o));
    const view = viewOf(head);
    let boxSize = view.getUint32(0); // size
    const type = fourcc(head, 4); // type
    let header = 8;
    if (boxSize === 1) {
      if (head.length < 16) {
        violations.push(`torn box header at ${o}: ${size - o} trailing bytes`);
        break;
      }
      boxSize = view.getUint32(8) * 2 ** 32 + view.getUint32(12); // largesize
      header = 16;
    } else if (boxSize === 0) boxSize = size - o; // extends to the end of the file
    if (boxSize < header) {
      violations.push(`box "${printable(type)}" at ${o} has an invalid size ${boxSize}`);
      break;
    }
    if (o + boxSize > size) {
      const what =
        type === 'moof' || (type === 'mdat' && pending !== null) ? 'torn last fragment: ' : 'torn box: ';
      violations.push(
        `${what}${printable(type)} at ${o} declares ${boxSize} bytes, the file holds ${size - o}`,
      );
      pending = null;
      break;
    }
    const end = o + boxSize;
    if (pending !== null && type !== 'mdat') {
      violations.push(`moof at ${pending.start} is not followed by its mdat`);
      pending = null;
    }
    switch (type) {
      case 'ftyp':
      case 'styp': {
        const body = read(o + header, Math.min(boxSize - header, 256));
        if (body.length >= 8) {
          brand = fourcc(body, 0); // major_brand (styp: the segment's)
          compatibleBrands = [];
          for (let i = 8; i + 4 <= body.length; i += 4) compatibleBrands.push(fourcc(body, i)); // compatible_brands
        }
        complete = end;
        break;
      }
      case 'moov': {
        if (sawMoov && !segment) violations.push(`a second moov at ${o}`);
        if (segment) violations.push(`a moov at ${o} inside a media segment`);
        sawMoov = true;
        sawMvex = parseMoov(read(o + header, boxSize - header), context, violations) || sawMvex;
        complete = end;
        break;
      }
      case 'moof': {
        if (!sawMoov) violations.push(`moof at ${o} before any moov`);
        pending = parseMoof(read(o + header, boxSize - header), o, end, violations);
        break;
      }
      case 'mdat': {
        sawMdat = true;
        if (pending !== null) {
          fragments++;
          applyFragment(pending, fragments, context, local, violations);
          pending = null;
          complete = end;
        } else if (fragments > 0 || sawMvex) {
          violations.push(`mdat at ${o} without a moof before it`);
        } else {
          complete = end;
        }
        break;
      }
      default:
        // free, skip, styp, sidx, mfra, uuid…: nothing to check; a whole box keeps the prefix whole.
        if (complete === o) complete = end;
    }
    o = end;
  }
  if (pending !== null) violations.push(`torn last fragment: moof at ${pending.start} has no mdat`);
  if (!sawMoov) violations.push('missing moov: no track is described, nothing can be decoded');
  const fragmented = sawMvex || fragments > 0;
  if (!fragmented && !segment && sawMoov && !sawMdat) {
    const samples = [...context.tracks.values()].reduce((n, t) => n + t.probe.samples, 0);
    if (samples > 0) violations.push('missing mdat: the moov lists samples but the file has no media');
  }
  if (segment && fragments === 0 && violations.length === 0) violations.push('no whole fragment');
  const tracks = [...context.tracks.values()].map((t) => {
    const mine = local.get(t.probe.trackId);
    const first = mine?.firstDts ?? null;
    const ticks = t.progressiveTicks + (first !== null && t.nextDts !== null ? t.nextDts - first : 0);
    return {
      ...t.probe,
      samples: t.probe.samples + (mine?.samples ?? 0),
      durationS: t.probe.timescale > 0 ? ticks / t.probe.timescale : 0,
    };
  });
  return {
    path,
    bytes: size,
    brand,
    compatibleBrands,
    fragmented,
    tracks,
    fragments,
    durationS: tracks.reduce((m, t) => Math.max(m, t.durationS), 0),
    completeBytes: complete,
    wholeFragments: complete === size,
    violations,
    ok: violations.length === 0,
  };
}

/** Reads the tracks of a moov into `context`; returns whether it has an `mvex` (a fragmented file). */
function parseMoov(body: Uint8Array, context: Mp4Context, violations: string[]): boolean {
  let mvex = false;
  context.tracks.clear();
  context.sequence = null;
  const trex = new Map<number, number>();
  for (const box of children(body, 0, body.length)) {
    if (box.type === 'mvex') {
      mvex = true;
      for (const t of children(body, box.body, box.end)) {
        if (t.type !== 'trex' || t.end - t.body < 16) continue;
        const v = viewOf(body);
        trex.set(v.getUint32(t.body + 4), v.getUint32(t.body + 12)); // track_ID, default_sample_duration
      }
    } else if (box.type === 'trak') {
      const track = parseTrak(body, box.body, box.end);
      if (track === null) violations.push('a trak without tkhd, mdhd or stsd');
      else context.tracks.set(track.probe.trackId, track);
    }
  }
  for (const [id, duration] of trex) {
    const t = context.tracks.get(id);
    if (t !== undefined) t.defaultDuration = duration;
  }
  return mvex;
}

function parseTrak(b: Uint8Array, start: number, end: number): TrackState | null {
  const v = viewOf(b);
  let trackId = -1;
  let handler = '';
  let codec = '';
  let width = 0;
  let height = 0;
  let timescale = 0;
  let samples = 0;
  let ticks = 0;
  const visit = (from: number, to: number): void => {
    for (const box of children(b, from, to)) {
      const p = box.body;
      const version = b[p] ?? 0;
      switch (box.type) {
        case 'tkhd':
          trackId = v.getUint32(p + (version === 1 ? 20 : 12)); // track_ID
          break;
        case 'mdhd':
          timescale = v.getUint32(p + (version === 1 ? 20 : 12)); // timescale
          break;
        case 'hdlr':
          handler = fourcc(b, p + 8); // handler_type
          break;
        case 'stsd':
          if (v.getUint32(p + 4) > 0 && p + 16 <= box.end) {
            codec = fourcc(b, p + 12); // the first SampleEntry's format
            if (handler === 'vide' && p + 8 + 36 <= box.end) {
              width = v.getUint16(p + 8 + 32); // VisualSampleEntry width
              height = v.getUint16(p + 8 + 34); // height
            }
          }
          break;
        case 'stsz':
          samples = v.getUint32(p + 8); // sample_count
          break;
        case 'stts': {
          const n = v.getUint32(p + 4); // entry_count
          for (let i = 0; i < n && p + 16 + i * 8 <= box.end; i++) {
            ticks += v.getUint32(p + 8 + i * 8) * v.getUint32(p + 12 + i * 8); // sample_count × sample_delta
          }
          break;
        }
        default:
          if (CONTAINERS.has(box.type)) visit(box.body, box.end);
      }
    }
  };
  visit(start, end);
  if (trackId < 0 || timescale === 0 || codec === '') return null;
  return {
    probe: { trackId, handler, codec, width, height, timescale, samples, durationS: 0 },
    defaultDuration: 0,
    nextDts: null,
    progressiveTicks: ticks,
  };
}

function parseMoof(b: Uint8Array, start: number, end: number, violations: string[]): Fragment {
  const v = viewOf(b);
  const fragment: Fragment = { start, end, sequence: -1, trafs: [] };
  for (const box of children(b, 0, b.length)) {
    if (box.type === 'mfhd') fragment.sequence = v.getUint32(box.body + 4); // sequence_number
    if (box.type !== 'traf') continue;
    let trackId = -1;
    let defaultDuration = -1;
    let tfdt: number | null = null;
    let samples = 0;
    let ticks = 0;
    let perSample = true;
    for (const c of children(b, box.body, box.end)) {
      const p = c.body;
      const flags = v.getUint32(p) & 0xffffff;
      if (c.type === 'tfhd') {
        trackId = v.getUint32(p + 4); // track_ID
        let q = p + 8;
        if (flags & 0x01) q += 8; // base_data_offset
        if (flags & 0x02) q += 4; // sample_description_index
        if (flags & 0x08) defaultDuration = v.getUint32(q); // default_sample_duration
      } else if (c.type === 'tfdt') {
        tfdt = b[p] === 1 ? v.getUint32(p + 4) * 2 ** 32 + v.getUint32(p + 8) : v.getUint32(p + 4); // baseMediaDecodeTime
      } else if (c.type === 'trun') {
        const n = v.getUint32(p + 4); // sample_count
        samples += n;
        let q = p + 8;
        if (flags & 0x001) q += 4; // data_offset
        if (flags & 0x004) q += 4; // first_sample_flags
        const stride =
          (flags & 0x100 ? 4 : 0) +
          (flags & 0x200 ? 4 : 0) +
          (flags & 0x400 ? 4 : 0) +
          (flags & 0x800 ? 4 : 0);
        if (q + n * stride > c.end) {
          violations.push(`trun of track ${trackId} in moof at ${start} is shorter than its ${n} samples`);
          continue;
        }
        if (flags & 0x100) {
          for (let i = 0; i < n; i++) ticks += v.getUint32(q + i * stride); // sample_duration
        } else {
          perSample = false;
          ticks += n * Math.max(0, defaultDuration);
        }
      }
    }
    // Without per-sample or tfhd durations, trex's default applies (resolved in applyFragment).
    fragment.trafs.push({
      trackId,
      tfdt,
      samples,
      ticks: perSample || defaultDuration >= 0 ? ticks : -samples,
    });
  }
  return fragment;
}

function applyFragment(
  f: Fragment,
  index: number,
  context: Mp4Context,
  local: Map<number, { samples: number; firstDts: number | null }>,
  violations: string[],
): void {
  if (context.sequence !== null && f.sequence <= context.sequence) {
    violations.push(
      `fragment ${index} (moof at ${f.start}): sequence_number ${f.sequence} does not increase (previous ${context.sequence})`,
    );
  }
  context.sequence = f.sequence;
  for (const traf of f.trafs) {
    const t = context.tracks.get(traf.trackId);
    if (t === undefined) {
      violations.push(`fragment ${index} (moof at ${f.start}): traf of unknown track ${traf.trackId}`);
      continue;
    }
    const ticks = traf.ticks < 0 ? -traf.ticks * t.defaultDuration : traf.ticks;
    let mine = local.get(traf.trackId);
    if (mine === undefined) {
      mine = { samples: 0, firstDts: null };
      local.set(traf.trackId, mine);
    }
    mine.samples += traf.samples;
    if (traf.tfdt === null) {
      violations.push(`fragment ${index} (moof at ${f.start}): track ${traf.trackId} has no tfdt`);
      if (t.nextDts !== null) t.nextDts += ticks;
      continue;
    }
    if (t.nextDts !== null && traf.tfdt !== t.nextDts) {
      violations.push(
        `fragment ${index} (moof at ${f.start}): tfdt not continuous on track ${traf.trackId}: ` +
          `${traf.tfdt}, the previous fragment ended at ${t.nextDts}`,
      );
    }
    mine.firstDts ??= traf.tfdt;
    t.nextDts = traf.tfdt + ticks;
  }
}

/** The boxes between `from` and `to` of `b` (whole ones only). */
function* children(
  b: Uint8Array,
  from: number,
  to: number,
): Generator<{ type: string; body: number; end: number }> {
  const v = viewOf(b);
  let o = from;
  while (o + 8 <= to) {
    let size = v.getUint32(o); // size
    let header = 8;
    if (size === 1 && o + 16 <= to) {
      size = v.getUint32(o + 8) * 2 ** 32 + v.getUint32(o + 12); // largesize
      header = 16;
    } else if (size === 0) size = to - o;
    if (size < header || o + size > to) return;
    yield { type: fourcc(b, o + 4), body: o + header, end: o + size };
    o += size;
  }
}

function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function fourcc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at] ?? 0, b[at + 1] ?? 0, b[at + 2] ?? 0, b[at + 3] ?? 0);
}

function printable(type: string): string {
  return /^[\x20-\x7e]{4}$/.test(type) ? type : JSON.stringify(type);
}

/** The report in human form (one line per fact, violations last). */
export function formatMp4Probe(r: Mp4Probe): string {
  const lines = [
    `format: ${r.fragmented ? 'fragmented MP4' : 'progressive MP4'}` +
      (r.brand === null ? '' : `, brand ${r.brand} (${r.compatibleBrands.join(', ')})`) +
      `, ${r.bytes} bytes`,
  ];
  for (const t of r.tracks) {
    lines.push(
      `track ${t.trackId}: ${t.handler} ${t.codec}` +
        (t.width > 0 ? ` ${t.width}x${t.height}` : '') +
        `, timescale ${t.timescale}, ${t.samples} samples, ${t.durationS.toFixed(3)} s`,
    );
  }
  lines.push(
    `fragments: ${r.fragments}, duration ${r.durationS.toFixed(3)} s, ` +
      (r.wholeFragments ? 'ends on a whole box' : `whole up to ${r.completeBytes} of ${r.bytes} bytes`),
  );
  for (const v of r.violations) lines.push(`violation: ${v}`);
  lines.push(r.ok ? 'result: ok' : 'result: VIOLATIONS');
  return lines.join('\n');
}
