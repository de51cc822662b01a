/**
 * Judge: our own checker (`inspectTs`, src/inspect, written apart from the muxer) at the muxer's
 * promised thresholds: PAT/PMT at most 100 ms apart and PCRs at most 40 ms apart (+1 ms slack each).
 * Real media muxed by TsMuxer must show zero violations and exactly the frames that went in.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { formatReport, inspectTs, type TsReport } from '../src/inspect/index.js';
import {
  longClockScenario,
  type Scenario,
  standardScenarios,
  TWO_POW_32,
  TWO_POW_33,
} from './fixtures/scenarios.js';
import { withCcError } from './helpers/judges.js';

const STRICT = { maxTableGapMs: 101, maxPcrGapMs: 41 };
const judged = new Map<string, { scenario: Scenario; report: TsReport }>();

beforeAll(async () => {
  for (const scenario of [
    ...(await standardScenarios()),
    await longClockScenario(TWO_POW_32),
    await longClockScenario(TWO_POW_33),
  ]) {
    judged.set(scenario.name, { scenario, report: inspectTs(scenario.bytes, STRICT) });
  }
});

function get(name: string): { scenario: Scenario; report: TsReport } {
  const j = judged.get(name);
  if (!j) throw new Error(`no scenario ${name}`);
  return j;
}

it('notices a continuity error in a damaged copy (negative control)', () => {
  const { scenario } = get('h264+aac');
  const report = inspectTs(withCcError(scenario.bytes, scenario.video!.pid, 30), STRICT);
  expect(report.ok).toBe(false);
  expect(report.violationCounts.CC_ERROR).toBeGreaterThan(0);
});

describe.each(['h264+aac', 'h264+opus', 'aac-only', 'h264-only', 'avcc+aac', 'cross 2^32', 'cross 2^33'])(
  'inspectTs judge: %s',
  (name) => {
    it('finds zero violations at 100 ms table and 40 ms PCR intervals', () => {
      const { report } = get(name);
      expect(report.violations, formatReport(report)).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.trailingBytes).toBe(0);
      expect(report.skippedBytes).toBe(0);
      expect(report.maxPcrGapMs).toBeLessThanOrEqual(41);
      expect(report.maxPatGapMs).toBeLessThanOrEqual(101);
      expect(report.maxPmtGapMs).toBeLessThanOrEqual(101);
      // DTS − PCR within (0, 1 s] as the muxer promises.
      expect(report.dtsMinusPcrMs!.min).toBeGreaterThan(0);
      expect(report.dtsMinusPcrMs!.max).toBeLessThanOrEqual(1000);
    });

    it('reports the muxed streams with every frame and unwrapped first/last timestamps', () => {
      const { scenario, report } = get(name);
      const expected: Partial<TsReport['streams'][number]>[] = [];
      if (scenario.video) {
        const f = scenario.video.frames;
        expected.push({
          pid: scenario.video.pid,
          streamType: 0x1b,
          codec: 'h264',
          frames: f.length,
          pesCount: f.length,
          keyframes: f.filter((x) => x.keyframe).length,
          firstPts: f[0]!.pts,
          lastPts: f.at(-1)!.pts,
          firstDts: f[0]!.dts,
          lastDts: f.at(-1)!.dts,
          ccErrors: 0,
        });
      }
      if (scenario.audio) {
        const f = scenario.audio.frames;
        expected.push({
          pid: scenario.audio.pid,
          streamType: scenario.audio.codec === 'aac' ? 0x0f : 0x06,
          codec: scenario.audio.codec,
          frames: f.length,
          firstPts: f[0]!.pts,
          ccErrors: 0,
        });
      }
      expect(report.streams).toMatchObject(expected);
      expect(report.streams).toHaveLength(expected.length);
      expect(report.pcrPid).toBe(scenario.video?.pid ?? scenario.audio?.pid);
    });

    it('agrees with the sink: every chunk is whole packets and they add up to the file', () => {
      const { scenario, report } = get(name);
      let bytes = 0;
      for (const c of scenario.chunks) {
        expect(c.byteLength % 188).toBe(0);
        bytes += c.byteLength;
      }
      expect(bytes).toBe(scenario.bytes.byteLength);
      expect(report.packets * 188).toBe(bytes);
      // Each keyframe chunk is flagged as a random access point, and every random access chunk starts with
      // PAT (PID 0) then PMT (PID 0x1000).
      const pid = (o: number): number => ((scenario.bytes[o + 1]! & 0x1f) << 8) | scenario.bytes[o + 2]!;
      let offset = 0;
      let randomAccess = 0;
      for (const c of scenario.chunks) {
        if (c.keyframe) expect(c.randomAccess).toBe(true);
        if (c.randomAccess) {
          expect([pid(offset), pid(offset + 188)]).toEqual([0, 0x1000]);
          randomAccess++;
        }
        offset += c.byteLength;
      }
      expect(randomAccess).toBeGreaterThanOrEqual(
        scenario.video?.frames.filter((f) => f.keyframe).length ?? 1,
      );
    });

    it("describes each chunk truly: the sink's timestamps, frame counts and durations match the media", () => {
      const { scenario } = get(name);
      let v = 0;
      let a = 0;
      for (const c of scenario.chunks) {
        if (c.kind === 'video') {
          const f = scenario.video!.frames[v]!;
          expect({
            pts: c.pts,
            dts: c.dts,
            frames: c.frames,
            keyframe: c.keyframe,
            track: c.trackId,
          }).toEqual({
            pts: f.pts,
            dts: f.dts,
            frames: 1,
            keyframe: f.keyframe,
            track: scenario.video!.pid - 0x100,
          });
          v += 1;
        } else if (c.kind === 'audio') {
          const frames = scenario.audio!.frames.slice(a, a + c.frames);
          expect(c.frames).toBeGreaterThan(0);
          expect(c.pts).toBe(frames[0]!.pts);
          expect(c.dts).toBe(frames[0]!.pts);
          expect(c.trackId).toBe(scenario.audio!.pid - 0x100);
          // Opus frames carry their own duration; AAC-LC is always 1024 samples.
          const perFrame =
            scenario.audio!.codec === 'aac' ? (1024 * 90000) / scenario.audio!.sampleRate : 1800;
          expect(c.duration).toBe(frames.length * perFrame);
          // At most 100 ms of audio per PES (maxAudioPesDurationMs default).
          expect(c.duration).toBeLessThanOrEqual(9000);
          a += c.frames;
        }
      }
      expect(v).toBe(scenario.video?.frames.length ?? 0);
      expect(a).toBe(scenario.audio?.frames.length ?? 0);
    });
  },
);
