/**
 * Benchmark pictures from FFmpeg's own `testsrc2` source (libavfilter, in-process through node-av): the
 * pattern the anchors' encoding costs were measured on (moving shapes over a gradient and colour bars,
 * a frame counter), so our CPU figures compare with theirs on equal content.
 */
import { Filter, FilterGraph, Frame } from 'node-av/lib';

function check(ret: number, what: string): void {
  if (ret < 0) throw new Error(`testsrc2: ${what} failed (${ret})`);
}

/**
 * `count` consecutive 30 fps `testsrc2` frames as packed I420 (planes back to back, no padding), the
 * layout rtc-node's `VideoFrame` carries. Width and height must be even.
 */
export function testsrc2I420(width: number, height: number, count: number): Uint8Array[] {
  const graph = new FilterGraph();
  graph.alloc();
  const frame = new Frame();
  frame.alloc();
  try {
    const make = (name: string, label: string, args?: string) => {
      const filter = Filter.getByName(name);
      const ctx = filter && graph.createFilter(filter, label, args ?? null);
      if (!ctx) throw new Error(`testsrc2: FFmpeg lacks the ${name} filter`);
      return ctx;
    };
    const src = make('testsrc2', 'src', `size=${width}x${height}:rate=30`);
    const format = make('format', 'format', 'pix_fmts=yuv420p');
    const sink = make('buffersink', 'sink');
    check(src.link(0, format, 0), 'linking the source');
    check(format.link(0, sink, 0), 'linking the sink');
    check(graph.configSync(), 'configuring the graph');
    const cw = width / 2;
    const ch = height / 2;
    const pictures: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      check(sink.buffersinkGetFrameSync(frame), 'reading a frame');
      const planes = frame.data;
      const stride = frame.linesize;
      if (!planes) throw new Error('testsrc2: frame without planes');
      const pic = new Uint8Array(width * height + 2 * cw * ch);
      const layout = [
        [0, width, height, 0],
        [1, cw, ch, width * height],
        [2, cw, ch, width * height + cw * ch],
      ] as const;
      for (const [plane, w, h, at] of layout) {
        const src = planes[plane];
        const s = stride[plane] ?? w;
        if (!src) throw new Error(`testsrc2: plane ${plane} missing`);
        for (let row = 0; row < h; row++) pic.set(src.subarray(row * s, row * s + w), at + row * w);
      }
      pictures.push(pic);
      frame.unref();
    }
    return pictures;
  } finally {
    frame.free();
    graph.free();
  }
}
