/**
 * Streaming checks of elementary-stream framing inside one PES, with constant memory:
 * - H.264 (ISO/IEC 14496-10 Annex B) / H.265 (ITU-T H.265 Annex B): start codes, an access unit
 *   delimiter first (ISO/IEC 13818-1 §2.14.1), parameter sets before IDR/IRAP pictures.
 * - AAC in ADTS (ISO/IEC 14496-3 §1.A.2): syncword and frame_length chaining to the PES end.
 * - Opus in TS (ETSI TS 102 366-style mapping, "Opus 0.1.3" §4): control header prefix 0x3FF,
 *   au_size chaining, TOC (RFC 6716 §3.1) for durations.
 */

/** A framing problem of one PES. */
export interface EsProblem {
  code:
    | 'AUD_NOT_FIRST'
    | 'IDR_WITHOUT_SPS_PPS'
    | 'MULTIPLE_AUS_IN_PES'
    | 'INVALID_ADTS'
    | 'INVALID_OPUS_CONTROL_HEADER';
  message: string;
}

/** What a checker found in one PES. */
export interface EsCheckResult {
  /** At most one problem per code. */
  problems: EsProblem[];
  /** Access units found. */
  frames: number;
  /** Whether a random access picture was found (video). */
  keyframe: boolean;
  /** Duration of the PES content in 90 kHz ticks when the framing tells it (audio), else 0. */
  durationTicks: number;
}

/** A streaming checker of the ES bytes of one PES at a time. */
export interface EsChecker {
  begin(): void;
  push(b: Uint8Array, s: number, e: number): void;
  end(): EsCheckResult;
}

/** H.264 or H.265 Annex B access units. */
export class AnnexBChecker implements EsChecker {
  private readonly hevc: boolean;
  private zeros = 0;
  private awaitingHeader = false;
  private beforeFirstNal = true;
  private nalCount = 0;
  private hasVps = false;
  private hasSps = false;
  private hasPps = false;
  private auReported = false;
  private aus = 0;
  private keyframe = false;
  private audProblem: EsProblem | null = null;
  private setsProblem: EsProblem | null = null;

  constructor(hevc: boolean) {
    this.hevc = hevc;
  }

  begin(): void {
    this.zeros = 0;
    this.awaitingHeader = false;
    this.beforeFirstNal = true;
    this.nalCount = 0;
    this.hasVps = this.hasSps = this.hasPps = false;
    this.auReported = false;
    this.aus = 0;
    this.keyframe = false;
    this.audProblem = null;
    this.setsProblem = null;
  }

  push(b: Uint8Array, s: number, e: number): void {
    let i = s;
    while (i < e) {
      if (this.awaitingHeader) {
        this.awaitingHeader = false;
        this.onNal(b[i]!);
        i++;
        continue;
      }
      if (this.zeros === 0 && !this.beforeFirstNal) {
        // A start code needs a zero byte: jump to the next one natively.
        const z = b.indexOf(0, i);
        if (z < 0 || z >= e) return;
        i = z;
      }
      const v = b[i]!;
      if (v === 0) {
        this.zeros++;
      } else {
        if (v === 1 && this.zeros >= 2) {
          this.awaitingHeader = true;
          this.beforeFirstNal = false;
        } else if (this.beforeFirstNal) {
          this.beforeFirstNal = false;
          this.audProblem ??= {
            code: 'AUD_NOT_FIRST',
            message: 'PES payload does not begin with a start code',
          };
        }
        this.zeros = 0;
      }
      i++;
    }
  }

  private onNal(header: number): void {
    const type = this.hevc ? (header >> 1) & 0x3f : header & 0x1f;
    const aud = this.hevc ? 35 : 9;
    if (this.nalCount === 0 && type !== aud) {
      this.audProblem ??= {
        code: 'AUD_NOT_FIRST',
        message: `first NAL unit of the PES has type ${type}, not an AUD (${aud})`,
      };
    }
    this.nalCount++;
    if (type === aud) {
      this.aus++;
      this.hasVps = this.hasSps = this.hasPps = false;
      this.auReported = false;
      return;
    }
    if (this.hevc) {
      if (type === 32) this.hasVps = true;
      else if (type === 33) this.hasSps = true;
      else if (type === 34) this.hasPps = true;
      else if (type >= 16 && type <= 21)
        this.onIrap(type, this.hasVps && this.hasSps && this.hasPps, 'VPS, SPS and PPS');
    } else if (type === 7) this.hasSps = true;
    else if (type === 8) this.hasPps = true;
    else if (type === 5) this.onIrap(type, this.hasSps && this.hasPps, 'SPS and PPS');
  }

  private onIrap(type: number, haveSets: boolean, names: string): void {
    this.keyframe = true;
    if (haveSets || this.auReported) return;
    this.auReported = true;
    this.setsProblem ??= {
      code: 'IDR_WITHOUT_SPS_PPS',
      message: `${this.hevc ? 'IRAP' : 'IDR'} NAL unit (type ${type}) without ${names} before it in its access unit`,
    };
  }

  end(): EsCheckResult {
    if (this.nalCount === 0) this.audProblem ??= { code: 'AUD_NOT_FIRST', message: 'PES holds no NAL unit' };
    const problems: EsProblem[] = [];
    if (this.audProblem !== null) problems.push(this.audProblem);
    if (this.setsProblem !== null) problems.push(this.setsProblem);
    // Several frames in one PES break players that take a PES for a frame (hls.js #2790).
    if (this.aus > 1)
      problems.push({
        code: 'MULTIPLE_AUS_IN_PES',
        message: `${this.aus} access unit delimiters in one PES`,
      });
    return {
      problems,
      frames: Math.max(this.aus, this.nalCount > 0 ? 1 : 0),
      keyframe: this.keyframe,
      durationTicks: 0,
    };
  }
}

/** sampling_frequency_index → Hz (ISO/IEC 14496-3 Table 1.18). */
const ADTS_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** ADTS frames, which must fill the PES exactly. */
export class AdtsChecker implements EsChecker {
  private readonly header = new Uint8Array(7);
  private headerLen = 0;
  private remaining = 0;
  private frames = 0;
  private ticks = 0;
  private problem: EsProblem | null = null;

  begin(): void {
    this.headerLen = 0;
    this.remaining = 0;
    this.frames = 0;
    this.ticks = 0;
    this.problem = null;
  }

  push(b: Uint8Array, s: number, e: number): void {
    let i = s;
    while (i < e && this.problem === null) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, e - i);
        this.remaining -= n;
        i += n;
        continue;
      }
      this.header[this.headerLen++] = b[i++]!;
      if (this.headerLen < 7) continue;
      this.headerLen = 0;
      const h = this.header;
      if (h[0] !== 0xff || (h[1]! & 0xf6) !== 0xf0) {
        // syncword 0xFFF, layer '00'
        this.fail(`ADTS frame ${this.frames} does not start with syncword 0xFFF and layer 0`);
        return;
      }
      const protectionAbsent = h[1]! & 1;
      const rateIndex = (h[2]! >> 2) & 0x0f; // sampling_frequency_index
      const frameLength = ((h[3]! & 0x03) << 11) | (h[4]! << 3) | (h[5]! >> 5); // frame_length
      const blocks = (h[6]! & 0x03) + 1; // number_of_raw_data_blocks_in_frame + 1
      const headerSize = protectionAbsent ? 7 : 9;
      const rate = ADTS_RATES[rateIndex];
      if (rate === undefined) {
        this.fail(`ADTS frame ${this.frames} has sampling_frequency_index ${rateIndex}`);
        return;
      }
      if (frameLength < headerSize) {
        this.fail(
          `ADTS frame ${this.frames} has frame_length ${frameLength} < its ${headerSize}-byte header`,
        );
        return;
      }
      this.frames++;
      this.ticks += (blocks * 1024 * 90000) / rate;
      this.remaining = frameLength - 7;
    }
  }

  private fail(message: string): void {
    this.problem = { code: 'INVALID_ADTS', message };
  }

  end(): EsCheckResult {
    if (this.problem === null) {
      if (this.remaining > 0)
        this.fail(`the last ADTS frame needs ${this.remaining} bytes more than the PES holds`);
      else if (this.headerLen > 0) this.fail(`${this.headerLen} bytes after the last ADTS frame`);
      else if (this.frames === 0) this.fail('PES holds no ADTS frame');
    }
    return {
      problems: this.problem === null ? [] : [this.problem],
      frames: this.frames,
      keyframe: false,
      durationTicks: this.ticks,
    };
  }
}

/** States of the Opus control-header parser. */
const OpusState = {
  prefix0: 0,
  prefix1: 1,
  size: 2,
  trims: 3,
  extLength: 4,
  extBody: 5,
  packet: 6,
} as const;

/** Opus access units, each behind a control header, which must fill the PES exactly. */
export class OpusChecker implements EsChecker {
  private state: number = OpusState.prefix0;
  private flags = 0;
  private auSize = 0;
  private skip = 0;
  private packetPos = 0;
  private toc = 0;
  private frames = 0;
  private samples = 0;
  private problem: EsProblem | null = null;

  begin(): void {
    this.state = OpusState.prefix0;
    this.frames = 0;
    this.samples = 0;
    this.problem = null;
  }

  push(b: Uint8Array, s: number, e: number): void {
    let i = s;
    while (i < e && this.problem === null) {
      switch (this.state) {
        case OpusState.prefix0:
          if (b[i] !== 0x7f) {
            this.fail(`Opus access unit ${this.frames} does not start with the control_header_prefix 0x3FF`);
            return;
          }
          this.state = OpusState.prefix1;
          i++;
          break;
        case OpusState.prefix1: {
          const v = b[i++]!;
          if ((v & 0xe0) !== 0xe0) {
            this.fail(`Opus access unit ${this.frames} does not start with the control_header_prefix 0x3FF`);
            return;
          }
          this.flags = v;
          this.auSize = 0;
          this.state = OpusState.size;
          break;
        }
        case OpusState.size: {
          const v = b[i++]!;
          this.auSize += v; // au_size: 0xFF bytes add 255 and continue
          if (v !== 0xff) {
            this.skip = (this.flags & 0x10 ? 2 : 0) + (this.flags & 0x08 ? 2 : 0); // start_trim, end_trim
            this.state = this.skip > 0 ? OpusState.trims : this.afterTrims();
          }
          break;
        }
        case OpusState.trims: {
          const n = Math.min(this.skip, e - i);
          this.skip -= n;
          i += n;
          if (this.skip === 0) this.state = this.afterTrims();
          break;
        }
        case OpusState.extLength:
          this.skip = b[i++]!;
          this.state = this.skip > 0 ? OpusState.extBody : this.startPacket();
          break;
        case OpusState.extBody: {
          const n = Math.min(this.skip, e - i);
          this.skip -= n;
          i += n;
          if (this.skip === 0) this.state = this.startPacket();
          break;
        }
        default: {
          // Opus packet: read its TOC byte and, for code 3, the frame count byte.
          if (this.packetPos === 0) this.toc = b[i]!;
          else if (this.packetPos === 1 && (this.toc & 3) === 3)
            this.samples += opusFrameSamples(this.toc) * Math.max(0, (b[i]! & 0x3f) - 1);
          const n = this.packetPos <= 1 ? 1 : Math.min(this.auSize - this.packetPos, e - i);
          this.packetPos += n;
          i += n;
          if (this.packetPos === this.auSize) this.finishPacket();
        }
      }
    }
  }

  private afterTrims(): number {
    return this.flags & 0x04 ? OpusState.extLength : this.startPacket(); // control_extension_flag
  }

  private startPacket(): number {
    this.packetPos = 0;
    if (this.auSize === 0) {
      this.frames++;
      return OpusState.prefix0;
    }
    return OpusState.packet;
  }

  private finishPacket(): void {
    this.frames++;
    const code = this.toc & 3;
    // Code 3 added (count − 1) frames when its count byte was read; every code has one frame here.
    this.samples += opusFrameSamples(this.toc) * (code === 1 || code === 2 ? 2 : 1);
    this.state = OpusState.prefix0;
  }

  private fail(message: string): void {
    this.problem = { code: 'INVALID_OPUS_CONTROL_HEADER', message };
  }

  end(): EsCheckResult {
    if (this.problem === null) {
      if (this.state !== OpusState.prefix0)
        this.fail(`Opus access unit ${this.frames} is cut by the end of the PES`);
      else if (this.frames === 0) this.fail('PES holds no Opus access unit');
    }
    return {
      problems: this.problem === null ? [] : [this.problem],
      frames: this.frames,
      keyframe: false,
      durationTicks: (this.samples * 15) / 8,
    };
  }
}

/** Samples at 48 kHz of one frame of an Opus packet, from its TOC configuration (RFC 6716 §3.1). */
function opusFrameSamples(toc: number): number {
  const config = toc >> 3;
  if (config < 12) return [480, 960, 1920, 2880][config & 3]!;
  if (config < 16) return config & 1 ? 960 : 480;
  return [120, 240, 480, 960][config & 3]!;
}

/** A checker that only counts PES (codecs the checker does not know). */
export class NullChecker implements EsChecker {
  begin(): void {}
  push(): void {}
  end(): EsCheckResult {
    return { problems: [], frames: 1, keyframe: false, durationTicks: 0 };
  }
}
