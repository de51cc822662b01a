/**
 * Minimal typing of the parts of mux.js 7 (CommonJS, ships no types) that the judge tests use.
 * Only what test/helpers/judges.ts calls; the payloads are typed at the call sites.
 */
declare module 'mux.js' {
  /** mux.js's event stream base class. */
  interface MuxjsStream {
    // biome-ignore lint/suspicious/noExplicitAny: mux.js events carry untyped payloads, narrowed by the listener.
    on(event: string, listener: (data: any) => void): void;
    pipe<T extends MuxjsStream>(destination: T): T;
    push(data: unknown): void;
    flush(): void;
  }
  interface MuxjsStreamConstructor {
    new (): MuxjsStream;
  }
  const muxjs: {
    mp2t: {
      TransportPacketStream: MuxjsStreamConstructor;
      TransportParseStream: MuxjsStreamConstructor;
      ElementaryStream: MuxjsStreamConstructor;
      TimestampRolloverStream: MuxjsStreamConstructor;
      tools: {
        // biome-ignore lint/suspicious/noExplicitAny: typed by the caller (MuxjsInspectResult).
        inspect(bytes: Uint8Array, baseTimestamp?: number): any;
      };
    };
    mp4: {
      Transmuxer: MuxjsStreamConstructor;
      tools: {
        // biome-ignore lint/suspicious/noExplicitAny: typed by the caller (MuxjsBox).
        inspect(bytes: Uint8Array): any[];
      };
    };
    codecs: {
      Adts: MuxjsStreamConstructor;
      h264: { H264Stream: MuxjsStreamConstructor };
    };
  };
  export default muxjs;
}
