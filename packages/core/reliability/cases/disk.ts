// Case 2: disk full. A recording whose file is /dev/full (every write ENOSPC), and one on a 256 KiB tmpfs
// that fills up mid-recording, must end FAILED with a DISK error naming the cause, without crashing the
// process or leaving a partial packet; a recording started afterwards in the same process on a healthy
// disk must finish COMPLETE.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { RecorderError, type RecordingInfo, TrackRecording } from '../../src/index.js';
import {
  type CaseResult,
  check,
  crashes,
  decode,
  decodedClean,
  feedSynthetic,
  type SuiteOptions,
  wholePackets,
} from '../lib.js';

const ENC = { width: 320, height: 240, framerate: 30, videoBitrate: 800, x264Preset: 'ultrafast' as const };
const FEED = { width: 320, height: 240, fps: 30 };

/** Feeds until the recording ends by itself (disk full) or `seconds` of media went in. */
async function recordUntilEnd(rec: TrackRecording, seconds: number): Promise<RecordingInfo> {
  const ended = new Promise<RecordingInfo>((r) => rec.once('ended', r));
  await rec.start();
  let done = false;
  void ended.then(() => (done = true));
  for (let s = 0; s < seconds && !done; s++) await feedSynthetic(rec, { ...FEED, seconds: 1, fromS: s });
  if (!done) await rec.stop();
  return ended;
}

function isDiskError(info: RecordingInfo): boolean {
  return (
    info.status === 'FAILED' &&
    info.errorCause instanceof RecorderError &&
    info.errorCause.code === 'DISK' &&
    /no space left|ENOSPC/i.test(info.error)
  );
}

/** Runs /dev/full, then a tiny tmpfs (when mountable), then a healthy recording, in this process. */
export async function diskFull(o: SuiteOptions): Promise<CaseResult> {
  const notes: string[] = [];
  const crashesBefore = crashes.length;
  mkdirSync(o.work, { recursive: true });

  // /dev/full behind a name inside the output directory.
  const devFullDir = join(o.work, 'devfull');
  mkdirSync(devFullDir);
  symlinkSync('/dev/full', join(devFullDir, 'full.ts'));
  const a = await recordUntilEnd(
    new TrackRecording({ outputDir: devFullDir, file: { filepath: 'full', fsync: 'none' }, encoding: ENC }),
    5,
  );
  const devFullOk = isDiskError(a);
  if (!devFullOk) notes.push(`/dev/full ended ${a.status}: ${a.error}`);

  // A 256 KiB tmpfs that fills up after a few seconds of media.
  const tmpfs = join(o.work, 'tmpfs');
  mkdirSync(tmpfs);
  let tmpfsRun = 'not mountable';
  let tmpfsOk = true;
  let tmpfsBytes = 0;
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', tmpfs]).status === 0;
  if (mounted) {
    try {
      const b = await recordUntilEnd(
        new TrackRecording({
          outputDir: tmpfs,
          file: { filepath: 'small' },
          segments: { filenamePrefix: 'hls/seg', segmentDuration: 1 },
          encoding: ENC,
        }),
        30,
      );
      const files = readdirSync(tmpfs, { recursive: true, withFileTypes: true }).filter(
        (e) => e.isFile() && e.name.endsWith('.ts'),
      );
      const tsPath = join(tmpfs, 'small.ts');
      tmpfsBytes = statSync(tsPath).size;
      // What reached the disk is whole packets, passes the checker and decodes (no partial packet).
      const whole = files.every((e) => wholePackets(statSync(join(e.parentPath, e.name)).size));
      const report = check(tsPath);
      const dec = await decode(tsPath);
      tmpfsOk = isDiskError(b) && whole && report.violationTotal === 0 && decodedClean(dec);
      tmpfsRun = `${b.status} ${b.errorCause instanceof RecorderError ? b.errorCause.code : ''} after ${((b.file?.duration ?? 0) / 1000).toFixed(2)} s of media, ${tmpfsBytes} B`;
      if (!tmpfsOk) {
        notes.push(
          `tmpfs: ${b.status} "${b.error}", whole packets ${whole}, violations ${report.violationTotal}, decode ${JSON.stringify(dec.errors.concat(dec.logErrors).slice(0, 3))}`,
        );
      }
    } finally {
      spawnSync('umount', [tmpfs]);
    }
  }

  // The same process records on a healthy disk.
  const good = join(o.work, 'good');
  const c = await recordUntilEnd(
    new TrackRecording({ outputDir: good, file: { filepath: 'good' }, encoding: ENC }),
    3,
  );
  const goodPath = c.file?.location ?? '';
  const goodDec = await decode(goodPath);
  const goodOk = c.status === 'COMPLETE' && check(goodPath).violationTotal === 0 && decodedClean(goodDec);
  if (!goodOk) notes.push(`healthy recording ended ${c.status} ${c.error}`);
  const crashCount = crashes.length - crashesBefore;
  if (crashCount > 0) notes.push(...crashes.slice(crashesBefore));
  return {
    id: 'diskFull',
    name: 'disk full (/dev/full, 256 KiB tmpfs) then a healthy disk',
    figures: {
      devFull: `${a.status} ${a.errorCause instanceof RecorderError ? a.errorCause.code : ''} ${/ENOSPC/.test(a.error) ? 'ENOSPC' : a.error}`,
      tmpfs: tmpfsRun,
      tmpfsWholePacketsAndDecodes: mounted ? String(tmpfsOk) : 'n/a',
      healthyAfter: `${c.status}, ${goodDec.videoFrames} video frames decoded`,
      crashes: crashCount,
    },
    bound:
      'FAILED with a DISK error naming ENOSPC, 0 crashes, whole packets on disk; the next recording COMPLETE',
    pass: devFullOk && tmpfsOk && goodOk && crashCount === 0,
    notes,
  };
}
