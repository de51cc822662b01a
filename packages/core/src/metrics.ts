/**
 * Metrics as plain samples in the Prometheus data model (name, labels, value, type, help), so an
 * exporter (prom-client or any other) can read them on scrape without this package depending on one.
 */

import type { TrackRecording } from './recording.js';

/** One sample: a gauge or a monotonically increasing counter. */
export interface MetricSample {
  /** Metric name, `trackrec_` prefixed, Prometheus style. */
  name: string;
  /** `gauge` or `counter`. */
  type: 'gauge' | 'counter';
  /** One-line description. */
  help: string;
  /** Labels: `recording_id`, `mode`, `status`. */
  labels: Record<string, string>;
  /** Value. */
  value: number;
}

/**
 * The samples of one recording now: bytes and packets written, seconds since the last disk write,
 * media duration, per-track frames in/encoded/dropped, encoder lag, A/V drift.
 *
 * @example
 * ```ts
 * // prom-client: one collect() callback per gauge family
 * new client.Gauge({ name: 'trackrec_bytes_written', help: '…', labelNames: ['recording_id', 'mode', 'status'],
 *   collect() { for (const s of recorder.metricSamples()) if (s.name === this.name) this.set(s.labels, s.value); } });
 * ```
 */
export function toMetricSamples(recording: TrackRecording): MetricSample[] {
  const m = recording.metrics();
  const labels = { recording_id: recording.id, mode: recording.mode, status: recording.status };
  const out: MetricSample[] = [];
  const add = (
    name: string,
    type: 'gauge' | 'counter',
    help: string,
    value: number,
    extra?: Record<string, string>,
  ) => {
    out.push({
      name: `trackrec_${name}`,
      type,
      help,
      labels: extra ? { ...labels, ...extra } : labels,
      value,
    });
  };
  add('bytes_written_total', 'counter', 'Bytes written to the outputs.', m.bytesWritten);
  add('packets_written_total', 'counter', 'MPEG-TS packets written.', m.packetsWritten);
  add(
    'seconds_since_disk_write',
    'gauge',
    'Seconds since the last disk write (-1 before the first).',
    m.lastDiskWriteAt === null ? -1 : (Date.now() - m.lastDiskWriteAt) / 1000,
  );
  add('media_duration_seconds', 'gauge', 'Media written, seconds.', m.durationMs / 1000);
  add(
    'av_drift_seconds',
    'gauge',
    'Audio minus video offset against the recording clock.',
    m.avDriftMs / 1000,
  );
  add('late_packets_total', 'counter', 'Encoded packets dropped as too late for the stream.', m.latePackets);
  if (m.video) {
    const v = { track: 'video' };
    add('frames_in_total', 'counter', 'Frames read from the track sources.', m.video.framesIn, v);
    add('frames_encoded_total', 'counter', 'Frames encoded.', m.video.framesEncoded, v);
    add(
      'frames_dropped_total',
      'counter',
      'Frames dropped: encoder lag, too late, or invalid.',
      m.video.framesDropped,
      v,
    );
    add('frames_invalid_total', 'counter', 'Frames refused as invalid.', m.video.framesInvalid, v);
    add(
      'filler_frames_total',
      'counter',
      'Frames repeated or black while the track was silent.',
      m.video.fillerFrames,
      v,
    );
    add(
      'encoder_lag_seconds',
      'gauge',
      'Media waiting for the video encoder.',
      m.video.encoderLagMs / 1000,
      v,
    );
  }
  if (m.audio) {
    const a = { track: 'audio' };
    add('frames_in_total', 'counter', 'Frames read from the track sources.', m.audio.framesIn, a);
    add('frames_invalid_total', 'counter', 'Frames refused as invalid.', m.audio.framesInvalid, a);
    add('audio_gaps_total', 'counter', 'Gaps detected in the audio source.', m.audio.gaps, a);
    add(
      'audio_silence_seconds_total',
      'counter',
      'Silence written (filler, gaps, drift).',
      m.audio.silenceMs / 1000,
      a,
    );
    add(
      'audio_dropped_seconds_total',
      'counter',
      'Source audio dropped to stay on the clock.',
      m.audio.droppedMs / 1000,
      a,
    );
  }
  return out;
}
