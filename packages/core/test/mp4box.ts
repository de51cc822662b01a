// mp4box.js (an independent MP4 parser) as a judge of the recorder's MP4 and fMP4 files.
import { createFile, MP4BoxBuffer } from 'mp4box';

/** What mp4box.js reads from a whole MP4 file. */
export interface Mp4boxParse {
  /** Parse errors, `module: message`. */
  errors: string[];
  /** Top-level box types, in file order. */
  boxes: string[];
  fragmented: boolean;
  /** Per track: codec string, sample count and picture size (0 for audio). */
  tracks: { codec: string; samples: number; width: number; height: number }[];
}

/** Parses a whole file with mp4box.js. */
export function mp4box(bytes: Uint8Array): Mp4boxParse {
  const file = createFile();
  const errors: string[] = [];
  file.onError = (module, message) => errors.push(`${module}: ${message}`);
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(ab, 0));
  file.flush();
  const info = file.getInfo();
  const boxes = (file as unknown as { boxes: { type: string }[] }).boxes.map((b) => b.type);
  return {
    errors,
    boxes,
    fragmented: info.isFragmented,
    tracks: info.tracks.map((t) => ({
      codec: t.codec,
      samples: t.nb_samples,
      width: t.video?.width ?? 0,
      height: t.video?.height ?? 0,
    })),
  };
}
