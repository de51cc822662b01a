/**
 * The fields of an H.264 sequence parameter set that an MP4 sample entry repeats
 * (ITU-T H.264 §7.3.2.1.1 seq_parameter_set_data, §7.4.2.1.1; ISO/IEC 14496-15 §5.3.3.1 for the
 * avcC fields taken from it). Emulation prevention bytes (§7.4.1) are skipped while reading.
 */

/** What {@link parseSps} reads. */
export interface SpsInfo {
  profileIdc: number;
  /** constraint_set0..5_flag and reserved_zero_2bits, as one byte (avcC profile_compatibility). */
  constraintFlags: number;
  levelIdc: number;
  chromaFormatIdc: number;
  bitDepthLumaMinus8: number;
  bitDepthChromaMinus8: number;
  /** Displayed size after frame cropping, in luma samples. */
  width: number;
  height: number;
}

/** Profiles whose SPS carries chroma_format_idc and bit depths (H.264 §7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Parses an SPS NAL unit (with its one-byte NAL header). Throws `RangeError` when truncated. */
export function parseSps(nal: Uint8Array): SpsInfo {
  // RBSP without emulation_prevention_three_byte.
  const rbsp = new Uint8Array(nal.length);
  let n = 0;
  let zeros = 0;
  for (let i = 1; i < nal.length; i++) {
    const b = nal[i]!;
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    rbsp[n++] = b;
  }
  let bit = 0;
  const u = (count: number): number => {
    let v = 0;
    for (let i = 0; i < count; i++, bit++) {
      if (bit >> 3 >= n) throw new RangeError('H.264 SPS is truncated');
      v = v * 2 + ((rbsp[bit >> 3]! >> (7 - (bit & 7))) & 1);
    }
    return v;
  };
  const ue = (): number => {
    let leading = 0;
    while (u(1) === 0) {
      leading++;
      if (leading > 31) throw new RangeError('H.264 SPS has an invalid Exp-Golomb code');
    }
    return 2 ** leading - 1 + u(leading);
  };
  const se = (): number => {
    const k = ue();
    return k % 2 === 1 ? (k + 1) / 2 : -k / 2;
  };
  const profileIdc = u(8); // profile_idc
  const constraintFlags = u(8); // constraint_set0_flag … reserved_zero_2bits
  const levelIdc = u(8); // level_idc
  ue(); // seq_parameter_set_id
  let chromaFormatIdc = 1;
  let bitDepthLumaMinus8 = 0;
  let bitDepthChromaMinus8 = 0;
  let separateColourPlane = 0;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = ue(); // chroma_format_idc
    if (chromaFormatIdc === 3) separateColourPlane = u(1); // separate_colour_plane_flag
    bitDepthLumaMinus8 = ue(); // bit_depth_luma_minus8
    bitDepthChromaMinus8 = ue(); // bit_depth_chroma_minus8
    u(1); // qpprime_y_zero_transform_bypass_flag
    if (u(1)) {
      // seq_scaling_matrix_present_flag: skip the scaling_list() syntax (§7.3.2.1.1.1)
      const lists = chromaFormatIdc !== 3 ? 8 : 12;
      for (let i = 0; i < lists; i++) {
        if (u(1) === 0) continue; // seq_scaling_list_present_flag
        const size = i < 6 ? 16 : 64;
        let last = 8;
        let next = 8;
        for (let j = 0; j < size; j++) {
          if (next !== 0) next = (last + se() + 256) % 256; // delta_scale
          last = next === 0 ? last : next;
        }
      }
    }
  }
  ue(); // log2_max_frame_num_minus4
  const pocType = ue(); // pic_order_cnt_type
  if (pocType === 0)
    ue(); // log2_max_pic_order_cnt_lsb_minus4
  else if (pocType === 1) {
    u(1); // delta_pic_order_always_zero_flag
    se(); // offset_for_non_ref_pic
    se(); // offset_for_top_to_bottom_field
    const cycle = ue(); // num_ref_frames_in_pic_order_cnt_cycle
    for (let i = 0; i < cycle; i++) se(); // offset_for_ref_frame
  }
  ue(); // max_num_ref_frames
  u(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = ue() + 1; // pic_width_in_mbs_minus1
  const heightMapUnits = ue() + 1; // pic_height_in_map_units_minus1
  const frameMbsOnly = u(1); // frame_mbs_only_flag
  if (!frameMbsOnly) u(1); // mb_adaptive_frame_field_flag
  u(1); // direct_8x8_inference_flag
  let cropLeft = 0;
  let cropRight = 0;
  let cropTop = 0;
  let cropBottom = 0;
  if (u(1)) {
    // frame_cropping_flag
    cropLeft = ue(); // frame_crop_left_offset
    cropRight = ue(); // frame_crop_right_offset
    cropTop = ue(); // frame_crop_top_offset
    cropBottom = ue(); // frame_crop_bottom_offset
  }
  // CropUnitX/CropUnitY (§7.4.2.1.1, equations 7-19 to 7-22).
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaFormatIdc === 3 ? 1 : 2;
  const subHeightC = chromaFormatIdc === 1 ? 2 : 1;
  const cropUnitX = chromaArrayType === 0 ? 1 : subWidthC;
  const cropUnitY = (chromaArrayType === 0 ? 1 : subHeightC) * (2 - frameMbsOnly);
  const width = widthMbs * 16 - cropUnitX * (cropLeft + cropRight);
  const height = (2 - frameMbsOnly) * heightMapUnits * 16 - cropUnitY * (cropTop + cropBottom);
  return {
    profileIdc,
    constraintFlags,
    levelIdc,
    chromaFormatIdc,
    bitDepthLumaMinus8,
    bitDepthChromaMinus8,
    width,
    height,
  };
}
