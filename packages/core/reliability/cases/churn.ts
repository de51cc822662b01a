// Case 6: churn. One participant recording (RoomRecorder.recordParticipant on a stand-in room with real
// rtc-node tracks) while the camera is unpublished and republished 100 times (a new VideoSource,
// LocalVideoTrack and VideoStream each time) and the microphone keeps going. One continuous valid file;
// no growth in open file descriptors (/proc/self/fd) or memory across the cycles.
import { readdirSync } from 'node:fs';
import type { Room } from '@livekit/rtc-node';
import { type RecordingInfo, RoomRecorder } from '../../src/index.js';
import { SyntheticAudio, SyntheticVideo, sleep } from '../../test/helpers.js';
import { StandInRoom } from '../../test/stand-in-room.js';
import {
  type CaseResult,
  check,
  decode,
  decodedClean,
  fdTargets,
  heapMb,
  openFds,
  rssMb,
  type SuiteOptions,
} from '../lib.js';

/** Runs 100 unpublish/republish cycles (250 ms of camera each with --full, 150 ms in CI). */
export async function churn(o: SuiteOptions): Promise<CaseResult> {
  const cycles = 100;
  const warm = 10;
  const room = new StandInRoom('RM_reliability');
  const recorder = RoomRecorder.attach(room as unknown as Room, {
    defaults: {
      outputDir: o.work,
      encoding: { width: 320, height: 240, framerate: 30, videoBitrate: 400, x264Preset: 'ultrafast' },
      gapFill: { videoAfterMs: 300, videoFps: 5 },
    },
  });
  const alice = room.join('alice');
  const mic = new SyntheticAudio();
  room.publish(alice, 'TR_mic', 'audio', mic.track);
  let cam = new SyntheticVideo(320, 240);
  let camPub = room.publish(alice, 'TR_cam0', 'video', cam.track);
  const rec = await recorder.recordParticipant('alice');
  const ended = new Promise<RecordingInfo>((r) => rec.once('ended', r));
  let micDone = false;
  const micRun = (async () => {
    while (!micDone) await mic.run(1000);
  })();
  const t0 = performance.now();
  let fdWarm = 0;
  let heapWarm = 0;
  let rssWarm = 0;
  let fdMax = 0;
  let targetsWarm: string[] = [];
  for (let c = 0; c < cycles; c++) {
    await cam.run(o.full ? 250 : 150);
    room.unpublish(alice, camPub);
    await cam.close();
    await sleep(50);
    cam = new SyntheticVideo(320, 240);
    cam.background = 40 + (c % 2) * 80;
    camPub = room.publish(alice, `TR_cam${c + 1}`, 'video', cam.track);
    if (c === warm) {
      fdWarm = openFds();
      targetsWarm = fdTargets();
      heapWarm = heapMb();
      rssWarm = rssMb();
    }
    if (c > warm) fdMax = Math.max(fdMax, openFds());
  }
  await cam.run(250);
  const fdEnd = openFds();
  const targetsEnd = fdTargets();
  const heapEnd = heapMb();
  const rssEnd = rssMb();
  const wallS = (performance.now() - t0) / 1000;
  micDone = true;
  await micRun;
  room.leave(alice);
  const info = await ended;
  await Promise.all([cam.close(), mic.close()]);
  await recorder.close();
  const tsFiles = readdirSync(o.work).filter((f) => f.endsWith('.ts'));
  const path = info.file?.location ?? '';
  const report = check(path);
  const dec = await decode(path);
  const fdGrowth = fdEnd - fdWarm;
  const heapGrowth = heapEnd - heapWarm;
  const ok =
    info.status === 'COMPLETE' &&
    tsFiles.length === 1 &&
    report.violationTotal === 0 &&
    decodedClean(dec) &&
    dec.dtsMonotonic &&
    dec.videoSpanS > wallS - 1.5 &&
    fdGrowth <= 0 &&
    heapGrowth <= 5;
  const notes: string[] = [];
  if (fdGrowth > 0) {
    const extra = [...targetsEnd];
    for (const t of targetsWarm) extra.splice(extra.indexOf(t), extra.includes(t) ? 1 : 0);
    notes.push(`descriptors at the end not open after warm-up: ${extra.join(', ')}`);
  }
  if (!ok)
    notes.push(
      `status ${info.status} ${info.error}; files ${tsFiles.length}; violations ${report.violationTotal}; decode ${JSON.stringify([...dec.errors, ...dec.logErrors].slice(0, 3))}; span ${dec.videoSpanS.toFixed(1)} of ${wallS.toFixed(1)} s; fd growth ${fdGrowth}; heap growth ${heapGrowth.toFixed(2)} MB`,
    );
  return {
    id: 'churn',
    name: `churn (${cycles} camera unpublish/republish cycles, one participant recording)`,
    figures: {
      cycles,
      files: tsFiles.length,
      wallS: Number(wallS.toFixed(1)),
      videoSpanS: Number(dec.videoSpanS.toFixed(1)),
      reanchors: rec.metrics().video?.reanchors ?? -1,
      fdsAfterWarmup: fdWarm,
      fdGrowthAfterWarmup: fdGrowth,
      fdMaxDuringChurn: fdMax,
      heapGrowthAfterWarmupMb: Number(heapGrowth.toFixed(2)),
      rssGrowthAfterWarmupMb: Number((rssEnd - rssWarm).toFixed(1)),
      checkerViolations: report.violationTotal,
      decodeErrors: dec.errors.length + dec.logErrors.length + dec.corruptPackets,
    },
    bound: `one file, valid (checker + decode, monotonic DTS, covers the wall time), fd growth ≤ 0, heap growth ≤ 5 MB after ${warm} cycles`,
    pass: ok,
    notes,
  };
}
