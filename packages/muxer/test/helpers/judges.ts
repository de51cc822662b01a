/**
 * Independent judges of an MPEG-TS (ISO/IEC 13818-1) stream: parsers and decoders we did not write.
 * FFmpeg 8.1 in-process through node-av (demux + decode), mux.js (PES pipeline, inspector, fMP4
 * transmuxer), mediabunny (MPEG-TS demuxer), and the Debian command-line tools (ffmpeg/ffprobe 5.1,
 * tstools' tsreport, GStreamer's tsdemux). Each returns plain data for the tests to assert on.
 *
 * CLI judges are optional on a developer machine and mandatory in CI: a test that needs one runs when
 * the tool is installed, and also when `TRACKREC_REQUIRE_JUDGES=1` (then a missing tool fails it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BufferSource,
  EncodedPacketSink,
  Input,
  type InputAudioTrack,
  type InputVideoTrack,
  MPEG_TS,
} from 'mediabunny';
import muxjs from 'mux.js';
import { Codec, CodecContext, FormatContext, Frame, Log, Packet } from 'node-av';
import {
  AV_LOG_ERROR,
  AV_LOG_WARNING,
  AV_NOPTS_VALUE,
  AV_PKT_FLAG_CORRUPT,
  AV_PKT_FLAG_KEY,
  AVERROR_EAGAIN,
  AVERROR_EOF,
  AVMEDIA_TYPE_AUDIO,
  AVMEDIA_TYPE_VIDEO,
} from 'node-av/constants';

// ---------------------------------------------------------------------------------------------
// Availability of the command-line judges

/** `TRACKREC_REQUIRE_JUDGES=1`: every judge must run; a missing tool is a failure, not a skip. */
export const REQUIRE_JUDGES = process.env.TRACKREC_REQUIRE_JUDGES === '1';

const availability = new Map<string, boolean>();

/** Whether an executable is on PATH. */
export function toolAvailable(command: string): boolean {
  let ok = availability.get(command);
  if (ok === undefined) {
    ok = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;
    availability.set(command, ok);
  }
  return ok;
}

/**
 * Whether a test needing these tools should run: when all are installed, or when judges are required
 * (the test then fails on the missing tool through {@link requireTool}). Use with `it.runIf(...)`.
 */
export function judgeRuns(...commands: string[]): boolean {
  return REQUIRE_JUDGES || commands.every(toolAvailable);
}

/** Throws a clear error when a required tool is missing. */
export function requireTool(command: string): void {
  if (!toolAvailable(command)) {
    throw new Error(`judge '${command}' is not installed but TRACKREC_REQUIRE_JUDGES=1`);
  }
}

/** Result of a command-line judge. */
export interface ToolResult {
  /** Exit status; null when killed (timeout). */
  status: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

/** Runs a tool with a timeout (GStreamer can stall on a broken stream rather than fail). */
export function runTool(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): ToolResult {
  requireTool(command);
  const r = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  // A timeout is a verdict (GStreamer stalls on some broken streams), not a harness failure.
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw r.error;
  const timedOut = r.error !== undefined;
  return {
    status: r.status,
    stdout: r.stdout ?? '',
    stderr: `${r.stderr ?? ''}${timedOut ? `\n${command} timed out` : ''}`,
    timedOut,
  };
}

/** A private temporary directory, removed by the returned function. */
export function tempDir(prefix = 'trackrec-judge-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes bytes to `<dir>/<name>` and returns the path. */
export function writeTs(dir: string, name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

// ---------------------------------------------------------------------------------------------
// Debian command-line judges

/** `ffmpeg -v warning -xerror -i x.ts -f null -`: decodes everything; any warning or error is reported. */
export function ffmpegCliDecode(path: string): ToolResult {
  return runTool('ffmpeg', [
    '-hide_banner',
    '-nostdin',
    '-v',
    'warning',
    '-xerror',
    '-i',
    path,
    '-f',
    'null',
    '-',
  ]);
}

/** `ffmpeg -i x.ts -c copy out.mp4`: what users do with a recording afterwards. */
export function ffmpegCliRemuxMp4(path: string, out: string): ToolResult {
  return runTool('ffmpeg', [
    '-hide_banner',
    '-nostdin',
    '-v',
    'warning',
    '-y',
    '-i',
    path,
    '-c',
    'copy',
    '-f',
    'mp4',
    out,
  ]);
}

/** Lines of `ffprobe -v debug` that report continuity-counter errors. */
export function ffprobeContinuityErrors(path: string): string[] {
  const r = runTool('ffprobe', ['-hide_banner', '-v', 'debug', path]);
  if (r.status !== 0) throw new Error(`ffprobe failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return r.stderr.split('\n').filter((l) => /Continuity check failed/i.test(l));
}

/** One stream's figures from `ffprobe -show_packets`. */
export interface FfprobePacket {
  streamIndex: number;
  pts: number;
  dts: number;
  keyframe: boolean;
}

/** Packets as the Debian ffprobe (FFmpeg 5.1) sees them. */
export function ffprobePackets(path: string): FfprobePacket[] {
  const r = runTool('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'packet=stream_index,pts,dts,flags',
    '-of',
    'json',
    path,
  ]);
  if (r.status !== 0) throw new Error(`ffprobe failed (${r.status}): ${r.stderr}`);
  const json = JSON.parse(r.stdout) as {
    packets?: { stream_index: number; pts?: number; dts?: number; flags: string }[];
  };
  return (json.packets ?? []).map((p) => ({
    streamIndex: p.stream_index,
    pts: p.pts ?? Number.NaN,
    dts: p.dts ?? Number.NaN,
    keyframe: p.flags.startsWith('K'),
  }));
}

/** What tstools' `tsreport -b -cnt <pid>` says about one PID and the PCR. */
export interface TsReport {
  /** Lines starting with `###` (tstools' error marker), e.g. CC discontinuities. */
  errors: string[];
  /** CC values logged as `[Discontinuity]` in continuity_counter.txt. */
  ccDiscontinuities: number;
  pcrCount: number;
  /** PCR gaps over 100 ms. */
  pcrBadGaps: number;
  /** Largest PCR gap in 90 kHz ticks (tsreport prints them with a "t" suffix). */
  pcrMaxGapTicks: number;
  /**
   * Per PID: smallest and largest PTS/DTS − PCR in 90 kHz ticks, the PCR interpolated linearly at the
   * packet's byte position (tstools' buffering model).
   */
  pcrToDts: Map<number, { min: number; max: number }>;
  raw: string;
}

/** Runs `tsreport -b -cnt <pid>` in a scratch directory (it writes continuity_counter.txt to the cwd). */
export function tsreport(path: string, pid: number): TsReport {
  const { dir, cleanup } = tempDir('trackrec-tsreport-');
  try {
    const r = runTool('tsreport', ['-b', '-cnt', String(pid), path], { cwd: dir });
    const raw = `${r.stdout}\n${r.stderr}`;
    if (r.status !== 0) throw new Error(`tsreport failed (${r.status}): ${raw.slice(-2000)}`);
    let counters = '';
    try {
      counters = readFileSync(join(dir, 'continuity_counter.txt'), 'utf8');
    } catch {
      // No file means no packet of that PID was seen; the caller's counts will show it.
    }
    const pcr = /PCRs found: (\d+), Bad \(>\.1s\) gaps: (\d+), Max gap: (\d+)t/.exec(raw);
    const pcrToDts = new Map<number, { min: number; max: number }>();
    const block =
      /\nStream \d+: PID [0-9a-fA-F]+ \(\s*(\d+)\)[^\n]*\n\s*PCR\/PTS,DTS:\n\s*Minimum difference was\s+(-?\d+)t[^\n]*\n\s*Maximum difference was\s+(-?\d+)t/g;
    for (const m of raw.matchAll(block)) {
      pcrToDts.set(Number(m[1]), { min: Number(m[2]), max: Number(m[3]) });
    }
    return {
      errors: raw.split('\n').filter((l) => l.trim().startsWith('###')),
      ccDiscontinuities: (counters.match(/\[Discontinuity\]/g) ?? []).length,
      pcrCount: pcr ? Number(pcr[1]) : 0,
      pcrBadGaps: pcr ? Number(pcr[2]) : Number.NaN,
      pcrMaxGapTicks: pcr ? Number(pcr[3]) : Number.NaN,
      pcrToDts,
      raw,
    };
  } finally {
    cleanup();
  }
}

const gstElements = new Set<string>();

/**
 * Unbounded queues: with the default 1 s limit, a stream whose video starts more than 1 s after its
 * audio deadlocks the pipeline during preroll (the audio queue fills while the video sink waits).
 */
const QUEUE = ['queue', 'max-size-buffers=0', 'max-size-time=0', 'max-size-bytes=0'];

/** Result of a GStreamer decode of a TS file. */
export interface GstResult extends ToolResult {
  /** GStreamer WARN/ERROR log lines from the demuxer and parsers. */
  problems: string[];
  /** Decoded video frames (I420 scaled to 64×36), or -1 when the file has no video branch. */
  videoFrames: number;
  /** Decoded audio samples per channel (S16 interleaved), or -1 without audio branch. */
  audioSamples: number;
}

/**
 * Demuxes with GStreamer's `tsdemux` and decodes with openh264dec / faad / opusdec into files whose
 * sizes give frame and sample counts. Warnings of tsdemux and the parsers (GST_DEBUG level 2) are
 * collected as problems.
 */
export function gstDecode(
  path: string,
  branches: { video?: boolean; audio?: 'aac' | 'opus'; channels?: number; timeoutMs?: number },
): GstResult {
  const elements = ['tsdemux'];
  if (branches.video) elements.push('h264parse', 'openh264dec');
  if (branches.audio === 'aac') elements.push('aacparse', 'faad');
  if (branches.audio === 'opus') elements.push('opusparse', 'opusdec');
  for (const element of elements) {
    if (gstElements.has(element)) continue;
    if (runTool('gst-inspect-1.0', ['--exists', element]).status === 0) {
      gstElements.add(element);
    } else {
      throw new Error(
        `GStreamer element '${element}' is missing (Debian: gstreamer1.0-plugins-bad/-base/-good)`,
      );
    }
  }
  const { dir, cleanup } = tempDir('trackrec-gst-');
  try {
    const args = ['-q', 'filesrc', `location=${path}`, '!', 'tsdemux', 'name=d'];
    const videoOut = join(dir, 'v.yuv');
    const audioOut = join(dir, 'a.pcm');
    if (branches.video) {
      args.push('d.', '!', ...QUEUE, '!', 'h264parse', '!', 'openh264dec', '!', 'videoscale', '!');
      args.push('video/x-raw,format=I420,width=64,height=36', '!', 'filesink', `location=${videoOut}`);
    }
    if (branches.audio === 'aac') {
      args.push('d.', '!', ...QUEUE, '!', 'aacparse', '!', 'faad', '!', 'audioconvert', '!');
      args.push('audio/x-raw,format=S16LE', '!', 'filesink', `location=${audioOut}`);
    } else if (branches.audio === 'opus') {
      args.push('d.', '!', ...QUEUE, '!', 'opusparse', '!', 'opusdec', '!', 'audioconvert', '!');
      args.push('audio/x-raw,format=S16LE', '!', 'filesink', `location=${audioOut}`);
    }
    const r = runTool('gst-launch-1.0', args, {
      timeoutMs: branches.timeoutMs ?? 30_000,
      env: {
        ...process.env,
        GST_DEBUG:
          '*:1,tsdemux:2,mpegtsbase:2,mpegtspacketizer:2,h264parse:2,aacparse:2,opusparse:2,opusdec:2',
        GST_DEBUG_NO_COLOR: '1',
      },
    });
    const size = (p: string): number => {
      try {
        return statSync(p).size;
      } catch {
        return 0;
      }
    };
    const channels = branches.channels ?? 2;
    return {
      ...r,
      problems: r.stderr.split('\n').filter((l) => /\b(WARN|ERROR)\b/.test(l)),
      videoFrames: branches.video ? size(videoOut) / (64 * 36 * 1.5) : -1,
      audioSamples: branches.audio ? size(audioOut) / (2 * channels) : -1,
    };
  } finally {
    cleanup();
  }
}

// ---------------------------------------------------------------------------------------------
// FFmpeg 8.1 in-process (node-av)

/** A stream as libavformat's mpegts demuxer describes it. */
export interface FfStream {
  index: number;
  type: 'video' | 'audio' | 'other';
  codec: string;
  width: number;
  height: number;
  sampleRate: number;
  channels: number;
  /** Stream time base as [num, den]. */
  timeBase: [number, number];
}

/** A demuxed packet; timestamps in the stream's time base (90 kHz for MPEG-TS). */
export interface FfPacket {
  stream: number;
  pts: number;
  dts: number;
  keyframe: boolean;
  corrupt: boolean;
  size: number;
  /** Payload bytes, when asked for with `keepData`. */
  data?: Uint8Array;
}

/** Result of {@link ffmpegJudge}. */
export interface FfJudgeResult {
  formatName: string;
  streams: FfStream[];
  packets: FfPacket[];
  /** Decoded frames per stream index. */
  decodedFrames: number[];
  /** Decoded audio samples per stream index (0 for video). */
  decodedSamples: number[];
  /** Negative return codes of the decoders and frames flagged with decode errors. */
  decodeErrors: string[];
  /** Messages FFmpeg logged at warning level or worse while demuxing and decoding. */
  logs: string[];
}

const NOPTS = Number.NaN;

function ts(v: bigint): number {
  return v === AV_NOPTS_VALUE ? NOPTS : Number(v);
}

/**
 * Demuxes a TS file with libavformat and decodes every packet with libavcodec. Log messages at
 * warning level or worse are captured (the callback is global: one judge at a time per process).
 */
export async function ffmpegJudge(
  path: string,
  options: { decode?: boolean; keepData?: boolean } = {},
): Promise<FfJudgeResult> {
  const logs: string[] = [];
  Log.setLevel(AV_LOG_WARNING);
  Log.setCallback(
    (level, message) => {
      if (level <= AV_LOG_WARNING) logs.push(message.trim());
    },
    { maxLevel: AV_LOG_WARNING },
  );
  const fmt = new FormatContext();
  const decoders: (CodecContext | null)[] = [];
  const pkt = new Packet();
  pkt.alloc();
  const frame = new Frame();
  frame.alloc();
  try {
    const opened = await fmt.openInput(path);
    if (opened < 0) throw new Error(`openInput failed: ${opened}`);
    const found = await fmt.findStreamInfo(null);
    if (found < 0) throw new Error(`findStreamInfo failed: ${found}`);
    const streams: FfStream[] = fmt.streams.map((s) => {
      const par = s.codecpar;
      const type =
        par.codecType === AVMEDIA_TYPE_VIDEO
          ? 'video'
          : par.codecType === AVMEDIA_TYPE_AUDIO
            ? 'audio'
            : 'other';
      return {
        index: s.index,
        type,
        codec: Codec.findDecoder(par.codecId)?.name ?? `id:${par.codecId}`,
        width: par.width,
        height: par.height,
        sampleRate: par.sampleRate,
        channels: par.channelLayout?.nbChannels ?? par.channels,
        timeBase: [s.timeBase.num, s.timeBase.den],
      };
    });
    const decodedFrames = streams.map(() => 0);
    const decodedSamples = streams.map(() => 0);
    const decodeErrors: string[] = [];
    if (options.decode !== false) {
      for (const s of fmt.streams) {
        const codec = Codec.findDecoder(s.codecpar.codecId);
        if (!codec) {
          decoders.push(null);
          continue;
        }
        const ctx = new CodecContext();
        ctx.allocContext3(codec);
        ctx.parametersToContext(s.codecpar);
        ctx.pktTimebase = s.timeBase;
        const ret = await ctx.open2(codec, null);
        if (ret < 0) throw new Error(`open decoder ${codec.name} failed: ${ret}`);
        decoders.push(ctx);
      }
    }
    const receive = (index: number): void => {
      const ctx = decoders[index];
      if (!ctx) return;
      for (;;) {
        const ret = ctx.receiveFrameSync(frame);
        if (ret === AVERROR_EAGAIN || ret === AVERROR_EOF) return;
        if (ret < 0) {
          decodeErrors.push(`stream ${index}: receiveFrame ${ret}`);
          return;
        }
        decodedFrames[index]!++;
        decodedSamples[index]! += frame.nbSamples;
        if (frame.decodeErrorFlags !== 0) {
          decodeErrors.push(
            `stream ${index}: frame pts ${frame.pts} decode_error_flags ${frame.decodeErrorFlags}`,
          );
        }
        frame.unref();
      }
    };
    const packets: FfPacket[] = [];
    for (;;) {
      const ret = await fmt.readFrame(pkt);
      if (ret === AVERROR_EOF) break;
      if (ret < 0) throw new Error(`readFrame failed: ${ret}`);
      const packet: FfPacket = {
        stream: pkt.streamIndex,
        pts: ts(pkt.pts),
        dts: ts(pkt.dts),
        keyframe: pkt.hasFlags(AV_PKT_FLAG_KEY),
        corrupt: pkt.hasFlags(AV_PKT_FLAG_CORRUPT),
        size: pkt.size,
      };
      if (options.keepData && pkt.data) packet.data = new Uint8Array(pkt.data);
      packets.push(packet);
      const ctx = decoders[pkt.streamIndex];
      if (ctx) {
        const sent = ctx.sendPacketSync(pkt);
        if (sent < 0 && sent !== AVERROR_EAGAIN)
          decodeErrors.push(`stream ${pkt.streamIndex}: sendPacket ${sent}`);
        receive(pkt.streamIndex);
      }
      pkt.unref();
    }
    decoders.forEach((ctx, index) => {
      if (!ctx) return;
      ctx.sendPacketSync(null);
      receive(index);
    });
    // Log callbacks are delivered through the event loop; let them arrive.
    await new Promise((r) => setTimeout(r, 20));
    return {
      formatName: fmt.iformat?.name ?? '',
      streams,
      packets,
      decodedFrames,
      decodedSamples,
      decodeErrors,
      logs,
    };
  } finally {
    for (const ctx of decoders) ctx?.freeContext();
    frame.free();
    pkt.free();
    await fmt.closeInput();
    Log.resetCallback();
    Log.setLevel(AV_LOG_ERROR);
  }
}

// ---------------------------------------------------------------------------------------------
// mux.js

/** One PES as mux.js's ElementaryStream reassembles it (timestamps unwrapped by its rollover stream). */
export interface MuxjsPes {
  type: 'video' | 'audio';
  trackId: number;
  pts: number;
  dts: number;
  size: number;
}

/** What mux.js's parsing pipeline makes of a TS byte stream. */
export interface MuxjsParse {
  tracks: { id: number; type: string; codec: string }[];
  pes: MuxjsPes[];
  /** H.264 NAL units by type code, counted over the whole stream. */
  nalCounts: Map<number, number>;
  /** Timestamps of each access unit delimiter (one per access unit when the muxer writes AUDs). */
  audDts: number[];
  /** ADTS frames found in the audio PES: pts and samplerate/channels of each. */
  adtsFrames: { pts: number; sampleRate: number; channels: number }[];
  logs: string[];
}

/**
 * Runs mux.js's TransportPacketStream → TransportParseStream → ElementaryStream →
 * TimestampRolloverStream pipeline, then its H.264 NAL and ADTS parsers.
 */
export function muxjsParse(bytes: Uint8Array): MuxjsParse {
  const packetStream = new muxjs.mp2t.TransportPacketStream();
  const parseStream = new muxjs.mp2t.TransportParseStream();
  const elementaryStream = new muxjs.mp2t.ElementaryStream();
  const rollover = new muxjs.mp2t.TimestampRolloverStream();
  const h264 = new muxjs.codecs.h264.H264Stream();
  const adts = new muxjs.codecs.Adts();
  packetStream.pipe(parseStream).pipe(elementaryStream).pipe(rollover);
  rollover.pipe(h264);
  rollover.pipe(adts);
  const out: MuxjsParse = { tracks: [], pes: [], nalCounts: new Map(), audDts: [], adtsFrames: [], logs: [] };
  rollover.on('data', (event: MuxjsElementaryEvent) => {
    if (event.type === 'metadata') {
      // Emitted for every PMT; keep each track once.
      for (const t of event.tracks ?? []) {
        if (!out.tracks.some((k) => k.id === t.id))
          out.tracks.push({ id: t.id, type: t.type, codec: t.codec });
      }
    } else if (event.type === 'video' || event.type === 'audio') {
      out.pes.push({
        type: event.type,
        trackId: event.trackId ?? -1,
        pts: event.pts ?? Number.NaN,
        dts: event.dts ?? Number.NaN,
        size: event.data?.byteLength ?? 0,
      });
    }
  });
  h264.on('data', (nal: { nalUnitTypeCode: number; dts: number }) => {
    out.nalCounts.set(nal.nalUnitTypeCode, (out.nalCounts.get(nal.nalUnitTypeCode) ?? 0) + 1);
    if (nal.nalUnitTypeCode === 9) out.audDts.push(nal.dts);
  });
  adts.on('data', (frame: { pts: number; samplerate: number; channelcount: number }) => {
    out.adtsFrames.push({ pts: frame.pts, sampleRate: frame.samplerate, channels: frame.channelcount });
  });
  for (const s of [packetStream, parseStream, elementaryStream, rollover, h264, adts]) {
    s.on('log', (e: { level: string; message: string }) => out.logs.push(`${e.level}: ${e.message}`));
  }
  packetStream.push(bytes);
  packetStream.flush();
  return out;
}

/** `muxjs.mp2t.tools.inspect`: first/last PES timestamps per type and the first keyframe. */
export function muxjsInspect(bytes: Uint8Array): MuxjsInspectResult | null {
  return muxjs.mp2t.tools.inspect(bytes);
}

/** fMP4 produced by mux.js's Transmuxer, with the samples of its `trun` boxes counted per track type. */
export interface MuxjsTransmuxResult {
  segments: number;
  initSegment: Uint8Array | null;
  /** Track types present in the init segment's moov. */
  trackTypes: string[];
  videoSamples: number;
  audioSamples: number;
  /** Sum of sample durations per type, in the track timescale (90 kHz for video, sample rate for audio). */
  videoDuration: number;
  audioDuration: number;
  logs: string[];
}

/** Transmuxes TS → fMP4 with mux.js (what video.js/VHS does in browsers) and counts the samples. */
export function muxjsTransmux(bytes: Uint8Array): MuxjsTransmuxResult {
  const transmuxer = new muxjs.mp4.Transmuxer();
  const result: MuxjsTransmuxResult = {
    segments: 0,
    initSegment: null,
    trackTypes: [],
    videoSamples: 0,
    audioSamples: 0,
    videoDuration: 0,
    audioDuration: 0,
    logs: [],
  };
  const trackTypeById = new Map<number, string>();
  transmuxer.on('data', (segment: { initSegment: Uint8Array; data: Uint8Array }) => {
    result.segments++;
    if (!result.initSegment) {
      result.initSegment = segment.initSegment;
      for (const box of muxjs.mp4.tools.inspect(segment.initSegment) as MuxjsBox[]) {
        if (box.type !== 'moov') continue;
        for (const trak of box.boxes ?? []) {
          if (trak.type !== 'trak') continue;
          const tkhd = trak.boxes?.find((b) => b.type === 'tkhd');
          const hdlr = findBox(trak, 'hdlr');
          const type =
            hdlr?.handlerType === 'vide' ? 'video' : hdlr?.handlerType === 'soun' ? 'audio' : 'other';
          if (tkhd?.trackId !== undefined) trackTypeById.set(tkhd.trackId, type);
          result.trackTypes.push(type);
        }
      }
    }
    for (const box of muxjs.mp4.tools.inspect(segment.data) as MuxjsBox[]) {
      if (box.type !== 'moof') continue;
      for (const traf of box.boxes ?? []) {
        if (traf.type !== 'traf') continue;
        const tfhd = traf.boxes?.find((b) => b.type === 'tfhd');
        const type = trackTypeById.get(tfhd?.trackId ?? -1);
        for (const trun of traf.boxes ?? []) {
          if (trun.type !== 'trun') continue;
          const samples = trun.samples ?? [];
          const duration = samples.reduce((sum, s) => sum + (s.duration ?? 0), 0);
          if (type === 'video') {
            result.videoSamples += samples.length;
            result.videoDuration += duration;
          } else if (type === 'audio') {
            result.audioSamples += samples.length;
            result.audioDuration += duration;
          }
        }
      }
    }
  });
  transmuxer.on('log', (e: { level: string; message: string }) =>
    result.logs.push(`${e.level}: ${e.message}`),
  );
  transmuxer.push(bytes);
  transmuxer.flush();
  return result;
}

function findBox(box: MuxjsBox, type: string): MuxjsBox | undefined {
  for (const child of box.boxes ?? []) {
    if (child.type === type) return child;
    const inner = findBox(child, type);
    if (inner) return inner;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// mediabunny

/** A track as mediabunny's MPEG-TS demuxer reports it, with all its packets. */
export interface MediabunnyTrack {
  type: 'video' | 'audio';
  codec: string | null;
  width: number;
  height: number;
  sampleRate: number;
  channels: number;
  /** Packets in decode order: timestamps/durations in seconds. */
  packets: { timestamp: number; duration: number; key: boolean; size: number }[];
}

/** Reads every track and packet with mediabunny (`Input` + `MPEG_TS` + `EncodedPacketSink`). */
export async function mediabunnyRead(bytes: Uint8Array): Promise<MediabunnyTrack[]> {
  const input = new Input({ source: new BufferSource(bytes), formats: [MPEG_TS] });
  try {
    const tracks: MediabunnyTrack[] = [];
    for (const track of await input.getTracks()) {
      const video = track.isVideoTrack() ? (track as InputVideoTrack) : null;
      const audio = track.isAudioTrack() ? (track as InputAudioTrack) : null;
      const packets: MediabunnyTrack['packets'] = [];
      for await (const p of new EncodedPacketSink(track).packets()) {
        packets.push({
          timestamp: p.timestamp,
          duration: p.duration,
          key: p.type === 'key',
          size: p.byteLength,
        });
      }
      tracks.push({
        type: video ? 'video' : 'audio',
        codec: track.codec,
        width: video?.codedWidth ?? 0,
        height: video?.codedHeight ?? 0,
        sampleRate: audio?.sampleRate ?? 0,
        channels: audio?.numberOfChannels ?? 0,
        packets,
      });
    }
    return tracks;
  } finally {
    input.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Minimal shapes of mux.js objects used above (the package ships no types; see muxjs.d.ts).

interface MuxjsElementaryEvent {
  type: string;
  trackId?: number;
  pts?: number;
  dts?: number;
  data?: Uint8Array;
  tracks?: { id: number; type: string; codec: string }[];
}

/** A box of `muxjs.mp4.tools.inspect`. */
export interface MuxjsBox {
  type: string;
  boxes?: MuxjsBox[];
  trackId?: number;
  handlerType?: string;
  samples?: { duration?: number; size?: number }[];
}

/** `muxjs.mp2t.tools.inspect` result. */
export interface MuxjsInspectResult {
  video?: { type: 'video'; pts: number; dts: number }[];
  audio?: { type: 'audio'; pts: number; dts: number }[];
  firstKeyFrame?: { type: 'video'; pts: number; dts: number };
}

// ---------------------------------------------------------------------------------------------
// Small comparison helpers

/** Values relative to the first one: compares spacing when judges rebase or unwrap differently. */
export function relative(values: number[]): number[] {
  const first = values[0] ?? 0;
  return values.map((v) => v - first);
}

/**
 * A copy of a TS stream with the continuity_counter of the `nth` packet (0-based) on `pid` bumped by
 * 5: a negative control showing that a judge notices a broken stream at all.
 */
export function withCcError(bytes: Uint8Array, pid: number, nth: number): Uint8Array {
  const copy = bytes.slice();
  let seen = 0;
  for (let o = 0; o + 188 <= copy.length; o += 188) {
    if ((((copy[o + 1]! & 0x1f) << 8) | copy[o + 2]!) !== pid) continue;
    if (seen++ === nth) {
      copy[o + 3] = (copy[o + 3]! & 0xf0) | ((copy[o + 3]! + 5) & 0x0f);
      return copy;
    }
  }
  throw new RangeError(`fewer than ${nth + 1} packets on PID ${pid}`);
}
