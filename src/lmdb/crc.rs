//! CRC32C of a key and its value, fast for the records this store holds: a few hundred bytes.
//!
//! The `crc32c` crate runs one dependent chain of `crc32` instructions below 768 bytes (three
//! cycles per 8 bytes) and feeds unaligned heads and tails a byte at a time, so a 300-byte
//! record costs ~50 ns, a fifth of a "latest 50" read. Here a value of 96 bytes or more is cut
//! into three equal lanes that run side by side; the three states are then joined by moving
//! the first two over the zero bytes that follow them (one carry-less multiply and one
//! `crc32` each, with constants computed at compile time). Every word is loaded unaligned.
//! The result is the same CRC32C bit for bit (a test compares it with the crate for every
//! length up to several kilobytes); machines without SSE 4.2 and PCLMULQDQ use the crate.

/// CRC32C (Castagnoli) of `key` followed by `value`.
pub(crate) fn of_key_and_value(key: &[u8], value: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("sse4.2")
        && std::arch::is_x86_feature_detected!("pclmulqdq")
    {
        // SAFETY: both instruction sets were just detected on this CPU.
        return unsafe { !lanes::update(lanes::update(!0, key), value) };
    }
    crc32c::crc32c_append(crc32c::crc32c(key), value)
}

#[cfg(target_arch = "x86_64")]
mod lanes {
    use std::arch::x86_64::{
        _mm_clmulepi64_si128, _mm_crc32_u16, _mm_crc32_u32, _mm_crc32_u64, _mm_crc32_u8,
        _mm_cvtsi128_si64, _mm_cvtsi32_si128,
    };

    /// The Castagnoli polynomial, bit-reflected.
    const POLY: u32 = 0x82F6_3B78;
    /// Below this, one chain: three lanes would not cover their joining.
    const LANES_FROM: usize = 96;
    /// Lanes hold at most this many 8-byte words; longer values go through in steps.
    const MAX_LANE_WORDS: usize = 128;

    /// `SHIFT[j]` is x^(64j - 33) mod P, bit-reflected. A state carry-less multiplied by it
    /// (x^(64j - 32 - 1): the product of two reflected values carries one extra x) and reduced
    /// by `crc32` over the 64-bit product (which multiplies by x^32) is the state moved over
    /// 8j zero bytes.
    const SHIFT: [u32; 2 * MAX_LANE_WORDS + 1] = {
        let mut table = [0u32; 2 * MAX_LANE_WORDS + 1];
        let mut power: u32 = 1; // x^31, reflected: j = 1 needs x^(64 - 33)
        let mut j = 1;
        while j <= 2 * MAX_LANE_WORDS {
            table[j] = power;
            let mut bit = 0;
            while bit < 64 {
                power = (power >> 1) ^ if power & 1 == 1 { POLY } else { 0 };
                bit += 1;
            }
            j += 1;
        }
        table
    };

    #[inline(always)]
    fn le64(bytes: &[u8]) -> u64 {
        let mut word = [0u8; 8];
        word.copy_from_slice(bytes);
        u64::from_le_bytes(word)
    }

    /// The state `state` moved over `words` × 8 zero bytes.
    #[inline]
    #[target_feature(enable = "sse4.2,pclmulqdq")]
    unsafe fn shift(state: u32, words: usize) -> u32 {
        let product = _mm_clmulepi64_si128(
            _mm_cvtsi32_si128(state as i32),
            _mm_cvtsi32_si128(SHIFT[words] as i32),
            0,
        );
        _mm_crc32_u64(0, _mm_cvtsi128_si64(product) as u64) as u32
    }

    /// One chain: 8 bytes a step, then the last 4, 2 and 1.
    #[inline]
    #[target_feature(enable = "sse4.2")]
    unsafe fn chain(mut state: u32, bytes: &[u8]) -> u32 {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            state = _mm_crc32_u64(u64::from(state), le64(w)) as u32;
        }
        let mut rest = words.remainder();
        if let Some((w, tail)) = rest.split_first_chunk::<4>() {
            state = _mm_crc32_u32(state, u32::from_le_bytes(*w));
            rest = tail;
        }
        if let Some((w, tail)) = rest.split_first_chunk::<2>() {
            state = _mm_crc32_u16(state, u16::from_le_bytes(*w));
            rest = tail;
        }
        if let Some(&b) = rest.first() {
            state = _mm_crc32_u8(state, b);
        }
        state
    }

    /// The raw state (not inverted) after `bytes`, starting from `state`.
    ///
    /// # Safety
    /// The CPU must support SSE 4.2 and PCLMULQDQ.
    #[target_feature(enable = "sse4.2,pclmulqdq")]
    pub(super) unsafe fn update(mut state: u32, mut bytes: &[u8]) -> u32 {
        while bytes.len() >= LANES_FROM {
            let words = (bytes.len() / 24).min(MAX_LANE_WORDS);
            let lane = words * 8;
            let (a, rest) = bytes.split_at(lane);
            let (b, rest) = rest.split_at(lane);
            let (c, rest) = rest.split_at(lane);
            let (mut sa, mut sb, mut sc) = (u64::from(state), 0u64, 0u64);
            for ((wa, wb), wc) in a
                .chunks_exact(8)
                .zip(b.chunks_exact(8))
                .zip(c.chunks_exact(8))
            {
                sa = _mm_crc32_u64(sa, le64(wa));
                sb = _mm_crc32_u64(sb, le64(wb));
                sc = _mm_crc32_u64(sc, le64(wc));
            }
            // SAFETY: this function's own contract (the same instruction sets).
            state = unsafe { shift(sa as u32, 2 * words) ^ shift(sb as u32, words) } ^ sc as u32;
            bytes = rest;
        }
        // SAFETY: as above.
        unsafe { chain(state, bytes) }
    }
}

#[cfg(test)]
mod tests {
    use super::of_key_and_value;

    fn reference(key: &[u8], value: &[u8]) -> u32 {
        crc32c::crc32c_append(crc32c::crc32c(key), value)
    }

    #[test]
    fn equals_the_crate_for_every_length_and_alignment() {
        let data: Vec<u8> = (0..9000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for key_len in [0usize, 1, 7, 8, 9, 23, 40, 63, 511] {
            for value_len in 0..3200 {
                let start = (value_len * 7) % 13;
                let key = &data[8000 - key_len..8000];
                let value = &data[start..start + value_len];
                assert_eq!(
                    of_key_and_value(key, value),
                    reference(key, value),
                    "key {key_len} value {value_len} at {start}"
                );
            }
        }
        for value_len in [6143, 6144, 6145, 7000] {
            assert_eq!(
                of_key_and_value(b"k", &data[..value_len]),
                reference(b"k", &data[..value_len])
            );
        }
    }

    #[test]
    fn known_answer() {
        // The CRC-32C check value (RFC 3720 test data: "123456789").
        assert_eq!(of_key_and_value(b"1234", b"56789"), 0xE306_9283);
        assert_eq!(of_key_and_value(b"", &[0u8; 32]), 0x8A91_36AA);
    }
}
