/**
 * Recovery of a fragmented MP4 cut short (ISO/IEC 14496-12 §4.2 box headers, §8.8 movie fragments).
 * Each fragment reaches the sink in one call, so a process crash leaves whole fragments; a partial
 * write (disk full, power loss) can leave a torn `moof`, and FFmpeg's mov demuxer then refuses the whole
 * file ("error reading header"). Truncating to the length found here restores a valid file.
 */

/**
 * Length of the longest prefix of `bytes` that is a complete fragmented file: the init segment
 * (`ftyp`, `moov`) and every whole `moof`+`mdat` pair after it. 0 when the init segment is incomplete.
 */
export function completeFragmentedLength(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 0;
  let complete = 0;
  let sawMoov = false;
  let moofEnd = -1;
  while (o + 8 <= bytes.length) {
    let size = view.getUint32(o); // size
    const type = String.fromCharCode(bytes[o + 4]!, bytes[o + 5]!, bytes[o + 6]!, bytes[o + 7]!); // type
    if (size === 1) {
      if (o + 16 > bytes.length) break;
      size = view.getUint32(o + 8) * 2 ** 32 + view.getUint32(o + 12); // largesize
    }
    if (size < 8 || o + size > bytes.length) break; // size 0 (to end of file) is never written here
    const end = o + size;
    if (type === 'moov') {
      sawMoov = true;
      complete = end;
    } else if (type === 'moof') {
      moofEnd = end;
    } else if (type === 'mdat' && moofEnd === o && sawMoov) {
      complete = end;
    } else if (type !== 'ftyp' && type !== 'free' && type !== 'styp' && type !== 'sidx') {
      if (!sawMoov) break;
    }
    o = end;
  }
  return sawMoov ? complete : 0;
}
