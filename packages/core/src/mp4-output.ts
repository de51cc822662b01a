/**
 * The fragmented-MP4 outputs of a recording (ISO/IEC 14496-12 movie fragments, HLS fMP4 per RFC 8216
 * §3.3): one `@trackrec/muxer/mp4` muxer feeding a growing `.mp4` file and/or fMP4 HLS segments through
 * `@trackrec/node-writer`, and on a clean stop the progressive rewrite (moov before mdat) of the file.
 */

import type { AudioEncoder } from '@trackrec/encoder';
import { buildProgressiveHeader, Fmp4Muxer } from '@trackrec/muxer/mp4';
import {
  Fmp4SegmentSink,
  type FragmentLayout,
  type FsyncPolicy,
  Mp4FileSink,
  type ProgressiveReport,
  writeProgressiveMp4,
} from '@trackrec/node-writer';

/** The file half of {@link Mp4OutputOptions}. @internal */
export interface Mp4FileOptions {
  /** Absolute path of the first file (`.mp4`). */
  path: string;
  fsync?: FsyncPolicy | undefined;
  /** Rewrite every file part as a progressive MP4 on a clean stop. */
  progressive: boolean;
}

/** The HLS half of {@link Mp4OutputOptions}. @internal */
export interface Mp4SegmentsOptions {
  dir: string;
  prefix: string;
  playlistName: string;
  livePlaylistName?: string | undefined;
  targetDuration?: number | undefined;
  fsync?: FsyncPolicy | undefined;
}

/** Options of {@link Mp4Output}. @internal */
export interface Mp4OutputOptions {
  file: Mp4FileOptions | null;
  segments: Mp4SegmentsOptions | null;
}

/** A packet as the recorder's interleaver hands it over; timestamps in 90 kHz ticks. @internal */
export interface Mp4Packet {
  data: Uint8Array;
  pts: number;
  dts: number;
  keyframe?: boolean | undefined;
}

/**
 * Fragmented MP4 file and/or fMP4 HLS from one encode. Sinks open in the constructor (so naming errors
 * surface at start); the muxer once the encoders are known ({@link addTracks}). @internal
 */
export class Mp4Output {
  /** The growing `.mp4` (a new part per video configuration), or null. */
  readonly file: Mp4FileSink | null;
  /** The fMP4 HLS writer, or null. */
  readonly hls: Fmp4SegmentSink | null;
  readonly #progressive: boolean;
  #mux: Fmp4Muxer | null = null;
  #video = -1;
  #audio = -1;
  #bytes = 0;
  #lastWriteAt: number | null = null;
  /** Progressive files written on the clean stop, by path. */
  readonly #progressiveReports = new Map<string, ProgressiveReport>();
  /** Parts ended by a resolution change: what their progressive rewrite needs (copied from the muxer). */
  readonly #finishedParts: { path: string; header: Uint8Array; layout: FragmentLayout }[] = [];
  /** Added to every timestamp: MP4 decode times start at 0, the recorder's may start a little below. */
  #offset: number | null = null;
  #dropped = 0;

  constructor(options: Mp4OutputOptions) {
    this.#progressive = options.file?.progressive ?? false;
    this.file =
      options.file === null
        ? null
        : new Mp4FileSink(
            options.file.path,
            options.file.fsync === undefined ? {} : { fsync: options.file.fsync },
          );
    try {
      const s = options.segments;
      this.hls =
        s === null
          ? null
          : new Fmp4SegmentSink({
              dir: s.dir,
              prefix: s.prefix,
              playlistName: s.playlistName,
              ...(s.livePlaylistName === undefined ? {} : { livePlaylistName: s.livePlaylistName }),
              ...(s.targetDuration === undefined ? {} : { targetDuration: s.targetDuration }),
              ...(s.fsync === undefined ? {} : { fsync: s.fsync }),
            });
    } catch (error) {
      this.file?.close();
      throw error;
    }
  }

  /** Creates the muxer with the encoders' tracks (audio timestamps in 90 kHz ticks, as for TS). */
  addTracks(video: boolean, audio: AudioEncoder | null): void {
    const mux = new Fmp4Muxer({
      sink: (chunk, info) => {
        // A new init ends the current part: keep its progressive header and layout (the table's views
        // last only for this call) before the file sink moves on to the next part.
        if (info.finishedTable !== null && this.file !== null && info.finishedTable.fragmentCount > 0) {
          const table = info.finishedTable;
          this.#finishedParts.push({
            path: this.file.currentPath,
            header: buildProgressiveHeader(table),
            layout: {
              fragmentCount: table.fragmentCount,
              fragmentPayloadOffsets: table.fragmentPayloadOffsets.slice(),
              fragmentPayloadSizes: table.fragmentPayloadSizes.slice(),
              mdatPayloadSize: table.mdatPayloadSize,
            },
          });
        }
        this.file?.write(chunk, info);
        this.hls?.write(chunk, info);
        this.#bytes += chunk.byteLength;
        this.#lastWriteAt = Date.now();
      },
      // The progressive rewrite needs the sample table; without it memory stays flat on endless streams.
      keepSampleTable: this.#progressive,
    });
    if (video) this.#video = mux.addTrack({ codec: 'h264' });
    if (audio) {
      this.#audio =
        audio.codec === 'aac'
          ? mux.addTrack({ codec: 'aac', audioSpecificConfig: audio.codecConfig, timescale: 90_000 })
          : mux.addTrack({
              codec: 'opus',
              channelCount: audio.channels,
              preSkip: audio.primingSamples,
              timescale: 90_000,
            });
    }
    this.#mux = mux;
  }

  /**
   * Muxes one packet; the muxer's `MuxerInputError` and the sinks' `WriterError`s propagate. The first
   * packet (the earliest, from the interleaver) fixes the offset that makes decode times start at 0
   * (AAC priming puts the first audio packet a few ms before the clock's zero); a later packet still
   * before it is dropped and counted in {@link droppedPackets}.
   */
  write(video: boolean, p: Mp4Packet): void {
    const mux = this.#mux;
    if (mux === null) return;
    this.#offset ??= Math.max(0, -Math.min(p.pts, p.dts));
    const dts = p.dts + this.#offset;
    if (dts < 0) {
      this.#dropped++;
      return;
    }
    mux.write(video ? this.#video : this.#audio, {
      data: p.data,
      pts: p.pts + this.#offset,
      dts,
      keyframe: video ? p.keyframe : undefined,
    });
  }

  /** Packets dropped because they came before the first packet's time. */
  get droppedPackets(): number {
    return this.#dropped;
  }

  /** The HLS writer waits for a keyframe to start its next segment. */
  get wantsRotation(): boolean {
    return this.hls?.wantsRotation ?? false;
  }

  /** Bytes handed to the sinks (each chunk counted once). */
  get bytesWritten(): number {
    return this.#bytes;
  }

  /** Wall clock of the last chunk written, or null. */
  get lastWriteAt(): number | null {
    return this.#lastWriteAt;
  }

  /** Writes the pending fragment (the muxer is not closed: the last words of a clean stop). */
  closeMuxer(): void {
    this.#mux?.close();
  }

  /** Closes the sinks (idempotent); the first fault is thrown after both were closed. */
  close(): void {
    let failure: unknown;
    for (const sink of [this.file, this.hls]) {
      try {
        sink?.close();
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  }

  /**
   * After a clean stop (muxer and sinks closed): rewrites every file part as a progressive MP4 in
   * place — temp file, fsync, rename — so on any failure that part's fragmented file is left as it
   * was. Parts ended by a resolution change use the table the muxer handed over with the new init;
   * the last part uses its current table. Each part is tried; the first failure is thrown after all.
   * Returns the files written.
   */
  writeProgressive(): ProgressiveReport[] {
    const mux = this.#mux;
    const file = this.file;
    if (!this.#progressive || mux === null || file === null) return [];
    const jobs = [...this.#finishedParts];
    const table = mux.sampleTable();
    if (table.fragmentCount > 0) {
      jobs.push({ path: file.currentPath, header: buildProgressiveHeader(table), layout: table });
    }
    let failure: unknown;
    for (const job of jobs) {
      try {
        const report = writeProgressiveMp4(job.path, job.header, job.layout, job.path);
        this.#progressiveReports.set(job.path, report);
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
    return [...this.#progressiveReports.values()];
  }

  /** The file result: first file's path, bytes on disk over all parts, the later parts' paths. */
  fileInfo(): { location: string; size: number; parts: string[] } | null {
    const file = this.file;
    if (file === null) return null;
    const parts = file.parts;
    let size = 0;
    for (const p of parts) size += this.#progressiveReports.get(p.path)?.bytes ?? p.bytes;
    return { location: file.path, size, parts: parts.slice(1).map((p) => p.path) };
  }
}
