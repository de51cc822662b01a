/** The slice of m3u8-parser 7 (no bundled types) that the tests read. */
declare module 'm3u8-parser' {
  export interface ParsedSegment {
    uri: string;
    duration: number;
    timeline: number;
    discontinuity?: boolean;
    dateTimeString?: string;
    programDateTime?: number;
  }
  export interface Manifest {
    version?: number;
    targetDuration?: number;
    mediaSequence?: number;
    discontinuitySequence?: number;
    playlistType?: string;
    independentSegments?: boolean;
    endList?: boolean;
    discontinuityStarts: number[];
    segments: ParsedSegment[];
  }
  export class Parser {
    manifest: Manifest;
    push(chunk: string): void;
    end(): void;
    on(event: 'warn' | 'info', listener: (e: { message: string }) => void): void;
  }
}
