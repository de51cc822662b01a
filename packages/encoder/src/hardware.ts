import { existsSync } from 'node:fs';

/** Which H.264 encoder to use; `auto` tries the hardware ones and falls back to libx264. */
export type HardwarePreference = 'auto' | 'nvenc' | 'vaapi' | 'qsv' | 'software';

/** The encoder family actually in use. */
export type EncoderKind = 'nvenc' | 'vaapi' | 'qsv' | 'software';

/** FFmpeg encoder name per family. */
export const ENCODER_NAMES = {
  nvenc: 'h264_nvenc',
  vaapi: 'h264_vaapi',
  qsv: 'h264_qsv',
  software: 'libx264',
} as const satisfies Record<EncoderKind, string>;

/** Order in which `auto` tries hardware encoders. */
export const AUTO_ORDER: readonly Exclude<EncoderKind, 'software'>[] = ['nvenc', 'qsv', 'vaapi'];

/**
 * A cheap reason why a hardware family cannot work here, before FFmpeg is asked: without the device
 * node, opening would only fail later with a less telling message (and FFmpeg log noise).
 * Returns undefined when the device is present and opening is worth trying.
 */
export function hardwarePrecheck(
  kind: Exclude<EncoderKind, 'software'>,
  vaapiDevice: string,
): string | undefined {
  if (process.platform !== 'linux' && process.platform !== 'win32') {
    return `${ENCODER_NAMES[kind]} is not supported on ${process.platform}`;
  }
  if (process.platform === 'win32') return undefined;
  switch (kind) {
    case 'nvenc':
      return existsSync('/dev/nvidiactl') || existsSync('/dev/nvidia0')
        ? undefined
        : 'no NVIDIA device (/dev/nvidiactl and /dev/nvidia0 are missing: no GPU or driver visible)';
    case 'vaapi':
      return existsSync(vaapiDevice) ? undefined : `no VA-API render node (${vaapiDevice} is missing)`;
    case 'qsv':
      return existsSync('/dev/dri') ? undefined : 'no Intel GPU render node (/dev/dri is missing)';
  }
}

/** Results of earlier hardware opens in this process: a reason when the family failed. */
export const hardwareFailures = new Map<Exclude<EncoderKind, 'software'>, string>();
